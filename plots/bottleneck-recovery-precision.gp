# bottleneck-recovery-precision: hidden-size recovery vs output precision and vs number of outputs.
# Data: smx-bottleneck recover (bottleneck-recovery-summary.tsv).
load 'plots/common.gp'
f = datadir.'/bottleneck-recovery-summary.tsv'
C(k) = word('flat flat aniso aniso', k)
B(k) = int(word('0 1 0 1', k))
atmax(h, b, c) = (strcol('head') eq h && column('bias') == b && column('n_is_max') == 1) ? column(c) : 1/0
vsn(h, b, p, c) = (strcol('head') eq h && column('bias') == b && strcol('precision') eq p) ? column(c) : 1/0
set multiplot layout 1,3 title 'Hidden-size recovery from rounded log-probs (largest log sigma_i gap of the clr outputs)'
set xtics rotate by -45 font ',7'
set key top right font ',7'
set title 'gap at the true index (decades), all outputs' font ',9'
set ylabel 'log_{10}(sigma_{d*} / sigma_{d*+1})'
set yrange [0:*]
plot for [k=1:4] f using (column('p_index') + 0.06 * (k - 2.5)):(atmax(C(k), B(k), 'mean_gap_true_decades')):xtic(3) with points ls k ps 1.2 \
     title C(k).(B(k) ? ' + bias' : '')
set title 'success rate (d_{gap} = d*) over seeds' font ',9'
set ylabel 'success rate'
set yrange [-0.05:1.05]
plot for [k=1:4] f using (column('p_index') + 0.06 * (k - 2.5)):(atmax(C(k), B(k), 'success_rate')):xtic(3) with points ls k ps 1.2 \
     title C(k).(B(k) ? ' + bias' : '')
set title 'success vs number of outputs (with bias)' font ',9'
set xtics norotate font ',8'
set logscale x
set xlabel 'outputs N'
plot for [p in 'fp64 fp32 fp16'] f using 'n_outputs':(vsn('flat', 1, p, 'success_rate')) with linespoints title 'flat '.p, \
     for [p in 'fp32 fp16'] f using 'n_outputs':(vsn('aniso', 1, p, 'success_rate')) with linespoints dt 2 title 'aniso '.p
unset multiplot
