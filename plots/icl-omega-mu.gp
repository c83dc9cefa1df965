# icl-omega-mu: omega_h (authors' 1/sqrt(d+2) units) and mu_h of the trained two-head softmax attention vs training
# step, one colour per seed, solid head 1, dashed head 2 (rows alternate head 1, 2 per step: every 2); He et al. (ICML 2025): omega = +-0.13, mu = +-3.45 (grey).
# Data: smx-icl multihead --H 2, long runs (make PROFILE=... figures-icl-long: icl-omega-mu-sSEED-heads.tsv).
load 'plots/common.gp'
files = system('ls '.datadir.'/icl-omega-mu-s*-heads.tsv 2>/dev/null')
seed(f) = substr(f, strstrt(f, 'omega-mu-s') + 10, strstrt(f, '-heads') - 1)
set multiplot layout 1,2 title 'Two-head softmax attention (H = 2, d = 5, L = 40): omega and mu over training, per seed'
set xlabel 'training step'
set logscale x
set key at graph 0.98, graph 0.48 right top font ',8'
set title 'omega_h (mean KQ diagonal / sqrt(d+2))' font ',9'
plot for [i=1:words(files)] word(files, i) every 2::0 using 'step':'omega_authors' \
         with lines ls i title 'seed '.seed(word(files, i)), \
     for [i=1:words(files)] word(files, i) every 2::1 using 'step':'omega_authors' \
         with lines ls i dt 2 notitle, \
     0.13 with lines ls 8 title 'He et al. +-0.13', -0.13 with lines ls 8 notitle
set title 'mu_h (last entry of V_h^T O_h^T)' font ',9'
plot for [i=1:words(files)] word(files, i) every 2::0 using 'step':'mu' \
         with lines ls i title 'seed '.seed(word(files, i)), \
     for [i=1:words(files)] word(files, i) every 2::1 using 'step':'mu' \
         with lines ls i dt 2 notitle, \
     3.45 with lines ls 8 title 'He et al. +-3.45', -3.45 with lines ls 8 notitle
unset multiplot
