# collapse-threshold-check: for the trained logits at SC onset (first logged epoch with SC fraction
# > 50 %, or the last epoch), each row's gap (max - second largest logit, rounded to the format)
# minus the theory threshold p ln 2 (science/collapse.md). Sequential sum: SC iff gap >= p ln 2,
# so rows in SC lie at or above 0 and rows not in SC below. Pairwise sum (small terms summed
# first): rows not in SC may reach up to ln(V - 1) above p ln 2.
load 'plots/common.gp'
s = datadir.'/collapse-onset-sweep.tsv'
pw = datadir.'/collapse-onset-sweep-pairwise.tsv'
V = real(system(sprintf("sed -n 's/.*modulus=\\([0-9]*\\).*/\\1/p' %s | head -1", s)))
# off the left panel's scale: p4-p6 sequential (diverged, gaps 2^11 .. 2^25) and p7 (its rounded
# logits put the gaps on a grid of 0.5 .. 1 nats: 6 and 4 at p ln 2 = 4.85)
set multiplot layout 1,2 title sprintf('Gaps of trained logits at SC onset minus p ln 2 (V = %d; off scale: p4-p6 sequential, diverged, and p7, coarse gaps)', V)
set key top left font ',8'
set xlabel 'significand bits p'
set ylabel 'gap - p ln 2 (nats)'
set yrange [-0.3:0.3]
set offsets 1, 1, 0, 0
set title 'sequential sum (max term first)'
plot 0 with lines ls 8 title 'theory: SC iff gap >= p ln 2', \
     s using 'p':(column('sc_gap_min') - column('p_ln2')) with points ls 1 pt 7 title 'min gap, rows in SC', \
     s using 'p':(column('nonsc_gap_max') - column('p_ln2')) with points ls 2 pt 5 title 'max gap, rows not in SC'
set title 'pairwise sum (1 + tree sum of the others)'
set yrange [-1:6]
plot 0 with lines ls 8 title 'p ln 2', \
     log(V - 1) with lines ls 8 dt 3 title 'p ln 2 + ln(V-1)', \
     pw using 'p':(column('sc_gap_min') - column('p_ln2')) with points ls 1 pt 7 title 'min gap, rows in SC', \
     pw using 'p':(column('nonsc_gap_max') - column('p_ln2')) with points ls 2 pt 5 title 'max gap, rows not in SC', \
     pw using 'p':(column('nonsc_gap_max') - column('p_ln2')):'format' with labels offset 0,1 font ',8' notitle
unset multiplot
