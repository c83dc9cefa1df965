# numerics-lse-error: error / u against the leading-order error bound, per score vector
# (analogue of Blanchard, Higham & Higham 2021, Figs. 5.1-5.2). Data: smx lse-error
# (2500 synthetic n = 10 score vectors, see the TSV metadata). Rows: lse, softmax (BHH's
# normwise error); columns: fp16, bf16, fp32; colour: algorithm. Points below the line
# error = bound obey the bound; overflows (err_u = inf) are not drawn; zero errors are drawn
# on the bottom edge.
load 'plots/common.gp'
f = datadir.'/numerics-lse-error.tsv'
if (term eq 'pdf') {
    set terminal pdfcairo enhanced color font 'Sans,7' size 9in,5.5in
} else {
    set terminal pngcairo enhanced color font 'Sans,9' size 1500,900
}
set output out
set key autotitle columnhead
ymin = 1e-3
set logscale xy
set format x '10^{%L}'
set format y '10^{%L}'
set xrange [1:200]
set yrange [ymin:200]
set grid
set key top left font ',7' spacing 0.9 samplen 1
set multiplot layout 2,3 title 'LSE and softmax in low precision: error / u vs leading-order bound (synthetic MNIST-shaped scores, n = 10, 2500 vectors; zero errors on the bottom edge)'
fmts = 'fp16 bf16 fp32'
algs = 'naive shifted log1p online two-pass'
sel(fmt, alg, fun) = (strcol(2) eq fmt && strcol(3) eq alg && strcol(4) eq fun)
yv(e) = (e > ymin ? e : ymin)
# rows come in blocks of 30 per vector (format x algo x function, in this order): 'every 30::k'
# picks one series; sel() re-checks the labels
do for [w=0:1] {
    fun = word('lse softmax', w + 1)
    do for [k=0:2] {
        fmt = word(fmts, k + 1)
        set title sprintf('%s, %s', fun, fmt)
        set xlabel 'bound (units of u)'
        set ylabel 'error / u'
        plot for [i=1:words(algs)] f every 30::(10 * k + 2 * (i - 1) + w) \
                 using (sel(fmt, word(algs, i), fun) && $5 < 1e300 ? $6 : 1/0):(yv($5)) \
                 with points ls i ps 0.35 title word(algs, i), \
             x with lines ls 8 lw 1.5 title 'error = bound'
    }
}
unset multiplot
