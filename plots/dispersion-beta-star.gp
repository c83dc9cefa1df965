# dispersion-beta-star: inverse temperature needed for p_max >= 1 - eps, beta*(n) = [ln(n-1) + ln((1-eps)/eps)]/delta,
# vs the SSMax scale s ln n (s = 0.43) and the adaptive beta(H) (at most 2.421).
# Data: smx-dispersion curves (dispersion-curves-beta-star.tsv).
load 'plots/common.gp'
f = datadir.'/dispersion-curves-beta-star.tsv'
sel(d, e, c) = (abs(column('delta') - d) < 1e-9 && abs(column('eps') - e) < 1e-15) ? column(c) : 1/0
set multiplot layout 1,2 title 'Inverse temperature needed to keep p_{max} >= 1 - eps (one logit delta above the others)'
set logscale x 2
set format x '2^{%L}'
set xrange [2:2**30]
set xlabel 'n'
set ylabel 'beta'
set key top left font ',8'
set title 'delta = 5.69 (mean spread)' font ',9'
plot for [k=1:3] f using 1:(sel(5.69, word('0.1 0.01 0.001', k)+0, 'beta_star')) with lines ls k title 'beta*, eps = '.word('0.1 0.01 0.001', k), \
     f using 1:(sel(5.69, 0.1, 'beta_ssmax')) with lines ls 4 dt 2 title 'SSMax s ln n (s = 0.43)', \
     f using 1:(sel(5.69, 0.1, 'beta_adaptive')) with lines ls 5 dt 3 lw 3 title 'adaptive beta(H)'
set title 's* = beta*/ln n -> 1/delta (log n scaling suffices)' font ',9'
set ylabel 's* = beta*/ln n'
set yrange [0:2]
plot for [i=1:3] f using 1:(sel(word('2.28 5.69 14.78', i)+0, 0.01, 's_star')) with lines ls i title 'eps = 0.01, delta = '.word('2.28 5.69 14.78', i), \
     for [i=1:3] (1.0/(word('2.28 5.69 14.78', i)+0)) with lines ls i dt 2 notitle
unset multiplot
