"""Plots of a Result with matplotlib: the roofline with the operators on it, where the time
and energy go, and the memory traffic per level; of a sweep's table, its Pareto front; and of a
ServeResult, its latencies and batch over time. Each returns the Axes it drew on (an array of
them for breakdown and serving)."""

import matplotlib.pyplot as plt
import numpy as np

from .pareto import objective_columns, pareto as pareto_front

# Axis labels of the summary figures a sweep's table carries.
_LABELS = {"seconds": "time (s)", "ttft_s": "time to first token (s)", "tpot_s": "time per output token (s)",
           "tokens_per_s": "tokens/s", "energy_pj": "energy (pJ)", "total_cycles": "cycles",
           "utilization": "utilization", "area_mm2": "area (mm²)", "macs": "MACs",
           "dram_read_bytes": "DRAM read (bytes)", "dram_write_bytes": "DRAM written (bytes)"}


def operators(result):
    """One row per operator (summed over a model's layers and a phase's steps) or per GEMM
    layer: name, flops, DRAM and SRAM bytes, seconds and energy. A generate run's prefill and
    decode operators are rows of their own ("attn.qkv_proj (decode)"): their arithmetic
    intensities differ by orders of magnitude."""
    frame = result.layers
    clock = result.summary["clock_hz"]
    if "op" in frame.columns:
        repeats = frame["repeats"]
        both = frame["phase"].nunique() > 1
        table = frame.assign(
            name=frame["op"] + (" (" + frame["phase"] + ")" if both else ""), flops_total=frame["flops"] * repeats,
            dram_read=frame["dram_read_bytes"] * repeats, dram_write=frame["dram_write_bytes"] * repeats,
            sram_read=frame["sram_read_bytes"] * repeats, sram_write=frame["sram_write_bytes"] * repeats,
            seconds=frame["total_cycles"] / clock, energy=frame["total_energy_pj"])
    else:
        table = frame.assign(
            name=frame["layer"], flops_total=2 * frame["M"] * frame["N"] * frame["K"],
            dram_read=frame["dram_read_bytes"], dram_write=frame["dram_write_bytes"],
            sram_read=frame["sram_read_bytes"], sram_write=frame["sram_write_bytes"],
            seconds=frame["total_cycles"] / clock, energy=frame["energy_pj"])
    columns = ["flops_total", "dram_read", "dram_write", "sram_read", "sram_write", "seconds", "energy"]
    grouped = table.groupby("name", sort=False)[columns].sum().reset_index()
    return grouped.rename(columns={"flops_total": "flops", "energy": "energy_pj"})


