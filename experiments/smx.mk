# smx.mk - the smx calculator's figures: numerics-collapse-threshold, numerics-lse-error.
FIGURES += numerics-collapse-threshold numerics-lse-error

$(DATA)/numerics-collapse-threshold.tsv: $(BIN)/smx
	$(BIN)/smx threshold-sweep --classes 113 --pmax 256 --out $@
$(DATA)/numerics-lse-error.tsv: $(BIN)/smx
	$(BIN)/smx lse-error --profile $(PROFILE) --out $@

$(call fig_pair,numerics-collapse-threshold): $(DATA)/numerics-collapse-threshold.tsv
$(call fig_pair,numerics-lse-error): $(DATA)/numerics-lse-error.tsv

.PHONY: run-numerics
run-numerics: $(DATA)/numerics-collapse-threshold.tsv $(DATA)/numerics-lse-error.tsv
