"""Predicts the multi-device measurements of measurements.csv with tessel and writes cases.csv
(every row: its prediction and error, or why it is not predicted) and table.md (mean absolute
percentage error per source and metric).

Model rows run as `tessel run --system` would: the row's model, tp, batch, prompt and output
lengths and format on an 8-GPU node (configs/systems/dgx_a100.yaml or dgx_h100.yaml). Rows of
requests served with in-flight batching run as `tessel serve --system` would: N requests in flight
as N closed-loop clients, "max load" as every request sent at once, with TensorRT-LLM's default
limits (8,192 tokens an iteration, 2,048 sequences). NCCL
rows run through `tessel validate --system configs/systems/dgx_h100.yaml`, converted to its
row format. Usage: predict.py (after the repository is built); tests import its functions.
"""

import csv
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = ROOT / "results" / "system_validation"
sys.path[:0] = [str(ROOT / "python"), str(ROOT / "build" / "python")]
import tessel  # noqa: E402  (found through the paths above)

NODES = {"A100": "configs/systems/dgx_a100.yaml", "H100": "configs/systems/dgx_h100.yaml"}
# TensorRT-LLM's default max_num_tokens and max_batch_size, for the rows its runtime served.
SERVING_LIMITS = {"token_budget": 8192, "max_batch": 2048}
# Requests a "max load" row sends at once, and each client of a closed loop in turn: enough
# for the batch to settle beyond its ramp.
MAX_LOAD_REQUESTS = 1000
REQUESTS_PER_CLIENT = 8
# Rows' model names that are presets of the same shapes (Llama 3.1 and 3.3 70B keep Llama 3
# 70B's).
ALIASES = {"llama3.1-70b": "llama3-70b", "llama3.3-70b": "llama3-70b"}
COLUMNS = ["id", "source", "hardware", "metric", "unit", "measured", "predicted", "error_percent", "predicted_as",
           "not_predicted_because"]


def settings_of(row):
    """The row's `key=value` settings."""
    return dict(word.split("=", 1) for word in row["settings"].split() if "=" in word)


def source_of(row, settings):
    """The source's short name: the framework that ran the rows."""
    framework = settings.get("framework", "")
    if framework.startswith("vllm(splitwise"):
        return "Splitwise profiles (vLLM)"
    if framework == "pytorch-nccl":
        return "Vidur profiles (NCCL)"
    return framework


def gpu_of(row):
    """The GPU the row was measured on, when tessel has a node of it."""
    return next((gpu for gpu in NODES if gpu in row["hardware"]), None)


def as_int(text):
    return int(text) if text is not None and text.isdigit() else None


def model_case(row, settings):
    """The tessel run of a model row, or the reason there is none."""
    preset = ALIASES.get(settings.get("model"), settings.get("model"))
    if preset not in tessel.presets():
        return None, f"no preset of {settings.get('model')}"
    gpu = gpu_of(row)
    if gpu is None:
        return None, f"no architecture file of the hardware ({row['hardware']})"
    # One request in flight in a closed loop is a batch of one throughout.
    batch = 1 if settings.get("batch") == "concurrency:1" else as_int(settings.get("batch"))
    prompt, output = as_int(settings.get("input")), as_int(settings.get("output"))
    if prompt is None or output is None:
        return None, f"lengths vary over the {settings.get('dataset', 'dataset')}'s requests"
    tp, pp, dp = (as_int(settings.get(key, "1")) for key in ("tp", "pp", "dp"))
    if batch is None:
        clients = serving_clients(settings.get("batch", ""))
        if clients is None or pp != 1 or dp != 1:
            return None, f"batch {settings.get('batch')}: served with pp or dp, or an unstated load"
        requests = MAX_LOAD_REQUESTS if settings["batch"].startswith("max") else REQUESTS_PER_CLIENT * clients
        return (NODES[gpu], ServedLoad(preset, tp, prompt, output, clients, requests), settings["dtype"]), ""
    workload = tessel.Model(preset, phase="generate", batch=batch, input=prompt, output=output, tp=tp, pp=pp, dp=dp)
    return (NODES[gpu], workload, settings["dtype"]), ""


