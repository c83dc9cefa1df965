# dispersion-bound: Lemma 2.1 (Velickovic et al. 2024): p_max <= e^delta / n, all coefficients Theta(1/n).
# Data: smx-dispersion curves (dispersion-curves.tsv, dispersion-curves-materialised.tsv).
load 'plots/common.gp'
f = datadir.'/dispersion-curves.tsv'
m = datadir.'/dispersion-curves-materialised.tsv'
D1 = 2.28; D2 = 5.69; D3 = 14.78
sel(d, c) = (abs(column('delta') - d) < 1e-9) ? column(c) : 1/0
set multiplot layout 2,2 title 'Dispersion: one logit delta above n-1 equal others (delta = Gemma 2B min / mean / max spread)'
set logscale xy
set format x '2^{%L}'
set xrange [2:2**30]
set format y '10^{%L}'
set xlabel 'n'
set ylabel 'max coefficient p_{max}'
set yrange [1e-10:2]
set key bottom left font ',7'
set title 'softmax: closed form (MPFR), bound e^{delta}/n (dashed), random U[0,delta] logits (points)' font ',8'
set format x '%L'
set xlabel 'log_2 n'
set logscale x 2
plot for [i=1:3] f using 1:(sel(i==1?D1:i==2?D2:D3, 'pmax_softmax')) with lines ls i title sprintf('delta = %.2f', i==1?D1:i==2?D2:D3), \
     for [i=1:3] f using 1:(sel(i==1?D1:i==2?D2:D3, 'bound_upper')) with lines ls i dt 2 notitle, \
     for [i=1:3] f using 1:(sel(i==1?D1:i==2?D2:D3, 'random_pmax')) with points ls i pt 6 notitle
set title 'softmax (dotted) vs SSMax s = 0.43 (solid) vs adaptive temperature (dashed)' font ',8'
set yrange [1e-8:2]
plot for [i=1:3] f using 1:(sel(i==1?D1:i==2?D2:D3, 'pmax_ssmax')) with lines ls i title sprintf('delta = %.2f', i==1?D1:i==2?D2:D3), \
     for [i=1:3] f using 1:(sel(i==1?D1:i==2?D2:D3, 'pmax_adaptive')) with lines ls i dt 2 notitle, \
     for [i=1:3] f using 1:(sel(i==1?D1:i==2?D2:D3, 'pmax_softmax')) with lines ls i dt 3 notitle
set title 'materialised [delta, 0, ..., 0], delta = 5.69: |p_{max} - exact| / exact' font ',8'
set xrange [2:*]
set yrange [1e-17:10]
set ylabel 'relative error'
fm(fmt, s) = (strcol('format') eq fmt && strcol('sum') eq s && abs(column('delta') - D2) < 1e-9) ? (abs(column('pmax_relerr')) > 0 ? abs(column('pmax_relerr')) : 1e-17) : 1/0
plot for [k=1:4] m using 1:(fm(word('fp16 bf16 fp32 fp64', k), 'naive')) with linespoints ls k title word('fp16 bf16 fp32 fp64', k).' naive', \
     for [k=1:4] m using 1:(fm(word('fp16 bf16 fp32 fp64', k), 'pairwise')) with linespoints ls k dt 2 pt 4 title word('fp16 bf16 fp32 fp64', k).' pairwise'
set title 'materialised, delta = 5.69: p_{max} in the format vs the closed form (line)' font ',8'
set yrange [1e-6:2]
set ylabel 'p_{max}'
pm(fmt, s) = (strcol('format') eq fmt && strcol('sum') eq s && abs(column('delta') - D2) < 1e-9) ? column('pmax') : 1/0
plot m using 1:(abs(column('delta') - D2) < 1e-9 && strcol('format') eq 'fp64' && strcol('sum') eq 'naive' ? column('pmax_exact') : 1/0) with lines ls 8 lw 2 title 'exact', \
     for [k=1:3] m using 1:(pm(word('fp16 bf16 fp32', k), 'naive')) with points ls k pt 7 title word('fp16 bf16 fp32', k).' naive', \
     for [k=1:3] m using 1:(pm(word('fp16 bf16 fp32', k), 'compensated')) with points ls k pt 6 ps 1.2 title word('fp16 bf16 fp32', k).' compensated'
unset multiplot
