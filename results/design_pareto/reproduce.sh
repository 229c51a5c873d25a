#!/usr/bin/env bash
# Regenerates results/design_pareto/{table.md,points.csv,front.png}: the time-energy Pareto front of
# TPU v1-like designs (array shape, buffers, DRAM bandwidth) within TPU v1's 331 mm2, running BERT-base's
# prefill, from the sweep file tpu_v1_area.yaml.
# Usage: results/design_pareto/reproduce.sh   (after scripts/setup.sh; about five seconds)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/results/design_pareto"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export PYTHONPATH="$root/python:$root/build/python" SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
"$root/build/tessel" sweep --spec "$here/tpu_v1_area.yaml" --out "$out/sweep" --pareto seconds,energy_pj --jobs 2 \
  --quiet
/usr/bin/python3 "$here/make_table.py" "$root" "$out/sweep"
"$root/results/stamp.sh" "$here/table.md" results/design_pareto/reproduce.sh
cat "$here/table.md"
