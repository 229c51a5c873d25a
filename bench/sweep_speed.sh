#!/usr/bin/env bash
# Sweep speed: points a second of `tessel sweep --jobs 2` on a BERT-base-size GEMM over 200
# systolic arrays (every point new hardware) and on a whole Llama-2-7B decode step over 100
# points (batch and cache length on four HBM bandwidths: points share hardware), each run
# three times into a fresh directory, the best kept; then peak memory of the sweep process.
# Usage: bench/sweep_speed.sh [JOBS]   (after scripts/setup.sh; about half a minute)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=${1:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
for spec in bert_gemm llama_decode; do
  best=
  for try in 1 2 3; do
    start=$(date +%s.%N)
    /usr/bin/time -f %M -o "$work/rss" "$root/build/tessel" sweep --quiet --jobs "$jobs" \
      --spec "$root/bench/sweeps/$spec.yaml" --out "$work/$spec.$try"
    best=$(awk -v now="$(date +%s.%N)" -v start="$start" -v best="$best" \
      'BEGIN { s = now - start; print (best == "" || s < best) ? s : best }')
  done
  points=$(($(wc -l <"$work/$spec.1/sweep.csv") - 1))
  printf '%-13s %4d points, --jobs %d: %6.3f s, %5.0f points/s, sweep process %d MB peak\n' "$spec" "$points" \
    "$jobs" "$best" "$(awk -v p="$points" -v s="$best" 'BEGIN { print p / s }')" "$(($(cat "$work/rss") / 1024))"
done
