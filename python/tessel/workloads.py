"""What to run: one GEMM, a SCALE-Sim topology, or a transformer phase."""

import os
from dataclasses import dataclass
from typing import Optional

import _tessel


def presets():
    """The model presets Model accepts by name."""
    return list(_tessel.presets())


@dataclass(frozen=True)
class Gemm:
    """C[m×n] = A[m×k]·B[k×n]."""

    m: int
    n: int
    k: int

    def options(self):
        return {"gemm": f"{self.m},{self.n},{self.k}"}


@dataclass(frozen=True)
class Topology:
    """A SCALE-Sim topology CSV (conv or GEMM layout)."""

    path: str

    def options(self):
        return {"topology": os.path.abspath(self.path)}


@dataclass(frozen=True)
class Model:
    """A transformer (a preset name or a Hugging Face config.json) in one phase:
    prefill (batch, seq), decode (batch, kv_len cached tokens) or generate (batch, input,
    output decode steps); attention "fused" or "unfused". Spread over a system's devices
    (or the node a GPU file's nvlink section describes): tp devices sharing each layer, pp
    pipeline stages (stage_layers, e.g. "20,20,20,20", or balanced), dp replicas each serving
    batch / dp sequences, ep replicas sharing a mixture-of-experts layer's experts (whose
    busiest expert gets expert_skew times the mean of the tokens), and microbatches through
    the pipeline (None: one a stage). quant is the precision recipe (--quant: presets joined by
    commas such as "w4a16-g128,kv-int8", or a recipe file)."""

    model: str
    phase: str = "prefill"
    batch: int = 1
    seq: Optional[int] = None
    kv_len: Optional[int] = None
    input: Optional[int] = None
    output: Optional[int] = None
    attention: str = "fused"
    tp: int = 1
    pp: int = 1
    dp: int = 1
    ep: int = 1
    expert_skew: float = 1.0
    microbatches: Optional[int] = None
    stage_layers: Optional[str] = None
    quant: Optional[str] = None

    def options(self):
        model = os.path.abspath(self.model) if os.path.exists(self.model) else self.model
        options = {"model": model, "phase": self.phase, "batch": self.batch, "attention": self.attention,
                   "tp": self.tp, "pp": self.pp, "dp": self.dp, "ep": self.ep, "expert_skew": self.expert_skew}
        for key in ("seq", "kv_len", "input", "output", "microbatches", "stage_layers", "quant"):
            value = getattr(self, key)
            if value is not None:
                options[key] = value
        return options
