# icl-derivatives: softmax regression (Li et al., arXiv 2304.13276): gradient and Hessian of
# L = 0.5 ||softmax(Ax) - b||^2, relative errors vs MPFR at 256 bits as the scale R = max|Ax| grows.
# Data: smx-icl check (icl-check.tsv).
load 'plots/common.gp'
f = datadir.'/icl-check.tsv'
fl(x) = (x > 1e-17) ? x : 1e-17
set multiplot layout 1,2 title 'Softmax regression: analytic derivatives vs MPFR 256 bits (medians over problems)'
set logscale xy
set format y '10^{%L}'
set xlabel 'R = max_i |(Ax)_i|'
set ylabel 'relative error'
set yrange [1e-17:1]
set key top left font ',7'
do for [nn in "25 200"] {
    set title sprintf('n = %s, d = 10', nn) font ',9'
    sel(c) = (column('n') == int(nn)) ? fl(column(c)) : 1/0
    plot f using 'R':(sel('err_grad_double')) with linespoints ls 1 title 'gradient, double', \
         f using 'R':(sel('err_hess_double')) with linespoints ls 2 title 'Hessian, double', \
         f using 'R':(sel('err_grad_fd')) with linespoints ls 3 title 'gradient, finite differences', \
         f using 'R':(sel('err_hess_fd')) with linespoints ls 4 title 'Hessian, finite differences', \
         f using 'R':(sel('err_grad_prec')) with linespoints ls 5 dt 2 title 'gradient, MPFR at --prec bits', \
         f using 'R':(sel('err_loss_double')) with linespoints ls 6 dt 3 title 'loss, double'
}
unset multiplot
