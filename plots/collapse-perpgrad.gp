# collapse-perpgrad: perpGrad (gradient projected orthogonal to each weight tensor, rescaled to
# its norm) groks without delay: perpAdamW and perpSGD vs plain AdamW
# (Prieto et al. 2025, Fig. 1a / 6b). 40 % train.
load 'plots/common.gp'
f(o) = sprintf('%s/collapse-perpgrad-%s.tsv', datadir, o)
set multiplot layout 1,2 title 'perpGrad vs AdamW (40 % train; solid: test, dashed: train)'
set key below font ',9'
set xlabel 'epoch'
set ylabel 'accuracy'
set yrange [0:1.02]
plot f('perp-adamw') using 'epoch':'test_acc' with lines ls 1 title 'perpAdamW lr 5e-3', \
     f('perp-adamw') using 'epoch':'train_acc' with lines ls 1 dt 2 lw 1 notitle, \
     f('perp-sgd') using 'epoch':'test_acc' with lines ls 3 title 'perpSGD lr 10, mom. 0.8 (fp64, StableMax)', \
     f('perp-sgd') using 'epoch':'train_acc' with lines ls 3 dt 2 lw 1 notitle, \
     f('adamw') using 'epoch':'test_acc' with lines ls 2 title 'AdamW lr 5e-3', \
     f('adamw') using 'epoch':'train_acc' with lines ls 2 dt 2 lw 1 notitle
set ylabel 'total weight norm'
set yrange [*:*]
set key top left inside vertical
plot f('perp-adamw') using 'epoch':'w_norm_total' with lines ls 1 title 'perpAdamW', \
     f('perp-sgd') using 'epoch':'w_norm_total' with lines ls 3 title 'perpSGD', \
     f('adamw') using 'epoch':'w_norm_total' with lines ls 2 title 'AdamW'
unset multiplot
