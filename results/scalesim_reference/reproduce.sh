#!/usr/bin/env bash
# Regenerates results/scalesim_reference/table.md: tessel's cycle counts against SCALE-Sim
# v2's printed "Total Cycles" (unlimited bandwidth, large SRAM) for the reference cases.
# Usage: results/scalesim_reference/reproduce.sh   (after scripts/setup.sh)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tessel=$root/build/tessel
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

table=$root/results/scalesim_reference/table.md
{
  echo "| array | dataflow | M,N,K | SCALE-Sim v2 (last cycle index) | tessel (cycle count) | difference |"
  echo "|---|---|---|---|---|---|"
  while read -r cfg dataflow gemm scalesim; do
    "$tessel" run --quiet --no-check --arch "$root/configs/scalesim/$cfg" --dataflow "$dataflow" --gemm "$gemm" --out "$out/run"
    cycles=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['total_cycles'])" "$out/run/summary.json")
    array=${cfg#*_}; array=${array%%_*}
    echo "| $array | $dataflow | $gemm | $scalesim | $cycles | $((cycles - scalesim)) |"
  done <<'CASES'
os_128x128_calc.cfg os 512,768,768 24527
os_128x128_calc.cfg ws 128,128,128 509
array_32x32_calc.cfg is 100,37,300 5239
CASES
  echo
  echo "tessel counts cycles; SCALE-Sim prints the index of the last one, so the expected difference is 1."
} > "$table"
cat "$table"
