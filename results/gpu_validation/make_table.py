"""Joins the validation runs of reproduce.sh into cases.csv and the MAPE table."""

import pathlib
import re
import sys

import pandas

ROOT, RUNS = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
HERE = ROOT / "results" / "gpu_validation"
FILES = ["a100_gemm", "a100_vector_ops", "a100_attention", "a100_collectives", "a100x4_gpt3_layer", "h800_fp8_gemm",
         "h100_mamf_gemm"]

cases = pandas.concat([pandas.read_csv(RUNS / name / "validation.csv") for name in FILES], ignore_index=True)
cases.to_csv(HERE / "cases.csv", index=False, float_format="%.6g")
cases["abs"] = cases["error_percent"].abs()


def m_of(case_id):
    """The GEMM's M: LLMCompass ids are MxNxK after 'llmc-', aiconfigurator's after the dtype."""
    found = re.search(r"(\d+)x\d+x\d+$", case_id)
    return int(found.group(1)) if found else None


h100 = cases["id"].str.startswith(("gemm-h800-", "gemm-h100-"))
deepgemm = cases[cases["id"].str.startswith("gemm-h800-deepgemm-")].assign(m=lambda d: d["id"].map(m_of))
mamf = cases[cases["id"].str.startswith("gemm-h100-mamf-")]
gemm = cases[(cases["category"] == "GEMM") & ~h100].assign(m=lambda d: d["id"].map(m_of))
attention = cases[cases["category"] == "attention-prefill"].assign(
    seq=lambda d: d["id"].str.extract(r"-s(\d+)-", expand=False).astype(int))
groups = [
    ("GEMM, all", gemm, "≤ 15% (issue)"),
    ("GEMM, M ≥ 256", gemm[gemm["m"] >= 256], "≤ 8% (issue)"),
    ("GEMM, M ≤ 64", gemm[gemm["m"] <= 64], "≤ 15% (issue)"),
    ("vector operators (softmax, layernorm, GELU)", cases[cases["category"] == "vector-op"], "≤ 20% (issue)"),
    ("fused context attention, all", attention, ""),
    ("fused context attention, 4096-8192 tokens", attention[attention["seq"] >= 4096], ""),
    ("NCCL all-reduce, 2-8 GPUs", cases[cases["category"] == "collective"], ""),
    ("GPT-3 175B layer on 4 GPUs, operators", cases[cases["category"] == "transformer-layer-op"], ""),
    ("GPT-3 175B layer on 4 GPUs, totals", cases[cases["category"] == "transformer-layer"], ""),
]
h100_groups = [
    ("fp8 GEMM (DeepGEMM, H800 SXM5), all", deepgemm),
    ("fp8 GEMM (DeepGEMM), M = 64 and 128", deepgemm[deepgemm["m"] <= 128]),
    ("fp8 GEMM (DeepGEMM), M = 4096", deepgemm[deepgemm["m"] >= 4096]),
    ("bf16 GEMM, best torch.matmul shape (MAMF)", mamf[mamf["id"].str.contains("-bf16-")]),
    ("fp8 GEMM, best torch.matmul shape (MAMF; in sample)", mamf[mamf["id"].str.contains("-fp8-")]),
]
lines = [
    "`configs/arch/a100_sxm.yaml` against measured A100-SXM4-80GB data (tests/data/validation, the A100",
    "rows of the shared public measurement set that the tests keep): mean absolute percentage error",
    "per group, and the worst case. Every case with its prediction is in cases.csv.",
    "",
    "| group | cases | MAPE | worst | target |",
    "|---|---|---|---|---|",
]
for name, rows, target in groups:
    lines.append(f"| {name} | {len(rows)} | {rows['abs'].mean():.1f}% | {rows['abs'].max():.1f}% | {target} |")
lines += [
    "",
    "`configs/arch/h100_sxm.yaml` against public H100-class GEMMs (tests/data/validation/h800_fp8_gemm.csv,",
    "h100_mamf_gemm.csv; an H800 SXM5 has the H100 SXM5's SMs, clocks, power limit and HBM3). DeepGEMM's",
    "times come from a profiler trace: the launch gap is taken off the prediction. Negative errors are",
    "predictions faster than measured.",
    "",
    "| group | cases | MAPE | mean error | worst |",
    "|---|---|---|---|---|",
]
for name, rows in h100_groups:
    worst = rows.loc[rows["abs"].idxmax(), "error_percent"]
    lines.append(f"| {name} | {len(rows)} | {rows['abs'].mean():.1f}% | {rows['error_percent'].mean():+.1f}% | "
                 f"{worst:+.1f}% |")
(HERE / "table.md").write_text("\n".join(lines) + "\n")
