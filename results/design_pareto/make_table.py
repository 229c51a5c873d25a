"""Design-space Pareto front at fixed area: reads the sweep reproduce.sh ran (tpu_v1_area.yaml) and writes
points.csv (every point, with its area as `tessel describe` gives it), front.png and table.md.
Usage: make_table.py ROOT SWEEP_DIR (reproduce.sh runs it)."""

import pathlib
import re
import subprocess
import sys
import textwrap

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import pandas  # noqa: E402

ROOT = pathlib.Path(sys.argv[1])
SWEEP = pathlib.Path(sys.argv[2])
sys.path[:0] = [str(ROOT / "python"), str(ROOT / "build" / "python")]
import tessel  # noqa: E402

HERE = ROOT / "results" / "design_pareto"
OBJECTIVES = "seconds,energy_pj"
KEYS = {"array.rows": "rows", "array.cols": "cols", "buffers.0.capacity_kib": "unified_buffer_kib",
        "buffers.1.capacity_kib": "accumulators_kib", "dram.bandwidth_gb_s": "dram_gb_s"}


def area(point, error):
    """A run point's area from `tessel describe` of the architecture it ran (sweep.csv leaves a model run's
    area_mm2 empty); a skipped point's from the constraint's message."""
    if isinstance(error, str) and error.startswith("skipped"):
        return float(re.search(r"area_mm2 = ([0-9.]+)", error).group(1))
    described = subprocess.run([str(ROOT / "build" / "tessel"), "describe", "--arch",
                                str(SWEEP / "points" / str(point) / "arch.yaml")],
                               capture_output=True, text=True, check=True).stdout
    return float(re.search(r"^\s*area ([0-9.]+) mm2", described, re.M).group(1))


def static_power_w(arch):
    """The static power `tessel describe` gives for the architecture (its `power` block)."""
    described = subprocess.run([str(ROOT / "build" / "tessel"), "describe", "--arch", str(arch)],
                               capture_output=True, text=True, check=True).stdout
    return float(re.search(r"power: idle [0-9.]+ W, static ([0-9.]+) W", described).group(1))


