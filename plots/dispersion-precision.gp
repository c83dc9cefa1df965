# dispersion-precision: the normaliser and the leakage 1 - p_max vs n in fp16 / bf16 / fp32 / fp64 / exact (MPFR).
# Data: smx-dispersion precision (dispersion-precision.tsv).
load 'plots/common.gp'
f = datadir.'/dispersion-precision.tsv'
F(k) = word('fp16 bf16 fp32 fp64', k)
is(d, fmt, s) = abs(column('delta') - d) < 1e-9 && strcol('format') eq fmt && strcol('sum') eq s
sel(d, fmt, s, c) = is(d, fmt, s) ? (column(c) > 0 ? column(c) : 1e-300) : 1/0
set multiplot layout 2,2 title 'Softmax at scale in low precision: normaliser, coefficients and leakage'
set logscale xy 2
set format x '2^{%L}'
set format y '2^{%L}'
set xlabel 'n'
set key top left font ',7'
set title 'n equal logits: normaliser S (exact n); naive sums stop at 2^p' font ',8'
set ylabel 'S'
set yrange [1:2**32]
plot f using 4:(sel(0, 'mpfr', 'exact', 'S')) with lines ls 8 lw 2 title 'exact', \
     for [k=1:4] f using 4:(sel(0, F(k), 'naive', 'S')) with linespoints ls k title F(k).' naive', \
     for [k=1:3] f using 4:(sel(0, F(k), 'compensated', 'S')) with linespoints ls k dt 3 pt 6 title F(k).' compensated', \
     for [k=1:3] f using 4:(sel(0, F(k), 'pairwise', 'S')) with linespoints ls k dt 2 pt 4 title F(k).' pairwise'
set title 'n equal logits: fl(1/n) (exact normaliser) and 1/fl(S) (naive)' font ',8'
set ylabel 'coefficient'
set format y '10^{%L}'
set logscale y 10
set yrange [1e-10:1]
set key bottom left font ',7'
set arrow from 2**14,1e-10 to 2**14,1 nohead ls 8
set label 'fp16 subnormal' at 2**14.3,1e-2 font ',7'
plot f using 4:(sel(0, 'mpfr', 'exact', 'pother')) with lines ls 8 lw 2 title '1/n', \
     for [k=1:3] f using 4:(sel(0, F(k), 'naive', 'pother_exactS')) with linespoints ls k title F(k).' fl(1/n)', \
     for [k=1:3] f using 4:(sel(0, F(k), 'naive', 'pother')) with linespoints ls k dt 2 pt 6 title F(k).' 1/fl(S) naive'
unset arrow
unset label
set title 'leakage 1 - p_{max}, Delta = 40: fp64 rounds it to 0 while (n-1)e^{-40} < 2^{-53}' font ',8'
set ylabel '1 - p_{max}'
set yrange [1e-19:1e-9]
set key top left font ',7'
plot f using 4:(sel(40, 'mpfr', 'exact', 'leak_exact')) with lines ls 8 lw 2 title 'exact (log-space, MPFR)', \
     f using 4:(sel(40, 'fp64', 'pairwise', 'leak')) with linespoints ls 4 title 'fp64: 1 - fl(1/S)', \
     f using 4:(sel(40, 'fp64', 'pairwise', 'leak_log')) with points ls 1 pt 6 ps 1.2 title 'fp64: exp(ln S - log1p S)', \
     f using 4:(sel(40, 'fp32', 'pairwise', 'leak_log')) with points ls 3 pt 4 title 'fp32: exp(ln S - log1p S)'
set title 'leakage, Delta = 14.78 (max spread): 1 - fl(1/S) vs log-space, pairwise sums' font ',8'
set yrange [1e-8:2]
plot f using 4:(sel(14.78, 'mpfr', 'exact', 'leak_exact')) with lines ls 8 lw 2 title 'exact', \
     for [k=1:3] f using 4:(sel(14.78, F(k), 'pairwise', 'leak')) with linespoints ls k title F(k).' 1 - fl(1/S)', \
     for [k=1:3] f using 4:(sel(14.78, F(k), 'pairwise', 'leak_log')) with points ls k pt 6 ps 1.2 title F(k).' log-space'
unset multiplot
