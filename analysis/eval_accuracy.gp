# Accuracy of every arm on every benchmark, with its 95% bootstrap interval.
load adir."/common.gp"
set output "eval_accuracy.png"
set title "Evaluation: accuracy (95% CI)"
set ylabel "% correct"
set yrange [0:100]
set boxwidth 0.6
plot "eval.dat" using 0:2:xtic(1) with boxes lc rgb "#4477aa", \
     "" using 0:2:3:4 with yerrorbars lc rgb "black" pt 0
