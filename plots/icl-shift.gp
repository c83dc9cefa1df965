# icl-shift: induced target shift ||b~ - b|| = ||f(new) - f(old)|| of one GD step (weight shifting) and of one
# softmax self-attention update of the data (in-context learning), Li et al. arXiv 2304.13276 Thms 1.2/1.3.
# Data: smx-icl shift.
load 'plots/common.gp'
f = datadir.'/icl-shift.tsv'
set multiplot layout 1,2 title 'Induced target shift vs step size (means over problems); M ||delta|| lies 10^{60+} higher at R = 4'
set logscale xy
set format x '10^{%L}'
set format y '10^{%L}'
set ylabel '||b_{shifted} - b|| = ||f(new) - f(old)||'
set key top left font ',7'
do for [k in "gd attn"] {
    set title (k eq 'gd' ? 'one GD step on x: delta = x_1 - x_0' : 'one self-attention update of A: delta = A_1 - A_0') font ',9'
    set xlabel (k eq 'gd' ? '||x_1 - x_0||' : '||A_1 - A_0||_2')
    sel(R, c) = (strcol('kind') eq k && column('R') == R) ? column(c) : 1/0
    plot for [i=1:2] f using 'norm_delta':(sel(i == 1 ? 1 : 4, 'shift')) with linespoints ls i title sprintf('measured, R = %d', i == 1 ? 1 : 4), \
         for [i=1:2] f using 'norm_delta':(sel(i == 1 ? 1 : 4, 'half_bound')) with lines ls i dt 2 title sprintf('0.5 ||A|| or 0.5 ||x|| times ||delta||, R = %d', i == 1 ? 1 : 4)
}
unset multiplot
