# collapse-fig2: Softmax Collapse stops grokking (Prieto et al. 2025, Fig. 2).
# Top: test accuracy vs epoch, softmax CE in fp16 / fp32 / fp64, train fractions 40/60/70 %;
# the dotted vertical lines mark the epoch where the SC fraction first exceeds 50 %
# (metadata sc_onset_epoch written by smx-collapse). Bottom: fraction of training rows in SC.
load 'plots/common.gp'
fmts = 'fp16 fp32 fp64'
fracs = '40 60 70'
file(f, t) = sprintf('%s/collapse-fig2-%s-%s.tsv', datadir, f, t)
onset(f, t) = real(system(sprintf("sed -n 's/^# sc_onset_epoch: //p' %s", file(f, t))))
set multiplot layout 2,3 title 'Softmax Collapse: test accuracy (top) and SC fraction (bottom); dotted: SC fraction > 50 %'
set key bottom right font ',8'
set yrange [0:1.02]
do for [j=1:3] {
    t = word(fracs, j)
    set title sprintf('train fraction %s %%', t)
    set xlabel 'epoch'
    set ylabel 'test accuracy'
    unset arrow
    do for [i=1:3] {
        e = onset(word(fmts, i), t)
        if (e >= 0) { set arrow from e, graph 0 to e, graph 1 nohead ls i dt 3 lw 1.5 }
    }
    plot for [i=1:3] file(word(fmts, i), t) using 'epoch':'test_acc' with lines ls i title word(fmts, i), \
         for [i=1:3] file(word(fmts, i), t) using 'epoch':'train_acc' with lines ls i dt 2 lw 1 title (i == 1 ? 'train (dashed)' : '')
}
do for [j=1:3] {
    t = word(fracs, j)
    set title ''
    set ylabel 'SC fraction (train)'
    unset arrow
    plot for [i=1:3] file(word(fmts, i), t) using 'epoch':'sc_fraction' with lines ls i title word(fmts, i)
}
unset multiplot
