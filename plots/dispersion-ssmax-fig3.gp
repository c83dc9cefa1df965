# dispersion-ssmax-fig3: replica of Nakanishi 2025 Fig 3: n-1 logits evenly spaced in [0,1] plus z_max;
# p(z_max) vs z_max for several n, softmax vs SSMax (s = 0.43). Lines: closed form (geometric series); points: vector.
# Data: smx-dispersion ssmax (dispersion-ssmax-fig3.tsv).
load 'plots/common.gp'
f = datadir.'/dispersion-ssmax-fig3.tsv'
N(k) = word('10 100 1000 10000 100000', k) + 0
sel(n, c) = column('n') == n ? column(c) : 1/0
selp(n, c) = (column('n') == n && int(column('zmax') * 20 + 0.5) % 10 == 0) ? column(c) : 1/0
set multiplot layout 1,2 title 'Scalable-Softmax Fig 3 replica: n-1 logits evenly spaced in [0,1], plus z_{max}'
set xlabel 'z_{max}'
set ylabel 'p(z_{max})'
set yrange [0:1.02]
set key bottom right font ',8'
set title 'softmax' font ',9'
plot for [k=1:5] f using 2:(sel(N(k), 'p_softmax')) with lines ls k title sprintf('n = %d', N(k)), \
     for [k=1:5] f using 2:(selp(N(k), 'p_softmax_vec')) with points ls k pt 6 notitle
set title 'SSMax, s = 0.43' font ',9'
plot for [k=1:5] f using 2:(sel(N(k), 'p_ssmax')) with lines ls k title sprintf('n = %d', N(k)), \
     for [k=1:5] f using 2:(selp(N(k), 'p_ssmax_vec')) with points ls k pt 6 notitle
unset multiplot
