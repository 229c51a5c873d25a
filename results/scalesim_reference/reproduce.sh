#!/usr/bin/env bash
# Regenerates results/scalesim_reference/table.md: tessel's cycle counts against SCALE-Sim
# v2's printed "Total Cycles" (unlimited bandwidth, large SRAM) for the reference cases, then
# its compute cycles on SCALE-Sim's bundled arrays (scale.cfg's with CALC bandwidth, google.cfg,
# eyeriss.cfg) and topologies, whose small SRAMs make the mapper split layers.
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
os_32x32_64kB_calc.cfg os 529,256,2400 334831
CASES
  echo
  echo "tessel counts cycles; SCALE-Sim prints the index of the last one, so the expected difference is 1."
  echo "The last row is AlexNet's Conv2 on scale.cfg's 32x32 array with 64 kB SRAMs."
  echo
  echo "## SCALE-Sim's bundled arrays and topologies: compute cycles"
  echo
  echo "SCALE-Sim v2's compute cycles of a layer are its fold count, whatever the SRAM sizes: the"
  echo "operand matrices (Sr x T, T x Sc) in folds of the R x C array, each fill + T + R + C - 2"
  echo "cycles (fill R for ws and is, 0 for os), evaluated below from each layer's M, N, K. Where a"
  echo "layer does not fit the buffers tessel splits the streamed dimension, and keeps the count"
  echo "because the array streams such tiles as one fold (stream runs, arch/systolic/fold_timing.h)."
  echo
  echo "| config | array | topology | layers | SCALE-Sim fold count | tessel compute cycles | layers that differ |"
  echo "|---|---|---|---|---|---|---|"
  for cfg in os_32x32_64kB_calc google eyeriss; do
    for topology in alexnet yolo_tiny; do
      "$tessel" run --quiet --no-check --arch "$root/configs/scalesim/$cfg.cfg" \
        --topology "$root/configs/topologies/$topology.csv" --out "$out/$cfg.$topology"
      /usr/bin/python3 "$root/results/scalesim_reference/fold_count.py" "$root/configs/scalesim/$cfg.cfg" \
        "$out/$cfg.$topology/layers.csv" "$cfg" "$topology"
    done
  done
} > "$table"
"$root/results/stamp.sh" "$table" results/scalesim_reference/reproduce.sh
cat "$table"
