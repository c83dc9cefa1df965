# bench-kernels: GB/s of compulsory traffic (read x + write y) vs n for every softmax kernel
# (smx-bench kernels), the peers (bench_peers.py: torch.softmax, scipy.special.softmax, when they
# were importable), the copy-and-scale limit of the same run (black line) and the two-read ceiling
# (dashed: read-only max pass + copy, the fastest a softmax that reads x twice can be). Left float,
# right double; one thread unless the data say otherwise (TSV metadata).
load 'plots/common.gp'
k = datadir.'/bench-kernels.tsv'
p = datadir.'/bench-peers.tsv'
if (term eq 'pdf') {
    set terminal pdfcairo enhanced color font 'Sans,8' size 9in,4in
} else {
    set terminal pngcairo enhanced color font 'Sans,10' size 1500,640
}
set output out
set logscale x 2
set format x '2^{%L}'
set logscale y
set xlabel 'n (elements)'
set ylabel 'GB/s (2 n sizeof(T) / time)'
set key bottom left font ',8'
algs = 'three-pass reload online two-pass'
peers = 'torch.softmax scipy.special.softmax'
# rows of one series, in file order (gnuplot breaks a line at every skipped row, so the series
# are selected by awk, not by a 1/0 filter)
ser(file, c1, v1, c2, v2, c3, v3) = sprintf("< awk -F'\t' '/^#/ {next} $%d == \"%s\" && $%d == \"%s\" && $%d == \"%s\"' '%s'", c1, v1, c2, v2, c3, v3, file)
set key noautotitle
set multiplot layout 1,2 title 'Softmax kernels vs the copy-and-scale bandwidth limit (smx-bench kernels; timings from one run, see the TSV metadata for the machine)'
do for [t=1:2] {
    ty = word('float double', t)
    set title ty
    plot for [i=1:4] ser(k, 1, ty, 2, 'softmax', 3, word(algs, i)) using 5:8 with linespoints ls i title word(algs, i), \
         ser(k, 1, ty, 2, 'copy', 3, 'copy') using 5:8 with lines lc rgb 'black' lw 2 title 'copy-and-scale (limit)', \
         ser(k, 1, ty, 2, 'ceiling', 3, 'two-read') using 5:8 with lines lc rgb 'black' lw 1 dt 2 title 'two-read ceiling (read + copy)', \
         ser(k, 1, ty, 2, 'exp', 3, 'exp') using 5:8 with lines ls 8 title 'exp alone', \
         for [j=1:2] ser(p, 1, word(peers, j), 2, ty, 2, ty) using 3:6 with linespoints ls (4 + j) title word(peers, j)
}
unset multiplot
