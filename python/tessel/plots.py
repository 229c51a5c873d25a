"""Plots of a Result with matplotlib: the roofline with the operators on it, where the time
and energy go, and the memory traffic per level; of a sweep's table, its Pareto front; and of a
ServeResult, its latencies and batch over time.

The rule, for every plotting function here (roofline, breakdown, traffic, pareto, serving):
it draws on the Axes it is given (`ax=` for the one-panel plots, `axes=`, a sequence, for
breakdown's two panels and serving's three) or, given none, on a new Figure of its own with
constrained layout, and returns that matplotlib Figure. Its panels are `fig.axes`, in the order
drawn (serving's fourth is the KV cache's twin axis). Every quantitative axis is labelled with
its unit in parentheses, scaled to the data (ms or µs, µJ or mJ, MB or GB, GFLOP/s or
TFLOP/s); an axis of operator names is labelled "operator". The roofline labels its slowest
operators at draw time (the layout is settled by then), each at the first free one of eight
spots around its point: no label overlaps another label, a point, the legend or the axes'
edge, and a label with no free spot is left out."""

import matplotlib.artist
import matplotlib.transforms
import matplotlib.pyplot as plt
import numpy as np
import pandas

from .pareto import objective_columns, pareto as pareto_front

# Axis labels of the summary figures a sweep's table carries; those in _SCALED take the
# prefixed unit their values reach (time (µs), energy (nJ)).
_LABELS = {"tokens_per_s": "throughput (tokens/s)", "total_cycles": "time (cycles)",
           "utilization": "utilization (fraction of peak)", "area_mm2": "area (mm²)", "macs": "work (MACs)"}
# The unit a column's name ends with ("prefill_ms"), for the columns _LABELS does not name.
_SUFFIXES = {"_s": "s", "_ms": "ms", "_us": "µs", "_pj": "pJ", "_nj": "nJ", "_uj": "µJ", "_mj": "mJ", "_j": "J",
             "_bytes": "bytes", "_kib": "KiB", "_mib": "MiB", "_gib": "GiB", "_mb": "MB", "_gb": "GB",
             "_cycles": "cycles", "_w": "W", "_mm2": "mm²", "_pct": "%", "_percent": "%"}
# Prefixed units by size, the largest first: the axis takes the largest its data reaches.
_TIME = ((1, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))
_ENERGY = ((1e12, "J"), (1e9, "mJ"), (1e6, "µJ"), (1e3, "nJ"), (1, "pJ"))  # of picojoules
_BYTES = ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB"), (1, "bytes"))
_RATE = ((1e15, "PFLOP/s"), (1e12, "TFLOP/s"), (1e9, "GFLOP/s"), (1e6, "MFLOP/s"), (1, "FLOP/s"))
_SCALED = {"seconds": ("time", _TIME), "ttft_s": ("time to first token", _TIME),
           "tpot_s": ("time per output token", _TIME), "energy_pj": ("energy", _ENERGY),
           "dram_read_bytes": ("DRAM read", _BYTES), "dram_write_bytes": ("DRAM written", _BYTES)}


def _unit(largest, units):
    """(scale, unit) of the largest unit `largest` reaches, else the smallest."""
    return next(((scale, unit) for scale, unit in units if largest >= scale), units[-1])


def _column(frame, column):
    """A column of a sweep's table as an axis draws it: the scale its values are divided by
    and the axis label, with the unit."""
    if column in _SCALED:
        stem, units = _SCALED[column]
        scale, unit = _unit(pandas.to_numeric(frame[column], errors="coerce").abs().max(), units)
        return scale, f"{stem} ({unit})"
    return 1, _column_label(column)


def _column_label(column):
    if column in _LABELS:
        return _LABELS[column]
    for suffix, unit in sorted(_SUFFIXES.items(), key=lambda item: -len(item[0])):
        if column.endswith(suffix) and len(column) > len(suffix):
            return f"{column[:-len(suffix)].replace('_', ' ')} ({unit})"
    return column


def _figure(ax, **subplots):
    """The Figure and Axes to draw on: the given Axes, else a new constrained-layout Figure."""
    if ax is not None:
        return ax.figure, ax
    return plt.subplots(layout="constrained", **subplots)


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


