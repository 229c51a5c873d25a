"""TPU v1 roofline: reads the runs reproduce.sh made and writes points.csv, roofline.png and table.md,
with Jouppi et al.'s published MLP figures (published.csv) beside tessel's.
Usage: make_table.py ROOT RUNS (reproduce.sh runs it)."""

import json
import pathlib
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
import pandas  # noqa: E402

ROOT = pathlib.Path(sys.argv[1])
RUNS = pathlib.Path(sys.argv[2])
sys.path[:0] = [str(ROOT / "python"), str(ROOT / "build" / "python")]
import tessel  # noqa: E402

HERE = ROOT / "results" / "tpu_v1_roofline"
ARCH = ROOT / "configs" / "arch" / "tpu_v1.yaml"
MODEL_RUNS = {"bert_prefill": "BERT-base prefill, 512 tokens",
              "llama_decode_b1": "Llama-2-7B decode, batch 1, 1024 cached",
              "llama_decode_b32": "Llama-2-7B decode, batch 32, 128 cached"}
MLPS = {"mlp0": "MLP0: 5 FC 200x2000x2000", "mlp1": "MLP1: 4 FC 168x1120x1120"}
# Matrix work only: the linears and the attention kernels (the other operators are vector work).
KINDS = ("Linear", "Attention")


def roof():
    """TPU v1's roofs as tessel reads the file: peak ops a second (2 a MAC) and DRAM bytes a second."""
    figures = tessel.Arch.load(str(ARCH)).figures()
    clock = figures["clock_hz"]
    return 2 * figures["peak_macs_per_cycle"]["int8"] * clock, figures["dram_bytes_per_cycle"] * clock


def model_points(run, label):
    """One point per matrix operator of a model run: its ops and DRAM bytes over one execution and time."""
    summary = json.loads((RUNS / run / "summary.json").read_text())
    clock = summary["clock_hz"]
    layers = pandas.read_csv(RUNS / run / "layers.csv")
    rows = []
    for r in layers[layers["kind"].isin(KINDS)].itertuples(index=False):
        rows.append({"workload": label, "op": r.op, "shape": r.shape, "ops": r.flops,
                     "dram_bytes": r.dram_read_bytes + r.dram_write_bytes, "seconds": r.cycles / clock,
                     "bound": r.bound})
    return rows


def mlp_point(run, label):
    """A whole MLP (every FC layer) as one point, as Jouppi et al. plot an application."""
    summary = json.loads((RUNS / run / "summary.json").read_text())
    layers = pandas.read_csv(RUNS / run / "layers.csv")
    bounds = sorted(set(layers["bound"]))
    return {"workload": label, "op": run.upper(), "shape": f"{len(layers)} x {layers['M'][0]}x{layers['N'][0]}"
            f"x{layers['K'][0]}", "ops": 2 * summary["macs"],
            "dram_bytes": summary["dram_read_bytes"] + summary["dram_write_bytes"], "seconds": summary["seconds"],
            "bound": "/".join(bounds)}


