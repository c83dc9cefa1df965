# dispersion-heatmap: p_max = 1/(1 + (n-1) n^{-s Delta}) over s*Delta x log2 n (Nakanishi 2025):
# -> 1 above s*Delta = 1, 1/2 on it, 0 below. Data: smx-dispersion ssmax (dispersion-ssmax-heatmap.tsv).
load 'plots/common.gp'
f = datadir.'/dispersion-ssmax-heatmap.tsv'
set title 'SSMax: p_{max} of one logit Delta above n-1 others, scale s ln n'
set xlabel 's * Delta'
set ylabel 'log_2 n'
set cblabel 'p_{max}'
set xrange [0:2.5]
set yrange [1:30]
set cbrange [0:1]
set palette defined (0 '#fff7ec', 0.5 '#fc8d59', 1 '#7f0000')
set view map
set arrow from 1,1 to 1,30 nohead front lc rgb 'black' dt 2 lw 2
set label 's Delta = 1: p_{max} -> 1/2' at 1.05,28 front font ',9'
plot f using 1:2:4 with image notitle
