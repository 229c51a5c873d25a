"""Sweep scale on Dask: runs a sweep file through `tessel sweep --scheduler` on a LocalCluster of
two single-threaded worker processes, and prints the points per second and the peak resident
memory of the tessel sweep process, the process talking to the scheduler and the workers (with
the tessel processes they run), sampled every second (flat memory: the peaks do not grow with the points).
Usage: /usr/bin/python3 bench/dask_sweep.py [SWEEP_FILE] [OUT_DIR]
(default bench/sweeps/hundred_thousand.yaml: 100,000 points, several minutes on two cores)."""

import pathlib
import shutil
import subprocess
import sys
import time

import psutil
from distributed import LocalCluster

ROOT = pathlib.Path(__file__).resolve().parents[1]


def rss_mb(process):
    try:
        return process.memory_info().rss / 2**20
    except psutil.Error:
        return 0.0


def main():
    spec = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench/sweeps/hundred_thousand.yaml"
    out = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else pathlib.Path("/tmp/tessel_dask_sweep")
    shutil.rmtree(out, ignore_errors=True)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        workers = [worker.process.process.pid for worker in cluster.workers.values()]  # the nannies' workers
        workers = [psutil.Process(pid) for pid in workers]
        start = time.time()
        sweep = subprocess.Popen([str(ROOT / "build/tessel"), "sweep", "--quiet", "--spec", str(spec), "--scheduler",
                                  cluster.scheduler_address, "--out", str(out)])
        sweeping = psutil.Process(sweep.pid)
        peaks = {"tessel sweep": [], "scheduler client": [], "dask workers": []}
        while sweep.poll() is None:
            children = sweeping.children()
            peaks["tessel sweep"].append(rss_mb(sweeping))
            peaks["scheduler client"].append(sum(rss_mb(child) for child in children))
            peaks["dask workers"].append(sum(rss_mb(worker) + sum(rss_mb(child) for child in worker.children())
                                             for worker in workers))
            time.sleep(1.0)
        seconds = time.time() - start
    if sweep.returncode != 0:
        sys.exit(f"the sweep failed ({sweep.returncode})")
    points = sum(1 for _ in open(out / "sweep.csv")) - 1
    print(f"{points} points in {seconds:.1f} s: {points / seconds:.0f} points/s through 2 Dask workers")
    for name, samples in peaks.items():
        if samples:
            quarter = max(1, len(samples) // 4)
            print(f"  {name}: peak RSS {max(samples):.0f} MB (first quarter of the run {max(samples[:quarter]):.0f} MB,"
                  f" last quarter {max(samples[-quarter:]):.0f} MB)")


if __name__ == "__main__":
    main()
