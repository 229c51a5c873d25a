"""Many runs at once: one row of figures per case, optionally in worker processes or on a Dask
cluster (SystemC runs one simulation at a time per process, so parallel sweeps need processes,
not threads)."""

import multiprocessing

import pandas

from .run import run

SUMMARY_KEYS = ("total_cycles", "seconds", "ttft_s", "tpot_s", "tokens_per_s", "utilization", "dram_read_bytes",
                "dram_write_bytes", "energy_pj")
_RUN_OPTIONS = ("dtype", "dataflow", "objective", "check", "seed", "confirm", "mapping")


def _run_case(case):
    options = {key: case[key] for key in _RUN_OPTIONS if key in case}
    summary = run(case["arch"], case["workload"], **options).summary
    labels = {key: value for key, value in case.items() if key not in ("arch", "workload") + _RUN_OPTIONS}
    return {**labels, **{key: summary.get(key) for key in SUMMARY_KEYS}}


def sweep(cases, processes=1, client=None):
    """Runs each case, a dict with "arch" (an Arch or a path), "workload", optionally run()'s
    keyword arguments (dtype, check, ...), and any other keys as labels, and returns a
    DataFrame: the labels, then the summary's figures (SUMMARY_KEYS), numeric columns (floats
    with NaN where a run has no such figure). With processes > 1 the cases run in that many
    worker processes, in order. With a dask.distributed `client`, on its cluster's workers
    (each worker process runs one case at a time; a case whose worker dies runs again on
    another), the same table; files the cases name must be at the same paths on the workers.
    A failing case raises its TesselError here."""
    cases = list(cases)
    if client is not None:
        rows = client.gather(client.map(_run_case, cases, pure=False))
    elif processes <= 1:
        rows = [_run_case(case) for case in cases]
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            rows = pool.map(_run_case, cases, chunksize=1)
    frame = pandas.DataFrame(rows)
    for key in SUMMARY_KEYS:
        if key in frame:
            frame[key] = pandas.to_numeric(frame[key])
    return frame
