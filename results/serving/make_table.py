"""Serving tables: Llama-2-7B under Poisson load on each device (latency percentiles and
throughput against the arrival rate), and the serving choices on the A100 at one load.
Usage: make_table.py ROOT (reproduce.sh runs it)."""

import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2])
sys.path[:0] = [str(ROOT / "python"), str(ROOT / "build" / "python")]
import tessel  # noqa: E402

HERE = ROOT / "results" / "serving"
MODEL = "llama2-7b"
# ShareGPT-like lengths: prompts and outputs of a few hundred tokens.
LOAD = {"prompt_len": "uniform:64,1024", "output_len": "uniform:16,512", "requests_count": 400, "seed": 1}
OBJECTIVES = {"slo_ttft_ms": 1000, "slo_tpot_ms": 100}
DEVICES = {"a100_sxm": [2, 4, 8, 12, 16], "h100_sxm": [4, 8, 16, 24, 32], "tpu_v4_like": [2, 4, 8, 12, 16]}


def arch(name):
    return str(ROOT / "configs" / "arch" / f"{name}.yaml")


def row(label, served):
    s = served.summary
    return {"run": label, "requests_per_s": s["throughput"]["requests_per_s"],
            "output_tokens_per_s": s["throughput"]["output_tokens_per_s"],
            "ttft_p50_ms": s["ttft_s"]["p50"] * 1e3, "ttft_p99_ms": s["ttft_s"]["p99"] * 1e3,
            "tpot_p50_ms": s["tpot_s"]["p50"] * 1e3, "tpot_p99_ms": s["tpot_s"]["p99"] * 1e3,
            "goodput_requests_per_s": s["goodput_requests_per_s"], "mean_batch": s["mean_batch"],
            "limit": s["limit"], "energy_per_output_token_j": s["energy_per_output_token_j"]}


def load_curves():
    rows = []
    for device, rates in DEVICES.items():
        for rate in rates:
            served = tessel.serve(arch(device), MODEL, arrivals=f"poisson:{rate}", **LOAD, **OBJECTIVES)
            rows.append({"device": device, "rate": rate, **row(f"{device} at {rate}/s", served)})
    return rows


def choices():
    a100, h100 = arch("a100_sxm"), arch("h100_sxm")
    common = {"arrivals": "poisson:8", **LOAD, **OBJECTIVES}
    runs = [
        ("A100, continuous batching", tessel.serve(a100, MODEL, **common)),
        ("A100, static batching (32)", tessel.serve(a100, MODEL, scheduler="static", max_batch=32, **common)),
        ("A100, prompts whole (no chunking)", tessel.serve(a100, MODEL, chunked_prefill=False, **common)),
        ("two A100s, data-parallel replicas", tessel.serve(a100, MODEL, replicas=2, **common)),
        ("A100 decoding, H100 prompts, 50 GB/s link",
         tessel.serve(a100, MODEL, prefill=h100, kv_link_gbps=50, kv_link_latency_us=10, **common)),
        ("A100, weights over PCIe 4.0 x16 (25 GB/s)", tessel.serve(a100, MODEL, offload_weights_gbps=25,
                                                                   **{**common, "arrivals": "poisson:0.5"})),
        ("A100, KV cache in 512 GiB of host memory over PCIe (25 GB/s)",
         tessel.serve(a100, MODEL, offload_kv_gbps=25, host_memory_gib=512, **common)),
        ("A100, attention and KV cache on a Xeon 8480+ socket over PCIe (25 GB/s)",
         tessel.serve(a100, MODEL, attention=arch("xeon_8480"), attention_link_gbps=25, attention_link_latency_us=5,
                      **common)),
        ("the same, its sequences in 2 micro-batches ping-ponging between A100 and Xeon",
         tessel.serve(a100, MODEL, attention=arch("xeon_8480"), attention_link_gbps=25, attention_link_latency_us=5,
                      attention_microbatches=2, **common)),
        ("A100, speculative (tiny draft, 4 drafts, acceptance 0.7)",
         tessel.serve(a100, MODEL, draft_model="tiny", draft_tokens=4, acceptance=0.7, **common)),
    ]
    return [row(label, served) for label, served in runs]


def write_csv(path, rows):
    keys = list(rows[0])
    lines = [",".join(keys)] + [",".join(f"{r[k]:.6g}" if isinstance(r[k], float) else str(r[k]) for k in keys)
                                for r in rows]
    path.write_text("\n".join(lines) + "\n")


def markdown(rows, keys):
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join(f"{r[k]:.3g}" if isinstance(r[k], float) else str(r[k]) for k in keys) + " |")
    return lines


def plot(curves):
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for device in DEVICES:
        points = [r for r in curves if r["device"] == device]
        throughput = [r["output_tokens_per_s"] for r in points]
        axes[0].plot(throughput, [r["ttft_p99_ms"] for r in points], marker="o", label=device)
        axes[1].plot(throughput, [r["tpot_p99_ms"] for r in points], marker="o", label=device)
    axes[0].set(xlabel="output tokens/s", ylabel="TTFT p99 (ms)", yscale="log")
    axes[1].set(xlabel="output tokens/s", ylabel="TPOT p99 (ms)")
    axes[0].legend()
    figure.suptitle(f"{MODEL} under Poisson load (lengths {LOAD['prompt_len']} in, {LOAD['output_len']} out)")
    figure.tight_layout()
    figure.savefig(HERE / "load_curves.png", dpi=100)


def main():
    curves = load_curves()
    write_csv(HERE / "load_curves.csv", curves)
    plot(curves)
    keys = ["run", "requests_per_s", "output_tokens_per_s", "ttft_p50_ms", "ttft_p99_ms", "tpot_p50_ms", "tpot_p99_ms",
            "goodput_requests_per_s", "mean_batch", "limit", "energy_per_output_token_j"]
    lines = [f"{MODEL} served with `tessel serve` ({LOAD['requests_count']} requests, prompts {LOAD['prompt_len']},",
             f"outputs {LOAD['output_len']} tokens, seed {LOAD['seed']}; goodput at TTFT <= "
             f"{OBJECTIVES['slo_ttft_ms']} ms and TPOT <= {OBJECTIVES['slo_tpot_ms']} ms; energy: the actions', and on",
             "the GPUs and the TPU static power while busy and idle power between iterations).",
             "Regenerate with `results/serving/reproduce.sh`.", "", "## Under Poisson load", ""]
    lines += markdown(curves, keys)
    lines += ["", "## Serving choices on the A100 at 8 requests a second (offload at 0.5)", ""]
    lines += markdown(choices(), keys)
    (HERE / "table.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
