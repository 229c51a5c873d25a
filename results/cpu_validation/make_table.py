"""Runs tessel on each CPU measurement's conditions and writes table.md: predicted beside measured."""

import json
import pathlib
import subprocess
import sys
import tempfile

import pandas

ROOT = pathlib.Path(sys.argv[1])
HERE = ROOT / "results" / "cpu_validation"
TESSEL = ROOT / "build" / "tessel"
ARCH = {"Xeon Platinum 8480+": "xeon_8480", "Xeon CPU Max 9460 (DDR5 only)": "xeon_8480"}


def predict(row, out):
    """tessel's figure for the row's metric: a generate run of its model, format and lengths."""
    # `--output` counts decode steps; the prefill yields the first of the row's output tokens.
    args = [str(TESSEL), "run", "--arch", str(ROOT / "configs" / "arch" / f"{ARCH[row.cpu]}.yaml"), "--model", row.model,
            "--dtype", row.dtype, "--batch", str(row.batch), "--phase", "generate", "--input", str(row.input),
            "--output", str(row.output - 1), "--no-check", "--quiet", "--out", out]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    summary = json.loads((pathlib.Path(out) / "summary.json").read_text())
    if row.metric == "total_ms":
        return summary["seconds"] * 1e3
    if row.metric == "tokens_per_s":
        return 1.0 / summary["tpot_s"]
    raise ValueError(f"{row.id}: unknown metric {row.metric}")


measured = pandas.read_csv(HERE / "measurements.csv")
lines = [
    "LLM inference on CPUs: tessel's prediction on the CPU files beside public measurements",
    "(measurements.csv, with sources and conditions). `use`: `calibration` rows set a constant of",
    "the file (named in its comment) and are shown for completeness; `check` rows are not fitted.",
    "Error = (tessel - measured) / measured. Made by `results/cpu_validation/reproduce.sh`.",
    "",
    "| id | use | cpu | model | dtype | in/out | metric | measured | tessel | error |",
    "|---|---|---|---|---|---|---|---|---|---|",
]
errors = []
with tempfile.TemporaryDirectory() as out:
    for row in measured.itertuples(index=False):
        tessel = predict(row, out)
        error = (tessel - row.value) / row.value
        if row.use == "check":
            errors.append(abs(error))
        lines.append(f"| {row.id} | {row.use} | {row.cpu} ({ARCH[row.cpu]}.yaml) | {row.model} | {row.dtype} | "
                     f"{row.input}/{row.output} | {row.metric} | {row.value:g} | {tessel:.4g} | {error:+.1%} |")
lines += [
    "",
    f"Check rows: mean absolute error {sum(errors) / len(errors):.1%} over {len(errors)} rows.",
    "",
    "tessel comes out faster than IPEX 2.0's measurements by a similar share in every format: those",
    "runs stream the weights at about half the DDR peak (13.5 GB a bf16 token in ~84 ms: ~160 GB/s),",
    "while the file's achievable fraction (0.82) is what xFasterTransformer's decode reaches on the",
    "same memory. The gap is the runtime's (PyTorch eager dispatch, per-op overheads), not the",
    "hardware's; a runtime as lean as xFasterTransformer is what the CPU files model.",
]
(HERE / "table.md").write_text("\n".join(lines) + "\n")
