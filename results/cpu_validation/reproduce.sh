#!/usr/bin/env bash
# Regenerates results/cpu_validation/table.md: Llama-class inference on the Xeon file beside the
# public CPU measurements in measurements.csv (sources there).
# Usage: results/cpu_validation/reproduce.sh   (after scripts/setup.sh; a few seconds)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
/usr/bin/python3 "$root/results/cpu_validation/make_table.py" "$root"
"$root/results/stamp.sh" "$root/results/cpu_validation/table.md" results/cpu_validation/reproduce.sh
cat "$root/results/cpu_validation/table.md"
