# moe.mk - smx-moe (issue 13): ML convergence rates of softmax-gated Gaussian mixtures of experts.
# One sweep per fitted k (2 = exact, 3 and 4 = over-specified), one summary over the three.
# Quick profile: k = 2 on 16 log-spaced n in [1e2, 1e5] x 16 reps; k = 3, 4 on 8 n in [1e4, 1e5] x 8 reps.
# PROFILE=paper: the authors' linear grids (200 n x 40 reps); run those with the shards (run-moe-shards).
MOE_FIGS := moe-exact moe-overspecified moe-temperature moe-multinomial moe-multinomial-s3 moe-topk
FIGURES += $(MOE_FIGS)
MOE_GRID := $(if $(filter paper,$(PROFILE)),--grid authors)
MOE_KS := 2 3 4

$(DATA)/moe-k%.tsv: $(BIN)/smx-moe
	$(BIN)/smx-moe sweep --k $* --profile $(PROFILE) $(MOE_GRID) --out $@
$(DATA)/moe-summary.tsv: $(foreach k,$(MOE_KS),$(DATA)/moe-k$(k).tsv) $(BIN)/smx-moe
	$(BIN)/smx-moe summary --out $@ $(foreach k,$(MOE_KS),$(DATA)/moe-k$(k).tsv)

$(call fig_pair,moe-exact moe-overspecified): $(DATA)/moe-summary.tsv

# Paper (c): temperature gate vs activation gate (tanh, sigmoid), exact-fitted k = 2 (`smx-moe gates`).
# Quick: n log-spaced in [1e2, 5e4], 8 points x 8 reps per gate; PROFILE=paper: [1e2, 1e5], 20 x 40.
$(DATA)/moe-gates-temperature.tsv: $(BIN)/smx-moe
	$(BIN)/smx-moe gates --gate temperature --profile $(PROFILE) --out $@
$(DATA)/moe-gates-%.tsv: $(BIN)/smx-moe
	$(BIN)/smx-moe gates --gate activation --act $* --profile $(PROFILE) --out $@
$(call fig_pair,moe-temperature): $(foreach g,temperature tanh sigmoid,$(DATA)/moe-gates-$(g).tsv)

# Paper (d): logistic experts, softmax vs modified gate (`smx-moe multinomial`); quick: 8 n in [1e2, 5e4] x 8.
$(DATA)/moe-mult-%.tsv: $(BIN)/smx-moe
	$(BIN)/smx-moe multinomial --gate $* --profile $(PROFILE) --out $@
$(call fig_pair,moe-multinomial): $(foreach g,softmax modified,$(DATA)/moe-mult-$(g).tsv)
# The same with S = 3 classes (multinomial-logistic experts): quick 8 n in [1e2, 5e4] x 8 per gate.
$(DATA)/moe-mult3-%.tsv: $(BIN)/smx-moe
	$(BIN)/smx-moe sweep --experts multinomial --classes 3 --gate $* --profile $(PROFILE) --out $@
$(call fig_pair,moe-multinomial-s3): $(foreach g,softmax modified,$(DATA)/moe-mult3-$(g).tsv)

# Paper (b): top-K gate (`smx-moe topk`), exact k = 2, K = 1 and over-specified k = 3, K = 2 (n from 1e3).
$(DATA)/moe-topk-k2-K1.tsv: $(BIN)/smx-moe
	$(BIN)/smx-moe topk --k 2 --topk 1 --profile $(PROFILE) --out $@
$(DATA)/moe-topk-k3-K2.tsv: $(BIN)/smx-moe
	$(BIN)/smx-moe topk --k 3 --topk 2 --nmin 1000 --profile $(PROFILE) --out $@
$(call fig_pair,moe-topk): $(DATA)/moe-topk-k2-K1.tsv $(DATA)/moe-topk-k3-K2.tsv

.PHONY: run-moe figures-moe run-moe-shards
run-moe: $(DATA)/moe-summary.tsv $(foreach g,temperature tanh sigmoid,$(DATA)/moe-gates-$(g).tsv) $(foreach g,softmax modified,$(DATA)/moe-mult-$(g).tsv $(DATA)/moe-mult3-$(g).tsv) $(DATA)/moe-topk-k2-K1.tsv $(DATA)/moe-topk-k3-K2.tsv
figures-moe: $(call fig_pair,$(MOE_FIGS))

# The same sweeps as MOE_SHARDS shards run by GNU parallel (add e.g. MOE_PARALLEL='--sshlogin 8/host1,8/host2'
# to spread them over machines; the binary and the data directory must be reachable there), then merged
# into the bytes one unsharded run writes, then the summary. MOE_KS picks the fitted k, MOE_SWEEP adds sweep
# options (a small setting: make run-moe-shards MOE_KS=2 MOE_SHARDS=3 MOE_SWEEP='--nmax 2000 --points 3
# --reps 2'; tests/t-moe-shards.sh runs that and compares with one run).
MOE_SHARDS ?= 8
MOE_PARALLEL ?= -j 2
MOE_SWEEP ?=
run-moe-shards: $(BIN)/smx-moe
	@mkdir -p $(DATA)/moe-shards
	@for k in $(MOE_KS); do \
	  parallel --will-cite $(MOE_PARALLEL) --halt now,fail=1 $(abspath $(BIN))/smx-moe sweep --k $$k --profile $(PROFILE) \
	    $(MOE_GRID) $(MOE_SWEEP) --quiet --threads 1 --shard {}/$(MOE_SHARDS) --resume \
	    --out $(abspath $(DATA))/moe-shards/moe-k$$k-{}.tsv ::: $$(seq 1 $(MOE_SHARDS)) && \
	  $(BIN)/smx-moe merge --out $(DATA)/moe-k$$k.tsv $$(seq -f '$(DATA)/moe-shards/moe-k'$$k'-%g.tsv' 1 $(MOE_SHARDS)) && \
	  echo "run-moe-shards: $(DATA)/moe-k$$k.tsv merged from $(MOE_SHARDS) shards" || exit 1; \
	done
	$(BIN)/smx-moe summary --out $(DATA)/moe-summary.tsv $(foreach k,$(MOE_KS),$(DATA)/moe-k$(k).tsv)

# Fits per core-second on the authors' linear grid (20 of its n, 2 reps) for k = 2, 3, 4, and the implied
# paper-profile time per setting (8000 fits) on 2 cores; the authors: ~900 s (k = 2), 3554 s (k = 3) and
# 5609 s (k = 4) on 8 cores, i.e. 7200, 28432, 44872 core-seconds.
.PHONY: bench-moe
BENCHES += bench-moe
bench-moe: $(BIN)/smx-moe
	@echo "bench-moe: sweeps on 20 n of the authors' grid x 2 reps, 2 threads (machine may be shared)"
	@for k in 2 3 4; do \
	  $(BIN)/smx-moe sweep --k $$k --grid authors --points 20 --reps 2 --threads 2 --out $(BUILD)/bench-moe-k$$k.tsv \
	    2>&1 >/dev/null | grep 'fits in' | \
	  awk -v k=$$k '{ fs = $$11; sub(/\(/, "", fs); fps = $$3 / fs; auth = (k == 2 ? 7200 : k == 3 ? 28432 : 44872); \
	    printf "k = %d: %s\n   %.2f fits per core-second (CPU time of the fits, all restarts); 8000 fits: %.0f core-s = %.0f s on 2 cores; authors %d core-s (%.1fx more)\n", \
	      k, $$0, fps, 8000 / fps, 4000 / fps, auth, auth * fps / 8000 }'; \
	done
