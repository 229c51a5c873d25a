"""Dataflow study tables: reads the runs reproduce.sh made (one folder per array, dataflow and mapper
objective) and writes dataflows.csv, cycles.png and table.md.
Usage: make_table.py ROOT RUNS (reproduce.sh runs it)."""

import json
import pathlib
import re
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import pandas  # noqa: E402

ROOT = pathlib.Path(sys.argv[1])
RUNS = pathlib.Path(sys.argv[2])
HERE = ROOT / "results" / "dataflow_study"
ARRAYS = {"os_32x32_64kB_calc": "32x32, 64 kB SRAMs", "os_128x128_calc": "128x128, 1 MB input and weight SRAMs"}
DATAFLOWS = ["os", "ws", "is"]
OBJECTIVES = ["latency", "energy"]
# How often each GEMM of bert_base_layers.csv runs in one encoder layer: Q, K, V and the output
# projection share a shape; the attention products run once a head (12 heads).
PER_ENCODER_LAYER = {"qkv_or_out_proj": 4, "ffn_up": 1, "ffn_down": 1, "attn_scores_head": 12,
                     "attn_context_head": 12}
SUMMED = ["total_cycles", "compute_cycles", "stall_cycles", "dram_read_bytes", "dram_write_bytes", "sram_read_bytes",
          "sram_write_bytes"]
COLUMNS = SUMMED + ["utilization", "mapping_efficiency", "energy_pj"]


def array_pes(cfg):
    """ArrayHeight x ArrayWidth of a SCALE-Sim .cfg: its peak MACs a cycle (int8, one MAC a PE)."""
    text = (ROOT / "configs" / "scalesim" / f"{cfg}.cfg").read_text()
    size = {k: int(v) for k, v in re.findall(r"^(ArrayHeight|ArrayWidth)\s*[:=]\s*(\d+)", text, re.M)}
    return size["ArrayHeight"] * size["ArrayWidth"]


def load():
    rows = []
    for cfg in ARRAYS:
        for dataflow in DATAFLOWS:
            for objective in OBJECTIVES:
                folder = RUNS / f"{cfg}.{dataflow}.{objective}"
                summary = json.loads((folder / "summary.json").read_text())
                assert summary["dataflow"] == dataflow, (folder, summary["dataflow"])
                layers = pandas.read_csv(folder / "layers.csv", skipinitialspace=True)
                for r in layers.to_dict("records"):
                    name = r["layer"].strip()
                    rows.append({"array": cfg, "dataflow": dataflow, "objective": objective, "layer": name,
                                 "M": r["M"], "N": r["N"], "K": r["K"], "count": PER_ENCODER_LAYER[name],
                                 **{c: r[c] for c in COLUMNS}})
    return pandas.DataFrame(rows)


def encoder_totals(frame):
    """One encoder layer: each GEMM times its count; utilization recomputed from the MACs."""
    rows = []
    for (cfg, dataflow, objective), group in frame.groupby(["array", "dataflow", "objective"], sort=False):
        summed = {c: int((group[c] * group["count"]).sum()) for c in SUMMED}
        macs = int((group["M"] * group["N"] * group["K"] * group["count"]).sum())
        rows.append({"array": cfg, "dataflow": dataflow, "objective": objective, "layer": "encoder_layer",
                     "M": "", "N": "", "K": "", "count": 1, **summed,
                     "utilization": macs / (array_pes(cfg) * summed["total_cycles"]),
                     "mapping_efficiency": float("nan"),
                     "energy_pj": float((group["energy_pj"] * group["count"]).sum())})
    return pandas.DataFrame(rows)


def plot(frame):
    figure, axes = plt.subplots(1, len(ARRAYS), figsize=(11, 4))
    layers = list(PER_ENCODER_LAYER)
    width = 0.27
    for ax, cfg in zip(axes, ARRAYS):
        for i, dataflow in enumerate(DATAFLOWS):
            rows = frame[(frame["array"] == cfg) & (frame["dataflow"] == dataflow)
                         & (frame["objective"] == "latency")].set_index("layer")
            x = [j + (i - 1) * width for j in range(len(layers))]
            ax.bar(x, [rows.loc[name, "total_cycles"] for name in layers], width, label=dataflow)
        ax.set_xticks(range(len(layers)))
        ax.set_xticklabels([name.replace("_", "\n", 1) for name in layers], fontsize=8)
        ax.set(yscale="log", ylabel="cycles (one GEMM)", title=f"{cfg}.cfg")
        ax.legend(title="dataflow", fontsize=8)
    figure.suptitle("BERT-base encoder GEMMs, seq 512: cycles by dataflow (tessel, latency objective)")
    figure.tight_layout()
    # No Software or date metadata, so that a rerun writes the same bytes.
    figure.savefig(HERE / "cycles.png", dpi=100, metadata={"Software": None})


