# The data funnel: problems -> traces -> correct -> back-translated -> exported.
load adir."/common.gp"
set output "funnel.png"
set title "Data funnel"
set ylabel "count"
set yrange [0:*]
set boxwidth 0.6
plot "funnel.dat" using 0:2:xtic(1) with boxes lc rgb "#4477aa"
