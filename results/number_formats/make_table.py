"""Number formats: runs each workload in every format tessel takes (--dtype) on each architecture,
keeps the formats an architecture refuses as refusals, and writes formats.csv and table.md.
Usage: make_table.py ROOT SCRATCH (reproduce.sh runs it; SCRATCH is an empty folder for the runs)."""

import concurrent.futures
import json
import pathlib
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(sys.argv[1])
SCRATCH = pathlib.Path(sys.argv[2])
HERE = ROOT / "results" / "number_formats"
TESSEL = ROOT / "build" / "tessel"
ARCHS = ["tpu_v4_like", "a100_sxm", "h100_sxm", "u280_int8", "u280_fp16", "array_32x32"]
DTYPES = ["int8", "fp8", "fp16", "bf16", "fp32"]
# The GEMM runs with the numerics check on the whole product (its error figures are the point);
# the transformer steps are timing only.
GEMM = "512,768,768"
WORKLOADS = {
    "gemm": ["--gemm", GEMM, "--check"],
    "bert_prefill": ["--model", "bert-base", "--phase", "prefill", "--seq", "512", "--no-check"],
    "llama_decode": ["--model", "llama2-7b", "--phase", "decode", "--kv-len", "1024", "--no-check"],
}
KEYS = ["arch", "dtype", "workload", "seconds", "energy_pj", "utilization", "dram_bytes", "passed", "max_abs_error",
        "error_bound", "max_relative_error", "min_sqnr_db", "quantization_sqnr_db", "refused"]


def numerics_stats(stats):
    """From stats.json (per layer): the lowest quantization SQNR (the datapath against the fp64 product
    of the unrounded inputs) and the largest per-output error the check's criterion allowed."""
    found = {"quantization_sqnr_db": [], "error_bound": []}

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in found and isinstance(value, dict) and "value" in value:
                    found[key].append(value["value"])
                else:
                    walk(value)

    walk(stats)
    sqnr = [v for v in found["quantization_sqnr_db"] if v is not None]
    return {"quantization_sqnr_db": min(sqnr) if sqnr else None,
            "error_bound": max(found["error_bound"]) if found["error_bound"] else None}


def run(arch, dtype, workload):
    """One tessel run; a refused format comes back as tessel's message (paths relative to ROOT)."""
    out = SCRATCH / f"{arch}.{dtype}.{workload}"
    done = subprocess.run([str(TESSEL), "run", "--arch", str(ROOT / "configs" / "arch" / f"{arch}.yaml"),
                           "--dtype", dtype, *WORKLOADS[workload], "--quiet", "--out", str(out)],
                          capture_output=True, text=True)
    row = {"arch": arch, "dtype": dtype, "workload": workload}
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        # Only a refusal of the format is a result; any other failure stops the table.
        if done.returncode != 1 or not message.startswith("tessel: --dtype"):
            raise RuntimeError(f"{arch} {dtype} {workload}: exit {done.returncode}: {done.stderr}")
        return {**row, "refused": message.replace(str(ROOT) + "/", "")}
    s = json.loads((out / "summary.json").read_text())
    row.update(refused="", seconds=s["seconds"], energy_pj=s["energy_pj"], utilization=s["utilization"],
               dram_bytes=s["dram_read_bytes"] + s["dram_write_bytes"])
    if workload == "gemm":
        numerics = s["numerics"]
        row.update(passed=numerics["passed"], max_abs_error=numerics["max_abs_error"],
                   max_relative_error=numerics["max_relative_error"], min_sqnr_db=numerics["min_sqnr_db"],
                   **numerics_stats(json.loads((out / "stats.json").read_text())))
    return row