class _LabelPlacer(matplotlib.artist.Artist):
    """Places a roofline's operator labels each time the figure is drawn, after the layout has
    settled the Axes' size: label by label, in the order given (the slowest operator first),
    at the first of eight spots around its point (right, left, above, below, then the
    diagonals) that stays inside the Axes and overlaps no label already placed, no point and
    not the legend; a label with no such spot is hidden. Labels are only touched when their
    spot changes, so a redraw of an unchanged figure changes nothing."""

    zorder = 2.5  # drawn before the labels (Text's zorder is 3)

    def __init__(self, labels, anchors, points, marker_pt):
        super().__init__()
        self._labels, self._anchors, self._points, self._marker_pt = labels, anchors, points, marker_pt
        self.set_in_layout(False)

    def get_window_extent(self, renderer=None):
        return matplotlib.transforms.Bbox.null()

    def draw(self, renderer):
        ax = self.axes
        px = renderer.points_to_pixels(1.0)
        frame = ax.bbox
        radius = self._marker_pt / 2 * px
        gap = 2 * px
        points = ax.transData.transform(self._points)
        anchors = ax.transData.transform(self._anchors)
        taken = []  # (x0, y0, x1, y1) in pixels
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            box = legend.get_window_extent(renderer)
            taken.append((box.x0, box.y0, box.x1, box.y1))
        dots = [(x - radius, y - radius, x + radius, y + radius) for x, y in points]
        for label, (x, y) in zip(self._labels, anchors):
            width, height = self._size(label, renderer)
            spots = self._spots(width / 2, height / 2, radius + gap)
            place = None
            for dx, dy in spots:
                box = (x + dx - width / 2 - gap / 2, y + dy - height / 2 - gap / 2,
                       x + dx + width / 2 + gap / 2, y + dy + height / 2 + gap / 2)
                inside = frame.x0 <= box[0] and box[2] <= frame.x1 and frame.y0 <= box[1] and box[3] <= frame.y1
                if inside and not any(_overlap(box, other) for other in taken) \
                        and not any(_overlap(box, dot) for dot in dots):
                    place = (dx, dy, box)
                    break
            if place is None:
                if label.get_visible():
                    label.set_visible(False)
                continue
            taken.append(place[2])
            offset = (place[0] / px, place[1] / px)
            if not np.allclose(label.xyann, offset, rtol=0, atol=1e-6):
                label.xyann = offset
            if not label.get_visible():
                label.set_visible(True)

    @staticmethod
    def _size(label, renderer):
        """Width and height of a one-line label in pixels, as Text lays it out (at least the
        height of "lp"), whether or not it is shown."""
        prop = label.get_fontproperties()
        width, height, descent = renderer.get_text_width_height_descent(label.get_text(), prop, ismath=False)
        _, lp_height, lp_descent = renderer.get_text_width_height_descent("lp", prop, ismath=False)
        return width, max(height - descent, lp_height - lp_descent) + max(descent, lp_descent)

    @staticmethod
    def _spots(half_width, half_height, clearance):
        side, diagonal = clearance, clearance * 0.75
        return [(side + half_width, 0), (-side - half_width, 0), (0, side + half_height), (0, -side - half_height),
                (diagonal + half_width, diagonal + half_height), (-diagonal - half_width, diagonal + half_height),
                (diagonal + half_width, -diagonal - half_height), (-diagonal - half_width, -diagonal - half_height)]


