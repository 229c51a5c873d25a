"""What `tessel sweep --scheduler ADDRESS` runs: sends the sweep's points to a dask.distributed
cluster in chunks, each chunk one `tessel sweep --emit-points` process on a worker (a chunk
whose worker dies runs again on another), and prints each finished point's JSON line for the
tessel process that started it, as chunks finish.

Usage: python3 -m tessel.cluster_sweep ADDRESS TESSEL_PROGRAM SWEEP_FILE POINTS_FILE
(the program and the sweep file at the same paths on the workers)."""

import math
import subprocess
import sys

import distributed

# Chunks per worker: enough that workers finishing early take more, few enough that each
# tessel process runs several points on the devices it keeps.
_CHUNKS_PER_WORKER = 8
_LARGEST_CHUNK = 256


def run_chunk(program, sweep_file, points):
    """On a worker: the chunk's points as JSON lines (one tessel process)."""
    done = subprocess.run([program, "sweep", "--spec", sweep_file, "--emit-points", ",".join(map(str, points))],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"tessel sweep --emit-points exited with {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def main(argv):
    address, program, sweep_file, points_file = argv[1:5]
    with open(points_file) as listed:
        points = [int(line) for line in listed if line.strip()]
    with distributed.Client(address, timeout="30s") as client:
        workers = max(1, len(client.scheduler_info()["workers"]))
        size = max(1, min(_LARGEST_CHUNK, math.ceil(len(points) / (workers * _CHUNKS_PER_WORKER))))
        chunks = [points[i:i + size] for i in range(0, len(points), size)]
        futures = client.map(run_chunk, [program] * len(chunks), [sweep_file] * len(chunks), chunks, pure=False)
        for future in distributed.as_completed(futures):
            sys.stdout.write(future.result())
            sys.stdout.flush()
            future.release()


if __name__ == "__main__":
    main(sys.argv)
