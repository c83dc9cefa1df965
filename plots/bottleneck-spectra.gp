# bottleneck-spectra: singular values of stacked outputs of a random softmax head (hidden size d, with bias),
# raw log-probs vs clr, at each output precision; flat and k^-2 (anisotropic) heads.
# Data: smx-bottleneck recover (bottleneck-recovery-spectra.tsv).
load 'plots/common.gp'
f = datadir.'/bottleneck-recovery-spectra.tsv'
P(k) = word('fp64 fp32 fp16 bf16 fp8-e4m3 dec4 dec2', k)
sel(h, b, p, t) = (strcol('head') eq h && column('bias') == b && strcol('precision') eq p && strcol('transform') eq t) ? \
                  (column('sigma_rel') > 1e-17 ? column('sigma_rel') : 1e-17) : 1/0
set multiplot layout 1,2 title 'Singular spectra of N stacked outputs (with bias: rank clr = d + 1): precision sets the noise floor'
set logscale y
set format y '10^{%L}'
set yrange [1e-17:2]
set xlabel 'index i'
set ylabel 'sigma_i / sigma_1'
set key bottom left font ',7'
do for [h in 'flat aniso'] {
  set title (h eq 'flat' ? 'flat head' : 'anisotropic head (column k of W scaled k^{-2})') font ',9'
  plot for [k=1:7] f using 'i':(sel(h, 1, P(k), 'clr')) with lines ls k title P(k).' clr', \
       f using 'i':(sel(h, 1, 'fp64', 'raw')) with lines ls 8 lw 2 title 'fp64 raw'
}
unset multiplot
