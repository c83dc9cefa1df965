# bottleneck-rank: numerical rank of the fitted log-probabilities vs hidden size d for a rank-40 target and a k^-1
# spectrum target: softmax(H W^T + b), raw and floored as log(q + 1e-8) (Yang et al.'s code); Mixture of Softmaxes
# (K = 3) with per-context free components and in Yang's parameterisation; Mixture of Contexts (K = 3, Yang's
# baseline, one softmax: rank <= d + 2). Yang et al. Table 6 (PTB, V = 10k, d = 280 MoC / 400 softmax) in the title.
# Data: smx-bottleneck rank --mos-param free,yang (bottleneck-rank.tsv).
load 'plots/common.gp'
set datafile missing NaN
f = datadir.'/bottleneck-rank.tsv'
sel(t, m, c) = (strcol('target') eq t && strcol('model') eq m) ? column(c) : NaN
set multiplot layout 1,2 title "Softmax bottleneck: rank of fitted log-probabilities (tol 1e-8 sigma_1) vs hidden size d (N = 120 contexts, V = 100)\nYang et al. Table 6 (PTB, V = 10k): Softmax 400 = d, MoC 280 = d, MoS 9981 (near full)" font ',9'
set xlabel 'hidden size d'
set ylabel 'numerical rank'
set key bottom right font ',7'
do for [t in 'rank:40 power:1'] {
  set title 'target '.t font ',9'
  plot f using 'd':(sel(t, 'softmax', 'rank_1e-8')) with linespoints ls 1 title 'ours: softmax, log q', \
       f using 'd':(sel(t, 'softmax', 'rank_floor_1e-8')) with linespoints ls 2 title 'ours: softmax, log(q + 1e-8)', \
       f using 'd':(sel(t, 'moc3', 'rank_1e-8')) with linespoints ls 5 dt 2 pt 6 ps 1.2 title 'ours: MoC (K = 3)', \
       f using 'd':(sel(t, 'mos3', 'rank_1e-8')) with linespoints ls 4 title 'ours: MoS (K = 3), free h_{ik}', \
       f using 'd':(sel(t, 'mos3-yang', 'rank_1e-8')) with linespoints ls 3 title 'ours: MoS (K = 3), Yang: h_k = tanh(W_k g)', \
       f using 'd':(sel(t, 'softmax', 'd') + 2) with lines ls 8 title 'd + 2 (bias: rank L <= d + 2)'
}
unset multiplot
