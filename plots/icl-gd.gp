# icl-gd: GD and Newton on softmax regression from x0 = 0: loss and Hessian eigenvalue range along the path
# (Li et al., arXiv 2304.13276: the Hessian can be indefinite). Data: smx-icl gd.
load 'plots/common.gp'
f = datadir.'/icl-gd.tsv'
set multiplot layout 1,2 title 'GD and Newton on L(x) = 0.5 ||softmax(Ax) - b||^2 (n = 200, d = 20, ||A||_2 = 4)'
set xlabel 'iteration'
set key top right font ',7'
set logscale y
set format y '10^{%L}'
set ylabel 'loss'
set title 'loss' font ',9'
sel(t, m, c) = (strcol('target') eq t && strcol('method') eq m) ? column(c) : 1/0
plot f using 'iter':(sel('realisable', 'gd', 'loss')) with lines lw 2 lc 1 title 'realisable b, GD', \
     f using 'iter':(sel('realisable', 'newton', 'loss')) with lines lw 2 dt 2 lc 1 title 'realisable b, Newton', \
     f using 'iter':(sel('random', 'gd', 'loss')) with lines lw 2 lc 2 title 'random b, GD', \
     f using 'iter':(sel('random', 'newton', 'loss')) with lines lw 2 dt 2 lc 2 title 'random b, Newton'
unset logscale y
set format y '%g'
set ylabel 'Hessian eigenvalue'
set title 'min (solid) and max (dashed) Hessian eigenvalue; GD' font ',9'
plot for [t in "realisable random"] f using 'iter':(sel(t, 'gd', 'eig_min')) with lines lw 2 lc (t eq 'realisable' ? 1 : 2) title (t.' min'), \
     for [t in "realisable random"] f using 'iter':(sel(t, 'gd', 'eig_max')) with lines lw 2 dt 2 lc (t eq 'realisable' ? 1 : 2) title (t.' max'), \
     0 with lines lc rgb '#888888' notitle
unset multiplot
