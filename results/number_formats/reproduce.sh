#!/usr/bin/env bash
# Regenerates results/number_formats/{table.md,formats.csv}: a checked GEMM, BERT-base's prefill and
# a Llama-2-7B decode step in each number format (--dtype) the TPU v4-like, A100, H100, U280 and
# 32x32 test-array files support: latency, energy and the numerics check's error.
# Usage: results/number_formats/reproduce.sh   (after scripts/setup.sh; about ten seconds)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
/usr/bin/python3 "$root/results/number_formats/make_table.py" "$root" "$out"
"$root/results/stamp.sh" "$root/results/number_formats/table.md" results/number_formats/reproduce.sh
cat "$root/results/number_formats/table.md"
