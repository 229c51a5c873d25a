"""Many runs at once: one row of figures per case or per point of a sweep file, optionally in
worker processes or on a Dask cluster (SystemC runs one simulation at a time per process, so
parallel sweeps need processes, not threads)."""

import multiprocessing
import os
import pathlib
import subprocess
import tempfile

import _tessel
import pandas

from .run import run

SUMMARY_KEYS = ("total_cycles", "seconds", "ttft_s", "tpot_s", "tokens_per_s", "utilization", "dram_read_bytes",
                "dram_write_bytes", "energy_pj")
_RUN_OPTIONS = ("dtype", "dataflow", "objective", "check", "seed", "confirm", "mapping")
# The tessel program built beside the module (build/tessel, the module in build/python).
_PROGRAM = pathlib.Path(_tessel.__file__).resolve().parent.parent / "tessel"


def _run_case(case):
    options = {key: case[key] for key in _RUN_OPTIONS if key in case}
    summary = run(case["arch"], case["workload"], **options).summary
    labels = {key: value for key, value in case.items() if key not in ("arch", "workload") + _RUN_OPTIONS}
    return {**labels, **{key: summary.get(key) for key in SUMMARY_KEYS}}


def _sweep_file(spec, processes, client, out):
    """`tessel sweep --spec` into `out` (a temporary directory when None), its sweep.csv read."""
    with tempfile.TemporaryDirectory() as scratch:
        directory = pathlib.Path(out) if out is not None else pathlib.Path(scratch) / "sweep"
        command = [str(_PROGRAM), "sweep", "--quiet", "--spec", os.fspath(spec), "--out", str(directory)]
        command += ["--scheduler", client.scheduler.address] if client is not None else ["--jobs", str(processes)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        table = directory / "sweep.csv"
        if not table.exists():
            raise _tessel.TesselError(done.stderr.strip() or f"tessel sweep exited with {done.returncode}")
        return pandas.read_csv(table, keep_default_na=False, na_values=[""]).fillna({"error": ""})


def sweep(spec_or_cases, processes=1, client=None, out=None):
    """Runs a sweep and returns a DataFrame of its figures, numeric columns as floats (NaN where
    a run has no such figure).

    Given a sweep file (a path), it is `tessel sweep --spec FILE`: sweep.csv's table (a failed
    point's `error` says why; TesselError when the file itself is refused), its points in
    `processes` local workers or on a dask.distributed `client`'s cluster (`--scheduler`), kept
    in `out` when given (a later call with the same `out` runs only the unfinished points).

    Given cases, each a dict with "arch" (an Arch or a path), "workload", optionally run()'s
    keyword arguments (dtype, check, ...), and any other keys as labels: the labels, then the
    summary's figures (SUMMARY_KEYS). With processes > 1 the cases run in that many worker
    processes, in order. With a `client`, on its cluster's workers (each worker process runs one
    case at a time; a case whose worker dies runs again on another), the same table. A failing
    case raises its TesselError here.

    Either way, files the sweep names must be at the same paths on a cluster's workers."""
    if isinstance(spec_or_cases, (str, os.PathLike)):
        return _sweep_file(spec_or_cases, processes, client, out)
    cases = list(spec_or_cases)
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
