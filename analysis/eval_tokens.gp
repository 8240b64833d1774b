# Mean response length of every arm on every benchmark (over-reasoning).
load adir."/common.gp"
set output "eval_tokens.png"
set title "Evaluation: mean response tokens"
set ylabel "tokens"
set yrange [0:*]
set boxwidth 0.6
plot "eval.dat" using 0:5:xtic(1) with boxes lc rgb "#aa3377"
