"""Running a workload on an architecture or a system."""

import _tessel

from . import simulator
from .arch import Arch
from .result import Result
from .system import System


def run(hardware, workload, *, dtype=None, dataflow=None, objective="latency", check=None, seed=1, confirm=3,
        mapping=None, collective=None, trace=None, decode_stride=None, progress=False):
    """Runs `workload` (Gemm, Topology or Model) on `hardware` (an Arch, a System, or a path to
    either) as `tessel run` does with the same flags; check is True (--check), False
    (--no-check) or None (the default limits); collective pins the collectives' algorithm;
    trace, a path, gets the timeline in the Trace Event Format; decode_stride (a generate run's
    --decode-stride) how far apart in cache length its simulated decode steps are, those
    between interpolated (None: 64; 1 simulates every step). Raises TesselError with the
    command line's message."""
    if not isinstance(hardware, (Arch, System)):
        hardware = System.load(hardware) if System.describes(hardware) else Arch.load(hardware)
    options = {"dtype": dtype, "dataflow": dataflow, "objective": objective, "check": check, "seed": seed,
               "confirm": confirm, "mapping": mapping, "collective": collective,
               "trace": None if trace is None else str(trace), "decode_stride": decode_stride, "progress": progress}
    options["system" if isinstance(hardware, System) else "arch"] = hardware.path()
    options.update(workload.options())
    with simulator.lock:
        native = _tessel.run(options)
    if trace is not None:
        with open(trace, "w", encoding="utf-8") as file:
            file.write(native["trace"])
    return Result(native, hardware)
