#!/usr/bin/env bash
# Regenerates results/tpu_v1_roofline/{table.md,points.csv,roofline.png}: TPU v1's roofline
# (configs/arch/tpu_v1.yaml) with BERT-base prefill and Llama-2-7B decode operators and Jouppi et al.'s
# MLP0 and MLP1 (mlp0.csv, mlp1.csv) on it, beside the published MLP figures in published.csv.
# Usage: results/tpu_v1_roofline/reproduce.sh   (after scripts/setup.sh; a few seconds)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/results/tpu_v1_roofline"
arch="$root/configs/arch/tpu_v1.yaml"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export PYTHONPATH="$root/python:$root/build/python" SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
tessel=$root/build/tessel
# Timing only throughout: the roofline is about time and DRAM bytes.
"$tessel" describe --arch "$arch" >"$out/describe.txt"
"$tessel" run --quiet --no-check --arch "$arch" --model bert-base --phase prefill --seq 512 --out "$out/bert_prefill"
# Batch 32 with a shorter cache, so that weights and cache fit TPU v1's 8 GiB as at batch 1.
"$tessel" run --quiet --no-check --arch "$arch" --model llama2-7b --phase decode --batch 1 --kv-len 1024 \
  --out "$out/llama_decode_b1"
"$tessel" run --quiet --no-check --arch "$arch" --model llama2-7b --phase decode --batch 32 --kv-len 128 \
  --out "$out/llama_decode_b32"
for mlp in mlp0 mlp1; do
  "$tessel" run --quiet --no-check --arch "$arch" --topology "$here/$mlp.csv" --out "$out/$mlp"
done
/usr/bin/python3 "$here/make_table.py" "$root" "$out"
"$root/results/stamp.sh" "$here/table.md" results/tpu_v1_roofline/reproduce.sh
cat "$here/table.md"
