#!/usr/bin/env bash
# Regenerates results/system_validation/{cases.csv,table.md}: tessel's predictions of the
# public multi-device measurements in measurements.csv (sources in README.md).
# Usage: results/system_validation/reproduce.sh   (after scripts/setup.sh; about a minute)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
/usr/bin/python3 "$root/results/system_validation/predict.py"
/usr/bin/python3 "$root/results/scatter.py" "$root/results/system_validation/cases.csv" measured predicted metric \
  "each row's unit: tokens/s, ms, µs, GB/s" "Multi-GPU LLM serving and all-reduces: tessel against measurements" \
  "$root/results/system_validation/scatter.png"
"$root/results/stamp.sh" "$root/results/system_validation/table.md" results/system_validation/reproduce.sh
cat "$root/results/system_validation/table.md"
