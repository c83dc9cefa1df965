# bottleneck-unargmaxable: fraction of unargmaxable classes vs hidden size d for random heads (Grivas et al. 2022),
# W and b from N(0,1) or U(-1,1), with and without bias, and the two prevention tricks (expected 0).
# Data: smx-bottleneck argmax (bottleneck-argmax.tsv). Reference points: science/bottleneck.md (V = 1000, N(0,1)).
load 'plots/common.gp'
f = datadir.'/bottleneck-argmax.tsv'
$ref << EOD
d	fraction
2	0.98
4	0.88
6	0.67
8	0.42
10	0.23
15	0.018
20	0.002
EOD
set datafile missing NaN
sel(dist, m) = (strcol('dist') eq dist && strcol('bias_mode') eq m) ? column('fraction') : NaN
set title 'Unargmaxable classes of a random low-rank softmax head (exact certificates; V in the data file)'
set xlabel 'hidden size d'
set ylabel 'fraction unargmaxable'
set yrange [-0.03:1.03]
set key top right font ',8'
D(k) = word('normal uniform', (k - 1) / 4 + 1)
M(k) = word('random none unitnorm normbias', (k - 1) % 4 + 1)
T(m) = m eq 'random' ? 'bias' : m eq 'none' ? 'no bias' : m eq 'unitnorm' ? 'unit-norm rows, no bias' : 'b_i = -|w_i|^2/2'
plot for [k=1:8] f using 'd':(sel(D(k), M(k))) with linespoints ls k title D(k).', '.T(M(k)), \
     $ref using 1:2 with points ls 8 pt 12 ps 1.8 lw 2 title 'Grivas et al. (V = 1000, N(0,1), bias)'
