# numerics-collapse-threshold: Softmax Collapse gap threshold vs significand bits p.
# Data: smx threshold-sweep (V = 113). Theory: sequential p ln 2, pairwise p ln 2 + ln(V-1).
load 'plots/common.gp'
f = datadir.'/numerics-collapse-threshold.tsv'
set multiplot layout 2,1 title 'Softmax Collapse threshold: smallest gap D with fl(1 + sum_k e^{-D}) = 1 (V = 113)'
set key top left
set xlabel 'significand bits p'
set ylabel 'gap D (nats)'
set logscale xy 2
set xrange [1.8:300]
set yrange [1:256]
set xtics (2, 4, 8, 16, 32, 64, 128, 256)
set ytics (1, 2, 4, 8, 16, 32, 64, 128, 256)
plot f using 2:(column('named')==0 ? $3 : 1/0) with points ls 1 pt 6 title 'sequential (measured)', \
     '' using 2:(column('named')==0 ? $4 : 1/0) with points ls 2 pt 4 title 'pairwise (measured)', \
     '' using 2:6 with lines ls 8 title 'p ln 2', \
     '' using 2:7 with lines ls 8 dt 3 title 'p ln 2 + ln 112', \
     '' using 2:(column('named')==1 ? $3 : 1/0) with points ls 4 pt 7 ps 1.2 title 'named formats', \
     '' using 2:(column('named')==1 ? $3 : 1/0):1 with labels left offset 0.8,-0.8 rotate by -30 font ',8' notitle
unset logscale xy
set xtics auto
set ytics auto
set title 'deviation from theory in units of 2^{-p} (p <= 40)'
set xrange [0:42]

set ylabel '(D - theory) * 2^p'
set key top center maxrows 2 font ',8'
set yrange [-2.5:1.5]
plot f using 2:(column('named')==0 && $2<=40 ? ($3-$6)*2**$2 : 1/0) with linespoints ls 1 title 'sequential, exact terms: D - p ln 2', \
     '' using 2:(column('named')==0 && $2<=40 ? ($4-$7)*2**$2 : 1/0) with linespoints ls 2 title 'pairwise: D - (p ln 2 + ln 112) (rounding of the small sum)', \
     '' using 2:(column('named')==0 && $2<=40 ? ($5-$6)*2**$2 : 1/0) with linespoints ls 3 title 'sequential, rounded exp: D - p ln 2  (theory -1)'
unset multiplot
