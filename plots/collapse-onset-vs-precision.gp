# collapse-onset-vs-precision (beyond the paper): epoch at which the SC fraction first exceeds
# 50 % vs the softmax significand bits p (same model, seed and optimizer; sequential sum).
# The threshold gap p ln 2 grows linearly in p: does the onset epoch too? Right: the state at
# onset (or at the end of the run when there is none): SC fraction and train accuracy, which
# flags runs whose training diverged.
load 'plots/common.gp'
f = datadir.'/collapse-onset-sweep.tsv'
E = real(system(sprintf("sed -n 's/.*epochs=\\([0-9]*\\).*/\\1/p' %s | head -1", f)))
set multiplot layout 1,2 title sprintf('Softmax Collapse onset vs softmax precision p (sequential sum; runs capped at %d epochs)', E)
set key top left font ',9'
set xlabel 'significand bits p'
set ylabel 'SC onset epoch (SC fraction > 50 %)'
set logscale y
set offsets 1, 1, 0, 0
plot f using 'p':(column('onset_epoch') >= 0 ? column('onset_epoch') : 1/0) with linespoints ls 1 title 'measured onset (log scale)', \
     f using 'p':(column('onset_epoch') >= 0 ? column('onset_epoch') : 1/0):'format' with labels offset 0,1 font ',8' notitle
unset logscale y
set ylabel 'fraction'
set yrange [0:1.05]
set key center right
plot f using 'p':'sc_fraction' with linespoints ls 2 title 'SC fraction (train) at onset / end', \
     f using 'p':'train_acc' with linespoints ls 3 title 'train accuracy at onset / end'
unset multiplot
