"""Predicts the measured training iterations of measurements.csv with tessel and writes
cases.csv (every row: its prediction and error, or why it is not predicted) and table.md
(errors per source, beside Calculon's on the same cases).

A row runs as `tessel train` would: a GPT of the row's shape (a config.json written from its
hidden size, layers, heads, MLP width and vocabulary) on a DGX A100 SuperPOD of as many nodes
as the row's GPUs fill (configs/systems/a100_superpod_128x8.yaml with that many nodes), with
the row's tp, pp, dp, interleaving, micro-batch, global batch, sequence parallelism,
recomputation and ZeRO stage, fp16, unfused attention (Megatron of 2021-22 ran no
FlashAttention) and Megatron's default dropout. Throughputs in TFLOP/s a GPU are turned into iteration times with the
formula their paper counts them by (Narayanan et al., 2021, eq. 3, recomputation included).
Usage: predict.py (after the repository is built); tests import its functions.
"""

import csv
import json
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = ROOT / "results" / "training_validation"
sys.path[:0] = [str(ROOT / "python"), str(ROOT / "build" / "python")]
import tessel  # noqa: E402  (found through the paths above)

COLUMNS = ["id", "source", "gpus", "metric", "measured", "measured_iteration_s", "predicted_iteration_s",
           "error_percent", "calculon_iteration_s", "calculon_error_percent", "assumed", "not_predicted_because"]
# Megatron-LM's default attention and hidden dropout (arguments.py: --attention-dropout and
# --hidden-dropout 0.1), which these runs trained with.
MEGATRON_DROPOUT = 0.1
# Megatron's GPT vocabulary padded to a multiple of 128 × tp (Narayanan et al. use 51,200).
DEFAULT_VOCAB = 51200
# Per node of the Jean Zay partition BLOOM trained on: 8 A100 80 GB on NVLink, and 4 Omni-Path
# 100 Gb/s links (BigScience's training README), 6.25 GB/s a GPU each way.
JEAN_ZAY_GB_S_PER_GPU = 4 * 100 / 8 / 8


def settings_of(row):
    return dict(word.split("=", 1) for word in row["settings"].split() if "=" in word)


def source_of(row_id):
    for prefix, name in (("korthikanti", "Korthikanti et al. 2022, Table 5"),
                         ("megatron-sc21-t1", "Narayanan et al. 2021, Table 1"),
                         ("megatron-sc21-t2-ptdp", "Narayanan et al. 2021, Table 2 (PTD-P)"),
                         ("megatron-sc21-t2-zero3", "Narayanan et al. 2021, Table 2 (ZeRO-3)"),
                         ("mtnlg", "Smith et al. 2022 (MT-NLG)"), ("bloom", "BLOOM (BigScience)")):
        if row_id.startswith(prefix):
            return name
    return row_id.split("-")[0]


def megatron_flops(s):
    """Narayanan et al.'s eq. 3: an iteration's FLOPs with recomputation,
    96 B s l h² (1 + s/(6h) + V/(16 l h))."""
    b, seq, layers, h = (int(s[k]) for k in ("global_batch", "seq", "layers", "hidden"))
    vocab = int(s["vocab"]) if s["vocab"].isdigit() else DEFAULT_VOCAB
    return 96 * b * seq * layers * h * h * (1 + seq / (6 * h) + vocab / (16 * layers * h))


def measured_iteration(row, s):
    """The row's iteration time in seconds, or None."""
    if row["metric"] == "iteration_s":
        return float(row["value"])
    if row["metric"] == "tflops_per_gpu" and source_of(row["id"]).startswith("Narayanan"):
        return megatron_flops(s) / (float(row["value"]) * 1e12 * int(s["gpus"]))
    return None


def gpt_config(s, folder):
    """A GPT-2-style config.json of the row's shape."""
    vocab = int(s["vocab"]) if s["vocab"].isdigit() else DEFAULT_VOCAB
    config = {"model_type": "gpt2", "n_embd": int(s["hidden"]), "n_layer": int(s["layers"]),
              "n_head": int(s["heads"]), "n_inner": int(s["ffn"]), "vocab_size": vocab,
              "n_positions": int(s["seq"]), "activation_function": "gelu_new",
              "attn_pdrop": MEGATRON_DROPOUT, "resid_pdrop": MEGATRON_DROPOUT, "embd_pdrop": MEGATRON_DROPOUT}
    path = folder / f"{s['model']}.json"
    path.write_text(json.dumps(config))
    return path


def superpod(nodes, folder, per_gpu_gb_s=None):
    """configs/systems/a100_superpod_128x8.yaml with `nodes` nodes (and, for another network,
    its per-GPU bandwidth between nodes)."""
    text = (ROOT / "configs" / "systems" / "a100_superpod_128x8.yaml").read_text()
    text = text.replace("device: ../arch/a100_sxm.yaml", f"device: {ROOT / 'configs' / 'arch' / 'a100_sxm.yaml'}")
    text = text.replace("    size: 128                      # nodes", f"    size: {nodes}                      # nodes")
    if per_gpu_gb_s is not None:
        text = text.replace("    bandwidth_gb_s: 25             #", f"    bandwidth_gb_s: {per_gpu_gb_s}             #")
    path = folder / f"superpod_{nodes}_{per_gpu_gb_s}.yaml"
    path.write_text(text.replace("name: a100_superpod_128x8", f"name: a100_superpod_{nodes}x8"))
    return path


