# bottleneck.mk - smx-bottleneck (issue 15): hidden-size recovery, unargmaxable classes.
# Quick profile (default): V = 500, N = 600, d = 50, 5 seeds for recover; PROFILE=paper: V = 1000, N = 1200,
# d = 100, 20 seeds (science/bottleneck.md's test setting); argmax V = 1000 quick, 10000 paper. Same bytes for any thread count.
FIGURES += bottleneck-spectra bottleneck-recovery-precision bottleneck-unargmaxable bottleneck-rank bottleneck-kl \
           bottleneck-kl-vs-tail bottleneck-simplex bottleneck-recovery-api
BENCHES += bench-bottleneck

# one thread per run under `make figures` (its jobs fill the cores; OMP_NUM_THREADS=1 there), else 2
BOTTLENECK_THREADS ?= $(or $(OMP_NUM_THREADS),2)
BOTTLENECK = $(BIN)/smx-bottleneck

$(DATA)/bottleneck-recovery.tsv $(DATA)/bottleneck-recovery-summary.tsv $(DATA)/bottleneck-recovery-spectra.tsv &: \
    $(BIN)/smx-bottleneck
	$(BOTTLENECK) recover --profile $(PROFILE) --threads $(BOTTLENECK_THREADS) --out $(DATA)/bottleneck-recovery.tsv

# unargmaxable fractions: V = 1000 (quick) / 10000 (paper), d in {2, ..., 50}, N(0,1) and U(-1,1)
$(DATA)/bottleneck-argmax.tsv: $(BIN)/smx-bottleneck
	$(BOTTLENECK) argmax --profile $(PROFILE) --threads $(BOTTLENECK_THREADS) --out $@

$(call fig_pair,bottleneck-unargmaxable): $(DATA)/bottleneck-argmax.tsv

# softmax, MoS (K = 3: free per-context components and Yang's parameterisation) and MoC (K = 3) fits of a
# rank-40 and a k^-1 target (N = 120, V = 100 quick; 400 x 300 paper)
$(DATA)/bottleneck-rank.tsv: $(BIN)/smx-bottleneck
	$(BOTTLENECK) rank --profile $(PROFILE) --threads $(BOTTLENECK_THREADS) --mos-param free,yang --out $@
$(call fig_pair,bottleneck-rank): $(DATA)/bottleneck-rank.tsv
# the KL figures: smx-bottleneck kl (the same fits as rank, its own data file)
$(DATA)/bottleneck-kl.tsv: $(BIN)/smx-bottleneck
	$(BOTTLENECK) kl --profile $(PROFILE) --threads $(BOTTLENECK_THREADS) --out $@
$(call fig_pair,bottleneck-kl bottleneck-kl-vs-tail): $(DATA)/bottleneck-kl.tsv
$(DATA)/bottleneck-bat.tsv: $(BIN)/smx-bottleneck
	$(BOTTLENECK) bat --profile $(PROFILE) --out $@
$(call fig_pair,bottleneck-simplex): $(DATA)/bottleneck-bat.tsv
# the same outputs as an API exposes them: top-5 log-probs plus logit-bias (B = 20) queries
$(DATA)/bottleneck-recovery-api.tsv $(DATA)/bottleneck-recovery-api-summary.tsv $(DATA)/bottleneck-recovery-api-spectra.tsv &: \
    $(BIN)/smx-bottleneck
	$(BOTTLENECK) recover --profile $(PROFILE) --threads $(BOTTLENECK_THREADS) --api-topk 5 --logit-bias 20 \
	  --heads flat,aniso --bias 1 --out $(DATA)/bottleneck-recovery-api.tsv
# the API recovery beside the direct full log-probs (issue 15)
$(call fig_pair,bottleneck-recovery-api): $(DATA)/bottleneck-recovery-api-summary.tsv $(DATA)/bottleneck-recovery-summary.tsv

$(call fig_pair,bottleneck-spectra): $(DATA)/bottleneck-recovery-spectra.tsv
$(call fig_pair,bottleneck-recovery-precision): $(DATA)/bottleneck-recovery-summary.tsv

.PHONY: run-bottleneck bench-bottleneck
run-bottleneck: $(DATA)/bottleneck-recovery.tsv $(DATA)/bottleneck-recovery-api.tsv $(DATA)/bottleneck-argmax.tsv $(DATA)/bottleneck-rank.tsv \
    $(DATA)/bottleneck-kl.tsv $(DATA)/bottleneck-bat.tsv

bench-bottleneck: $(BIN)/smx-bottleneck
	$(BOTTLENECK) bench
