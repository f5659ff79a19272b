# ---- Allocation rate over time (reports/gnuplot/alloc_rate.gp) ----
# Bytes allocated per second: from the runtime's cumulative total_alloc
# (heap_series, difference between consecutive points) and estimated from
# the allocation samples (sum of weight x size per window).  The data file:
# index 0 = total_alloc windows, index 1 = sample windows.
set title @TITLE@
set xlabel 'time since the start of the run (s)'
set ylabel 'allocation rate (@UNIT@)'
scale = @SCALE@
set xrange [0:@T_END@]
set yrange [0:@Y_MAX@]
set key top right
plot @PLOT@