def main():
    peak, bandwidth = roof()
    ridge = peak / bandwidth
    rows = []
    for run, label in MODEL_RUNS.items():
        rows += model_points(run, label)
    rows += [mlp_point(run, label) for run, label in MLPS.items()]
    points = pandas.DataFrame(rows)
    points["ops_per_dram_byte"] = points["ops"] / points["dram_bytes"]
    points["tops"] = points["ops"] / points["seconds"] * 1e-12
    points["roof_tops"] = np.minimum(peak, bandwidth * points["ops_per_dram_byte"]) * 1e-12
    points["share_of_roof"] = points["tops"] / points["roof_tops"]
    points.to_csv(HERE / "points.csv", index=False, float_format="%.6g", lineterminator="\n")
    published = pandas.read_csv(HERE / "published.csv")

    figure, ax = plt.subplots(figsize=(8, 5.5))
    x = np.logspace(0, 4.5, 300)
    ax.plot(x, np.minimum(peak, bandwidth * x) * 1e-12, color="black", label="TPU v1 roofline (tessel's figures)")
    ax.axvline(ridge, color="grey", linestyle=":", linewidth=0.8)
    markers = dict(zip(MODEL_RUNS.values(), "osD"))
    for label, marker in markers.items():
        part = points[points["workload"] == label]
        ax.scatter(part["ops_per_dram_byte"], part["tops"], marker=marker, label=label, zorder=3)
        if part["ops_per_dram_byte"].max() < 1.1 * part["ops_per_dram_byte"].min():
            continue  # (decode's operators sit on one spot: the legend names them)
        # Operators staggered to the left of their points, so that neighbours stay legible.
        for i, r in enumerate(part.sort_values("tops").itertuples(index=False)):
            ax.annotate(r.op, (r.ops_per_dram_byte, r.tops), fontsize=6, xytext=(-60, -12 + 7 * i),
                        textcoords="offset points", arrowprops={"arrowstyle": "-", "color": "grey", "lw": 0.4})
    mlps = points[points["op"].isin(["MLP0", "MLP1"])]
    ax.scatter(mlps["ops_per_dram_byte"], mlps["tops"], marker="*", s=120, color="tab:red",
               label="MLP0, MLP1 (tessel)", zorder=4)
    for r in mlps.itertuples(index=False):
        ax.annotate(r.op, (r.ops_per_dram_byte, r.tops), fontsize=7, xytext=(4, -9), textcoords="offset points")
    # Published points at Jouppi's intensity (MAC ops per weight byte) doubled to ops per weight byte.
    pub = published.pivot(index="app", columns="metric", values="value")
    ax.scatter(2 * pub["intensity"], pub["achieved"], marker="*", s=120, facecolors="none", edgecolors="tab:red",
               label="MLP0, MLP1 published (Jouppi 2017; x: ops per weight byte)", zorder=4)
    for app, r in pub.iterrows():
        ax.annotate(f"{app} (pub.)", (2 * r["intensity"], r["achieved"]), fontsize=7, xytext=(4, 3),
                    textcoords="offset points")
    ax.set(xscale="log", yscale="log", xlabel="operations per DRAM byte (2 a MAC)", ylabel="achieved TOPS",
           title="TPU v1 (configs/arch/tpu_v1.yaml): roofline and operators, int8", xlim=(1, 10 ** 4.5),
           ylim=(0.03, 200))
    ax.legend(loc="lower right", fontsize=7)
    figure.tight_layout()
    # No Software or date metadata, so that a rerun writes the same bytes.
    figure.savefig(HERE / "roofline.png", dpi=100, metadata={"Software": None})

    described = (RUNS / "describe.txt").read_text().splitlines()
    facts = [line.strip() for line in described if line.strip().startswith(("int8", "DRAM"))]
    intro = (
        "TPU v1's roofline (configs/arch/tpu_v1.yaml) with operators on it, drawn as Jouppi et al. (ISCA 2017, "
        "\"In-Datacenter Performance Analysis of a Tensor Processing Unit\", Fig. 5) draw theirs, but with "
        "tessel's measure on the x axis: operations (2 a MAC) per DRAM byte read or written, where the paper "
        "counts MAC operations per weight byte. y: operations over the operator's simulated time. The roofs are "
        f"the file's as tessel reads them: {peak * 1e-12:.2f} TOPS and {bandwidth * 1e-9:g} GB/s, a ridge at "
        f"{ridge:,.0f} ops/byte (`tessel describe`: \"{facts[0]}\"; \"{facts[1]}\"). Points: the linears and the "
        "attention kernel of BERT-base's prefill (512 tokens) and of a Llama-2-7B decode step (batch 1 with "
        "1,024 cached tokens, batch 32 with 128, so that both fit the 8 GiB), each one execution (one "
        "layer's); and Jouppi's MLP0 and MLP1 as whole models. All runs int8, `--no-check`. `bound` is tessel's "
        "roofline floor for the operator, which for "
        "attention counts its vector work (the softmax's exponentials) too: a roof this plot does not draw. "
        "Plot: roofline.png; all figures: points.csv.")
    mlp_text = (
        "MLP0 (5 FC layers, 20M weights, batch 200) and MLP1 (4 FC layers, 5M weights, batch 168) are modelled as "
        "GEMMs of square layers: 4M weights a layer is 2000x2000 (mlp0.csv: M=200, N=K=2000, 20.0M weights), "
        "1.25M a layer is about 1120x1120 (mlp1.csv: M=168, N=K=1120, 5.02M weights). The paper gives only the "
        "layer count, the weights and the batch, so equal square layers are the simplest shapes with those "
        "totals. Each GEMM reads its input from and writes its output to DRAM, where TPU v1 keeps activations "
        "in the unified buffer, so tessel's bytes per MLP exceed the weights alone.")
    lines = textwrap.wrap(intro, width=110) + [""] + textwrap.wrap(mlp_text, width=110) + [
        "",
        "| workload | operator | shape | ops/DRAM byte | achieved TOPS | roof TOPS | of roof | bound |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in points.itertuples(index=False):
        lines.append(f"| {r.workload} | {r.op} | {r.shape} | {r.ops_per_dram_byte:,.1f} | {r.tops:#.3g} "
                     f"| {r.roof_tops:#.3g} | {100 * r.share_of_roof:.0f}% | {r.bound} |")
    lines += [
        "",
        "## MLP0 and MLP1 against the published figures",
        "",
        "Published values (published.csv, with sources): TOPS from Table 3 of Jouppi et al. (2017), the row",
        "\"TeraOps/sec (92 Peak)\"; intensity from Table 1 (\"TPU Ops / Weight Byte\", MAC operations per weight",
        "byte), doubled here to operations per weight byte to compare with tessel's operations per DRAM byte.",
        "",
        "| app | tessel TOPS | published TOPS | tessel / published | tessel ops/DRAM byte "
        "| published ops/weight byte |",
        "|---|---|---|---|---|---|",
    ]
    for r in mlps.itertuples(index=False):
        p = pub.loc[r.op]
        lines.append(f"| {r.op} | {r.tops:.2f} | {p['achieved']:g} | {r.tops / p['achieved']:.2f} "
                     f"| {r.ops_per_dram_byte:,.0f} | {2 * p['intensity']:g} |")
    (HERE / "table.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
