# Training curves: loss (left axis) and learning rate (right axis) per step.
load adir."/common.gp"
set output "train_loss.png"
set title "Training"
set xlabel "step"
set ylabel "loss"
set y2label "learning rate"
set y2tics
set xtics norotate
set key inside top right
plot "train.dat" using 1:2 with lines lw 2 lc rgb "#4477aa" title "loss", \
     "" using 1:3 axes x1y2 with lines lc rgb "#ee6677" title "lr"
