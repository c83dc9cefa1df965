# icl-closeness: Li et al. (NeurIPS 2024) Fig 1 analogue: a trained single softmax self-attention layer vs softmax
# regression with one GD step: test losses and Preds Diff / Model Diff / Model Cos vs training step, mean +- std
# over repetitions, n = 200 and n = 25 (d = 20). Data: smx-icl closeness (task distribution ours).
load 'plots/common.gp'
f = datadir.'/icl-closeness.tsv'
set multiplot layout 2,2 title 'Softmax self-attention (TF) vs softmax regression with one GD step (mean +- std over repetitions)'
set xlabel 'training step'
set key top right font ',7'
do for [nn in "200 25"] {
    sel(c) = column('n') == int(nn) ? column(c) : 1/0
    set title sprintf('n = %s: test loss 0.5 ||bhat - b||^2', nn) font ',9'
    set logscale y
    set format y '10^{%L}'
    plot f using 'step':(sel('test_loss_tf')):(sel('test_loss_tf_std')) with yerrorlines ls 1 title 'trained TF', \
         f using 'step':(sel('test_loss_gd')):(sel('test_loss_gd_std')) with yerrorlines ls 2 dt 2 title 'one GD step'
    unset logscale y
    set format y '%g'
    set title sprintf('n = %s: TF vs GD', nn) font ',9'
    plot f using 'step':(sel('preds_diff')):(sel('preds_diff_std')) with yerrorlines ls 3 title 'Preds Diff', \
         f using 'step':(sel('model_diff')):(sel('model_diff_std')) with yerrorlines ls 4 title 'Model Diff', \
         f using 'step':(sel('model_cos')):(sel('model_cos_std')) with yerrorlines ls 5 title 'Model Cos'
}
unset multiplot
