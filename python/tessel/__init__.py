"""tessel from Python: architectures, workloads, runs and their results.

    import tessel
    arch = tessel.Arch.load("configs/arch/tpu_v4_like.yaml")
    result = tessel.run(arch, tessel.Model("llama2-7b", phase="decode", kv_len=2048))
    result.summary["seconds"], result.ops.head()
    step = tessel.train("configs/systems/dgx_a100.yaml", "llama2-7b", global_batch=32, tp=2, pp=2, dp=2, zero=1)
    step.summary["iteration_s"], step.summary["mfu"]
    served = tessel.serve(arch, "llama2-7b", arrivals="poisson:4", requests_count=200)
    served.summary["ttft_s"]["p99"], served.requests.head()

Every run is the one `tessel run` (or `tessel train`) makes with the same flags; errors raise
TesselError with the command line's message.
"""

from _tessel import TesselError

from .arch import Arch
from .pareto import pareto
from .result import Result
from .run import run
from .serve import ServeResult, serve
from .sweep import sweep
from .system import System
from .train import search_plans, train
from . import plots
from .workloads import Gemm, Model, Topology, presets

__all__ = ["Arch", "Gemm", "Model", "Result", "ServeResult", "System", "TesselError", "Topology", "pareto", "plots",
           "presets", "run", "search_plans", "serve", "sweep", "train"]
