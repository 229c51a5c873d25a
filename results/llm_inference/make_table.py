"""Runs the LLM serving grid and writes table.md and runs.csv next to this file."""

import pathlib
import sys

import pandas

import tessel

ROOT = pathlib.Path(sys.argv[1])
HERE = ROOT / "results" / "llm_inference"
# Each architecture lists the models whose weights fit its memory (TPU v4: 32 GiB HBM per
# chip, so Llama-2-70B stands for a model sharded over chips without the interconnect; Alveo
# U280: 8 GiB HBM2, room for a 7B model in int8; A100 and H100: 80 GB HBM, and four A100s or
# two H100s sharing Llama-2-70B's layers over NVLink). Keys: architecture, format,
# tensor-parallel GPUs. The H100 file comes from specifications and the A100's calibrated
# constants only: its rows are predictions no H100 measurement has checked.
GRID = {
    ("tpu_v4_like", "bf16", 1): ["llama2-7b", "llama3-8b", "mistral-7b", "llama2-13b", "llama2-70b"],
    ("u280_int8", "int8", 1): ["llama2-7b", "mistral-7b"],
    ("a100_sxm", "bf16", 1): ["llama2-7b", "llama3-8b", "mistral-7b", "llama2-13b"],
    ("a100_sxm", "bf16", 4): ["llama2-70b"],
    ("h100_sxm", "bf16", 1): ["llama2-7b", "llama3-8b", "llama2-13b"],
    ("h100_sxm", "bf16", 2): ["llama2-70b"],
}
INPUT, OUTPUT, BATCH = 1024, 128, 1


def decode_floor_s(result):
    """The last decode step's DRAM bytes at the architecture's full bandwidth."""
    ops = result.ops[result.ops["step"] == result.ops["step"].max()]
    figures = result.arch.figures()
    bytes_moved = (ops["bytes"] * ops["repeats"]).sum()
    return bytes_moved / (figures["dram_bytes_per_cycle"] * figures["clock_hz"])


rows = []
for (arch_name, dtype, chips), models in GRID.items():
    arch = tessel.Arch.load(ROOT / "configs" / "arch" / f"{arch_name}.yaml")
    for model in models:
        workload = tessel.Model(model, phase="generate", batch=BATCH, input=INPUT, output=OUTPUT, tp=chips)
        result = tessel.run(arch, workload, dtype=dtype, check=False)
        s = result.summary
        last_step = result.ops[result.ops["step"] == result.ops["step"].max()]
        rows.append({
            "arch": arch_name, "chips": chips, "dtype": dtype, "model": model,
            "ttft_ms": s["ttft_s"] * 1e3, "tpot_ms": s["tpot_s"] * 1e3, "tokens_per_s": s["tokens_per_s"],
            "last_step_ms": last_step["total_cycles"].sum() / s["clock_hz"] * 1e3,
            "memory_floor_ms": decode_floor_s(result) * 1e3,
            "energy_mj_per_token": s["group_energy_pj"] * 1e-9 / (BATCH * OUTPUT),
        })

frame = pandas.DataFrame(rows)
frame.to_csv(HERE / "runs.csv", index=False, float_format="%.6g")
lines = [
    f"Generate, batch {BATCH}, {INPUT} prompt tokens, {OUTPUT} output tokens; timing only.",
    "`last step / floor` is the last decode step's time over its DRAM bytes at full (peak) bandwidth",
    "(a GPU streams at 78% of its peak and launches a kernel per operator, hence its higher ratio):",
    "how close decode comes to being purely memory-bound. mJ/token: the whole run's energy",
    "(prefill included, every chip's and NVLink's; on GPUs and the TPU their static power too, which the",
    "FPGA files do not state yet) over the output tokens. Llama-2-70B (140 GB in",
    "bf16) exceeds one TPU v4 chip's 32 GiB: its row is a single-chip equivalent without interconnect",
    "costs. On GPUs it runs tensor-parallel (`--tp`, over 4 A100s or 2 H100s): the step's time",
    "includes its 161 all-reduces over NVLink, and the floor is one GPU's bytes. The H100 rows are",
    "predictions from its specifications and the A100's calibrated constants; results/system_validation",
    "compares H100 and A100 nodes with public measurements.",
    "",
    "| arch | chips | dtype | model | TTFT ms | TPOT ms | tokens/s | last step / floor | mJ/token |",
    "|---|---|---|---|---|---|---|---|---|",
]
for r in rows:
    lines.append(f"| {r['arch']} | {r['chips']} | {r['dtype']} | {r['model']} | {r['ttft_ms']:.1f} | {r['tpot_ms']:.2f} | "
                 f"{r['tokens_per_s']:.1f} | {r['last_step_ms'] / r['memory_floor_ms']:.3f} | "
                 f"{r['energy_mj_per_token']:.1f} |")
(HERE / "table.md").write_text("\n".join(lines) + "\n")
