# dispersion-ssmax-fig1: replica of Nakanishi 2025 Fig 1: n-1 logits -2, one +3, s = 0.43.
# Lines: closed forms (MPFR); points: the vector through smx_softmax_temp / smx_ssmax (fp64); stars: paper's values.
# Data: smx-dispersion ssmax (dispersion-ssmax-fig1.tsv).
load 'plots/common.gp'
f = datadir.'/dispersion-ssmax-fig1.tsv'
set title 'Scalable-Softmax Fig 1 replica: logits -2 except one +3, s = 0.43'
set logscale x 10
set xlabel 'n (number of logits)'
set ylabel 'maximum attention p_{max}'
set yrange [0:1.05]
set key center left
set arrow from 149.41,0 to 149.41,0.5 nohead ls 8
set label 'n = 1 + e^5 = 149.4' at 160,0.45 font ',8'
$paper << EOD
149 0.5
1000 0.129
2 0.816
10 0.940
100 0.995
EOD
set datafile separator whitespace
# points at n = round(10^(k/5)), log-evenly spaced
logpt(n) = n == int(10**(int(log10(n)*5+0.5)/5.0)+0.5)
plot f using 1:2 with lines ls 2 title 'softmax (closed form)', \
     f using 1:(logpt($1) ? $3 : 1/0) with points ls 2 pt 6 title 'softmax (vector, fp64)', \
     f using 1:4 with lines ls 1 title 'SSMax (closed form)', \
     f using 1:(logpt($1) ? $5 : 1/0) with points ls 1 pt 6 title 'SSMax (vector, fp64)', \
     $paper using 1:2 with points ls 4 pt 3 ps 2 title "paper's values"
