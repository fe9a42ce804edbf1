# side-by-side.gp: the chart of docs/BENCHMARKS.md "HTTP, side by side".
#   gnuplot -e "datafile='chart.dat'; outfile='docs/bench-side-by-side.svg'" bench/side-by-side.gp
# datafile (req/s) and datafile.p99 (p99 ms) come from side-by-side-report.py:
# one line per workload, one column per system, '-' where a system has no
# such workload. Left: throughput (log scale); right: p99 latency (log).
set terminal svg size 1200,560 dynamic font "sans,12" background "white"
set output outfile
set datafile missing "-"
stats datafile using 0 nooutput
ncol = int(system("head -1 '".datafile."' | awk -F'\"' '{print (NF-1)/2}'")) + 1
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set grid ytics
set key top right font "sans,10" samplen 1.5
set xtics nomirror
set ytics nomirror
set linetype 1 lc rgb "#1b7837"
set linetype 2 lc rgb "#a6dba0"
set linetype 3 lc rgb "#d6604d"
set linetype 4 lc rgb "#f4a582"
set linetype 5 lc rgb "#4393c3"
set linetype 6 lc rgb "#762a83"
set multiplot layout 1,2 title "holdfast vs its peers, same 2-core machine, load generator included (medians)"
set title "requests per second (more is better)"
set yrange [10:5e6]   # room above the bars for the key
set format y "%.0s%c"
plot for [i=2:ncol] datafile using i:xtic(1) title columnheader(i)
set title "p99 latency, ms (less is better)"
set yrange [0.1:*]
set format y "%g"
unset key
plot for [i=2:ncol] datafile.".p99" using i:xtic(1) title columnheader(i)
unset multiplot
