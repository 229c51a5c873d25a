"""tessel.plots keeps its rule: every plotting function returns a matplotlib Figure (the one
of the Axes it was given, else its own), every axis it shows names its unit, and no two texts
it draws overlap. The plots are of real runs."""

import re

import matplotlib
import matplotlib.category
import matplotlib.figure
import matplotlib.pyplot as plt
import matplotlib.text
import pytest

import tessel
from conftest import ROOT

matplotlib.use("Agg")

ARCHS = ROOT / "configs" / "arch"
# A unit in parentheses or brackets: "time (ms)", "throughput [tokens/s]".
UNIT = re.compile(r"\([^()]*[^()\s][^()]*\)|\[[^\[\]]*[^\[\]\s][^\[\]]*\]")


@pytest.fixture(scope="module")
def runs():
    """Real runs of each kind the plots take: a generate run (prefill and decode operators),
    a GPU decode run, a GEMM, a sweep's table and a served load."""
    generate = tessel.run(ARCHS / "tpu_v4_like.yaml", tessel.Model("gpt2", phase="generate", input=64, output=4),
                          check=False)
    decode = tessel.run(ARCHS / "a100_sxm.yaml", tessel.Model("tiny", phase="decode", kv_len=64), check=False)
    gemm = tessel.run(ARCHS / "array_8x8.yaml", tessel.Gemm(128, 192, 96), check=False)
    arch = tessel.Arch.load(ARCHS / "array_8x8.yaml")
    cases = [{"arch": arch.with_changes(**{"array.rows": rows, "array.cols": cols}), "workload": tessel.Gemm(64, 96, 128),
              "check": False, "rows": rows, "cols": cols} for rows in (2, 4, 8) for cols in (2, 4, 8)]
    table = tessel.sweep(cases)
    served = tessel.serve(ARCHS / "a100_sxm.yaml", "tiny", arrivals="poisson:20", requests_count=24,
                          prompt_len="uniform:16,128", output_len="uniform:4,32", seed=3)
    return {"generate": generate, "decode": decode, "gemm": gemm, "table": table, "served": served}


# Each plot: (id, how to draw it from the runs, its kind).
PLOTS = [
    ("roofline-generate", lambda r: tessel.plots.roofline(r["generate"]), "roofline"),
    ("roofline-decode", lambda r: tessel.plots.roofline(r["decode"]), "roofline"),
    ("roofline-gemm", lambda r: tessel.plots.roofline(r["gemm"]), "roofline"),
    ("breakdown-generate", lambda r: tessel.plots.breakdown(r["generate"]), "bars"),
    ("breakdown-decode", lambda r: tessel.plots.breakdown(r["decode"]), "bars"),
    ("traffic-generate", lambda r: tessel.plots.traffic(r["generate"]), "bars"),
    ("traffic-gemm", lambda r: tessel.plots.traffic(r["gemm"]), "bars"),
    ("pareto", lambda r: tessel.plots.pareto(r["table"], "seconds,energy_pj"), "pareto"),
    ("pareto-rate", lambda r: tessel.plots.pareto(r["table"].assign(tokens_per_s=1 / r["table"]["seconds"]),
                                                  "tokens_per_s,dram_read_bytes"), "pareto"),
    ("serving", lambda r: tessel.plots.serving(r["served"]), "serving"),
]
IDS = [plot[0] for plot in PLOTS]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def drawn_texts(fig, monkeypatch):
    """Draws the figure and returns every non-empty text drawn, with its extent in pixels."""
    drawn = []
    draw = matplotlib.text.Text.draw

    def recording(self, renderer):
        if self.get_visible() and self.get_text().strip():
            drawn.append(self)
        return draw(self, renderer)

    with monkeypatch.context() as patch:
        patch.setattr(matplotlib.text.Text, "draw", recording)
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    unique = list({id(text): text for text in drawn}.values())
    return [(text, text.get_window_extent(renderer)) for text in unique]


def shown_axes(fig):
    """Every axis of the figure that shows tick labels: those a reader must be told the unit
    of (a twin's hidden x axis, or the inner panel of a shared y axis, show none)."""
    fig.canvas.draw()
    for ax in fig.axes:
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if axis.get_visible() and any(label.get_visible() and label.get_text()
                                          for label in axis.get_ticklabels()):
                yield ax, name, axis


@pytest.mark.parametrize("plot", PLOTS, ids=IDS)
def test_every_plot_returns_a_new_figure(plot, runs):
    fig = plot[1](runs)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert fig.axes, "it drew on the figure it returned"
    assert fig.get_layout_engine() is not None, "a figure of its own lays itself out"


def test_given_axes_the_plots_return_their_figure(runs):
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    assert tessel.plots.roofline(runs["generate"], ax=axes[0, 0]) is fig
    assert tessel.plots.traffic(runs["decode"], ax=axes[0, 1]) is fig
    assert tessel.plots.pareto(runs["table"], "seconds,energy_pj", ax=axes[0, 2]) is fig
    assert tessel.plots.breakdown(runs["decode"], axes=axes[1, :2]) is fig
    assert all(ax.has_data() for ax in axes.ravel()[:5])
    other, panels = plt.subplots(1, 3)
    assert tessel.plots.serving(runs["served"], axes=panels) is other
    assert len(other.axes) == 4, "three panels and the KV cache's twin"