def _overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def roofline(result, ax=None, labels=12):
    """Achieved FLOP/s against arithmetic intensity (FLOPs per DRAM byte) for each operator,
    under the architecture's roofs for the run's format; a generate run's prefill and decode
    operators in colours of their own. The `labels` slowest operators (all of them for None)
    are named where their names fit. Returns the Figure."""
    fig, ax = _figure(ax, figsize=(7, 4.5))
    figures = result.arch.figures()
    clock = figures["clock_hz"]
    peak = 2 * figures["peak_macs_per_cycle"][result.summary["dtype"]] * clock
    scale, unit = _unit(peak, _RATE)
    ops = operators(result)
    ops = ops[(ops["flops"] > 0) & (ops["seconds"] > 0)].reset_index(drop=True)
    intensity = (ops["flops"] / (ops["dram_read"] + ops["dram_write"]).clip(lower=1)).to_numpy()
    achieved = (ops["flops"] / ops["seconds"]).to_numpy() / scale
    bandwidth = None if figures["dram_bytes_per_cycle"] is None else figures["dram_bytes_per_cycle"] * clock
    ridge = peak / bandwidth if bandwidth else intensity.max()  # where the roof turns flat
    # At least a decade either side of the ridge, and of the roof below the points.
    low, high = max(min(intensity.min() / 4, ridge / 10), 1e-2), max(intensity.max() * 4, ridge * 10)
    x = np.logspace(np.log10(low), np.log10(high), 200)
    if bandwidth:
        bytes_scale, bytes_unit = _unit(bandwidth, _BYTES)
        ax.plot(x, np.minimum(peak, bandwidth * x) / scale, color="black",
                label=f"roof ({peak / scale:.3g} {unit}, DRAM {bandwidth / bytes_scale:.3g} {bytes_unit}/s)")
        ax.axvline(ridge, color="grey", linestyle=":", linewidth=0.8)
    else:
        ax.axhline(peak / scale, color="black", label=f"roof ({peak / scale:.3g} {unit})")
    # A generate run's prefill and decode operators apart, each phase in its own colour.
    decode = ops["name"].str.endswith(" (decode)").to_numpy()
    groups = [("prefill", ~decode), ("decode", decode)] if decode.any() else [("operators", np.ones(len(ops), bool))]
    marker_pt = 6.0
    colors = np.zeros((len(ops), 4))
    for label, rows in groups:
        points = ax.scatter(intensity[rows], achieved[rows], s=marker_pt ** 2, zorder=3, label=label)
        colors[rows] = points.get_facecolor()[0]
    colors[:, :3] *= 0.7  # the labels a shade darker than their points, to read
    ax.set(xscale="log", yscale="log", xlabel="arithmetic intensity, DRAM (FLOP/byte)",
           ylabel=f"achieved performance ({unit})", title=f"{result.summary['arch']}: roofline ({result.summary['dtype']})")
    ax.set_xlim(low, high)
    ax.set_ylim(min(achieved.min(), peak / scale / 100) / 3, peak / scale * 3)
    ax.legend(loc="upper left", fontsize="small")
    # The slowest operators' names, the phase left to the colour, placed when drawn.
    order = np.argsort(-ops["seconds"].to_numpy(), kind="stable")[:labels]
    names = ops["name"].str.replace(r" \((prefill|decode)\)$", "", regex=True)
    texts = [ax.annotate(names[i], (intensity[i], achieved[i]), xytext=(0, 0), textcoords="offset points",
                         ha="center", va="center", fontsize=7, color=colors[i], visible=False) for i in order]
    for text in texts:
        text.set_in_layout(False)
    ax.add_artist(_LabelPlacer(texts, np.column_stack([intensity[order], achieved[order]]),
                               np.column_stack([intensity, achieved]), marker_pt))
    return fig


def _bars(ax, names, values, color=None):
    """Horizontal bars, each of at least half a percent labelled with its share of the total,
    room left for the labels."""
    bars = ax.barh(names, values, color=color)
    total = values.sum()
    shares = [f"{100 * value / total:.1f}%" if total and value >= total / 200 else "" for value in values]
    ax.bar_label(bars, labels=shares, padding=2, fontsize=7)
    ax.set_xlim(0, (values.max() if len(values) else 1) * 1.2 or 1)
    return bars


def breakdown(result, axes=None):
    """Each operator's time and energy, side by side, each bar of at least half a percent
    labelled with its share of the run's total. Returns the Figure."""
    ops = operators(result)
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 0.25 * len(ops) + 1.5), sharey=True, layout="constrained")
    fig = axes[0].figure
    scale, unit = _unit(ops["seconds"].max(), _TIME)
    _bars(axes[0], ops["name"], ops["seconds"].to_numpy() / scale)
    axes[0].set(xlabel=f"time ({unit})", ylabel="operator", title="time per operator")
    scale, unit = _unit(ops["energy_pj"].max(), _ENERGY)
    _bars(axes[1], ops["name"], ops["energy_pj"].to_numpy() / scale, color="tab:orange")
    axes[1].set(xlabel=f"energy ({unit})", title="energy per operator")
    axes[0].invert_yaxis()  # the first operator on top
    if not axes[0].get_shared_y_axes().joined(axes[0], axes[1]):  # else inverted and named with the first
        axes[1].invert_yaxis()
        axes[1].set_ylabel("operator")
    for ax in axes[:2]:
        ax.tick_params(axis="y", labelsize=8)
    return fig


