#!/usr/bin/env bash
# Sets up, then runs the default job: Llama-2-7B generating 128 tokens after a 512-token
# prompt on the TPU v4-like chip, printing the per-operator tables and writing the reports
# into out/quickstart/. Extra arguments go to `tessel run`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
"$root/build/tessel" run --arch "$root/configs/arch/tpu_v4_like.yaml" --model llama2-7b \
  --phase generate --input 512 --output 128 --out "$root/out/quickstart" "$@"
echo "reports: $root/out/quickstart/{summary.json,layers.csv,stats.json}"
