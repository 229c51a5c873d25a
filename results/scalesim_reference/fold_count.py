"""One row of reproduce.sh's second table: SCALE-Sim v2's compute cycles (its fold count) of
every layer in a tessel layers.csv, against tessel's compute cycles.

Usage: fold_count.py CONFIG.cfg LAYERS.csv CONFIG_NAME TOPOLOGY_NAME
"""

import configparser
import csv
import math
import sys


def fold_count(rows, cols, dataflow, m, n, k):
    spatial_rows, spatial_cols, temporal, fill = {
        "os": (m, n, k, 0),
        "ws": (k, n, m, rows),
        "is": (k, m, n, rows),
    }[dataflow]
    folds = math.ceil(spatial_rows / rows) * math.ceil(spatial_cols / cols)
    return folds * (fill + temporal + rows + cols - 2)


def main(config_path, layers_path, config_name, topology_name):
    config = configparser.ConfigParser(comment_prefixes=("#",), delimiters=(":", "="))
    config.read(config_path, encoding="utf-8")
    presets = config["architecture_presets"]
    rows, cols = int(presets["ArrayHeight"]), int(presets["ArrayWidth"])
    dataflow = presets["Dataflow"].strip()
    with open(layers_path, encoding="utf-8") as file:
        layers = list(csv.DictReader(file))
    reference = [fold_count(rows, cols, dataflow, int(r["M"]), int(r["N"]), int(r["K"])) for r in layers]
    tessel = [int(r["compute_cycles"]) for r in layers]
    differ = sum(a != b for a, b in zip(reference, tessel))
    print(f"| {config_name} | {rows}x{cols} {dataflow} | {topology_name} | {len(layers)} | "
          f"{sum(reference):,} | {sum(tessel):,} | {differ} |")


if __name__ == "__main__":
    main(*sys.argv[1:5])
