# bench-mpfr: MPFR softmax time per element vs precision p (smx-bench mpfr): the shifted
# three-pass algorithm with every operation rounded to p bits, and the correctly rounded
# reference; the fitted growth p^b (p >= the fit's lower end) is in the TSV metadata.
load 'plots/common.gp'
f = datadir.'/bench-mpfr.tsv'
set logscale xy
set format x '2^{%L}'
set logscale x 2
set xlabel 'precision p (bits)'
set ylabel 'ns per element'
set key top left
set title 'MPFR softmax cost vs precision'
set key noautotitle
ser(a) = sprintf("< awk -F'\t' '/^#/ {next} $1 == \"%s\"' '%s'", a, f)
plot ser('shifted') using 2:4 with linespoints ls 1 title 'shifted (every op rounded to p)', \
     ser('reference') using 2:4 with linespoints ls 2 title 'reference (correctly rounded)'
