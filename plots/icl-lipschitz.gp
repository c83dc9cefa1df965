# icl-lipschitz: measured Lipschitz constants of softmax(Ax) in x and in A vs the theorems' M = n^1.5 exp(10 R^2)
# (Li et al., arXiv 2304.13276) and the elementary 0.5 R (||S||_2 <= 1/2). Data: smx-icl lipschitz.
load 'plots/common.gp'
f = datadir.'/icl-lipschitz.tsv'
set multiplot layout 1,2 title 'Lipschitz constants of softmax(Ax): measured max vs 0.5 R and vs M = n^{1.5} e^{10 R^2} (log_{10})'
set xlabel 'R  (||A||_2 = R, ||x|| <= R; theorems need R >= 4)'
set ylabel 'log_{10} constant'
set key top left font ',7'
do for [nn in "25 200"] {
    set title sprintf('n = %s', nn) font ',9'
    sel(w, c) = (column('n') == int(nn) && strcol('wrt') eq w) ? column(c) : 1/0
    plot f using 'R':(sel('x', 'log10_M')) with linespoints ls 4 title 'M (theorems)', \
         f using 'R':(log10(sel('x', 'half_bound'))) with linespoints ls 3 title '0.5 R', \
         f using 'R':(log10(sel('x', 'measured_max'))) with linespoints ls 1 title 'measured, in x', \
         f using 'R':(log10(sel('A', 'measured_max'))) with linespoints ls 2 title 'measured, in A'
}
unset multiplot
