# moe-multinomial: paper (d), softmax-gated mixture of logistic experts (S = 2), exact-fitted k = 2, truth with a
# vanishing expert slope (a_1* = 0): softmax gate vs modified gate softmax(beta1 tanh(x) + beta0)
# (`smx-moe multinomial`). Points: geometric mean of D1 over replications at each n (exp of the mean log, so
# that the few diverged small-n fits do not dominate); lines: OLS of log D1 on log n over every fit.
# Theory (d): softmax gate slower than polynomial, modified gate polynomial.
load 'plots/common.gp'
f(s) = datadir.'/moe-mult-'.s.'.tsv'
set fit quiet
set fit logfile '/dev/null'
lin(x) = c0 + c1 * x
array S[2] = ['softmax', 'modified']
array T[2] = ['softmax gate', 'modified gate (tanh input)']
array SD[2]
array ID[2]
do for [i=1:2] {
    c0 = 1; c1 = -0.5
    fit lin(x) f(S[i]) using (log(column('n'))):(log(column('D'))) via c0, c1
    SD[i] = c1; ID[i] = c0
}
set logscale x
set format x '10^{%L}'
set xlabel 'n'
set ylabel 'mean over replications of log D_1'
set key top right font ',9' noenhanced
set title 'Logistic experts (paper (d)), k = k^* = 2, a_1^* = 0: softmax vs modified gate' noenhanced
plot for [i=1:2] f(S[i]) using 'n':(log(column('D'))) smooth unique with points ls i title sprintf('%s: slope %.2f', T[i], SD[i]), \
     for [i=1:2] ID[i] + SD[i] * log(x) with lines ls i notitle
