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
$(DATA)/icl-multihead.tsv $(ICL_MH) &: $(BIN)/smx-icl
	$(BIN)/smx-icl multihead --profile $(PROFILE) --out $(DATA)/icl-multihead.tsv

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

# steps/s of the multihead model (batch 256, L = 40, H = 2; one model per thread, so --threads 2 trains two
# models at once: steps/s per model) and of the theory commands; machine may be shared
.PHONY: bench-icl
BENCHES += bench-icl
bench-icl: $(BIN)/smx-icl
	@echo "bench-icl: multihead H = 2, batch 256, L = 40, 2000 steps, 1 thread; then H = 2,2 on 2 threads"
	@$(BIN)/smx-icl multihead --H 2 --steps 2000 --eval-tasks 256 --threads 1 --out $(BUILD)/bench-icl.tsv 2>&1 | grep steps/s
	@$(BIN)/smx-icl multihead --H 2,2 --steps 2000 --eval-tasks 256 --threads 2 --out $(BUILD)/bench-icl.tsv 2>&1 | grep steps/s
	@echo "bench-icl: closeness, n = 200, d = 20, batch 16, 50 steps (one run per thread)"
	@/usr/bin/time -f "%e s wall" $(BIN)/smx-icl closeness --n 200 --vs-d 5 --vs-d-n 2 --reps 1 --steps 50 --eval-tasks 4 \
	    --scan-tasks 4 --threads 1 --out $(BUILD)/bench-icl-closeness.tsv
	@if python3 -c 'import torch' 2>/dev/null; then echo "PyTorch present: comparison script not written yet"; \
	 else echo "PyTorch not installed (python3-torch): no comparison"; fi
