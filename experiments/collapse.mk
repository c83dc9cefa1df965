# collapse.mk - smx-collapse (issue 4): Softmax Collapse, StableMax, perpGrad.
# Quick profile (default): smx-collapse's quick model (modulus 97, width 128) and shorter runs;
# PROFILE=paper: modulus 113, width 200 and the paper's epochs. Runs are independent make
# targets: use make -j2. Each run is single-threaded (COLLAPSE_THREADS) and the same bytes
# for any thread count.
FIGURES += collapse-fig2 collapse-stablemax collapse-perpgrad collapse-nlm \
           collapse-onset-vs-precision collapse-threshold-check collapse-onset-predicted
BENCHES += bench-collapse

COLLAPSE_THREADS ?= 1
COLLAPSE = $(BIN)/smx-collapse --profile $(PROFILE) --threads $(COLLAPSE_THREADS) --quiet

ifeq ($(PROFILE),paper)
CF2_OPTS := --epochs 20000 --log-every 50
CSM_OPTS := --epochs 80000 --log-every 200 --train-frac 0.4
CPG_OPTS := --epochs 500 --log-every 5
COS_OPTS := --epochs 20000 --log-every 10 --train-frac 0.4 --lr 1e-2 --beta2 0.99
CGAP_EPOCHS := 30000
COS_FORMATS := p4,p5,p6,p7,p8,p9,p10,p11,p12,p13,p14,p15,p16,p17,p18,p19,p20,p21,p22,p23,p24,p28,p32,p40,p48,p53,p56,p64
else
CF2_OPTS := --epochs 3000 --log-every 20 --lr 1e-3
CSM_OPTS := --epochs 2000 --log-every 20 --train-frac 0.7
CPG_OPTS := --epochs 300 --log-every 5 --modulus 113 --width 200
COS_OPTS := --epochs 4000 --log-every 10 --train-frac 0.4 --lr 1e-2 --beta2 0.99
CGAP_EPOCHS := 6000
# dense where onset is cheap (p4..p11), then every third bit up to p24 (README, SC onset vs precision)
COS_FORMATS := p4,p5,p6,p7,p8,p9,p10,p11,p12,p15,p18,p21,p24
endif

# Fig 2: softmax in fp16 / fp32 / fp64 x train fraction 40 / 60 / 70 % (AdamW, no weight decay;
# the reference's 40 % runs use eps 1e-30, the others its default 1e-25)
CF2_DATA := $(foreach f,fp16 fp32 fp64,$(foreach t,40 60 70,$(DATA)/collapse-fig2-$(f)-$(t).tsv))
$(DATA)/collapse-fig2-%.tsv: $(BIN)/smx-collapse
	$(COLLAPSE) $(CF2_OPTS) --softmax-format $(word 1,$(subst -, ,$*)) --train-frac 0.$(word 2,$(subst -, ,$*)) \
	  $(if $(filter 40,$(word 2,$(subst -, ,$*))),--eps 1e-30) --out $@

# Fig 1b/1c: StableMax (no weight decay) vs float64 softmax, float32 model, AdamW lr 1e-2. As in
# the reference: the StableMax CE is computed in float64 (it casts the logits to float64 whatever
# the softmax precision) with beta2 0.999; the float64-softmax run keeps beta2 0.99. 40 % train
# in the paper profile, 70 % in the quick one (the small model groks within 2000 epochs only
# with more data).
CSM_COMMON := --lr 1e-2 --softmax-format fp64 $(CSM_OPTS)
$(DATA)/collapse-stablemax-sm.tsv: $(BIN)/smx-collapse
	$(COLLAPSE) $(CSM_COMMON) --loss stablemax --beta2 0.999 --out $@
$(DATA)/collapse-stablemax-fp64.tsv: $(BIN)/smx-collapse
	$(COLLAPSE) $(CSM_COMMON) --loss softmax --beta2 0.99 --out $@
CSM_DATA := $(DATA)/collapse-stablemax-sm.tsv $(DATA)/collapse-stablemax-fp64.tsv

# perpGrad (paper Fig 6): perpAdamW lr 5e-3 with the betas (0.9, 0.999) and eps 1e-8 its runs
# effectively used, AdamW lr 5e-3 with the reference's own (0.9, 0.99, 1e-25) (it is not wrapped),
# perpSGD lr 10 fp64 + StableMax with momentum 0.8: the reference's OrthoGrad builds its base SGD
# with momentum 0.8, and the state it loads (0.2) never reaches it (smx-collapse --help). perpSGD
# runs 500 epochs in both profiles; the paper's model (V 113, W 200) in both.
$(DATA)/collapse-perpgrad-perp-adamw.tsv: $(BIN)/smx-collapse
	$(COLLAPSE) --train-frac 0.4 --lr 5e-3 --beta2 0.999 --eps 1e-8 $(CPG_OPTS) --optimizer perp-adamw --out $@
