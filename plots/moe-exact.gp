# moe-exact: exact-fitted softmax-gated Gaussian MoE (paper (a), k = k* = 2): Voronoi loss D1 vs n, mean and
# median over replications, with the OLS lines and slopes (bootstrap 95 % intervals) written by
# `smx-moe summary`; theory -0.5 (sqrt(log n / n)), the authors' stored runs -0.49 and -0.64 (mean).
load 'plots/common.gp'
byn = datadir.'/moe-summary-byn.tsv'
sum = datadir.'/moe-summary.tsv'
val(k, q, s, c) = real(system(sprintf("awk -F'\t' '!/^#/ && $2 == %d && $3 == \"%s\" && $4 == \"%s\" { print $%d; exit }' %s", k, q, s, c, sum)))
lab(k, q, s) = sprintf('%s: slope %.2f [%.2f, %.2f]', s, val(k, q, s, 5), val(k, q, s, 7), val(k, q, s, 8))
line(k, q, s, n) = exp(val(k, q, s, 6)) * n**val(k, q, s, 5)
set logscale xy
set format x '10^{%L}'
set xlabel 'n'
set ylabel 'D_1 (translation min)'
set key top right font ',9' noenhanced
set title 'Exact-fitted softmax-gated MoE (k = k^* = 2): D_1 vs n; theory slope -0.5, authors -0.49 / -0.64 (mean)'
set xrange [80:1.2e5]
k2(c) = (column('k') == 2 ? column(c) : NaN)
plot byn using 'n':(k2('D_min_mean')) with points ls 1 title lab(2, 'D_min', 'mean'), \
     line(2, 'D_min', 'mean', x) with lines ls 1 notitle, \
     byn using 'n':(k2('D_min_median')) with points ls 2 title lab(2, 'D_min', 'median'), \
     line(2, 'D_min', 'median', x) with lines ls 2 notitle, \
     byn using 'n':(k2('hellinger_mean')) with points ls 3 title 'Hellinger (mean): '.lab(2, 'hellinger', 'mean'), \
     line(2, 'hellinger', 'mean', x) with lines ls 3 notitle, \
     0.5 * sqrt(log(x) / x) * sqrt(100 / log(100)) with lines ls 8 title 'sqrt(log n / n) (scaled)'