@pytest.mark.parametrize("plot", PLOTS, ids=IDS)
def test_every_axis_is_labelled_with_its_unit(plot, runs):
    fig = plot[1](runs)
    seen = 0
    for ax, name, axis in shown_axes(fig):
        seen += 1
        label = axis.get_label_text()
        assert label.strip(), f"{plot[0]}: an unlabelled {name} axis ({ax.get_title()!r})"
        categories = isinstance(axis.get_major_formatter(), matplotlib.category.StrCategoryFormatter)
        if categories:
            assert label == "operator", f"{plot[0]}: {name} axis of names labelled {label!r}"
        else:
            assert UNIT.search(label), f"{plot[0]}: the {name} axis label {label!r} names no unit"
    assert seen >= 2
    assert all(ax.get_title() for ax in fig.axes if ax.get_xaxis().get_visible()), "every panel has a title"


def test_the_units_are_the_quantities(runs):
    roof = tessel.plots.roofline(runs["generate"]).axes[0]
    assert roof.get_xlabel().endswith("(FLOP/byte)") and roof.get_ylabel().endswith("(TFLOP/s)")
    assert tessel.plots.roofline(runs["gemm"]).axes[0].get_ylabel().endswith("(GFLOP/s)"), "an 8x8 array's scale"
    time_ax, energy_ax = tessel.plots.breakdown(runs["generate"]).axes
    assert re.search(r"\((s|ms|µs|ns)\)$", time_ax.get_xlabel())
    assert re.search(r"\((J|mJ|µJ|nJ|pJ)\)$", energy_ax.get_xlabel())
    assert re.search(r"\((TB|GB|MB|kB|bytes)\)$", tessel.plots.traffic(runs["gemm"]).axes[0].get_xlabel())
    serving = tessel.plots.serving(runs["served"]).axes
    assert [ax.get_ylabel() for ax in serving] == ["requests at or below (%)"] * 2 + ["batch (sequences)",
                                                                                       "KV cache in use (%)"]
    # The bars carry the numbers they are drawn from, in the unit the axis names.
    ops = tessel.plots.operators(runs["generate"])
    scale = {"s": 1, "ms": 1e-3, "µs": 1e-6, "ns": 1e-9}[time_ax.get_xlabel().split("(")[1][:-1]]
    widths = [patch.get_width() for patch in time_ax.patches]
    assert widths == pytest.approx((ops["seconds"] / scale).tolist(), rel=1e-12)


@pytest.mark.parametrize("plot", PLOTS, ids=IDS)
def test_no_two_texts_overlap(plot, runs, monkeypatch):
    fig = plot[1](runs)
    texts = drawn_texts(fig, monkeypatch)
    assert len(texts) > 5
    for i, (first, a) in enumerate(texts):
        for second, b in texts[i + 1:]:
            overlap = min(a.x1, b.x1) - max(a.x0, b.x0), min(a.y1, b.y1) - max(a.y0, b.y0)
            assert min(overlap) <= 0, f"{plot[0]}: {first.get_text()!r} overlaps {second.get_text()!r}"


def test_the_roofline_names_its_slowest_operators_inside_the_axes(runs, monkeypatch):
    result = runs["generate"]
    fig = tessel.plots.roofline(result)
    ax = fig.axes[0]
    names = [text for text, _ in drawn_texts(fig, monkeypatch) if isinstance(text, matplotlib.text.Annotation)]
    assert len(names) >= 4, "most of the twelve slowest operators find room"
    frame = ax.get_window_extent()
    renderer = fig.canvas.get_renderer()
    for text in names:
        box = text.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    ops = tessel.plots.operators(result)
    slowest = ops.nlargest(1, "seconds")["name"].str.replace(r" \((prefill|decode)\)$", "", regex=True).iloc[0]
    assert slowest in {text.get_text() for text in names}, "the slowest operator is named"
    # The placement is a function of the figure: drawing again moves nothing, at any size.
    where = [text.xyann for text in names]
    fig.canvas.draw()
    assert [text.xyann for text in names] == where and not fig.stale
    fig.set_size_inches(5, 3.5)
    texts = drawn_texts(fig, monkeypatch)
    boxes = [box for _, box in texts]
    assert all(min(min(a.x1, b.x1) - max(a.x0, b.x0), min(a.y1, b.y1) - max(a.y0, b.y0)) <= 0
               for i, a in enumerate(boxes) for b in boxes[i + 1:])
    # Prefill and decode stay apart: a colour each, every computing operator a point.
    prefill, decode = ax.collections[:2]
    computing = ops[ops["flops"] > 0]
    assert len(prefill.get_offsets()) == computing["name"].str.endswith("(prefill)").sum()
    assert len(decode.get_offsets()) == computing["name"].str.endswith("(decode)").sum()
    assert [text.get_text() for text in ax.get_legend().get_texts()][1:] == ["prefill", "decode"]
