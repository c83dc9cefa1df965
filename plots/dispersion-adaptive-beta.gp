# dispersion-adaptive-beta: adaptive temperature beta(H) of Velickovic et al. 2024 (window 0.849-5.944 nats,
# max 2.421 at 4.41) and the beta it picks along n for the gap configuration.
# Data: smx-dispersion curves (dispersion-curves-adaptive-beta.tsv, dispersion-curves.tsv).
load 'plots/common.gp'
f = datadir.'/dispersion-curves-adaptive-beta.tsv'
g = datadir.'/dispersion-curves.tsv'
set multiplot layout 1,2 title 'Adaptive temperature (inference only): beta(H) = max(poly(H), 1) for H > 0.5'
set title 'beta(H); dashed: the raw quartic' font ',9'
set xlabel 'entropy H (nats)'
set ylabel 'beta'
set yrange [0:3]
set key bottom center font ',8'
set arrow from 0.8486,0 to 0.8486,3 nohead ls 8
set arrow from 5.9445,0 to 5.9445,3 nohead ls 8
set arrow from 4.4124,0 to 4.4124,2.4214 nohead ls 8 dt 3
set label 'max 2.421 at 4.41' at 4.5,2.6 font ',8'
plot f using 1:2 with lines ls 1 title 'beta(H)', '' using 1:3 with lines ls 2 dt 2 title 'quartic'
unset arrow
unset label
set title 'beta chosen for one logit delta above n-1 others' font ',9'
set logscale x 2
set format x '2^{%L}'
set xlabel 'n'
set xrange [2:2**30]
sel(d) = (abs(column('delta') - d) < 1e-9) ? column('beta_adaptive') : 1/0
plot for [i=1:3] g using 1:(sel(word('2.28 5.69 14.78', i)+0)) with lines ls i title 'delta = '.word('2.28 5.69 14.78', i)
unset multiplot
