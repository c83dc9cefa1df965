# bottleneck-rank: numerical rank of the fitted log-probabilities of softmax(H W^T + b) vs hidden size d, raw and
# floored as log(q + 1e-8) (Yang et al.'s code), and of a Mixture of Softmaxes (K = 3), for a rank-40 target and a
# k^-1 spectrum target.
# Data: smx-bottleneck rank (bottleneck-rank.tsv).
load 'plots/common.gp'
set datafile missing NaN
f = datadir.'/bottleneck-rank.tsv'
sel(t, c) = (strcol('target') eq t && strcol('model') eq 'softmax') ? column(c) : NaN
mos(t, c) = (strcol('target') eq t && strcol('model') eq 'mos3') ? column(c) : NaN
set multiplot layout 1,2 title 'Softmax bottleneck: rank of fitted log-probabilities (tol 1e-8 sigma_1) vs hidden size d'
set xlabel 'hidden size d'
set ylabel 'numerical rank'
set key bottom right font ',8'
do for [t in 'rank:40 power:1'] {
  set title 'target '.t font ',9'
  plot f using 'd':(sel(t, 'rank_1e-8')) with linespoints ls 1 title 'log q (softmax fit)', \
       f using 'd':(sel(t, 'rank_floor_1e-8')) with linespoints ls 2 title 'log(q + 1e-8)', \
       f using 'd':(sel(t, 'rank_floor_1e-4')) with linespoints ls 3 title 'log(q + 1e-8), tol 1e-4', \
       f using 'd':(mos(t, 'rank_1e-8')) with linespoints ls 4 title 'log P, MoS (K = 3)', \
       f using 'd':(sel(t, 'd') + 2) with lines ls 8 title 'd + 2 (bias: rank L <= d + 2)'
}
unset multiplot
