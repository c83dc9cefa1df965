# bottleneck.mk - smx-bottleneck (issue 15): hidden-size recovery, unargmaxable classes.
# Quick profile (default): V = 500, N = 600, d = 50, 5 seeds for recover; PROFILE=paper: V = 1000, N = 1200,
# d = 100, 20 seeds (science/bottleneck.md's test setting). Same bytes for any thread count.
FIGURES += bottleneck-spectra bottleneck-recovery-precision
BENCHES += bench-bottleneck

BOTTLENECK_THREADS ?= 2
BOTTLENECK = $(BIN)/smx-bottleneck

$(DATA)/bottleneck-recovery.tsv $(DATA)/bottleneck-recovery-summary.tsv $(DATA)/bottleneck-recovery-spectra.tsv &: \
    $(BIN)/smx-bottleneck
	$(BOTTLENECK) recover --profile $(PROFILE) --threads $(BOTTLENECK_THREADS) --out $(DATA)/bottleneck-recovery.tsv

$(call fig_pair,bottleneck-spectra): $(DATA)/bottleneck-recovery-spectra.tsv
$(call fig_pair,bottleneck-recovery-precision): $(DATA)/bottleneck-recovery-summary.tsv

.PHONY: run-bottleneck bench-bottleneck
run-bottleneck: $(DATA)/bottleneck-recovery.tsv

bench-bottleneck: $(BIN)/smx-bottleneck
	$(BOTTLENECK) recover --outputs 1200 --vocab 1000 --hidden 100 --seeds 1 --precisions fp64 --heads flat --bias 1 \
	  --out $(BUILD)/bench/bottleneck-recovery.tsv --threads 1
	$(BOTTLENECK) recover --outputs 1200 --vocab 1000 --hidden 100 --seeds 1 --precisions fp64 --heads flat --bias 1 \
	  --svd gsl --out $(BUILD)/bench/bottleneck-recovery-gsl.tsv --threads 1
