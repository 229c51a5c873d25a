#!/usr/bin/env bash
# Regenerates results/gpu_validation/{table.md,cases.csv}: the A100 model against measured
# A100 data (tests/data/validation: LLMCompass, NVIDIA aiconfigurator; see its README) and the
# H100 model against public H100-class GEMMs (DeepGEMM on an H800 SXM5, the maximum achievable
# matmul FLOPS table), the error of every case and the mean absolute percentage error per group.
# Usage: results/gpu_validation/reproduce.sh   (after scripts/setup.sh; a few seconds)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/results/gpu_validation"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
for rows in a100_gemm a100_vector_ops a100_attention a100_collectives a100x4_gpt3_layer; do
  "$root/build/tessel" validate --arch "$root/configs/arch/a100_sxm.yaml" --quiet \
    --measurements "$root/tests/data/validation/$rows.csv" --out "$out/$rows" >/dev/null
done
for rows in h800_fp8_gemm h100_mamf_gemm; do
  "$root/build/tessel" validate --arch "$root/configs/arch/h100_sxm.yaml" --quiet \
    --measurements "$root/tests/data/validation/$rows.csv" --out "$out/$rows" >/dev/null
done
/usr/bin/python3 "$here/make_table.py" "$root" "$out"
/usr/bin/python3 "$root/results/scatter.py" "$here/cases.csv" measured_ms predicted_ms category ms \
  "A100 and H100-class kernels: tessel against measurements" "$here/scatter.png"
"$root/results/stamp.sh" "$here/table.md" results/gpu_validation/reproduce.sh
cat "$here/table.md"
