# icl.mk - smx-icl (issue 14): in-context learning, softmax regression, multi-head softmax attention.
ICL_FIGS := icl-derivatives icl-lipschitz icl-shift icl-gd icl-length
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

$(call fig_pair,icl-derivatives): $(DATA)/icl-check.tsv
$(call fig_pair,icl-lipschitz): $(DATA)/icl-lipschitz.tsv
$(call fig_pair,icl-shift): $(DATA)/icl-shift.tsv
$(call fig_pair,icl-gd): $(DATA)/icl-gd.tsv
$(call fig_pair,icl-length): $(DATA)/icl-estimators.tsv

.PHONY: run-icl figures-icl
run-icl: $(DATA)/icl-check.tsv $(DATA)/icl-lipschitz.tsv $(DATA)/icl-shift.tsv $(DATA)/icl-gd.tsv \
         $(DATA)/icl-estimators.tsv
figures-icl: $(call fig_pair,$(ICL_FIGS))
