# bench-exp-error: distribution of the exp's error in ulps (smx-bench exp-error): the softmax
# kernels' own exp (smx) and SLEEF's 1.0-ulp exp, float (every input with a finite nonzero
# result) and double (random + hard cases); the last bin (>= 63/32 ulp) is open. Maxima in the
# TSV metadata.
load 'plots/common.gp'
f = datadir.'/bench-exp-error.tsv'
if (term eq 'pdf') {
    set terminal pdfcairo enhanced color font 'Sans,8' size 9in,4in
} else {
    set terminal pngcairo enhanced color font 'Sans,10' size 1500,640
}
set output out
set logscale y
set xlabel 'error (ulps)'
set ylabel 'inputs per bin of 1/32 ulp'
set xrange [0:1.5]
set style fill transparent solid 0.4 noborder
sel(ty, im) = (strcol(1) eq ty && strcol(2) eq im)
set multiplot layout 1,2 title 'exp error vs MPFR'
do for [t=1:2] {
    ty = word('float double', t)
    set title ty
    plot f using (sel(ty, 'smx') ? $3 + 1/64. : 1/0):($5 > 0 ? $5 : 1/0):(1/32.) with boxes ls 1 title 'smx kernels exp', \
         f using (sel(ty, 'sleef') ? $3 + 1/64. : 1/0):($5 > 0 ? $5 : 1/0):(1/32.) with boxes ls 2 title 'SLEEF u10'
}
unset multiplot
