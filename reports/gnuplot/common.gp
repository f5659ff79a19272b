# ---- the style of every gctune chart (reports/gnuplot/common.gp) ----
# 1280x720 pixels: pngcairo when this gnuplot has it, else png (libgd);
# svg when fmt is 'svg'.  noenhanced: names such as heap_alloc are shown as
# written (no subscripts).
if (fmt eq 'svg') {
    set terminal svg size 1280,720 fixed font 'Sans,15' noenhanced background rgb 'white'
} else {
    if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
        set terminal pngcairo size 1280,720 font 'Sans,13' noenhanced background rgb 'white'
    } else {
        set terminal png size 1280,720 font 'Sans,12' noenhanced background rgb 'white'
    }
}
set output out
set encoding utf8
set datafile separator "\t"
set border 3 lw 1 lc rgb '#444444'
set tics nomirror out
set grid xtics ytics lt 1 lw 1 lc rgb '#e4e4e4'
set key opaque box lc rgb '#bbbbbb' samplen 2.5 spacing 1.15
set style textbox opaque noborder
set title font ',16'
set style line 1 lt 1 lw 2.5 lc rgb '#1f77b4' pt 7 ps 0.6
set style line 2 lt 1 lw 2   lc rgb '#ff7f0e' pt 7 ps 0.6
set style line 3 lt 1 lw 2   lc rgb '#2ca02c' pt 7 ps 0.6
set style line 4 lt 1 lw 2   lc rgb '#d62728' pt 7 ps 0.6
set style line 5 lt 1 lw 2   lc rgb '#9467bd' pt 7 ps 0.6
set style line 6 lt 1 lw 2   lc rgb '#8c564b' pt 7 ps 0.6
set style line 7 lt 1 lw 2   lc rgb '#e377c2' pt 7 ps 0.6
set style line 8 lt 1 lw 2   lc rgb '#17becf' pt 7 ps 0.6
set style line 9 lt 1 lw 1   lc rgb '#7f7f7f' pt 7 ps 0.6
