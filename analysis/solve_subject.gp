# Solve accuracy (share of correct samples) by subject.
load adir."/common.gp"
set output "solve_subject.png"
set title "Teacher accuracy by subject (solve)"
set ylabel "% correct"
set yrange [0:100]
set boxwidth 0.6
plot "solve_subject.dat" using 0:2:xtic(1) with boxes lc rgb "#228833"
