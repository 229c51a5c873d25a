"""Pareto fronts of a table of results (a sweep's DataFrame, sweep.csv read by pandas): the rows
no other row beats in every objective at once, as `tessel sweep --pareto` writes them."""

import _tessel
import pandas


def objective_columns(objectives):
    """The columns of objectives given as "seconds,energy_pj" or a list, with their :min/:max."""
    text = objectives if isinstance(objectives, str) else ",".join(objectives)
    return text, [item.split(":")[0] for item in text.split(",")]


def pareto(frame, objectives):
    """The rows of `frame` on the Pareto front of two or three objectives ("seconds,energy_pj"
    or ["seconds", "energy_pj"]; each minimized, tokens_per_s, utilization, mfu and hfu maximized, ":min"
    or ":max" to say), best first by the first objective. A row lacking one of them (NaN) is
    on no front. Raises TesselError for objectives `tessel sweep --pareto` refuses, KeyError
    for a column the frame lacks."""
    text, columns = objective_columns(objectives)
    missing = [column for column in columns if column not in frame]
    if missing:
        raise KeyError(f"no column {missing[0]!r} in the frame (columns: {', '.join(map(str, frame.columns))})")
    values = frame[columns].apply(pandas.to_numeric, errors="coerce").astype(float).values.tolist()
    front = _tessel.pareto_front(values, text)
    rows = frame.iloc[front["rows"]]
    return rows.sort_values(columns[0], ascending=not front["maximize"][0], kind="stable")
