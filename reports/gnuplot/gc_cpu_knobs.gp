# -- bottom: the knobs (reports/gnuplot/gc_cpu_knobs.gp) --
set tmargin at screen 0.36
set bmargin at screen 0.10
unset title
set xlabel 'time since the start of the run (s)'
set ylabel 'GOGC (%)'
set yrange [0:@GOGC_Y_MAX@]
set y2label 'memory limit (@UNIT@)'
scale = @SCALE@
set y2range [0:@LIMIT_Y_MAX@]
@Y2TICS@
set key at graph 0, graph 1 left bottom horizontal Left reverse nobox noopaque width 2
@KNOB_LABELS@
plot @PLOT_KNOBS@
unset multiplot
