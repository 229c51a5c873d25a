"""What a run reports, as Python values."""

import io
import json

import pandas


class Result:
    """One run's reports.

    summary: dict, summary.json.
    layers / ops: DataFrame with the columns of layers.csv (one row per GEMM layer, per
        operator and step of a transformer run, or per operator of each stage's passes of a
        training iteration).
    stats: dict, stats.json: every figure as {"value", "unit", "description"} under
        "stats", subgroups under "groups".
    table: the text `tessel run` prints.
    numerics_passed: True or False, or None when the run checked nothing.
    """

    def __init__(self, native, arch):
        self.summary = json.loads(native["summary"])
        self.layers = pandas.read_csv(io.StringIO(native["layers_csv"]))
        self.stats = json.loads(native["stats"])
        self.table = native["table"]
        self.numerics_passed = self.summary["numerics"]["passed"]
        self.arch = arch

    @property
    def ops(self):
        """The same DataFrame as `layers`, named for transformer runs."""
        return self.layers

    def stat(self, *path):
        """The stat at `path` through the groups, e.g. stat("total_cycles") or
        stat("layers", "0_conv1", "dram", "read_bytes"): a {"value", "unit", "description"}."""
        group = self.stats
        for name in path[:-1]:
            group = group["groups"][name]
        return group["stats"][path[-1]]

    def __repr__(self):
        if "iteration_s" in self.summary:
            return f"Result({self.summary['model']} training on {self.summary['system']['name']}: " \
                   f"{self.summary['iteration_s']:.6g} s an iteration)"
        return f"Result({self.summary.get('model', self.summary.get('workload'))} on {self.summary['arch']}: " \
               f"{self.summary['seconds']:.6g} s)"
