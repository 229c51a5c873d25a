#!/usr/bin/env bash
# Regenerates results/training_validation/{cases.csv,table.md}: tessel's iteration times of the
# measured training runs in measurements.csv (sources in SOURCES.md; build_csv.py writes that
# file from the values as published), beside Calculon's predictions of the same runs.
# Usage: results/training_validation/reproduce.sh   (after scripts/setup.sh; about half a minute)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
/usr/bin/python3 "$root/results/training_validation/predict.py"
/usr/bin/python3 "$root/results/scatter.py" "$root/results/training_validation/cases.csv" measured_iteration_s \
  predicted_iteration_s source s "Training iterations: tessel against measured runs" \
  "$root/results/training_validation/scatter.png"
"$root/results/stamp.sh" "$root/results/training_validation/table.md" results/training_validation/reproduce.sh
cat "$root/results/training_validation/table.md"