def text(value, spec=".6g"):
    """A CSV or table cell: empty for none, lower-case booleans, floats in a fixed format."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


def write_csv(rows):
    lines = [",".join(KEYS)]
    for r in rows:
        cells = [text(r.get(k)) for k in KEYS]
        cells[-1] = '"' + cells[-1].replace('"', "'") + '"' if cells[-1] else ""
        lines.append(",".join(cells))
    (HERE / "formats.csv").write_text("\n".join(lines) + "\n")


def main():
    cases = [(a, d, w) for a in ARCHS for d in DTYPES for w in WORKLOADS]
    # Two runs at a time (each tessel process uses one core); the rows keep the cases' order.
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        rows = list(pool.map(lambda c: run(*c), cases))
    write_csv(rows)
    by = {(r["arch"], r["dtype"], r["workload"]): r for r in rows}
    supported = []
    refused = []
    for arch in ARCHS:
        for dtype in DTYPES:
            answers = {bool(by[(arch, dtype, w)]["refused"]) for w in WORKLOADS}
            assert len(answers) == 1, f"{arch} {dtype}: refused by some workloads only"
            if answers == {True}:
                refused.append((arch, dtype, by[(arch, dtype, "gemm")]["refused"]))
            else:
                supported.append((arch, dtype))

    lines = [
        "Each architecture (configs/arch/*.yaml) runs the same three workloads in every number format",
        "`tessel run --dtype` takes (int8, fp8, fp16, bf16, fp32); a format the file does not list is refused and",
        "not run (listed at the end with tessel's message). Latency is a run's `seconds`, energy its `energy_pj`;",
        "the transformer steps (BERT-base prefill of 512 tokens, one Llama-2-7B decode step with 1,024 cached",
        "tokens, batch 1) run `--no-check`. All figures: formats.csv. Regenerate with",
        "`results/number_formats/reproduce.sh`.",
        "",
        "## Latency and energy",
        "",
        f"| arch | dtype | GEMM {GEMM} us | GEMM uJ | GEMM util | BERT-base prefill ms | mJ "
        "| Llama-2-7B decode ms | mJ |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for arch, dtype in supported:
        g, b, d = (by[(arch, dtype, w)] for w in WORKLOADS)
        lines.append(f"| {arch} | {dtype} | {g['seconds'] * 1e6:.2f} | {g['energy_pj'] * 1e-6:.1f} "
                     f"| {100 * g['utilization']:.1f}% | {b['seconds'] * 1e3:.3f} | {b['energy_pj'] * 1e-9:.2f} "
                     f"| {d['seconds'] * 1e3:.3f} | {d['energy_pj'] * 1e-9:.1f} |")
    lines += ["", "What the numbers show (the narrowest format each file has against its widest):", ""]
    for arch in ARCHS:
        formats = [d for a, d in supported if a == arch]
        if len(formats) < 2:
            continue
        narrow, wide = formats[0], formats[-1]
        ratios = []
        for w, label in (("bert_prefill", "BERT-base prefill"), ("llama_decode", "Llama-2-7B decode")):
            n, m = by[(arch, narrow, w)], by[(arch, wide, w)]
            ratios.append(f"{label} {m['seconds'] / n['seconds']:.2f}x faster and "
                          f"{m['energy_pj'] / n['energy_pj']:.2f}x less energy")
        lines += textwrap.wrap(f"- {arch}, {narrow} against {wide}: " + "; ".join(ratios) + ".", width=118,
                               subsequent_indent="  ")
    cost, gap = {}, {}
    for arch, dtype in supported:
        g = by[(arch, dtype, "gemm")]
        cost.setdefault(dtype, set()).add(round(g["quantization_sqnr_db"], 1))
        if g["min_sqnr_db"] is not None:  # (int8's sums are exact)
            gap.setdefault(dtype, []).append(g["min_sqnr_db"] - g["quantization_sqnr_db"])
    lines += textwrap.wrap(
        "- Rounding the GEMM's operands to the format costs (format SQNR): " + ", ".join(
            f"{d} {'/'.join(f'{v:.1f}' for v in sorted(cost[d]))} dB" for d in DTYPES if d in cost)
        + ". The sums' own rounding (SQNR column) lies " + ", ".join(
            ("/".join(sorted({f"{v:.1f}" for v in gap[d]}, key=float))) + f" dB ({d})" for d in DTYPES if d in gap)
        + " above it (the values over the files with the format).", width=118, subsequent_indent="  ")
    lines += [
        "",
        "## Numerics of the checked GEMM",
        "",
        f"The GEMM ({GEMM} as M,N,K, random operands of seed 1) runs with `--check`: every output of the datapath",
        "is compared with Eigen's fp64 product of the same values rounded to the format (summary.json's `numerics`:",
        "largest absolute error, normwise relative error, SQNR; `bound`: the largest per-output error Higham's",
        "dot-product bound allows, from stats.json), so those columns measure the accumulation's rounding alone.",
        "`format SQNR` (stats.json's `quantization_sqnr_db`) compares the datapath with the fp64 product of the",
        "unrounded operands: what rounding the inputs to the format costs. int8 is exact (an int32 sum): no SQNR.",
        "",
        "| arch | dtype | check | max abs error | bound | relative error | SQNR dB | format SQNR dB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for arch, dtype in supported:
        g = by[(arch, dtype, "gemm")]
        lines.append(f"| {arch} | {dtype} | {'pass' if g['passed'] else 'FAIL'} | {text(g['max_abs_error'], '.3g')} "
                     f"| {text(g['error_bound'], '.3g')} | {text(g['max_relative_error'], '.3g')} "
                     f"| {text(g['min_sqnr_db'], '.1f')} | {text(g['quantization_sqnr_db'], '.1f')} |")
    lines += ["", "## Formats refused (not run)", ""]
    lines += [f"- {arch} {dtype}: {message}" for arch, dtype, message in refused]
    (HERE / "table.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
