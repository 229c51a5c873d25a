"""Predicted against measured, the validation folders' scatter plot: one point per case on
log-log axes, coloured by group, with the line of agreement and a band of ±20% around it."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402

BAND = 0.2  # the shaded band: within 20% of the measurement


def scatter(frame, measured, predicted, group, unit, title, path):
    """Writes `path` (PNG): frame[predicted] against frame[measured], in `unit`, a colour per
    value of frame[group]; rows lacking either value are left out. The file carries no date, so
    it is the same bytes when the figures are."""
    rows = frame.dropna(subset=[measured, predicted])
    rows = rows[(rows[measured] > 0) & (rows[predicted] > 0)]
    fig, ax = plt.subplots(figsize=(6.4, 5.6), layout="constrained")
    for name, members in sorted(rows.groupby(group), key=lambda item: str(item[0])):
        ax.scatter(members[measured], members[predicted], s=18, alpha=0.8, label=f"{name} ({len(members)})")
    low = min(rows[measured].min(), rows[predicted].min()) / 1.5
    high = max(rows[measured].max(), rows[predicted].max()) * 1.5
    line = np.geomspace(low, high, 50)
    ax.plot(line, line, color="black", linewidth=0.8, label="prediction = measurement")
    ax.fill_between(line, line * (1 - BAND), line * (1 + BAND), color="grey", alpha=0.15, label="within ±20%")
    ax.set(xscale="log", yscale="log", xlim=(low, high), ylim=(low, high), title=title,
           xlabel=f"measured ({unit})", ylabel=f"tessel ({unit})")
    ax.legend(fontsize="small", loc="upper left")
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


if __name__ == "__main__":
    import sys

    import pandas

    if len(sys.argv) != 8:
        sys.exit("usage: scatter.py CASES.csv MEASURED_COLUMN PREDICTED_COLUMN GROUP_COLUMN UNIT TITLE OUT.png")
    cases_file, measured_column, predicted_column, group_column, unit_text, title_text, out = sys.argv[1:]
    scatter(pandas.read_csv(cases_file), measured_column, predicted_column, group_column, unit_text, title_text, out)