class ServedLoad:
    """A row's requests as `tessel serve` takes them: closed-loop clients of fixed lengths."""

    def __init__(self, model, tp, prompt, output, clients, requests):
        self.model, self.tp, self.prompt, self.output = model, tp, prompt, output
        self.clients, self.requests = clients, requests


def serving_clients(batch):
    """Requests in flight: N for "concurrency:N", every request for "max(inflight)"; None otherwise."""
    if batch.startswith("concurrency:") and batch.split(":", 1)[1].isdigit():
        return int(batch.split(":", 1)[1])
    return MAX_LOAD_REQUESTS if batch == "max(inflight)" else None


def serving_prediction(row, node, load, dtype):
    """The row's metric as `tessel serve` predicts it, and what ran."""
    served = tessel.serve(tessel.System(str(ROOT / node)), load.model, tp=load.tp, dtype=dtype,
                          concurrency=load.clients, requests_count=load.requests, prompt_len=str(load.prompt),
                          output_len=str(load.output), **SERVING_LIMITS)
    summary = served.summary
    metric = row["metric"]
    if metric == "ttft_ms":
        value = summary["ttft_s"]["mean"] * 1e3
    elif metric == "tpot_ms":
        value = summary["tpot_s"]["mean"] * 1e3
    else:
        value = summary["throughput"]["output_tokens_per_s"] / (load.tp if "PER GPU" in row["notes"] else 1)
    ran = (f"serve {load.model} {dtype} tp{load.tp}, {load.clients} clients, {load.requests} requests of "
           f"{load.prompt} in, {load.output} out on {pathlib.Path(node).stem}")
    return value, ran


def model_prediction(row, case):
    """The row's metric as tessel predicts it, and what ran."""
    node, workload, dtype = case
    if isinstance(workload, ServedLoad):
        return serving_prediction(row, node, workload, dtype)
    summary = tessel.run(tessel.System(str(ROOT / node)), workload, dtype=dtype, check=False).summary
    metric = row["metric"]
    if metric == "ttft_ms":
        value = summary["ttft_s"] * 1e3
    elif metric == "tpot_ms":
        value = summary["tpot_s"] * 1e3
    elif metric == "e2e_ms":
        value = summary["seconds"] * 1e3
    else:  # tokens_per_s, for the system or (TensorRT-LLM's tables) for each GPU
        value = summary["tokens_per_s"] / (workload.tp if "PER GPU" in row["notes"] else 1)
    ran = (f"{workload.model} {dtype} tp{workload.tp} batch {workload.batch}, {workload.input} in, {workload.output} out"
           f" on {pathlib.Path(node).stem}")
    return value, ran


def all_reduce_row(row, settings):
    """The row in `tessel validate`'s format (an all-reduce's time in ms of message_size
    elements), how to turn a predicted time back into the row's metric, or why there is none."""
    if settings.get("nodes") != "1":
        return None, None, "GPUDirect-TCPXO Ethernet between Google Cloud A3 Mega VMs: no system file of that network"
    ranks = int(settings["ranks"])
    size = settings["bytes"].split("..")[-1]  # nccl-tests' plateau: the largest size of the range
    element, dtype = {"fp16": (2, "half"), "fp32": (4, "float")}[settings["dtype"]]
    wanted = {"algorithm=" + {"RING": "ring", "NVLS": "in-switch"}[settings["algo"]]} if "algo" in settings else set()
    converted = {"id": row["id"], "category": "collective", "hardware": f"{ranks}x H100-SXM5-80GB",
                 "workload": "NCCL all_reduce", "settings": " ".join([f"dtype={dtype} message_size={int(size) // element}",
                                                                      *wanted]),
                 "metric": "latency", "unit": "ms", "kind": "measured", "source": row["source"], "notes": ""}
    if row["metric"] == "latency_us":
        converted["value"] = float(row["value"]) / 1e3
        return converted, lambda ms: ms * 1e3, ""
    # nccl-tests' bus bandwidth: each rank's bytes x 2(n-1)/n over the time.
    bus_bytes = int(size) * 2 * (ranks - 1) / ranks
    converted["value"] = bus_bytes / (float(row["value"]) * 1e9) * 1e3
    return converted, lambda ms: bus_bytes / (ms / 1e3) / 1e9, ""


