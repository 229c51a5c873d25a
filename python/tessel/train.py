"""Training a model on a system (or one device), and searching for the plan to train it with."""

import io

import _tessel
import pandas

from . import simulator
from .arch import Arch
from .result import Result
from .system import System


def train(hardware, model, *, global_batch=8, micro_batch=1, seq=2048, tp=1, pp=1, dp=1, ep=1, expert_skew=1.0,
          sequence_parallel=False, schedule="1f1b", chunks=1, recompute="none", zero=0, dtype=None,
          attention="fused", lora_rank=0, teacher=None, stage_layers=None, collective=None, check=None, seed=1,
          confirm=3, trace=None, progress=False):
    """One training iteration of `model` (a preset name or a config.json path) on `hardware` (a
    System, an Arch, or a path to either), as `tessel train` runs it with the same flags; check
    is True (--check), False (--no-check) or None (the default limits); teacher, a preset or config.json,
    distils it into `model`; trace, a path, gets the
    timeline. Returns a Result whose summary holds iteration_s, tokens_per_s, mfu, hfu,
    phases_s and each stage's memory_bytes. Raises TesselError with the command line's message."""
    if not isinstance(hardware, (Arch, System)):
        hardware = System.load(hardware) if System.describes(hardware) else Arch.load(hardware)
    options = {"model": model, "global_batch": global_batch, "micro_batch": micro_batch, "seq": seq, "tp": tp,
               "pp": pp, "dp": dp, "ep": ep, "expert_skew": expert_skew, "sequence_parallel": sequence_parallel,
               "schedule": schedule, "chunks": chunks, "recompute": recompute, "zero": zero, "dtype": dtype,
               "attention": attention, "lora_rank": lora_rank, "teacher": teacher, "stage_layers": stage_layers,
               "collective": collective, "check": check, "seed": seed, "confirm": confirm,
               "trace": None if trace is None else str(trace), "progress": progress}
    options["system" if isinstance(hardware, System) else "arch"] = hardware.path()
    with simulator.lock:
        native = _tessel.train(options)
    if trace is not None:
        with open(trace, "w", encoding="utf-8") as file:
            file.write(native["trace"])
    return Result(native, hardware)


def search_plans(hardware, model, *, global_batch=8, seq=2048, ep=1, expert_skew=1.0, schedule="1f1b", chunks=1,
                 dtype=None, attention="fused", lora_rank=0, collective=None, full=5, jobs=None, progress=False):
    """`tessel train --search`: every plan of tp × pp × dp over the hardware's devices,
    micro-batch 1-8, recomputation, sequence parallelism and ZeRO 0-1 that runs `model` at
    `global_batch`, as a DataFrame with the columns of plans.csv, fastest first (those that
    do not fit last); the best `full` timed in full, the others from two shortened runs
    (`estimated`). jobs: worker processes (None: one a core)."""
    if not isinstance(hardware, (Arch, System)):
        hardware = System.load(hardware) if System.describes(hardware) else Arch.load(hardware)
    options = {"model": model, "global_batch": global_batch, "seq": seq, "ep": ep, "expert_skew": expert_skew,
               "schedule": schedule, "chunks": chunks, "dtype": dtype, "attention": attention,
               "lora_rank": lora_rank, "collective": collective, "search_full": full, "jobs": jobs,
               "progress": progress}
    options["system" if isinstance(hardware, System) else "arch"] = hardware.path()
    with simulator.lock:
        native = _tessel.search_plans(options)
    return pandas.read_csv(io.StringIO(native["plans_csv"]))
