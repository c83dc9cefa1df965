# bottleneck-kl: optimised mean KL(p* || softmax) vs hidden size d beside the envelope
# (m/2N) sum_{i>d} sigma_i^2 <= min KL <= (1/4N) sum_{i>d} sigma_i^2 and the KL of the truncated-SVD start.
# Data: smx-bottleneck kl (bottleneck-kl.tsv).
load 'plots/common.gp'
set datafile missing NaN
f = datadir.'/bottleneck-kl.tsv'
sel(t, c) = (strcol('target') eq t && strcol('model') eq 'softmax' && column(c) > 1e-30) ? column(c) : NaN
mos(t, c) = (strcol('target') eq t && strcol('model') eq 'mos3' && column(c) > 1e-30) ? column(c) : NaN
set multiplot layout 1,2 title 'Softmax fits: mean KL vs d inside the Eckart-Young envelope'
set logscale y
set format y '10^{%L}'
set xlabel 'hidden size d'
set ylabel 'mean KL (nats)'
set key bottom left font ',8'
do for [t in 'rank:40 power:1'] {
  set title 'target '.t font ',9'
  plot f using 'd':(sel(t, 'env_upper')) with lines ls 8 title 'upper (1/4N) tail', \
       f using 'd':(sel(t, 'kl_init')) with linespoints ls 2 title 'truncated SVD start', \
       f using 'd':(sel(t, 'kl_opt')) with linespoints ls 1 title 'L-BFGS optimum', \
       f using 'd':(mos(t, 'kl_opt')) with linespoints ls 4 title 'MoS (K = 3), same iterations', \
       f using 'd':(sel(t, 'env_lower')) with lines ls 3 title 'lower (m/2N) tail'
}
unset multiplot
