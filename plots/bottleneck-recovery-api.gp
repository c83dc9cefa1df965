# bottleneck-recovery-api: hidden-size recovery from outputs as an API exposes them (top-5 log-probs plus
# logit-bias queries inverted by Finlayson et al.'s formula log p_i = log p'_i - log(e^B - e^{B + log p'_i} + p'_i))
# beside the directly returned full log-probs, vs output precision (flat and k^-2 heads, with bias).
# Data: smx-bottleneck recover --api-topk 5 --logit-bias 20 (bottleneck-recovery-api-summary.tsv) and
# smx-bottleneck recover (bottleneck-recovery-summary.tsv).
load 'plots/common.gp'
set datafile missing NaN
fa = datadir.'/bottleneck-recovery-api-summary.tsv'
fd = datadir.'/bottleneck-recovery-summary.tsv'
atmax(h, c) = (strcol('head') eq h && column('bias') == 1 && column('n_is_max') == 1) ? column(c) : NaN
H(k) = word('flat aniso', k)
set multiplot layout 1,2 title "Finlayson et al. 2024: logit-bias queries give full log-probs, whose clr spectrum drops at d (+1 with bias)\n(gpt-3.5-turbo: about 4096) - ours: random head d = 50 + bias, top-5 log-probs + queries with logit bias B = 20" font ',9'
set xtics ('fp64' 0, 'fp32' 1, 'fp16' 2, 'bf16' 3, 'fp8-e4m3' 4, 'dec4' 5, 'dec2' 6) rotate by -45 font ',7'
set xrange [-0.5:6.5]
set key top right font ',7'
set title 'gap at the true index d + 1 (decades), all outputs' font ',9'
set ylabel 'log_{10}(sigma_{d+1} / sigma_{d+2})'
set yrange [0:*]
plot for [k=1:2] fa using (column('p_index') - 0.05):(atmax(H(k), 'mean_gap_true_decades')) with linespoints ls k ps 1.2 \
       title 'ours, API: '.H(k).' + bias', \
     for [k=1:2] fd using (column('p_index') + 0.05):(atmax(H(k), 'mean_gap_true_decades')) with linespoints ls k dt 2 ps 1.0 \
       title 'ours, full log-probs: '.H(k).' + bias'
set title 'success rate (d_{gap} = d + 1) over seeds' font ',9'
set ylabel 'success rate'
set yrange [-0.05:1.05]
set key at graph 0.98, 0.75 right font ',7'
plot for [k=1:2] fa using (column('p_index') - 0.05):(atmax(H(k), 'success_rate')) with linespoints ls k ps 1.2 \
       title 'ours, API: '.H(k).' + bias', \
     for [k=1:2] fd using (column('p_index') + 0.05):(atmax(H(k), 'success_rate')) with linespoints ls k dt 2 ps 1.0 \
       title 'ours, full log-probs: '.H(k).' + bias'
unset multiplot
