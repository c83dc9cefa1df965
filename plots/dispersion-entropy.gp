# dispersion-entropy: attention entropy H(n) vs ln n (the uniform distribution's entropy):
# softmax approaches ln n (full dispersion), SSMax stays bounded when s*delta > 1, adaptive temperature only delays.
# Data: smx-dispersion curves (dispersion-curves.tsv).
load 'plots/common.gp'
f = datadir.'/dispersion-curves.tsv'
D1 = 2.28; D2 = 5.69; D3 = 14.78
dv(i) = i==1 ? D1 : i==2 ? D2 : D3
sel(d, c) = (abs(column('delta') - d) < 1e-9) ? column(c) : 1/0
set title 'Entropy of the attention distribution, one logit delta above n-1 equal others' 
set xlabel 'ln n'
set ylabel 'H (nats)'
set xrange [0:21]
set yrange [0:21]
set key top left font ',8'
plot x with lines ls 8 title 'H = ln n (uniform)', \
     for [i=1:3] f using 2:(sel(dv(i), 'H_softmax')) with lines ls i title sprintf('softmax, delta = %.2f', dv(i)), \
     for [i=1:3] f using 2:(sel(dv(i), 'H_adaptive')) with lines ls i dt 2 title sprintf('adaptive temperature, delta = %.2f', dv(i)), \
     for [i=1:3] f using 2:(sel(dv(i), 'H_ssmax')) with lines ls i dt 3 lw 3 title sprintf('SSMax s = 0.43, delta = %.2f', dv(i)), \
     for [i=1:3] f using 2:(sel(dv(i), 'random_H')) with points ls i pt 6 ps 0.5 title sprintf('random U[0,%.2f] logits', dv(i))
