# Back-translation outcome of every tool call, stacked per tool.
load adir."/common.gp"
set output "bt_acceptance.png"
set title "Back-translation: tool calls by outcome"
set ylabel "calls"
set yrange [0:*]
set style data histograms
set style histogram rowstacked
set boxwidth 0.6
set key outside right top
plot "bt_acceptance.dat" using 2:xtic(1) title "accepted, 1st attempt" lc rgb "#228833", \
     "" using 3 title "accepted after retries" lc rgb "#66ccee", \
     "" using 4 title "kept as fact" lc rgb "#ccbb44", \
     "" using 5 title "rejected" lc rgb "#ee6677"
