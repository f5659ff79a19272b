# ---- In-use bytes of the top sites over time: the leak view
# (reports/gnuplot/inuse.gp) ----
# The estimated bytes each site holds (sampled objects allocated and not
# yet freed) at @POINTS@ equal steps of the run, for the sites holding the
# most at the end and the leak suspects of gctune analyze.  A leak climbs
# and stays up; a cache levels off; a transient site goes back to zero.
set title @TITLE@
set xlabel 'time since the start of the run (s)'
set ylabel 'in use (@UNIT@, estimated from samples)'
scale = @SCALE@
set xrange [0:@T_END@]
set yrange [0:@Y_MAX@]
set key below center horizontal Left reverse nobox noopaque width -2 height 1 maxcols 2 font ',12'
plot for [i=2:@LAST_COLUMN@] datafile using ($1/1e9):(column(i)/scale) with lines ls (i-1) title columnheader(i)
