# icl-multihead-patterns: KQ_h = K_h^T Q_h (6 x 6, left block) and OV_h = V_h^T O_h^T (column 8) of the trained
# H-head softmax attention (He et al. ICML 2025: KQ ~ omega_h I on the x block, OV ~ mu_h on the y entry; two
# active heads with opposite signs). Data: smx-icl multihead (icl-multihead-patterns.tsv).
load 'plots/common.gp'
f = datadir.'/icl-multihead-patterns.tsv'
set multiplot layout 3,4 title 'Trained H-head attention: KQ = K_h^T Q_h (left 6x6) and OV = V_h^T O_h^T (right column), rows H = 1, 2, 4' font ',9'
set palette defined (-1 '#2166ac', 0 '#f7f7f7', 1 '#b2182b')
set cbrange [-1:1]
unset xtics
unset ytics
unset key
unset colorbox
set size square
set lmargin 1; set rmargin 1; set tmargin 2; set bmargin 1
# colours: each matrix scaled by its own max |entry| (KQ and OV separately) so the pattern shows
do for [H in "1 2 4"] {
    do for [h=1:4] {
        if (h <= int(H)) {
            set autoscale xy
            stats f using (column('H') == int(H) && column('head') == h && strcol('matrix') eq 'KQ' ? abs(column('value')) : 1/0) name 'K' nooutput
            stats f using (column('H') == int(H) && column('head') == h && strcol('matrix') eq 'OV' ? abs(column('value')) : 1/0) name 'O' nooutput
            set xrange [0.5:8.5]
            set yrange [6.5:0.5]
            set title sprintf('H = %s, head %d: max|KQ| %.2g, max|OV| %.2g', H, h, K_max, O_max) font ',7'
            plot f using (column('H') == int(H) && column('head') == h ? (strcol('matrix') eq 'KQ' ? column('j') : 8) : 1/0):'i':(strcol('matrix') eq 'KQ' ? column('value') / K_max : column('value') / O_max) with points pt 5 ps 2.6 palette
        } else {
            set multiplot next
        }
    }
}
unset multiplot