def main():
    sweep = pandas.read_csv(SWEEP / "sweep.csv")
    front = pandas.read_csv(SWEEP / "pareto.csv")
    failed = sweep["error"].notna() & ~sweep["error"].fillna("").str.startswith("skipped")
    assert not failed.any(), sweep[failed]
    sweep["area_mm2"] = [area(p, e) for p, e in zip(sweep["point"], sweep["error"])]
    sweep["skipped"] = sweep["error"].fillna("").str.startswith("skipped")
    sweep["on_front"] = sweep["point"].isin(front["point"])
    # tessel.pareto on the table gives the same front as `tessel sweep --pareto` (a check, not a source).
    ran = sweep[~sweep["skipped"]]
    assert sorted(tessel.pareto(ran, OBJECTIVES)["point"]) == sorted(front["point"])

    points = sweep.rename(columns=KEYS)[["point", *KEYS.values(), "area_mm2", "skipped", "on_front", "total_cycles",
                                         "seconds", "utilization", "dram_read_bytes", "dram_write_bytes", "energy_pj"]]
    points.to_csv(HERE / "points.csv", index=False, float_format="%.6g", lineterminator="\n")

    # Drawn here rather than with tessel.plots.pareto, whose units and styling may change: the front is
    # tessel.pareto's (checked above against the sweep's), in time order, over every point run.
    figure, ax = plt.subplots(figsize=(7, 4.5))
    line = tessel.pareto(ran, OBJECTIVES).sort_values("seconds")
    ax.scatter(ran["seconds"], ran["energy_pj"], color="lightgrey", label="points", zorder=2)
    ax.plot(line["seconds"], line["energy_pj"], marker="o", color="tab:red", label="Pareto front", zorder=3)
    base = ran[(ran["array.rows"] == 256) & (ran["array.cols"] == 256) & (ran["buffers.0.capacity_kib"] == 24576)
               & (ran["buffers.1.capacity_kib"] == 4096) & (ran["dram.bandwidth_gb_s"] == 34)]
    if len(base):
        ax.scatter(base["seconds"], base["energy_pj"], marker="*", s=150, color="tab:blue", zorder=4,
                   label="TPU v1 as built")
    # Front points by number (the table gives their designs), staggered so that neighbours stay legible.
    for i, r in enumerate(sweep[sweep["on_front"]].sort_values("seconds").itertuples(index=False)):
        ax.annotate(str(r.point), (r.seconds, r.energy_pj), fontsize=7, xytext=(0, 6 + 9 * (i % 3)),
                    textcoords="offset points", ha="center")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v * 1e3:g}"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ticks = [t * 1e-3 for t in (1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 40, 50)]
    ax.set_xticks([t for t in ticks if ran["seconds"].min() * 0.9 <= t <= ran["seconds"].max() * 1.1])
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v * 1e-9:g}"))
    ax.set(xlabel="time (ms, log scale)", ylabel="energy (mJ)",
           title=f"BERT-base prefill (512 tokens), TPU v1-like designs <= 331 mm2\n"
                 f"{len(ran)} points run, Pareto front labelled by point")
    ax.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    # No Software or date metadata, so that a rerun writes the same bytes.
    figure.savefig(HERE / "front.png", dpi=100, metadata={"Software": None})

    built = points[(points["rows"] == 256) & (points["cols"] == 256) & (points["unified_buffer_kib"] == 24576)
                   & (points["accumulators_kib"] == 4096) & (points["dram_gb_s"] == 34)]
    fastest = points[points["on_front"]].sort_values("seconds").iloc[0]
    intro = (
        "A TPU v1-like chip redesigned within TPU v1's die area: `tessel sweep --spec tpu_v1_area.yaml --pareto "
        "seconds,energy_pj --jobs 2`, 200 points drawn at random (seed 1) from a grid of the array's rows and "
        "columns (128 to 384), the unified buffer (8, 16, 24 MiB), the accumulators (2, 4, 8 MiB) and the DRAM "
        "bandwidth (17 to 136 GB/s), on configs/arch/tpu_v1.yaml, each running BERT-base's prefill of 512 tokens "
        "(int8, timing only). Ports, weight FIFO and vector unit follow the array; areas scale at TPU v1's density, "
        "and the DRAM interface is assumed to take 0.15 mm2 per GB/s (an assumption: see the sweep file). The "
        f"constraint `area_mm2 <= 331.1` (TPU v1 as the file sums it, 331.03 mm2) skipped "
        f"{int(points['skipped'].sum())} of {len(points)} points; {len(ran)} ran. The front holds the points no "
        "other point beats in both time and energy (a point tied with one on the front is on it too); area is "
        "`tessel describe`'s. All points: points.csv; plot: front.png (the points grey, the front red, TPU v1 as "
        "built a star).")
    lines = textwrap.wrap(intro, width=110) + [
        "",
        "## Pareto front (fastest first)",
        "",
        "| point | rows x cols | unified buffer MiB | accumulators MiB | DRAM GB/s | area mm2 | ms | energy mJ "
        "| utilization |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in points[points["on_front"]].sort_values(["seconds", "energy_pj", "point"]).itertuples(index=False):
        lines.append(f"| {r.point} | {r.rows}x{r.cols} | {r.unified_buffer_kib / 1024:g} "
                     f"| {r.accumulators_kib / 1024:g} "
                     f"| {r.dram_gb_s:g} | {r.area_mm2:.1f} | {r.seconds * 1e3:.3f} | {r.energy_pj * 1e-9:.2f} "
                     f"| {100 * r.utilization:.1f}% |")
    notes = []
    if len(built):
        b = built.iloc[0]
        notes.append(f"TPU v1 as built (256x256, 24 MiB, 4 MiB, 34 GB/s; point {b['point']}, {b['area_mm2']:.1f} mm2): "
                     f"{b['seconds'] * 1e3:.3f} ms, {b['energy_pj'] * 1e-9:.2f} mJ; the fastest design on the front "
                     f"is {b['seconds'] / fastest['seconds']:.2f}x faster.")
    else:
        notes.append("TPU v1 as built (256x256, 24 MiB, 4 MiB, 34 GB/s) is not among the sampled points.")
    by_bw = ran.groupby("dram.bandwidth_gb_s")["seconds"].min()
    notes.append("Fastest run point at each DRAM bandwidth: "
                 + ", ".join(f"{bw:g} GB/s {s * 1e3:.3f} ms" for bw, s in by_bw.items())
                 + ": the step is memory-bound (each operator reads and writes its tensors in DRAM).")
    static_w = static_power_w(ROOT / "configs" / "arch" / "tpu_v1.yaml")
    static_share = static_w * ran["seconds"] / (ran["energy_pj"] * 1e-12)
    notes.append(f"Static power dominates: the file's {static_w:g} W (TPU v1's measured idle power) over a run is "
                 f"{100 * static_share.min():.0f} to {100 * static_share.max():.0f}% of a point's energy, so the "
                 f"fastest designs also spend the least and the front holds {int(points['on_front'].sum())} "
                 "point(s).")
    actions = ran["energy_pj"] - static_w * ran["seconds"] * 1e12
    dram = ran["dram_read_bytes"] + ran["dram_write_bytes"]
    least = dram == dram.min()
    note = (f"The rest, the actions' energy, is mostly DRAM energy: the {int(least.sum())} run points moving the "
            f"fewest DRAM bytes ({dram.min() / 1e6:.1f} MB) spend {actions[least].min() * 1e-9:.2f} to "
            f"{actions[least].max() * 1e-9:.2f} mJ on actions")
    more = ran[~least]
    if len(more):
        note += (f"; the other {len(more)} ({dram[~least].min() / 1e6:.1f} to {dram.max() / 1e6:.1f} MB; "
                 f"arrays of {', '.join(str(c) for c in sorted(more['array.cols'].unique()))} columns at "
                 f"{', '.join(f'{b:g}' for b in sorted(more['dram.bandwidth_gb_s'].unique()))} GB/s, where the "
                 f"latency-minimising mapper re-reads operands) {actions[~least].min() * 1e-9:.2f} to "
                 f"{actions[~least].max() * 1e-9:.2f} mJ")
    notes.append(note + ".")
    lines += [""]
    for n in notes:
        lines += textwrap.wrap("- " + n, width=118, subsequent_indent="  ")
    (HERE / "table.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
