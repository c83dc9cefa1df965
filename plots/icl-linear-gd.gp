# icl-linear-gd: von Oswald et al. (ICML 2023) Fig. 2 analogue: a trained linear self-attention layer vs one GD
# step on in-context linear regression: test losses, Preds Diff, Model Diff, Model Cos vs training step.
# Data: smx-icl linear-gd.
load 'plots/common.gp'
f = datadir.'/icl-linear-gd.tsv'
set multiplot layout 1,2 title 'Linear self-attention vs one step of GD (d = N = 10; von Oswald et al. 2023 metrics)'
set xlabel 'training step'
set key top right font ',8'
set title 'test loss 0.5 (t - yhat)^2' font ',9'
set logscale y
plot f using 'step':'test_loss_tf' with linespoints ls 1 title 'trained LSA', \
     f using 'step':'test_loss_gd' with lines ls 2 dt 2 title 'one GD step (eta by least squares)'
unset logscale y
set title 'TF vs GD' font ',9'
set yrange [0:*]
set key center right
plot f using 'step':'preds_diff' with linespoints ls 3 title 'Preds Diff', \
     f using 'step':'model_diff' with linespoints ls 4 title 'Model Diff', \
     f using 'step':'model_cos' with linespoints ls 5 title 'Model Cos'
unset multiplot
