# moe-topk: paper (b), top-K sparse softmax gate (`smx-moe topk`) on paper (a)'s truth, x ~ U(0,1): exact k = 2, K = 1
# and over-specified k = 3, K = 2. Points: mean of log D over replications at each n; lines: OLS of log D on
# log n over every fit. Theory (b): exact-fitted parameters n^-1/2, over-specified slower.
load 'plots/common.gp'
f(s) = datadir.'/moe-topk-'.s.'.tsv'
set fit quiet
set fit logfile '/dev/null'
lin(x) = c0 + c1 * x
array S[2] = ['k2-K1', 'k3-K2']
array T[2] = ['exact k = 2, K = 1 (D_1)', 'over-specified k = 3, K = 2 (D_2)']
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
set ylabel 'mean over replications of log D'
set key top right font ',9' noenhanced
set title 'Top-K sparse softmax gate (paper (b)) on paper (a)''s truth' noenhanced
plot for [i=1:2] f(S[i]) using 'n':(log(column('D'))) smooth unique with points ls i title sprintf('%s: slope %.2f', T[i], SD[i]), \
     for [i=1:2] ID[i] + SD[i] * log(x) with lines ls i notitle
