# dispersion.mk - smx-dispersion (issue 3): softmax dispersion at scale, adaptive temperature, SSMax.
# Each subcommand writes a main TSV and sibling files (NAME-xxx.tsv) next to it.
DISP_FIGS := dispersion-bound dispersion-entropy dispersion-beta-star dispersion-adaptive-beta \
             dispersion-ssmax-fig1 dispersion-ssmax-fig3 dispersion-heatmap dispersion-precision \
             dispersion-retrieval-accuracy dispersion-retrieval-attention
FIGURES += $(DISP_FIGS)

$(DATA)/dispersion-curves.tsv: $(BIN)/smx-dispersion
	$(BIN)/smx-dispersion curves --profile $(PROFILE) --out $@
$(DATA)/dispersion-ssmax.tsv: $(BIN)/smx-dispersion
	$(BIN)/smx-dispersion ssmax --profile $(PROFILE) --out $@
$(DATA)/dispersion-precision.tsv: $(BIN)/smx-dispersion
	$(BIN)/smx-dispersion precision --profile $(PROFILE) --out $@
$(DATA)/dispersion-retrieval.tsv: $(BIN)/smx-dispersion
	$(BIN)/smx-dispersion retrieval --profile $(PROFILE) --out $@

$(call fig_pair,$(addprefix dispersion-,bound entropy beta-star adaptive-beta)): \
    $(DATA)/dispersion-curves.tsv
$(call fig_pair,$(addprefix dispersion-,ssmax-fig1 ssmax-fig3 heatmap)): \
    $(DATA)/dispersion-ssmax.tsv
$(call fig_pair,dispersion-precision): $(DATA)/dispersion-precision.tsv
$(call fig_pair,$(addprefix dispersion-retrieval-,accuracy attention)): \
    $(DATA)/dispersion-retrieval.tsv

.PHONY: run-dispersion figures-dispersion
run-dispersion: $(DATA)/dispersion-curves.tsv $(DATA)/dispersion-ssmax.tsv $(DATA)/dispersion-precision.tsv \
                $(DATA)/dispersion-retrieval.tsv
figures-dispersion: $(call fig_pair,$(DISP_FIGS))

.PHONY: bench-dispersion
BENCHES += bench-dispersion
# one summary row: the retrieval models' training steps/s (2 models x 300 AdamW steps, batch 64, d 128,
# one thread as always for training; the run then tests 20 sets per n)
bench-dispersion: $(BIN)/smx-dispersion
	@echo "bench-dispersion: retrieval, 2 x 300 training steps + 20 test sets per n (machine may be shared)"
	@$(BIN)/smx-dispersion retrieval --steps 300 --test-sets 20 --out $(BUILD)/bench-dispersion.tsv 2>&1 | \
	  grep 'steps/s' | sed 's/^smx-dispersion retrieval: training:/bench-dispersion: retrieval training:/'
