# collapse-nlm: Naive Loss Minimisation (Prieto et al. 2025, Fig. 5): cosine between each weight
# tensor and its negative gradient, cos(W_l, -grad_l), per layer, and the weight norm.
# Runs: the fig2 runs fp64 at 40 % and fp32 at 70 % (AdamW, no weight decay).
load 'plots/common.gp'
a = datadir.'/collapse-fig2-fp64-40.tsv'
b = datadir.'/collapse-fig2-fp32-70.tsv'
set multiplot layout 2,2 title 'Naive loss minimisation: cos(W, -grad) per layer (top) and weight norm (bottom)'
set key bottom right font ',8'
set yrange [-0.2:1]
set ylabel 'cos(W_l, -grad_l)'
set title 'fp64 softmax, 40 % train'
plot for [l=1:3] a using 'epoch':sprintf('cos_nlm_%d', l) with lines ls l title sprintf('layer %d', l), \
     a using 'epoch':'train_acc' with lines ls 8 title 'train accuracy'
set title 'fp32 softmax, 70 % train'
plot for [l=1:3] b using 'epoch':sprintf('cos_nlm_%d', l) with lines ls l title sprintf('layer %d', l), \
     b using 'epoch':'train_acc' with lines ls 8 title 'train accuracy'
set title ''
set key top left
set yrange [*:*]
set xlabel 'epoch'
set ylabel 'weight norm'
plot for [l=1:3] a using 'epoch':sprintf('w_norm_%d', l) with lines ls l title sprintf('layer %d', l), \
     a using 'epoch':'w_norm_total' with lines ls 4 title 'total'
plot for [l=1:3] b using 'epoch':sprintf('w_norm_%d', l) with lines ls l title sprintf('layer %d', l), \
     b using 'epoch':'w_norm_total' with lines ls 4 title 'total'
unset multiplot
