# bottleneck-kl-vs-tail: optimised mean KL vs the normalised spectral tail sqrt(sum_{i>d} sigma_i^2 / sum sigma_i^2).
# Data: smx-bottleneck kl (bottleneck-kl.tsv).
load 'plots/common.gp'
set datafile missing NaN
f = datadir.'/bottleneck-kl.tsv'
sel(t, c) = (strcol('target') eq t && strcol('model') eq 'softmax' && column('kl_opt') > 1e-30) ? column(c) : NaN
set title 'Softmax fits: KL vs normalised spectral tail of clr(A)'
set logscale xy
set format y '10^{%L}'
set xlabel 'tail = sqrt(sum_{i>d} sigma_i^2 / sum_i sigma_i^2)'
set ylabel 'mean KL (nats)'
set key top left
plot f using (sel('rank:40', 'tail')):(sel('rank:40', 'kl_opt')) with linespoints ls 1 title 'rank-40 target, optimum', \
     f using (sel('power:1', 'tail')):(sel('power:1', 'kl_opt')) with linespoints ls 2 title 'k^{-1} target, optimum', \
     f using (sel('power:1', 'tail')):(sel('power:1', 'kl_init')) with linespoints ls 3 dt 2 title 'k^{-1} target, truncated SVD'