def traffic(result, ax=None):
    """Bytes each operator moves at each memory level: DRAM and on-chip SRAM, read and written.
    Returns the Figure."""
    ops = operators(result)
    fig, ax = _figure(ax, figsize=(10, 0.25 * len(ops) + 1.5))
    levels = (("dram_read", "DRAM read"), ("dram_write", "DRAM write"),
              ("sram_read", "SRAM read"), ("sram_write", "SRAM write"))
    scale, unit = _unit(ops[[column for column, _ in levels]].sum(axis=1).max(), _BYTES)
    left = np.zeros(len(ops))
    for column, label in levels:
        ax.barh(ops["name"], ops[column] / scale, left=left, label=label)
        left += ops[column].to_numpy() / scale
    ax.set(xlabel=f"memory traffic ({unit})", ylabel="operator", title="memory traffic per level")
    ax.set_xlim(left=0)
    ax.tick_params(axis="y", labelsize=8)
    ax.invert_yaxis()
    ax.legend(loc="lower right", fontsize="small")
    return fig


def pareto(frame, objectives, ax=None):
    """Every row of a sweep's table by the first two objectives, the Pareto front of all of them
    (tessel.pareto) marked and joined, best first. Returns the Figure."""
    fig, ax = _figure(ax, figsize=(6, 4.5))
    _, columns = objective_columns(objectives)
    x, y = columns[0], columns[1]
    front = pareto_front(frame, objectives)
    (x_scale, x_label), (y_scale, y_label) = _column(frame, x), _column(frame, y)
    ax.scatter(frame[x] / x_scale, frame[y] / y_scale, color="lightgrey", label="points", zorder=2)
    ax.plot(front[x] / x_scale, front[y] / y_scale, marker="o", color="tab:red", label="Pareto front", zorder=3)
    ax.set(xlabel=x_label, ylabel=y_label, title="Pareto front of " + ", ".join(columns))
    ax.legend(loc="best")
    return fig


def serving(served, axes=None):
    """A served run: each request's TTFT and TPOT as distributions (with their p50 and p99), and
    over time the running batch and the KV cache in use. Returns the Figure."""
    if axes is None:
        axes = plt.subplots(1, 3, figsize=(14, 3.8), layout="constrained")[1]
    fig = axes[0].figure
    requests, iterations = served.requests, served.iterations
    for column, label, color in (("ttft_s", "TTFT", "tab:blue"), ("tpot_s", "TPOT", "tab:orange")):
        values = np.sort(requests[column].to_numpy() * 1e3)
        share = 100 * np.arange(1, len(values) + 1) / len(values)
        ax = axes[0] if column == "ttft_s" else axes[1]
        ax.plot(values, share, color=color)
        for q, style in ((0.5, ":"), (0.99, "--")):
            at = np.quantile(values, q)
            ax.axvline(at, color="grey", linestyle=style, label=f"p{round(q * 100)}: {at:.3g} ms")
        ax.set(xlabel=f"{label} (ms)", ylabel="requests at or below (%)", ylim=(0, 100),
               title=f"{label} distribution")
        ax.legend(loc="lower right", fontsize="small")
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
    ax.set(xlabel="time (s)", ylabel="batch (sequences)", title="batch and KV cache over time")
    cache.set(ylabel="KV cache in use (%)", ylim=(0, 100))
    handles = ax.get_legend_handles_labels()[0] + cache.get_legend_handles_labels()[0]
    # Below the panel, off the lines (the layout makes room for it).
    ax.legend(handles, [h.get_label() for h in handles], loc="upper center", bbox_to_anchor=(0.5, -0.16),
              ncol=2, fontsize="small", frameon=False)
    return fig
