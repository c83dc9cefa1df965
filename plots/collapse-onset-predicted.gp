# collapse-onset-predicted (issue 11): SC onset epoch vs significand bits p = 4..64, predicted from
# one fp64-softmax run (lines) and measured in pN runs (points), sequential and pairwise sums.
# Prediction: the first epoch at which the median of the training rows' logit gaps z_max - z_second
# reaches pN's collapse threshold (numerics/threshold.h), i.e. half the rows in SC; dashed: the
# same from the straight line fitted to the median gap (extrapolated beyond the fp64 run).
# Right: that median gap (quartiles shaded) vs epoch, with the measured onsets placed at their
# thresholds: a point on the curve is an onset that the prediction got right.
load 'plots/common.gp'
pr = datadir.'/collapse-gaps-predict.tsv'
g = datadir.'/collapse-gaps.tsv'
ms = datadir.'/collapse-onset-sweep.tsv'
mp = datadir.'/collapse-onset-sweep-pairwise.tsv'
V = real(system(sprintf("sed -n 's/.*modulus=\\([0-9]*\\).*/\\1/p' %s | head -1", ms)))
E = real(system(sprintf("sed -n 's/.*epochs=\\([0-9]*\\).*/\\1/p' %s | head -1", ms)))
seq(c) = strcol('sum') eq 'sequential' ? column(c) : 1/0
pw(c) = strcol('sum') eq 'pairwise' ? column(c) : 1/0
pos(x) = x >= 0 ? x : 1/0
set multiplot layout 1,2 title sprintf('Softmax Collapse onset vs precision p: predicted from one fp64 run vs measured (V = %d, pN runs capped at %d epochs)', V, E)
set key top left font ',8'
set xlabel 'significand bits p'
set ylabel 'SC onset epoch (SC fraction > 50 %)'
set xrange [3:65]
set yrange [0:*]
plot pr using 'p':(pos(seq('onset_first'))) with lines ls 1 title 'predicted, sequential', \
     pr using 'p':(seq('onset_fit')) with lines ls 1 lw 1 dt 2 title 'predicted (fit), sequential', \
     pr using 'p':(pos(pw('onset_first'))) with lines ls 2 title 'predicted, pairwise', \
     pr using 'p':(pw('onset_fit')) with lines ls 2 lw 1 dt 2 title 'predicted (fit), pairwise', \
     ms using 'p':(pos(column('onset_epoch'))) with points ls 1 pt 7 ps 0.9 title 'measured, sequential', \
     mp using 'p':(pos(column('onset_epoch'))) with points ls 2 pt 5 ps 0.9 title 'measured, pairwise'
set xrange [*:*]
set yrange [*:*]
set xlabel 'epoch'
set ylabel 'logit gap z_{max} - z_{second} (nats)'
set key bottom right font ',8'
plot g using 'epoch':'gap_q25':'gap_q75' with filledcurves lc rgb '#cccccc' title 'fp64 run: rows q25..q75', \
     g using 'epoch':'gap_q50' with lines ls 3 title 'fp64 run: median gap', \
     ms using (pos(column('onset_epoch'))):'p_ln2' with points ls 1 pt 7 ps 0.9 title 'measured onset at p ln 2 (sequential)', \
     mp using (pos(column('onset_epoch'))):(column('p_ln2') + log(V - 1)) with points ls 2 pt 5 ps 0.9 title 'measured onset at p ln 2 + ln(V-1) (pairwise)'
unset multiplot
