#!/usr/bin/env bash
# The plots of paper.sh's results, with gnuplot (Debian's gnuplot-nox): strong.png, weak.png,
# rank0.png, real_vs_emulated.png in DIR (default benchmarks/scaling/results), from
# DIR/summary.csv. The Parsl paper's figures are drawn beside ours as its text gives them:
# strong scaling flat at about 13-16 s from 1,024 to 262,144 workers; weak scaling about 250 s
# at 8,192 workers and 860 s at 32,768.
# Usage: benchmarks/scaling/plot.sh [DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/results}
command -v gnuplot >/dev/null || {
  echo "plot.sh: gnuplot not found: apt-get install gnuplot-nox" >&2
  exit 2
}
sum=$dir/summary.csv
[ -s "$sum" ] || { echo "plot.sh: $sum is missing or empty: run paper.sh first" >&2; exit 2; }
pick() { awk -F, -v e="$1" -v m="$2" 'NR > 1 && $1 == e && $2 == m' "$sum"; }
pick strong emulated > "$dir/.strong"
pick weak emulated > "$dir/.weak"
pick real-strong real > "$dir/.rs_real"; pick real-strong emulated > "$dir/.rs_emu"
pick real-weak real > "$dir/.rw_real"; pick real-weak emulated > "$dir/.rw_emu"
pick real-noop real > "$dir/.rn_real"; pick real-noop emulated > "$dir/.rn_emu"
trap 'rm -f "$dir"/.strong "$dir"/.weak "$dir"/.r[swn]_*' EXIT

gnuplot <<EOF
set datafile separator ","
set terminal pngcairo size 900,560 font "sans,11"
set logscale x 2
set format x "%.0f"
set key top left box opaque
set grid
set xlabel "workers (32 per node)"

set output "$dir/strong.png"
set title "Strong scaling: 5,000 tasks of 1 s (emulated tree, 2 cores; median, min-max)"
set ylabel "completion time (s)"
set logscale y
set yrange [0.5:40]
ideal(w) = ceil(5000.0 / w)
plot "$dir/.strong" using 3:5:6:7 with yerrorlines lw 2 pt 7 title "parsl-mpi (emulated)", \
     ideal(x) with steps dt 2 lw 1.5 lc rgb "black" title "ideal: ceil(5000 / workers) s", \
     1.2 * ideal(x) with steps dt 3 lc rgb "dark-green" title "goal: 1.2 x ideal", \
     (x >= 1024 && x <= 262144 ? 13 : 1/0) with lines lw 1.5 lc rgb "red" dt 4 title "Parsl paper (EXEX, Blue Waters): about 13-16 s", \
     (x >= 1024 && x <= 262144 ? 16 : 1/0) with lines lw 1.5 lc rgb "red" dt 4 notitle

set output "$dir/weak.png"
set title "Weak scaling: 10 tasks of 1 s per worker (emulated tree, 2 cores; median, min-max)"
set yrange [5:2000]
\$paper << EOD
8192,250
32768,860
EOD
plot "$dir/.weak" using 3:5:6:7 with yerrorlines lw 2 pt 7 title "parsl-mpi (emulated)", \
     10 with lines dt 2 lc rgb "black" title "ideal: 10 s", \
     11 with lines dt 3 lc rgb "dark-green" title "goal: 11 s", \
     \$paper using 1:2 with points pt 5 ps 1.5 lc rgb "red" title "Parsl paper (EXEX, Blue Waters)"

set output "$dir/rank0.png"
set title "Rank 0 at every size (medians)"
unset logscale y
set yrange [0:*]
set ylabel "peak memory (MiB)"
set y2label "messages per second (received + sent)"
set y2tics
set ytics nomirror
set y2range [0:*]
plot "$dir/.strong" using 3:9 with linespoints lw 2 pt 7 title "memory, strong (5,000 tasks)", \
     "$dir/.weak" using 3:9 with linespoints lw 2 pt 5 title "memory, weak (10 tasks per worker)", \
     "$dir/.strong" using 3:10 axes x1y2 with linespoints dt 2 pt 6 title "messages/s, strong", \
     "$dir/.weak" using 3:10 axes x1y2 with linespoints dt 2 pt 4 title "messages/s, weak"

set output "$dir/real_vs_emulated.png"
set terminal pngcairo size 1200,420 font "sans,10"
unset y2label
unset y2tics
set multiplot layout 1,3 title "The same trees, real ranks and emulated (nodes of 4 ranks, fan-out 4; median, min-max)"
set xlabel "workers"
set ylabel "seconds"
set title "strong: 64 tasks of 0.1 s"
plot "$dir/.rs_real" using 3:5:6:7 with yerrorlines pt 7 title "real ranks", \
     "$dir/.rs_emu" using 3:5:6:7 with yerrorlines pt 5 title "emulated"
set title "weak: 10 tasks of 0.1 s per worker"
plot "$dir/.rw_real" using 3:5:6:7 with yerrorlines pt 7 title "real ranks", \
     "$dir/.rw_emu" using 3:5:6:7 with yerrorlines pt 5 title "emulated"
set title "50,000 no-op tasks"
set ylabel "tasks per second"
plot "$dir/.rn_real" using 3:8 with linespoints pt 7 title "real ranks", \
     "$dir/.rn_emu" using 3:8 with linespoints pt 5 title "emulated"
unset multiplot
EOF
echo "plot.sh: $dir/strong.png weak.png rank0.png real_vs_emulated.png"
