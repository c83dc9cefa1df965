# dispersion-retrieval-attention: attention of the trained max-retrieval head on the 32 highest-priority items of one
# test set per n (rank 1 = the target), for softmax, adaptive temperature and SSMax: coefficients disperse as n grows.
# Data: smx-dispersion retrieval (dispersion-retrieval-attention.tsv).
load 'plots/common.gp'
f = datadir.'/dispersion-retrieval-attention.tsv'
sel(m, c) = strcol('method') eq m ? column(c) : 1/0
M(k) = word('softmax adaptive ssmax', k)
T(k) = word('softmax "adaptive temperature" "SSMax (trained s)"', k)
set multiplot layout 1,3 title 'Attention coefficients on the items of highest priority (one test set per n)'
set xlabel 'priority rank'
set ylabel 'log_2 n'
set xrange [0.5:32.5]
set yrange [3.5:14.5]
set logscale cb
set cbrange [1e-4:1]
set format cb '10^{%L}'
set palette defined (0 '#fff7ec', 0.5 '#fc8d59', 1 '#7f0000')
set style fill solid 1.0 noborder
do for [k=1:3] {
    set title T(k) font ',9'
    if (k < 3) { unset colorbox } else { set colorbox }
    plot f using 4:(sel(M(k), 'log2n')):(0.5):(0.5):(column('alpha') > 1e-4 ? column('alpha') : 1e-4) \
         with boxxyerror fc palette notitle
}
unset multiplot