def markdown(frame):
    lines = ["| layer | M,N,K | dataflow | cycles | utilization | DRAM read KiB | DRAM write KiB "
             "| SRAM read KiB | SRAM write KiB | energy uJ |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in frame.itertuples(index=False):
        shape = f"{r.M},{r.N},{r.K}" if r.M != "" else "sum x counts"
        lines.append(f"| {r.layer} | {shape} | {r.dataflow} | {r.total_cycles:,} | {100 * r.utilization:.1f}% "
                     f"| {r.dram_read_bytes / 1024:,.0f} | {r.dram_write_bytes / 1024:,.0f} "
                     f"| {r.sram_read_bytes / 1024:,.0f} | {r.sram_write_bytes / 1024:,.0f} "
                     f"| {r.energy_pj * 1e-6:,.1f} |")
    return lines


def findings(frame, totals):
    """Sentences read off the numbers: the fastest dataflow per array, per GEMM and for the encoder layer."""
    lines = []
    for cfg, label in ARRAYS.items():
        t = totals[(totals["array"] == cfg) & (totals["objective"] == "latency")].set_index("dataflow")
        e = totals[(totals["array"] == cfg) & (totals["objective"] == "energy")].set_index("dataflow")
        best, worst = t["total_cycles"].idxmin(), t["total_cycles"].idxmax()
        dram = t["dram_read_bytes"] + t["dram_write_bytes"]
        rows = frame[(frame["array"] == cfg) & (frame["objective"] == "latency")]
        # Every dataflow within the fastest's cycles (ws and is tie on square outputs).
        fastest = rows.groupby("layer", sort=False)["total_cycles"].transform("min") == rows["total_cycles"]
        per_layer = ", ".join(f"{layer} {'/'.join(group['dataflow'])}"
                              for layer, group in rows[fastest].groupby("layer", sort=False))
        slower = (e["total_cycles"] / t["total_cycles"] - 1) * 100
        less = (1 - (e["dram_read_bytes"] + e["dram_write_bytes"]) / dram) * 100
        lines += textwrap.wrap(
            f"- {label}: over one encoder layer {best} is fastest ({t.loc[best, 'total_cycles']:,} cycles, "
            f"{100 * t.loc[best, 'utilization']:.1f}% utilization), {worst} slowest "
            f"({t.loc[worst, 'total_cycles'] / t.loc[best, 'total_cycles']:.2f}x). Fastest per GEMM: {per_layer}. "
            f"Least DRAM traffic: {dram.idxmin()} ({dram.min() / 2**20:,.1f} MiB against "
            f"{dram.max() / 2**20:,.1f} MiB for {dram.idxmax()}); least energy: {t['energy_pj'].idxmin()}. "
            "Mapping for energy instead costs "
            + ", ".join(f"{d} {slower[d]:+.1f}% cycles for {less[d]:.0f}% less DRAM traffic" for d in DATAFLOWS) + ".",
            width=118, subsequent_indent="  ")
    return lines


def main():
    frame = load()
    totals = encoder_totals(frame)
    everything = pandas.concat([frame, totals], ignore_index=True)
    everything.to_csv(HERE / "dataflows.csv", index=False, float_format="%.6g", lineterminator="\n")
    plot(frame)
    intro = (
        "BERT-base's encoder GEMMs at sequence length 512 (bert_base_layers.csv as M,N,K: the Q, K, V and output "
        "projections share one shape; the attention products are one head's) under the three dataflows "
        "(`tessel run --dataflow os|ws|is --no-check`) on two SCALE-Sim arrays, "
        "configs/scalesim/os_32x32_64kB_calc.cfg (SCALE-Sim's scale.cfg array and SRAMs) and os_128x128_calc.cfg, "
        "both with CALC bandwidth: DRAM never stalls, so cycles are the folds' compute cycles, as SCALE-Sim's "
        "dataflow comparisons count them, and DRAM bytes show the traffic each mapping needs. A .cfg run is int8 "
        "at 1 GHz with Horowitz 45 nm energies (arch/config_scalesim.cpp). Each GEMM row is one execution; "
        "`encoder_layer` sums one layer's GEMMs, each times its count (projections x4, attention products x12 "
        "heads). Utilization is MACs / (cycles x PEs). The mapper minimises latency (tessel's default); with free "
        "bandwidth it may pick a mapping that sends partial sums through DRAM when that shortens the stream, so "
        "the last table also gives the encoder layer with `--objective energy`. Figure: cycles.png (latency "
        "objective, log scale). All figures: dataflows.csv.")
    lines = textwrap.wrap(intro, width=110) + [
        "",
        "What the numbers show:",
        "",
    ]
    lines += findings(frame, totals)
    order = list(PER_ENCODER_LAYER) + ["encoder_layer"]
    for cfg, label in ARRAYS.items():
        lines += ["", f"## {label} (configs/scalesim/{cfg}.cfg), latency objective", ""]
        part = everything[(everything["array"] == cfg) & (everything["objective"] == "latency")]
        part = part.assign(_o=part["layer"].map(order.index)).sort_values(["_o"], kind="stable").drop(columns="_o")
        lines += markdown(part)
    lines += ["", "## One encoder layer, mapped for latency or for energy", "",
              "| array | dataflow | objective | cycles | utilization | DRAM MiB | SRAM MiB | energy uJ |",
              "|---|---|---|---|---|---|---|---|"]
    for r in totals.itertuples(index=False):
        lines.append(f"| {r.array} | {r.dataflow} | {r.objective} | {r.total_cycles:,} | {100 * r.utilization:.1f}% "
                     f"| {(r.dram_read_bytes + r.dram_write_bytes) / 2**20:,.1f} "
                     f"| {(r.sram_read_bytes + r.sram_write_bytes) / 2**20:,.1f} | {r.energy_pj * 1e-6:,.1f} |")
    (HERE / "table.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
