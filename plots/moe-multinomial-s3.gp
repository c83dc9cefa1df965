# moe-multinomial-s3: paper (d) with S = 3 classes: softmax-gated mixture of multinomial-logistic experts,
# exact-fitted k = 2, class 1 as in moe-multinomial (a_1* = 0 for expert 1), class 2 logits (0.5, -1) and
# (-1, 2) (`smx-moe sweep --experts multinomial --classes 3 --gate softmax|modified`). Points: geometric mean
# of D1 over replications at each n (exp of the mean log: small-n fits diverge, D1 up to 1e4); solid lines:
# OLS of log D1 on log n over every fit; dashed: the same over the fits with n >= 1000 (past the divergence).
# Theory (d): softmax gate slower than polynomial, modified gate polynomial.
load 'plots/common.gp'
f(s) = datadir.'/moe-mult3-'.s.'.tsv'
set fit quiet
set fit logfile '/dev/null'
lin(x) = c0 + c1 * x
array S[2] = ['softmax', 'modified']
array T[2] = ['softmax gate', 'modified gate (tanh input)']
array SD[2]
array ID[2]
array SL[2]
array IL[2]
do for [i=1:2] {
    c0 = 1; c1 = -0.5
    fit lin(x) f(S[i]) using (log(column('n'))):(log(column('D'))) via c0, c1
    SD[i] = c1; ID[i] = c0
    c0 = 1; c1 = -0.5
    fit lin(x) f(S[i]) using (column('n') >= 1000 ? log(column('n')) : NaN):(log(column('D'))) via c0, c1
    SL[i] = c1; IL[i] = c0
}
set logscale x
set format x '10^{%L}'
set xlabel 'n'
set ylabel 'mean over replications of log D_1'
set yrange [-4:12]
set key top right font ',9' noenhanced
set title 'Multinomial-logistic experts, S = 3 (paper (d)), k = k^* = 2: softmax vs modified gate' noenhanced
plot for [i=1:2] f(S[i]) using 'n':(log(column('D'))) smooth unique with points ls i \
         title sprintf('%s: slope %.2f (all n), %.2f (n >= 1000)', T[i], SD[i], SL[i]), \
     for [i=1:2] ID[i] + SD[i] * log(x) with lines ls i notitle, \
     for [i=1:2] [1000:*] IL[i] + SL[i] * log(x) with lines ls i dt 2 notitle
