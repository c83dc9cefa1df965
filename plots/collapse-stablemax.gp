# collapse-stablemax: StableMax CE (no weight decay) groks while float64 softmax does not
# (Prieto et al. 2025, Fig. 1b/c and 4). float32 model, both losses in float64 (as the reference);
# AdamW lr 1e-2, beta2 0.999 (StableMax) / 0.99 (softmax); train fraction from the data
# (40 % in the paper profile, 70 % in the quick one).
load 'plots/common.gp'
sm = datadir.'/collapse-stablemax-sm.tsv'
f64 = datadir.'/collapse-stablemax-fp64.tsv'
frac = real(system(sprintf("sed -n 's/.*train_frac=\\([0-9.]*\\).*/\\1/p' %s | head -1", sm)))
set multiplot layout 2,1 title sprintf('StableMax vs softmax cross-entropy (both in float64, float32 model), AdamW lr 1e-2, no weight decay, %g %% train', 100 * frac)
set key center right font ',9'
set ylabel 'accuracy'
set yrange [0:1.02]
plot sm using 'epoch':'test_acc' with lines ls 1 title 'StableMax CE: test', \
     sm using 'epoch':'train_acc' with lines ls 1 dt 2 lw 1 title 'StableMax: train', \
     f64 using 'epoch':'test_acc' with lines ls 2 title 'softmax CE: test', \
     f64 using 'epoch':'train_acc' with lines ls 2 dt 2 lw 1 title 'softmax CE: train'
set xlabel 'epoch'
set ylabel 'fraction of training rows'
set key top left
plot sm using 'epoch':'sc_fraction' with lines ls 1 title 'StableMax run: softmax SC fraction (fp64) of its logits (its loss does not collapse)', \
     f64 using 'epoch':'sc_fraction' with lines ls 2 title 'softmax run: SC fraction (fp64)', \
     f64 using 'epoch':'zero_loss_fraction' with lines ls 2 dt 2 title 'softmax run: zero-loss fraction'
unset multiplot
