#!/usr/bin/env bash
# Regenerates results/llm_inference/{table.md,runs.csv}: LLM serving figures (time to first
# token, time per output token, throughput, energy per token) of several models on the
# shipped accelerators, with the memory-bound floor of a decode step beside them.
# Usage: results/llm_inference/reproduce.sh   (after scripts/setup.sh; a few minutes)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PYTHONPATH="$root/python:$root/build/python" SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
/usr/bin/python3 "$root/results/llm_inference/make_table.py" "$root"
"$root/results/stamp.sh" "$root/results/llm_inference/table.md" results/llm_inference/reproduce.sh
cat "$root/results/llm_inference/table.md"