def train_arguments(row, s):
    """tessel.train's keyword arguments for the row, and what was assumed; or None and why not."""
    gpus = int(s["gpus"])
    if gpus % 8 != 0:
        return None, [], f"{gpus} GPUs do not fill nodes of 8"
    assumed = []

    def stated(key, default):
        if s.get(key, "unstated") == "unstated":
            assumed.append(f"{key}={default}")
            return default
        return s[key]

    recompute = stated("recompute", "full")
    micro_batch = int(stated("micro_batch", "1"))
    zero_text = stated("zero", "0")
    zero = 1 if zero_text == "distributed-optimizer" else int(zero_text)
    chunks = int(stated("vp", "1"))
    arguments = {"global_batch": int(s["global_batch"]), "micro_batch": micro_batch, "seq": int(s["seq"]),
                 "tp": int(s["tp"]), "pp": int(s["pp"]), "dp": int(s["dp"]), "sequence_parallel": s["sp"] == "1",
                 "recompute": recompute, "zero": zero, "dtype": "fp16", "attention": "unfused", "check": False}
    if chunks > 1:
        arguments.update(schedule="interleaved", chunks=chunks)
    return arguments, assumed, ""


def predict(row, folder):
    """The case of a row: its prediction, or why there is none."""
    s = settings_of(row)
    case = {"id": row["id"], "source": source_of(row["id"]), "gpus": s.get("gpus"), "metric": row["metric"],
            "measured": row["value"]}
    measured = measured_iteration(row, s)
    if measured is None:
        case["not_predicted_because"] = f"{row['metric']}: restates an iteration row, or counts FLOPs unstated"
        return case
    if "A100" not in row["hardware"]:
        case["not_predicted_because"] = "no architecture file of the hardware"
        return case
    if any(s.get(k, "unstated") == "unstated" for k in ("hidden", "layers", "heads", "ffn", "seq", "global_batch")):
        case["not_predicted_because"] = "the model's shape or the batch is not stated"
        return case
    arguments, assumed, why_not = train_arguments(row, s)
    if arguments is None:
        case["not_predicted_because"] = why_not
        return case
    bloom = row["id"].startswith("bloom")
    system = superpod(int(s["gpus"]) // 8, folder, JEAN_ZAY_GB_S_PER_GPU if bloom else None)
    try:
        result = tessel.train(tessel.System(str(system)), str(gpt_config(s, folder)), **arguments)
    except tessel.TesselError as error:
        case["not_predicted_because"] = f"tessel refuses the plan: {error}"
        return case
    case["measured_iteration_s"] = measured
    case["predicted_iteration_s"] = result.summary["iteration_s"]
    case["error_percent"] = 100 * (case["predicted_iteration_s"] - measured) / measured
    case["assumed"] = " ".join(assumed)
    return case


def calculon_predictions():
    with (HERE / "calculon_predictions.csv").open() as file:
        return {row["id"]: float(row["predicted_value"]) for row in csv.DictReader(file) if row["model"] == "Calculon"}


def measurements():
    with (HERE / "measurements.csv").open() as file:
        return list(csv.DictReader(file))


def main():
    calculon = calculon_predictions()
    cases = []
    with tempfile.TemporaryDirectory() as scratch:
        for row in measurements():
            case = predict(row, pathlib.Path(scratch))
            if row["id"] in calculon and "measured_iteration_s" in case:
                case["calculon_iteration_s"] = calculon[row["id"]]
                case["calculon_error_percent"] = 100 * (calculon[row["id"]] - case["measured_iteration_s"]) / \
                    case["measured_iteration_s"]
            cases.append(case)
    with (HERE / "cases.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, COLUMNS)
        writer.writeheader()
        for case in cases:
            writer.writerow({k: f"{v:.6g}" if isinstance(v, float) else v for k, v in case.items()})
    write_table(cases)


def mape(errors):
    return sum(abs(e) for e in errors) / len(errors)


def write_table(cases):
    predicted = [c for c in cases if "predicted_iteration_s" in c]
    lines = ["tessel's iteration times against measured training runs (measurements.csv; sources in",
             f"SOURCES.md): {len(predicted)} of {len(cases)} rows predicted, mean absolute percentage error and",
             "worst case by source; Calculon's errors on the same cases beside. Every row is in cases.csv.", "",
             "| source | cases | tessel MAPE | worst | Calculon MAPE (same cases) |", "|---|---|---|---|---|"]
    sources = sorted({c["source"] for c in predicted})
    for source in sources:
        rows = [c for c in predicted if c["source"] == source]
        errors = [c["error_percent"] for c in rows]
        calc = [c["calculon_error_percent"] for c in rows if "calculon_error_percent" in c]
        calc_text = f"{mape(calc):.1f}% ({len(calc)})" if calc else "-"
        lines.append(f"| {source} | {len(rows)} | {mape(errors):.1f}% | {max(abs(e) for e in errors):.1f}% | "
                     f"{calc_text} |")
    lines += ["", "| case | measured s | tessel s | error | Calculon s | assumed |", "|---|---|---|---|---|---|"]
    for c in predicted:
        calc = f"{c['calculon_iteration_s']:.2f}" if "calculon_iteration_s" in c else "-"
        lines.append(f"| {c['id']} | {c['measured_iteration_s']:.3g} | {c['predicted_iteration_s']:.3g} | "
                     f"{c['error_percent']:+.1f}% | {calc} | {c.get('assumed', '')} |")
    reasons = {}
    for c in cases:
        if "predicted_iteration_s" not in c:
            reasons[c["not_predicted_because"]] = reasons.get(c["not_predicted_because"], 0) + 1
    lines += ["", "Rows not predicted:", "", "| rows | because |", "|---|---|"]
    lines += [f"| {n} | {reason} |" for reason, n in sorted(reasons.items(), key=lambda item: -item[1])]
    (HERE / "table.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
