# ---- Stop-the-world pauses (reports/gnuplot/pauses.gp) ----
# Left: the pause of each GC cycle (gc_cycles.pause_ns) at its start time,
# with p50 and p99 as dashed lines.
# Right: their distribution (cumulative: share of cycles whose pause is at
# most x).  p50 and p99 are nearest-rank percentiles, as gctune analyze
# computes them.  The distribution's x axis is logarithmic when the longest
# pause is more than 10 times p50.  The data file: index 0 = cycles, index 1 =
# sorted pauses.
p50 = @P50_MS@
p99 = @P99_MS@
set multiplot title @TITLE@ font ',16'

# -- left: per cycle over time --
set lmargin at screen 0.07
set rmargin at screen 0.60
set tmargin at screen 0.88
set bmargin at screen 0.11
set title 'pause of each GC cycle' font ',14'
set xlabel 'time since the start of the run (s)'
set ylabel 'stop-the-world pause (ms)'
set xrange [0:@T_END@]
set yrange [0:@Y_MAX@]
set key top left
plot @PLOT_TIME@

# -- right: distribution --
unset arrow
unset label
set lmargin at screen 0.69
set rmargin at screen 0.97
set title 'distribution (cumulative)' font ',14'
set xlabel 'stop-the-world pause (ms)'
set ylabel 'cycles with a pause <= x (%)'
@CDF_XAXIS@
set yrange [0:100]
set ytics 0,10,100
set key bottom right
set arrow 1 from first p50, graph 0 to first p50, first 50 nohead ls 2 dt 2 front
set arrow 2 from first p99, graph 0 to first p99, first 99 nohead ls 4 dt 2 front
# right of each percentile and below its level: a CDF never passes there
set label 1 @P50_LABEL@ at first p50, first 50 left offset 0.8,-0.9 front boxed tc rgb '#c05800'
set label 2 @P99_LABEL@ at first p99, first 99 left offset 0.8,-0.9 front boxed tc rgb '#d62728'
plot @PLOT_CDF@
unset multiplot
