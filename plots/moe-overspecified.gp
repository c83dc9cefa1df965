# moe-overspecified: over-specified fits (k = 3, 4 experts for k* = 2; paper (a) Theorem 2). Left, middle: D2 vs n,
# mean and median, under the two translation conventions: 'none' (the authors': last gate fixed at (0,0), which
# plateaus near 1 when the reference expert's cell holds two fitted experts) and 'min' (minimised over one
# translation of the fitted gates). Right: per-parameter errors in 2-member cells (k = 3, median) with slopes;
# theory beta1, b ~ n^-1/8, a, var ~ n^-1/4. Slopes and intervals from `smx-moe summary`.
load 'plots/common.gp'
byn = datadir.'/moe-summary-byn.tsv'
sum = datadir.'/moe-summary.tsv'
val(k, q, s, c) = real(system(sprintf("awk -F'\t' '!/^#/ && $2 == %d && $3 == \"%s\" && $4 == \"%s\" { print $%d; exit }' %s", k, q, s, c, sum)))
lab(k, q, s) = sprintf('%s %s: %.2f [%.2f, %.2f]', q, s, val(k, q, s, 5), val(k, q, s, 7), val(k, q, s, 8))
line(k, q, s, n) = exp(val(k, q, s, 6)) * n**val(k, q, s, 5)
if (term eq 'pdf') { set terminal pdfcairo enhanced color font 'Sans,8' size 8in,6.5in } else { set terminal pngcairo enhanced color font 'Sans,9' size 1200,960 }
set output out
set multiplot layout 2,2 title 'Over-specified softmax-gated MoE (k^* = 2): Voronoi loss D_2 (theory slope -0.5; top) and errors in 2-member cells (bottom)'
set logscale xy
set format x '10^{%L}'
set format y '10^{%L}'
set xlabel 'n'
set key top right font ',8' noenhanced
set xrange [8e3:1.2e5]
do for [k=3:4] {
    set title sprintf('k = %d fitted experts: D_2, translation min (solid) and none (the authors'', dashed)', k)
    set ylabel 'D_2'
    kk(c) = (column('k') == k ? column(c) : NaN)
    plot byn using 'n':(kk('D_min_median')) with points ls 1 title lab(k, 'D_min', 'median'), \
         line(k, 'D_min', 'median', x) with lines ls 1 notitle, \
         byn using 'n':(kk('D_min_mean')) with points ls 2 title lab(k, 'D_min', 'mean'), \
         line(k, 'D_min', 'mean', x) with lines ls 2 notitle, \
         byn using 'n':(kk('D_none_median')) with linespoints ls 3 dt 2 title 'D_none median (authors)', \
         byn using 'n':(kk('D_none_mean')) with linespoints ls 4 dt 2 title 'D_none mean (authors)'
}
do for [k=3:4] {
    set title sprintf('k = %d: parameter errors in 2-member cells (median over fits); theory beta1, b: -1/8, a, var: -1/4', k)
    set ylabel 'parameter error'
    kk(c) = (column('k') == k ? column(c) : NaN)
    plot for [i=1:4] byn using 'n':(kk(word('pair_err_beta1_median pair_err_a_median pair_err_b_median pair_err_var_median', i))) \
             with points ls i title lab(k, word('pair_err_beta1 pair_err_a pair_err_b pair_err_var', i), 'median'), \
         for [i=1:4] line(k, word('pair_err_beta1 pair_err_a pair_err_b pair_err_var', i), 'median', x) with lines ls i notitle
}
unset multiplot
