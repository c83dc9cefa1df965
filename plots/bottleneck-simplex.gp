# bottleneck-simplex: the image of a V = 3, d = 1 softmax head (a curve) in the probability simplex, and the
# basis-aware threshold (BAT) support test along it beside threshold sampling.
# Data: smx-bottleneck bat (bottleneck-bat.tsv).
load 'plots/common.gp'
f = datadir.'/bottleneck-bat.tsv'
set multiplot layout 1,2 title 'V = 3, d = 1: softmax(x w) traces a curve, not the simplex; BAT vs threshold (tau = 0.05)'
set title 'image curve in the simplex (barycentric coordinates)' font ',9'
set size ratio -1
unset border
unset xtics
unset ytics
unset grid
set xrange [-0.1:1.1]
set yrange [-0.1:0.97]
set label 1 'token 1' at -0.08,-0.05 font ',8'
set label 2 'token 2' at 0.98,-0.05 font ',8'
set label 3 'token 3' at 0.44,0.92 font ',8'
set key top left font ',8'
set object 1 polygon from 0,0 to 1,0 to 0.5,0.8660254037844386 to 0,0 fs empty border lc rgb '#666666' lw 2
plot f using 'sx':'sy' with lines ls 1 lw 3 title 'softmax(x w), x in [-4, 4]', \
     f using 'sx':(column('bat3') == 1 && column('thr3') == 0 ? column('sy') : 1/0) with points ls 2 pt 7 ps 0.4 \
       title 'BAT keeps token 3, threshold drops it'
unset label
unset object 1
set size noratio
set border
set xtics
set ytics
set grid
set autoscale
set title 'p_i(x); filled: BAT accepts, open: threshold accepts' font ',9'
set logscale y
set format y '10^{%L}'
set yrange [1e-8:2]
set xlabel 'x'
set ylabel 'p_i'
set key bottom left font ',7'
plot for [i=1:3] f using 'x':(column('p'.i)) with lines ls i title 'p_'.i, \
     for [i=1:3] f every 8 using 'x':(column('bat'.i) == 1 ? column('p'.i) : 1/0) with points ls i pt 7 ps 0.5 notitle, \
     for [i=1:3] f every 8 using 'x':(column('thr'.i) == 1 ? 1.6 * column('p'.i) : 1/0) with points ls i pt 6 ps 0.7 notitle
unset multiplot
