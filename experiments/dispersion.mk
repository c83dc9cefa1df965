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

$(foreach f,bound entropy beta-star adaptive-beta,$(FIGS)/dispersion-$(f).png $(FIGS)/dispersion-$(f).pdf): \
    $(DATA)/dispersion-curves.tsv
$(foreach f,ssmax-fig1 ssmax-fig3 heatmap,$(FIGS)/dispersion-$(f).png $(FIGS)/dispersion-$(f).pdf): \
    $(DATA)/dispersion-ssmax.tsv
$(FIGS)/dispersion-precision.png $(FIGS)/dispersion-precision.pdf: $(DATA)/dispersion-precision.tsv
$(foreach f,accuracy attention,$(FIGS)/dispersion-retrieval-$(f).png $(FIGS)/dispersion-retrieval-$(f).pdf): \
    $(DATA)/dispersion-retrieval.tsv

.PHONY: run-dispersion figures-dispersion
run-dispersion: $(DATA)/dispersion-curves.tsv $(DATA)/dispersion-ssmax.tsv $(DATA)/dispersion-precision.tsv \
                $(DATA)/dispersion-retrieval.tsv
figures-dispersion: $(foreach f,$(DISP_FIGS),$(FIGS)/$(f).png $(FIGS)/$(f).pdf)

.PHONY: bench-dispersion
BENCHES += bench-dispersion
bench-dispersion: $(BIN)/smx-dispersion
	@echo "bench-dispersion: retrieval, 300 training steps + 20 test sets per n (machine may be shared)"
	@time $(BIN)/smx-dispersion retrieval --steps 300 --test-sets 20 --out $(BUILD)/bench-dispersion.tsv
