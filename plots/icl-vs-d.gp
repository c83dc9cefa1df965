# icl-vs-d: Li et al. (NeurIPS 2024) Fig 2 analogue: final test losses of the trained softmax self-attention layer
# and of one GD step vs the embedding size d (n = 25), mean +- std over repetitions. Data: smx-icl closeness.
load 'plots/common.gp'
f = datadir.'/icl-closeness-vs-d.tsv'
set title 'Final test loss vs embedding size d (softmax regression tasks, n = 25; mean +- std)' font ',9'
set xlabel 'd'
set ylabel 'test loss 0.5 ||bhat - b||^2'
set logscale xy
set format y '10^{%L}'
set key top right
plot f using 'd':'test_loss_tf':'test_loss_tf_std' with yerrorlines ls 1 title 'trained softmax self-attention', \
     f using 'd':'test_loss_gd':'test_loss_gd_std' with yerrorlines ls 2 title 'softmax regression, one GD step'
