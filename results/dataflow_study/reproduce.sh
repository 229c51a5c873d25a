#!/usr/bin/env bash
# Regenerates results/dataflow_study/{table.md,dataflows.csv,cycles.png}: BERT-base's encoder GEMMs
# (bert_base_layers.csv, seq 512) under output-, weight- and input-stationary dataflows on two
# SCALE-Sim arrays (configs/scalesim: 32x32 with 64 kB SRAMs, 128x128 with 1 MB SRAMs, CALC bandwidth).
# Usage: results/dataflow_study/reproduce.sh   (after scripts/setup.sh; a few seconds)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/results/dataflow_study"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
for cfg in os_32x32_64kB_calc os_128x128_calc; do
  for dataflow in os ws is; do
    # Timing only: the study is about cycles and traffic, not values. The energy objective shows
    # what the latency objective's mappings spend in DRAM traffic that CALC bandwidth makes free.
    for objective in latency energy; do
      "$root/build/tessel" run --quiet --no-check --arch "$root/configs/scalesim/$cfg.cfg" --dataflow "$dataflow" \
        --objective "$objective" --topology "$here/bert_base_layers.csv" --out "$out/$cfg.$dataflow.$objective" \
        >/dev/null
    done
  done
done
/usr/bin/python3 "$here/make_table.py" "$root" "$out"
"$root/results/stamp.sh" "$here/table.md" results/dataflow_study/reproduce.sh
cat "$here/table.md"
