"""tessel.sweep on a Dask cluster: the same table as a local sweep, even when a worker is killed
in the middle of it."""

import os
import signal
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