def predict_all_reduces(rows):
    """{id: (predicted metric, what ran)} for the all-reduce rows, through `tessel validate`."""
    with tempfile.TemporaryDirectory() as scratch:
        measurements = pathlib.Path(scratch) / "rows.csv"
        with measurements.open("w", newline="") as file:
            writer = csv.DictWriter(file, ["id", "category", "hardware", "workload", "settings", "metric", "value",
                                           "unit", "kind", "source", "notes"])
            writer.writeheader()
            writer.writerows(converted for converted, _ in rows.values())
        subprocess.run([str(ROOT / "build" / "tessel"), "validate", "--system", str(ROOT / NODES["H100"]),
                        "--measurements", str(measurements), "--out", scratch, "--quiet"], check=True,
                       stdout=subprocess.DEVNULL)
        with (pathlib.Path(scratch) / "validation.csv").open() as file:
            validated = {case["id"]: case for case in csv.DictReader(file)}
    return {row_id: (back(float(validated[row_id]["predicted_ms"])), f"all-reduce, {converted['settings']}, on dgx_h100")
            for row_id, (converted, back) in rows.items() if row_id in validated}


def measurements():
    with (HERE / "measurements.csv").open() as file:
        return list(csv.DictReader(file))


def main():
    rows = measurements()
    cases, all_reduces = [], {}
    for row in rows:
        settings = settings_of(row)
        case = {"id": row["id"], "source": source_of(row, settings), "hardware": row["hardware"],
                "metric": row["metric"], "unit": row["unit"], "measured": float(row["value"])}
        cases.append(case)
        if settings.get("op") == "all_reduce":
            converted, back, reason = all_reduce_row(row, settings)
            if converted:
                all_reduces[row["id"]] = (converted, back)
        else:
            run, reason = model_case(row, settings)
            if run:
                try:
                    case["predicted"], case["predicted_as"] = model_prediction(row, run)
                except RuntimeError as error:
                    reason = f"tessel refuses the run: {error}"
        case["not_predicted_because"] = reason
    predicted = predict_all_reduces(all_reduces)
    for case in cases:
        if case["id"] in predicted:
            case["predicted"], case["predicted_as"] = predicted[case["id"]]
        if "predicted" in case:
            case["error_percent"] = 100 * (case["predicted"] - case["measured"]) / case["measured"]
    write_cases(cases)
    write_table(cases, len(rows))


def write_cases(cases):
    with (HERE / "cases.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, COLUMNS)
        writer.writeheader()
        for case in cases:
            writer.writerow({key: f"{value:.6g}" if isinstance(value, float) else value for key, value in case.items()})


def write_table(cases, rows):
    predicted = [case for case in cases if "predicted" in case]
    groups = {}
    for case in predicted:
        groups.setdefault((case["source"], case["metric"]), []).append(abs(case["error_percent"]))
    lines = [
        f"tessel against the public multi-device measurements of measurements.csv ({rows} rows; sources and",
        f"caveats in its README): {len(predicted)} predicted, mean absolute percentage error and worst case",
        "by source and metric. Every row, predicted or not (and why not), is in cases.csv.",
        "",
        "| source | metric | cases | MAPE | worst |",
        "|---|---|---|---|---|",
    ]
    for (source, metric), errors in sorted(groups.items()):
        lines.append(f"| {source} | {metric} | {len(errors)} | {sum(errors) / len(errors):.1f}% | {max(errors):.1f}% |")
    reasons = {}
    for case in cases:
        if "predicted" not in case:
            reasons[case["not_predicted_because"]] = reasons.get(case["not_predicted_because"], 0) + 1
    lines += ["", "Rows not predicted:", "", "| rows | because |", "|---|---|"]
    lines += [f"| {count} | {reason} |" for reason, count in sorted(reasons.items(), key=lambda item: -item[1])]
    (HERE / "table.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
