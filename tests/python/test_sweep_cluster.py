"""tessel.sweep and `tessel sweep --scheduler` on a Dask cluster: the same table as a local sweep,
even when a worker is killed in the middle of it."""

import os
import pathlib
import signal
import subprocess
import threading
import time

import pandas
import pytest
from distributed import Client, LocalCluster

import tessel


def cases(root):
    # About 0.1 to 0.3 s each on this machine: the sweep takes over a second on two workers.
    arch = tessel.Arch.load(root / "configs/arch/array_8x8.yaml")
    return [{"arch": arch.with_changes(**{"array.rows": rows}), "workload": tessel.Gemm(1200, 1200, 1200),
             "rows": rows, "check": False} for rows in (2, 2, 3, 3, 4, 4, 5, 5, 6, 6)]


@pytest.fixture
def client():
    # Two worker processes of two threads each: the threads of a worker take turns at its simulator.
    with LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as connected:
            yield connected


def test_a_cluster_sweep_equals_the_local_one_even_when_a_worker_dies(root, client):
    local = tessel.sweep(cases(root))
    client.gather(client.map(tessel.sweep, [cases(root)[-1:]] * 2, pure=False))  # both workers have tessel loaded
    victim = next(iter(client.run(os.getpid).values()))
    result = {}
    sweeping = threading.Thread(target=lambda: result.update(frame=tessel.sweep(cases(root), client=client)))
    sweeping.start()
    time.sleep(0.3)
    assert sweeping.is_alive(), "the worker is killed in the middle of the sweep"
    os.kill(victim, signal.SIGKILL)
    sweeping.join(timeout=300)
    assert not sweeping.is_alive(), "the sweep finished after losing a worker"
    pandas.testing.assert_frame_equal(result["frame"], local)


def test_the_command_line_sweeps_on_a_scheduler_and_outlives_a_worker(root, tessel_program, tmp_path):
    # `tessel sweep --scheduler ADDRESS`: ten points, about 0.1 to 0.3 s each, in chunks of one
    # on two worker processes; one worker is killed mid-sweep and the table is the local one,
    # byte for byte, and so is every point's summary.
    spec = tmp_path / "sweep.yaml"
    spec.write_text(f"arch: {root / 'configs/arch/array_8x8.yaml'}\nvary:\n  array.rows: [2, 3, 4, 5, 6]\n"
                    "  dram.bandwidth_gb_s: [8, 16]\nrun:\n  gemm: 1200,1200,1200\n  no-check: true\n")
    local = subprocess.run([str(tessel_program), "sweep", "--quiet", "--spec", str(spec), "--out",
                            str(tmp_path / "local")], capture_output=True, text=True)
    assert local.returncode == 0, local.stderr
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            victim = next(iter(client.run(os.getpid).values()))
            sweeping = subprocess.Popen([str(tessel_program), "sweep", "--spec", str(spec), "--scheduler",
                                         cluster.scheduler_address, "--out", str(tmp_path / "cluster")],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(1.0)
            assert sweeping.poll() is None, "the worker is killed in the middle of the sweep"
            os.kill(victim, signal.SIGKILL)
            _, errors = sweeping.communicate(timeout=300)
    assert sweeping.returncode == 0, errors
    assert "10 of 10 points done" in errors
    assert (tmp_path / "cluster" / "sweep.csv").read_bytes() == (tmp_path / "local" / "sweep.csv").read_bytes()
    for point in range(10):
        summary = pathlib.Path("points", str(point), "summary.json")
        assert (tmp_path / "cluster" / summary).read_bytes() == (tmp_path / "local" / summary).read_bytes()
    assert not (tmp_path / "cluster" / ".cluster").exists(), "the cluster run's work files are removed"


def test_the_command_line_names_a_scheduler_it_cannot_reach(root, tessel_program, tmp_path):
    spec = tmp_path / "sweep.yaml"
    spec.write_text(f"arch: {root / 'configs/arch/array_8x8.yaml'}\nvary:\n  array.rows: [2, 3]\n"
                    "run:\n  gemm: 64,64,64\n  no-check: true\n")
    done = subprocess.run([str(tessel_program), "sweep", "--spec", str(spec), "--scheduler", "tcp://127.0.0.1:9",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "sweep --scheduler tcp://127.0.0.1:9: 0 of 2 points came back" in done.stderr, done.stderr


def test_a_sweep_file_from_python_is_the_command_lines_table(root, tessel_program, tmp_path, client):
    # tessel.sweep(path) is `tessel sweep --spec path`: locally or on the cluster, the table of
    # sweep.csv with its figures as numbers (NaN where a GEMM has no TTFT).
    spec = tmp_path / "sweep.yaml"
    spec.write_text(f"arch: {root / 'configs/arch/array_8x8.yaml'}\nvary:\n  array.rows: [2, 4, 0]\n"
                    "run:\n  gemm: 64,64,64\n  no-check: true\n")
    subprocess.run([str(tessel_program), "sweep", "--quiet", "--spec", str(spec), "--out", str(tmp_path / "cli")],
                   capture_output=True, text=True)
    expected = pandas.read_csv(tmp_path / "cli" / "sweep.csv", keep_default_na=False, na_values=[""])
    expected = expected.fillna({"error": ""})
    local = tessel.sweep(spec, processes=2)
    on_cluster = tessel.sweep(str(spec), client=client)
    pandas.testing.assert_frame_equal(local, expected)
    pandas.testing.assert_frame_equal(on_cluster, expected)
    assert local["seconds"].dtype == float and local["ttft_s"].isna().all()
    assert local["error"].iloc[2] != "" and local["error"].iloc[0] == "", "array.rows=0 fails and says why"
    with pytest.raises(tessel.TesselError, match="vary"):
        bad = tmp_path / "bad.yaml"
        bad.write_text(f"arch: {root / 'configs/arch/array_8x8.yaml'}\nvary: {{}}\nrun:\n  gemm: 8,8,8\n")
        tessel.sweep(bad)
