# dispersion-retrieval-accuracy: max retrieval (Velickovic et al. 2024), trained on <= 16 items, tested up to 2^14:
# accuracy and attention entropy for softmax, adaptive temperature (inference only) and SSMax (trained s).
# Data: smx-dispersion retrieval (dispersion-retrieval.tsv).
load 'plots/common.gp'
f = datadir.'/dispersion-retrieval.tsv'
sel(m, c) = strcol('method') eq m ? column(c) : 1/0
M(k) = word('softmax adaptive ssmax', k)
T(k) = word('softmax "adaptive temperature" "SSMax (trained s)"', k)
set multiplot layout 1,2 title 'Max retrieval: one attention head, trained on sets of <= 16 items'
set logscale x 2
set format x '2^{%L}'
set xrange [12:20000]
set xlabel 'test set size n'
set ylabel 'accuracy (%)'
set yrange [0:100]
set key top right font ',8'
set title 'accuracy (error bars: binomial standard error); open: paper' font ',9'
plot for [k=1:3] f using 2:(sel(M(k), 'accuracy')):(sel(M(k), 'stderr')) with yerrorlines ls k title T(k), \
     f using 2:(sel('softmax', 'paper_accuracy')) with points ls 1 pt 4 ps 1.4 title 'paper: baseline', \
     f using 2:(sel('adaptive', 'paper_accuracy')) with points ls 2 pt 8 ps 1.4 title 'paper: adaptive temperature', \
     10 with lines ls 8 title 'chance (10 classes)'
set title 'attention entropy (mean over test sets) vs ln n' font ',9'
set ylabel 'H (nats)'
set yrange [0:*]
set key top left font ',8'
plot for [k=1:3] f using 2:(sel(M(k), 'entropy')) with linespoints ls k title T(k), \
     f using 2:(sel('softmax', 'ln_n')) with lines ls 8 title 'ln n (uniform)'
unset multiplot
