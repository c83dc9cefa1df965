# common.gp - terminal, output and style shared by every figure script.
# Called with -e "datadir='data/quick'; term='png'|'pdf'; out='figures/NAME.png'".
if (!exists("datadir")) datadir = 'data/quick'
if (!exists("term")) term = 'png'
if (!exists("out")) out = 'out.'.term
if (term eq 'pdf') {
    set terminal pdfcairo enhanced color font 'Sans,9' size 6in,4in
} else {
    set terminal pngcairo enhanced color font 'Sans,10' size 960,640
}
set output out
set datafile separator tab
set datafile commentschars '#'
set key autotitle columnhead
set grid lc rgb '#dddddd'
set style line 1 lc rgb '#1b9e77' lw 2 pt 7 ps 0.6
set style line 2 lc rgb '#d95f02' lw 2 pt 5 ps 0.6
set style line 3 lc rgb '#7570b3' lw 2 pt 9 ps 0.6
set style line 4 lc rgb '#e7298a' lw 2 pt 11 ps 0.6
set style line 5 lc rgb '#66a61e' lw 2 pt 13 ps 0.6
set style line 6 lc rgb '#e6ab02' lw 2 pt 3 ps 0.6
set style line 7 lc rgb '#a6761d' lw 2 pt 1 ps 0.6
set style line 8 lc rgb '#666666' lw 1 dt 2