def roofline(result, ax=None):
    """Achieved FLOP/s against arithmetic intensity (FLOPs per DRAM byte) for each operator,
    under the architecture's roofs for the run's format."""
    ax = ax or plt.subplots(figsize=(7, 4.5))[1]
    figures = result.arch.figures()
    clock = figures["clock_hz"]
    peak = 2 * figures["peak_macs_per_cycle"][result.summary["dtype"]] * clock
    ops = operators(result)
    ops = ops[(ops["flops"] > 0) & (ops["seconds"] > 0)]
    intensity = ops["flops"] / (ops["dram_read"] + ops["dram_write"]).clip(lower=1)
    achieved = ops["flops"] / ops["seconds"]
    bandwidth = None if figures["dram_bytes_per_cycle"] is None else figures["dram_bytes_per_cycle"] * clock
    ridge = peak / bandwidth if bandwidth else intensity.max()  # where the roof turns flat
    low, high = max(intensity.min() / 4, 1e-2), max(intensity.max(), ridge) * 4
    x = np.logspace(np.log10(low), np.log10(high), 200)
    if bandwidth:
        ax.plot(x, np.minimum(peak, bandwidth * x), color="black", label="roof")
        ax.axvline(ridge, color="grey", linestyle=":", linewidth=0.8)
    else:
        ax.axhline(peak, color="black", label="roof")
    # A generate run's prefill and decode operators apart, each phase in its own colour.
    decode = ops["name"].str.endswith(" (decode)").to_numpy()
    groups = [("prefill", ~decode), ("decode", decode)] if decode.any() else [(None, np.ones(len(ops), bool))]
    for label, rows in groups:
        ax.scatter(intensity[rows], achieved[rows], zorder=3, label=label)
    for name, xi, yi in zip(ops["name"], intensity, achieved):
        ax.annotate(name, (xi, yi), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set(xscale="log", yscale="log", xlabel="FLOPs per DRAM byte", ylabel="FLOP/s",
           title=f"{result.summary['arch']}: roofline ({result.summary['dtype']})")
    ax.legend(loc="lower right")
    return ax


def breakdown(result, axes=None):
    """Each operator's share of the time and of the energy, side by side."""
    if axes is None:
        axes = plt.subplots(1, 2, figsize=(10, 0.3 * len(operators(result)) + 1.5), sharey=True)[1]
    ops = operators(result)
    axes[0].barh(ops["name"], ops["seconds"] * 1e3)
    axes[0].set(xlabel="time (ms)", title="time")
    axes[1].barh(ops["name"], ops["energy_pj"] * 1e-6, color="tab:orange")
    axes[1].set(xlabel="energy (uJ)", title="energy")
    axes[0].invert_yaxis()
    return axes


def traffic(result, ax=None):
    """Bytes each operator moves at each memory level: DRAM and on-chip SRAM, read and written."""
    ops = operators(result)
    ax = ax or plt.subplots(figsize=(10, 0.3 * len(ops) + 1.5))[1]
    left = np.zeros(len(ops))
    for column, label in (("dram_read", "DRAM read"), ("dram_write", "DRAM write"),
                          ("sram_read", "SRAM read"), ("sram_write", "SRAM write")):
        ax.barh(ops["name"], ops[column] / 1e6, left=left, label=label)
        left += ops[column].to_numpy() / 1e6
    ax.set(xlabel="MB", title="memory traffic per level")
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    return ax


def pareto(frame, objectives, ax=None):
    """Every row of a sweep's table by the first two objectives, the Pareto front of all of them
    (tessel.pareto) marked and joined, best first."""
    ax = ax or plt.subplots(figsize=(6, 4.5))[1]
    _, columns = objective_columns(objectives)
    x, y = columns[0], columns[1]
    front = pareto_front(frame, objectives)
    ax.scatter(frame[x], frame[y], color="lightgrey", label="points", zorder=2)
    ax.plot(front[x], front[y], marker="o", color="tab:red", label="Pareto front", zorder=3)
    ax.set(xlabel=_LABELS.get(x, x), ylabel=_LABELS.get(y, y), title="Pareto front of " + ", ".join(columns))
    ax.legend(loc="best")
    return ax


def serving(served, axes=None):
    """A served run: each request's TTFT and TPOT as distributions (with their p50 and p99), and
    over time the running batch and the KV cache in use."""
    if axes is None:
        axes = plt.subplots(1, 3, figsize=(14, 3.8))[1]
    requests, iterations = served.requests, served.iterations
    for column, label, color in (("ttft_s", "TTFT", "tab:blue"), ("tpot_s", "TPOT", "tab:orange")):
        values = np.sort(requests[column].to_numpy() * 1e3)
        share = np.arange(1, len(values) + 1) / len(values)
        ax = axes[0] if column == "ttft_s" else axes[1]
        ax.plot(values, share, color=color)
        for q, style in ((0.5, ":"), (0.99, "--")):
            ax.axvline(np.quantile(values, q), color="grey", linestyle=style, label=f"p{round(q * 100)}")
        ax.set(xlabel=f"{label} (ms)", ylabel="share of requests", title=f"{label} distribution")
        ax.legend(loc="lower right")
    ax = axes[2]
    cache = ax.twinx()
    # Disaggregated runs draw the prompt devices' lines apart from the decoding devices'.
    colors = {"prefill": ("tab:green", "tab:pink")}
    for engine, frame in iterations.groupby("engine"):
        suffix = "" if engine == "whole" else f" ({engine})"
        batch_color, cache_color = colors.get(engine, ("tab:blue", "tab:red"))
        ax.plot(frame["start_s"], frame["sequences"], color=batch_color, lw=0.8, label="sequences" + suffix)
        cache.plot(frame["start_s"], 100 * frame["kv_share"], color=cache_color, lw=0.8,
                   label="KV cache in use" + suffix)
    ax.set(xlabel="time (s)", ylabel="sequences in the batch", title="batch and KV cache over time")
    cache.set(ylabel="KV cache in use (%)", ylim=(0, 100))
    handles = ax.get_legend_handles_labels()[0] + cache.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize="small")
    return axes
