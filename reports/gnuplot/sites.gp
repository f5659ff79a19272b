# ---- Top allocation sites (reports/gnuplot/sites.gp) ----
# The sites (distinct call stacks, shown by their leaf and its caller)
# that allocated the most bytes: allocated bytes and bytes still in use at
# the end of the run, unbiased estimates from the samples (as gctune
# analyze reports them).  Rank 1 is at the top.
set title @TITLE@
set xlabel 'bytes (@UNIT@), estimated from the allocation samples'
scale = @SCALE@
set xrange [0:@X_MAX@]
set yrange [@Y_MAX@:0.4]
set ytics scale 0 font ',12'
set grid noytics
set key below center horizontal Left reverse nobox noopaque width 2 height 1
set style fill solid 0.85 noborder
plot @PLOT@
