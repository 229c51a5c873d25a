"""A model served under load on one device, as `tessel serve` runs it."""

import io
import json

import _tessel
import pandas

from . import simulator
from .arch import Arch
from .system import System


class ServeResult:
    """One serving run's reports.

    summary: dict, summary.json (latency distributions, throughput, goodput, energy, KV cache,
        the limit requests waited on).
    requests: DataFrame, requests.csv: a row per request (its arrival, lengths, queueing, TTFT,
        TPOT, end-to-end latency, preemptions); itself a request trace for `requests=`.
    iterations: DataFrame, iterations.csv: a row per iteration (its batch, the KV cache in use,
        who waited and on what).
    table: the text `tessel serve` prints.
    """

    def __init__(self, native, hardware):
        self.summary = json.loads(native["summary"])
        self.requests = pandas.read_csv(io.StringIO(native["requests_csv"]))
        self.iterations = pandas.read_csv(io.StringIO(native["iterations_csv"]))
        self.table = native["table"]
        self.hardware = hardware

    def __repr__(self):
        return self.table


def serve(hardware, model, *, placement=None, tp=1, replicas=1, prefill=None, prefill_tp=1, kv_link_gbps=None,
          kv_link_latency_us=0, offload_weights_gbps=None, offload_kv_gbps=None, host_memory_gib=None, attention=None,
          attention_ops=None, attention_link_gbps=None, attention_link_latency_us=0, attention_microbatches=1,
          draft_model=None, draft_tokens=4,
          acceptance=None,
          requests=None, arrivals=None, concurrency=None, prompt_len=None, output_len=None, requests_count=None,
          seed=None, scheduler="continuous", max_batch=256, token_budget=2048,
          chunked_prefill=True, block_size=16, kv_blocks=None, memory_fraction=0.9, shape_cells=16,
          slo_ttft_ms=None, slo_tpot_ms=None, dtype=None, quant=None, trace=None, progress=False, search=False):
    """Serve `model` (a preset name or a config.json path) on `hardware` (an Arch, a System, or a
    path to either; tp devices sharing every layer, `replicas` data-parallel copies of them, each request
    going to the copy with the fewest in flight) with the flags of `tessel serve`; hardware None and
    placement a placement file (`--placement`) instead place the devices as the file says. Disaggregated:
    prefill (an Arch, a System or a path; prefill_tp devices) runs the prompts, each prompt's KV
    cache crossing a link of kv_link_gbps GB/s (and kv_link_latency_us) to `hardware`.
    offload_weights_gbps streams the weights from host memory layer by layer; offload_kv_gbps the KV
    cache, kept in host_memory_gib of host memory. attention (an Arch or a path) pairs each decoding
    device with one of its kind that holds the KV cache and runs attention (or the ops attention_ops
    lists: op kinds or globs of op names), over a link of attention_link_gbps (and
    attention_link_latency_us), its iterations' sequences ping-ponging between each pair in
    attention_microbatches micro-batches. draft_model (with draft_tokens and acceptance)
    decodes speculatively. One of requests (a trace CSV path), arrivals ("poisson:RATE") or
    concurrency (closed-loop clients); generated requests draw prompt_len and output_len ("N",
    "uniform:LO,HI", "normal:MEAN,STD"; default 512 and 128) for requests_count requests (1000)
    with seed (1). quant is the model's precision recipe (--quant). trace, a path, gets the
    iterations and requests. Returns a ServeResult; with
    search=True (`--search`), the placements of the hardware's devices ranked, as a DataFrame with
    the columns of placements.csv.
    Raises TesselError with the command line's message."""
    if hardware is not None and not isinstance(hardware, (Arch, System)):
        hardware = System.load(hardware) if System.describes(hardware) else Arch.load(hardware)
    options = {"placement": None if placement is None else str(placement), "tp": tp, "replicas": replicas,
               "offload_weights_gbps": offload_weights_gbps,
               "offload_kv_gbps": offload_kv_gbps, "host_memory_gib": host_memory_gib, "draft_model": draft_model,
               "attention_link_gbps": attention_link_gbps,
               "attention_ops": None if attention_ops is None else ",".join(attention_ops),
               "attention_link_latency_us": attention_link_latency_us if attention is not None else None,
               "attention_microbatches": attention_microbatches if attention is not None else None,
               "draft_tokens": draft_tokens if draft_model is not None else None, "acceptance": acceptance,
               "model": model, "requests": None if requests is None else str(requests),
               "arrivals": arrivals, "concurrency": concurrency, "prompt_len": prompt_len,
               "output_len": output_len, "requests_count": requests_count, "seed": seed, "scheduler": scheduler,
               "max_batch": max_batch, "token_budget": token_budget, "chunked_prefill": chunked_prefill,
               "block_size": block_size, "kv_blocks": kv_blocks, "memory_fraction": memory_fraction,
               "shape_cells": shape_cells, "slo_ttft_ms": slo_ttft_ms, "slo_tpot_ms": slo_tpot_ms, "dtype": dtype,
               "quant": None if quant is None else str(quant),
               "trace": None if trace is None else str(trace), "progress": progress}
    if attention is not None:
        options["attention_arch"] = (attention if isinstance(attention, Arch) else Arch.load(attention)).path()
    if prefill is not None:
        if not isinstance(prefill, (Arch, System)):
            prefill = System.load(prefill) if System.describes(prefill) else Arch.load(prefill)
        options["prefill_system" if isinstance(prefill, System) else "prefill_arch"] = prefill.path()
        options.update(prefill_tp=prefill_tp, kv_link_gbps=kv_link_gbps, kv_link_latency_us=kv_link_latency_us)
    with simulator.lock:
        if hardware is not None:
            options["system" if isinstance(hardware, System) else "arch"] = hardware.path()
        if search:
            native = _tessel.search_serve_placements(options)
            return pandas.read_csv(io.StringIO(native["placements_csv"]))
        native = _tessel.serve(options)
    if trace is not None:
        with open(trace, "w", encoding="utf-8") as file:
            file.write(native["trace"])
    return ServeResult(native, hardware)
