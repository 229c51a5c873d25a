#!/usr/bin/env bash
# Sets up, then runs the default job: transformer-sized GEMMs on the TPU v4-like chip,
# printing the report table and writing the reports into out/quickstart/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
"$root/build/tessel" run --arch "$root/configs/arch/tpu_v4_like.yaml" \
  --topology "$root/configs/topologies/gemm_example.csv" --out "$root/out/quickstart" "$@"
echo "reports: $root/out/quickstart/{summary.json,layers.csv,stats.json}"
