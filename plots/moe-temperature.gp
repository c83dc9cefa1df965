# moe-temperature: paper (c) (Nguyen, Akbarian, Ho, ICML 2024), exact-fitted k = k* = 2: the temperature gate
# softmax(beta1 x/tau + beta0) (tau estimated) vs the activation gate softmax(act(beta1 x)/tau + beta0),
# act = tanh | sigmoid (`smx-moe gates`). Left: loss D = D1 + |tau - tau*|; middle: |tau - tau*|; right: the
# identifiable ratio |beta1/tau - beta1*/tau*| of the non-reference expert. Points: mean
# over replications at each n; lines: OLS of log(value) on log(n) over every fit (slope of the geometric
# mean). Theory: temperature gate slower than any polynomial (as slow as 1/log n: with the identity act only
# beta1/tau is identifiable), activation gate polynomial.
load 'plots/common.gp'
if (term eq 'pdf') { set terminal pdfcairo enhanced color font 'Sans,8' size 11in,4in } else { set terminal pngcairo enhanced color font 'Sans,9' size 1500,560 }
set output out
f(s) = datadir.'/moe-gates-'.s.'.tsv'
set fit quiet
set fit logfile '/dev/null'
lin(x) = c0 + c1 * x
array S[3] = ['temperature', 'tanh', 'sigmoid']
array T[3] = ['temperature (identity)', 'activation tanh', 'activation sigmoid']
array SD[3]
array ID[3]
array ST[3]
array IT[3]
array SR[3]
array IR[3]
do for [i=1:3] {
    c0 = 1; c1 = -0.5
    fit lin(x) f(S[i]) using (log(column('n'))):(log(column('D'))) via c0, c1
    SD[i] = c1; ID[i] = c0
    c0 = 1; c1 = -0.5
    fit lin(x) f(S[i]) using (log(column('n'))):(log(column('err_tau'))) via c0, c1
    ST[i] = c1; IT[i] = c0
    c0 = 1; c1 = -0.5
    fit lin(x) f(S[i]) using (log(column('n'))):(log(column('err_ratio'))) via c0, c1
    SR[i] = c1; IR[i] = c0
}
set multiplot layout 1, 3 title 'Tempered gates, k = k^* = 2 (paper (c)): temperature vs activation gate' noenhanced
set logscale xy
set format x '10^{%L}'
set xlabel 'n'
set key bottom left font ',8' noenhanced
set ylabel 'D = D_1 + |tau - tau^*| (mean)'
plot for [i=1:3] f(S[i]) using 'n':'D' smooth unique with points ls i title sprintf('%s: slope %.2f', T[i], SD[i]), \
     for [i=1:3] exp(ID[i]) * x**SD[i] with lines ls i notitle
set format y '%g'
set ylabel '|tau - tau^*| (mean)'
plot for [i=1:3] f(S[i]) using 'n':'err_tau' smooth unique with points ls i title sprintf('%s: slope %.2f', T[i], ST[i]), \
     for [i=1:3] exp(IT[i]) * x**ST[i] with lines ls i notitle
set ylabel '|beta1/tau - beta1^*/tau^*| (mean; identifiable for every act)'
plot for [i=1:3] f(S[i]) using 'n':'err_ratio' smooth unique with points ls i title sprintf('%s: slope %.2f', T[i], SR[i]), \
     for [i=1:3] exp(IR[i]) * x**SR[i] with lines ls i notitle
unset multiplot
