# Bar chart for scripts/bench-dnsperf.sh: QPS (left) and p99 latency (right) per server.
#   gnuplot -e "data='chart.dat'; out='x.png'; term='pngcairo'; heading='...'" dnsperf_chart.gp
# data: one line per server, tab-separated: label, QPS, p99 in ms ("nan" when not measured).
# Text is not "enhanced" (an underscore in af_xdp stays an underscore).
if (term eq 'pngcairo') {
  set terminal pngcairo size 1200,540 noenhanced font 'sans,11'
} else {
  set terminal png size 1200,540 noenhanced
}
set output out
set datafile separator "\t"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.8
set grid ytics
set yrange [0:*]
set xtics nomirror rotate by -15
set key off
set offsets 0, 0, graph 0.12, 0
# Without p99 figures (bench-dnsperf.sh --no-p99, the column is "nan") only the QPS panel.
# (stats warns about, and does not define STATS_records for, a column without one number.)
have_p99 = 0
stats data using 3 nooutput
if (exists("STATS_records")) { have_p99 = (STATS_records > 0) }
if (have_p99) { set multiplot layout 1,2 title heading } else { set title heading }
if (have_p99) { set title "queries per second (higher is better)" }
set format y "%.0f"
plot data using 2:xtic(1) linecolor rgb "#3b75af", \
     '' using 0:2:(sprintf("%.0f", $2)) with labels offset 0,0.8 notitle
if (have_p99) {
  set title "p99 latency in ms (lower is better)"
  set format y "%g"
  plot data using 3:xtic(1) linecolor rgb "#c8553d", \
       '' using 0:3:(sprintf("%.2f", $3)) with labels offset 0,0.8 notitle
  unset multiplot
}
