# ---- GC CPU fraction over time (reports/gnuplot/gc_cpu.gp) ----
# Top: the share of the available CPU the GC used in each window, and the
# cumulative fraction since the start (Go's GCCPUFraction, as recorded).
# The windows (index 0 of the data file says which way this run's were
# computed):
#   * from the GC cycles' CPU times when they have them: each cycle's
#     pause x procs + assist + background marking CPU, spread evenly over
#     the cycle, over the window's length x procs (how libgc and Go count
#     the fraction);
#   * else from the cumulative fraction f: per window [t1, t2],
#     (f2*t2 - f1*t1) / (t2 - t1) (0 when below), the GC CPU time in the
#     window over the CPU time available in it.
# Bottom: GOGC and the memory limit as step lines (@KNOB_SOURCE@), tuner
# decisions as points.  The data file: index 0 = windows, index 1 =
# cumulative fraction, index 2 = GOGC, index 3 = memory limit, index 4 =
# tuner decisions.
@LAYOUT@
set xrange [0:@T_END@]
@PANEL_TITLE@
set ylabel 'GC CPU (% of available CPU)'
set yrange [0:@CPU_Y_MAX@]
@CPU_KEY@
@CPU_XLABEL@
plot @PLOT_CPU@
@KNOBS@
