#!/usr/bin/env bash
# Regenerates results/serving/{table.md,load_curves.csv,load_curves.png}: Llama-2-7B served
# under Poisson load on the shipped devices, and the serving choices tessel models (static
# against continuous batching, disaggregated prefill, weight offload, speculative decoding).
# Usage: results/serving/reproduce.sh   (after scripts/setup.sh; about seven minutes)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PYTHONPATH="$root/python:$root/build/python" SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
/usr/bin/python3 "$root/results/serving/make_table.py" "$root"
"$root/results/stamp.sh" "$root/results/serving/table.md" results/serving/reproduce.sh
cat "$root/results/serving/table.md"
