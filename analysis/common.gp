# Shared look of every report plot (loaded by the others).
set terminal pngcairo size 900,500 noenhanced font ",10"
set style fill solid 0.8 border -1
set grid ytics
set key noautotitle
set xtics rotate by -35 left
