"""Running a workload on an architecture."""

import _tessel

from .arch import Arch
from .result import Result


def run(arch, workload, *, dtype=None, dataflow=None, objective="latency", check=None, seed=1, confirm=3,
        mapping=None, progress=False):
    """Runs `workload` (Gemm, Topology or Model) on `arch` (an Arch or a file path) as
    `tessel run` does with the same flags; check is True (--check), False (--no-check) or
    None (the default limits). Raises TesselError with the command line's message."""
    if not isinstance(arch, Arch):
        arch = Arch.load(arch)
    options = {"arch": arch.path(), "dtype": dtype, "dataflow": dataflow, "objective": objective,
               "check": check, "seed": seed, "confirm": confirm, "mapping": mapping, "progress": progress}
    options.update(workload.options())
    return Result(_tessel.run(options), arch)
