#!/usr/bin/env bash
# Regenerates results/power/table.md: the board power tessel predicts for decode and for a large
# GEMM on the A100 and H100 files (static power and the power limit of their `power` blocks) and for
# Jouppi et al.'s MLPs on the TPU v1 file (its measured idle power),
# beside the published board-power measurements in measurements.csv (sources there).
# Usage: results/power/reproduce.sh   (after scripts/setup.sh; a few seconds)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
/usr/bin/python3 "$root/results/power/make_table.py" "$root"
"$root/results/stamp.sh" "$root/results/power/table.md" results/power/reproduce.sh
cat "$root/results/power/table.md"
