# ---- Heap over time, from the GC cycles (reports/gnuplot/heap_gc.gp) ----
# For runs without a heap series (a Go gctrace import): the heap at the
# start of each cycle (heap_before), at the end of marking (heap_after),
# the live heap marking found (heap_marked) and the heap goal, from
# gc_cycles.  The data file: index 0 = one row per cycle, index 1 = the heap
# through the cycles (start: heap_before; end: heap_after, then heap_marked).
set title @TITLE@
set xlabel 'time since the start of the run (s)'
set ylabel 'memory (@UNIT@)'
scale = @SCALE@
set xrange [0:@T_END@]
set yrange [0:@Y_MAX@]
set key below center horizontal Left reverse nobox noopaque width 2 height 1
@LABELS@
plot @PLOT@
