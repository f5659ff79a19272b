# ---- Heap over time (reports/gnuplot/heap.gp) ----
# From heap_series: heap_alloc, the heap goal (next_gc), RSS, heap_sys,
# memory released to the OS and the memory limit; the GC cycles from
# gc_cycles, marked at their start by the heap then (heap_before).
# The data file: index 0 = heap_series rows, index 1 = GC cycles.
set title @TITLE@
set xlabel 'time since the start of the run (s)'
set ylabel 'memory (@UNIT@)'
scale = @SCALE@
set xrange [0:@T_END@]
set yrange [0:@Y_MAX@]
set key below center horizontal Left reverse nobox noopaque width 2 height 1
@LABELS@
plot @PLOT@