$(DATA)/collapse-perpgrad-adamw.tsv: $(BIN)/smx-collapse
	$(COLLAPSE) --train-frac 0.4 --lr 5e-3 --beta2 0.99 --eps 1e-25 $(CPG_OPTS) --optimizer adamw --out $@
$(DATA)/collapse-perpgrad-perp-sgd.tsv: $(BIN)/smx-collapse
	$(COLLAPSE) --train-frac 0.4 --optimizer perp-sgd --lr 10 --momentum 0.8 --loss stablemax --model-format fp64 --softmax-format fp64 $(CPG_OPTS) --epochs 500 --out $@
CPG_DATA := $(foreach o,perp-adamw adamw perp-sgd,$(DATA)/collapse-perpgrad-$(o).tsv)

# Onset vs precision answered (issue 11): one fp64-softmax run logs the training rows' logit gaps
# and predicts the onset for p = 4..64 from the collapse thresholds (collapse-gaps-predict.tsv);
# the sweeps measure it in pN with both sums (quick: p4..p11 dense, then p12, p15, p18, p21, p24;
# paper: p4..p24 and p28 .. p64) and how long each run follows the fp64 run's train loss
# (--reference fp64, run only as long as the longest pN run). The figures
# collapse-onset-vs-precision and collapse-threshold-check are drawn from these sweeps too.
# Settings (both profiles): AdamW lr 1e-2, betas (0.9, 0.99), 40 % train, no weight decay: the
# gaps grow fast and steadily (quick: the median gap by ~0.0053 nats per epoch, ~130 epochs per
# bit), so in the quick profile the measured onsets reach p = 24 within the 4000-epoch cap and
# the fp64 run (6000 epochs) covers the prediction up to p ~ 52 (beyond it the fitted line
# extrapolates). Not the Fig 2 settings (lr 1e-3, where onset comes too late for p >= 12) nor the
# old beta2 0.999 sweep (retired), whose optimiser spikes (README, the p = 16 run) break a sweep.
$(DATA)/collapse-gaps.tsv $(DATA)/collapse-gaps-predict.tsv &: $(BIN)/smx-collapse
	$(COLLAPSE) gaps $(COS_OPTS) --epochs $(CGAP_EPOCHS) --softmax-format fp64 --out $(DATA)/collapse-gaps.tsv \
	  --predict $(DATA)/collapse-gaps-predict.tsv
$(DATA)/collapse-onset-sweep.tsv: $(BIN)/smx-collapse
	$(COLLAPSE) onset $(COS_OPTS) --formats $(COS_FORMATS) --sum sequential --reference fp64 --out $@
$(DATA)/collapse-onset-sweep-pairwise.tsv: $(BIN)/smx-collapse
	$(COLLAPSE) onset $(COS_OPTS) --formats $(COS_FORMATS) --sum pairwise --reference fp64 --out $@
COS_DATA := $(DATA)/collapse-gaps.tsv $(DATA)/collapse-gaps-predict.tsv $(DATA)/collapse-onset-sweep.tsv \
            $(DATA)/collapse-onset-sweep-pairwise.tsv

$(FIGS)/collapse-fig2.png $(FIGS)/collapse-fig2.pdf: $(CF2_DATA)
$(FIGS)/collapse-stablemax.png $(FIGS)/collapse-stablemax.pdf: $(CSM_DATA)
$(FIGS)/collapse-perpgrad.png $(FIGS)/collapse-perpgrad.pdf: $(CPG_DATA)
$(FIGS)/collapse-nlm.png $(FIGS)/collapse-nlm.pdf: $(DATA)/collapse-fig2-fp64-40.tsv $(DATA)/collapse-fig2-fp32-70.tsv
$(FIGS)/collapse-onset-vs-precision.png $(FIGS)/collapse-onset-vs-precision.pdf: $(DATA)/collapse-onset-sweep.tsv
$(FIGS)/collapse-threshold-check.png $(FIGS)/collapse-threshold-check.pdf: $(DATA)/collapse-onset-sweep.tsv \
  $(DATA)/collapse-onset-sweep-pairwise.tsv
$(FIGS)/collapse-onset-predicted.png $(FIGS)/collapse-onset-predicted.pdf: $(COS_DATA)

.PHONY: run-collapse bench-collapse
run-collapse: $(CF2_DATA) $(CSM_DATA) $(CPG_DATA) $(COS_DATA)

bench-collapse: $(BIN)/smx-collapse
	$(BIN)/smx-collapse bench --epochs 21 --threads 2
