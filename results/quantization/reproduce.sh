#!/usr/bin/env bash
# Regenerates results/quantization/{table.md,schemes.csv}: Llama-2-7B and 70B under each precision
# recipe (--quant) on the TPU v4-like, A100, H100 and U280 files, and tessel's quantized speedups
# beside the published measurements in measurements.csv (sources there).
# Usage: results/quantization/reproduce.sh   (after scripts/setup.sh; about a minute)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
/usr/bin/python3 "$root/results/quantization/make_table.py" "$root"
"$root/results/stamp.sh" "$root/results/quantization/table.md" results/quantization/reproduce.sh
cat "$root/results/quantization/table.md"
