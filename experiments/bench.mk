# bench.mk - smx-bench (issue 10): `make bench` (target bench-kernels) measures the softmax kernels
# against the copy-and-scale limit, the peers (PyTorch, SciPy, when importable), the exp error
# (float exhaustive) and the MPFR softmax cost vs p, into data/bench/*.tsv, and draws
# figures/bench-*.{png,pdf}. Not part of FIGURES / `make figures`: timings depend on the machine
# and its load, so run it on a quiet machine. BENCH_THREADS (default 1: the issue's one-thread
# targets) is the kernels' and peers' thread count; each run's one-line summary (comparable across
# commits) is kept in data/bench/bench-*.summary and printed at the end; PROFILE=paper gives n up
# to 2^27 and 10^8 double exp inputs. The runs are chained (kernels, peers, mpfr, exp-error) so that
# they never time each other; run `make bench` without -j (other benchmarks would share the cores).
BENCHES += bench-kernels
BENCH_DATA := data/bench
BENCH_THREADS ?= 1
# Debian's python3 (where python3-torch / python3-scipy install), else the first python3 on PATH
BENCH_PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
SMX_BENCH = $(BIN)/smx-bench
# extra options per run, e.g. BENCH_KERNELS_OPTS='--nmax 1048576' for a short run
BENCH_KERNELS_OPTS ?=
BENCH_PEERS_OPTS ?=
BENCH_EXP_OPTS ?=
BENCH_MPFR_OPTS ?=
BENCH_FIGS := bench-kernels bench-mpfr bench-exp-error

$(BENCH_DATA)/bench-kernels.tsv: $(BIN)/smx-bench
	@mkdir -p $(BENCH_DATA)
	$(SMX_BENCH) kernels --profile $(PROFILE) --threads $(BENCH_THREADS) --funcs all $(BENCH_KERNELS_OPTS) --out $@ | tee $(BENCH_DATA)/bench-kernels.summary
$(BENCH_DATA)/bench-peers.tsv: experiments/bench_peers.py $(BENCH_DATA)/bench-kernels.tsv
	@mkdir -p $(BENCH_DATA)
	$(BENCH_PYTHON) experiments/bench_peers.py --kernels $(BENCH_DATA)/bench-kernels.tsv --threads $(BENCH_THREADS) \
	    --profile $(PROFILE) $(BENCH_PEERS_OPTS) --out $@ | tee $(BENCH_DATA)/bench-peers.summary
$(BENCH_DATA)/bench-exp-error.tsv: $(BIN)/smx-bench | $(BENCH_DATA)/bench-mpfr.tsv
	@mkdir -p $(BENCH_DATA)
	$(SMX_BENCH) exp-error --profile $(PROFILE) $(BENCH_EXP_OPTS) --out $@ | tee $(BENCH_DATA)/bench-exp-error.summary
$(BENCH_DATA)/bench-mpfr.tsv: $(BIN)/smx-bench | $(BENCH_DATA)/bench-peers.tsv
	@mkdir -p $(BENCH_DATA)
	$(SMX_BENCH) mpfr --profile $(PROFILE) $(BENCH_MPFR_OPTS) --out $@ | tee $(BENCH_DATA)/bench-mpfr.summary

# the bench figures read data/bench, not $(DATA)
$(FIGS)/bench-%.png: plots/bench-%.gp plots/common.gp
	@mkdir -p $(FIGS)
	$(GNUPLOT) -e "datadir='$(BENCH_DATA)'; term='png'; out='$@'" $<
$(FIGS)/bench-%.pdf: plots/bench-%.gp plots/common.gp
	@mkdir -p $(FIGS)
	$(GNUPLOT) -e "datadir='$(BENCH_DATA)'; term='pdf'; out='$@'" $<
$(call fig_pair,bench-kernels): $(BENCH_DATA)/bench-kernels.tsv $(BENCH_DATA)/bench-peers.tsv
$(call fig_pair,bench-mpfr): $(BENCH_DATA)/bench-mpfr.tsv
$(call fig_pair,bench-exp-error): $(BENCH_DATA)/bench-exp-error.tsv

.PHONY: bench-kernels
bench-kernels: $(call fig_pair,$(BENCH_FIGS))
	@cat $(BENCH_DATA)/bench-*.summary
