# icl.mk - smx-icl (issue 14): in-context learning, softmax regression, multi-head softmax attention.
ICL_FIGS := icl-derivatives icl-lipschitz icl-shift icl-gd icl-length icl-multihead-patterns icl-linear-gd icl-closeness icl-vs-d
FIGURES += $(ICL_FIGS)

$(DATA)/icl-check.tsv: $(BIN)/smx-icl
	$(BIN)/smx-icl check --profile $(PROFILE) --out $@
$(DATA)/icl-lipschitz.tsv: $(BIN)/smx-icl
	$(BIN)/smx-icl lipschitz --profile $(PROFILE) --out $@
$(DATA)/icl-shift.tsv: $(BIN)/smx-icl
	$(BIN)/smx-icl shift --profile $(PROFILE) --out $@
$(DATA)/icl-gd.tsv: $(BIN)/smx-icl
	$(BIN)/smx-icl gd --profile $(PROFILE) --out $@
$(DATA)/icl-estimators.tsv: $(BIN)/smx-icl
	$(BIN)/smx-icl estimators --profile $(PROFILE) --out $@
$(DATA)/icl-linear-gd.tsv: $(BIN)/smx-icl
	$(BIN)/smx-icl linear-gd --profile $(PROFILE) --out $@
$(DATA)/icl-closeness.tsv $(DATA)/icl-closeness-vs-d.tsv &: $(BIN)/smx-icl
	$(BIN)/smx-icl closeness --profile $(PROFILE) --out $(DATA)/icl-closeness.tsv
# multihead writes OUT, OUT-heads, OUT-patterns, OUT-length (grouped target: one run)
ICL_MH := $(foreach s,heads patterns length,$(DATA)/icl-multihead-$(s).tsv)
# the paper profile (500,001 steps per H: hours) keeps a checkpoint and resumes an interrupted run (same bytes)
ICL_MH_CKPT = $(if $(filter paper,$(PROFILE)),--checkpoint $(DATA)/icl-multihead.tsv.ckpt --resume)
$(DATA)/icl-multihead.tsv $(ICL_MH) &: $(BIN)/smx-icl
	$(BIN)/smx-icl multihead --profile $(PROFILE) $(ICL_MH_CKPT) --out $(DATA)/icl-multihead.tsv

$(call fig_pair,icl-derivatives): $(DATA)/icl-check.tsv
$(call fig_pair,icl-lipschitz): $(DATA)/icl-lipschitz.tsv
$(call fig_pair,icl-shift): $(DATA)/icl-shift.tsv
$(call fig_pair,icl-gd): $(DATA)/icl-gd.tsv
$(call fig_pair,icl-length): $(DATA)/icl-estimators.tsv $(DATA)/icl-multihead-length.tsv
$(call fig_pair,icl-multihead-patterns): $(DATA)/icl-multihead-patterns.tsv
$(call fig_pair,icl-linear-gd): $(DATA)/icl-linear-gd.tsv
$(call fig_pair,icl-closeness): $(DATA)/icl-closeness.tsv
$(call fig_pair,icl-vs-d): $(DATA)/icl-closeness-vs-d.tsv

.PHONY: run-icl figures-icl
run-icl: $(DATA)/icl-check.tsv $(DATA)/icl-lipschitz.tsv $(DATA)/icl-shift.tsv $(DATA)/icl-gd.tsv \
         $(DATA)/icl-estimators.tsv $(DATA)/icl-multihead.tsv $(DATA)/icl-linear-gd.tsv \
         $(DATA)/icl-closeness.tsv
figures-icl: $(call fig_pair,$(ICL_FIGS))

# bench-icl: training steps/s of the multihead model (H = 2, batch 256, L = 40, d = 5) and of the closeness model
# (n = 200, d = 20, batch 16; smx-icl in float64 and --dtype f32, like for like) in smx-icl and in PyTorch
# (experiments/icl_peers.py; float32 and float64; configurations interleaved round by round;
# torch.set_num_threads 1 and 2), median and best of ICL_BENCH_REPEATS runs, into data/bench/icl.tsv with the
# machine and load in the metadata (a '#' note and smx-icl's rows only when torch is not importable by
# ICL_PYTHON). Timings are noisy on a shared machine: run it alone (`make bench-icl`, no -j). OMP_WAIT_POLICY
# defaults to passive (spinning OpenMP threads collapse when the 2 cores are oversubscribed).
.PHONY: bench-icl
BENCHES += bench-icl
ICL_PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
ICL_BENCH_REPEATS ?= 3
ICL_BENCH_OPTS ?=
bench-icl: $(BIN)/smx-icl experiments/icl_peers.py
	@mkdir -p data/bench
	OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-passive} $(ICL_PYTHON) experiments/icl_peers.py --bench --smx $(BIN)/smx-icl \
	    --repeats $(ICL_BENCH_REPEATS) $(ICL_BENCH_OPTS) --out data/bench/icl.tsv

# figures-icl-long (not in `make figures`: ~6 min per seed on an idle core, far longer on a shared one): the trained
# two-head omega_h, mu_h over ICL_LONG_STEPS steps for each of ICL_LONG_SEEDS (He et al.: 0.13, 3.45 in their
# 1/sqrt(d+2) units), one model per seed with --threads 1 (make -j2 runs two seeds at a time); figure icl-omega-mu.
# e.g. make -j2 figures-icl-long, or make -j2 PROFILE=paper ICL_LONG_STEPS=500001 figures-icl-long. Each run keeps a
# checkpoint OUT.ckpt (every 180 s; solvers/run.h): an interrupted make resumes where it stopped, same bytes.
ICL_LONG_SEEDS ?= 1 2 3 4
ICL_LONG_STEPS ?= 100000
ICL_LONG := $(foreach s,$(ICL_LONG_SEEDS),$(DATA)/icl-omega-mu-s$(s).tsv)
$(ICL_LONG): $(DATA)/icl-omega-mu-s%.tsv: $(BIN)/smx-icl
	OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-passive} $(BIN)/smx-icl multihead --H 2 --steps $(ICL_LONG_STEPS) --log-every 1000 \
	    --seed $* --threads 1 --quiet --checkpoint $@.ckpt --resume --out $@
$(call fig_pair,icl-omega-mu): $(ICL_LONG)
.PHONY: figures-icl-long
figures-icl-long: $(call fig_pair,icl-omega-mu)
