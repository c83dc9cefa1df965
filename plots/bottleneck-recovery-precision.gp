# bottleneck-recovery-precision: hidden-size recovery vs output precision and vs number of outputs.
# Data: smx-bottleneck recover (bottleneck-recovery-summary.tsv).
load 'plots/common.gp'
set datafile missing NaN
f = datadir.'/bottleneck-recovery-summary.tsv'
C(k) = word('flat flat aniso aniso', k)
B(k) = int(word('0 1 0 1', k))
atmax(h, b, c) = (strcol('head') eq h && column('bias') == b && column('n_is_max') == 1) ? column(c) : NaN
vsn(h, b, p, c) = (strcol('head') eq h && column('bias') == b && strcol('precision') eq p) ? column(c) : NaN
set multiplot layout 1,3 title 'Hidden-size recovery from rounded log-probs (largest log sigma_i gap of the clr outputs)'
# x positions: p_index of the default --precisions list
set xtics ('fp64' 0, 'fp32' 1, 'fp16' 2, 'bf16' 3, 'fp8-e4m3' 4, 'dec4' 5, 'dec2' 6) rotate by -45 font ',7'
set xrange [-0.5:6.5]
set key top right font ',7'
set title 'gap at the true index (decades), all outputs' font ',9'
set ylabel 'log_{10}(sigma_{d*} / sigma_{d*+1})'
set yrange [0:*]
plot for [k=1:4] f using (column('p_index') + 0.06 * (k - 2.5)):(atmax(C(k), B(k), 'mean_gap_true_decades')) with linespoints ls k ps 1.2 \
     title C(k).(B(k) ? ' + bias' : '')
set title 'success rate (d_{gap} = d*) over seeds' font ',9'
set ylabel 'success rate'
set yrange [-0.05:1.05]
plot for [k=1:4] f using (column('p_index') + 0.06 * (k - 2.5)):(atmax(C(k), B(k), 'success_rate')) with linespoints ls k ps 1.2 \
     title C(k).(B(k) ? ' + bias' : '')
set title 'success vs number of outputs (with bias)' font ',9'
set xtics auto norotate font ',8'
set xrange [*:*]
set logscale x
set xlabel 'outputs N'
plot for [p in 'fp64 fp32 fp16'] f using 'n_outputs':(vsn('flat', 1, p, 'success_rate')) with linespoints title 'flat '.p, \
     for [p in 'fp32 fp16'] f using 'n_outputs':(vsn('aniso', 1, p, 'success_rate')) with linespoints dt 2 title 'aniso '.p
unset multiplot
