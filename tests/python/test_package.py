"""The tessel package: the same runs, reports and errors as the command line."""

import io
import json
import subprocess

import matplotlib
import pandas
import pytest

import tessel

matplotlib.use("Agg")


def cli(program, root, *args):
    return subprocess.run([str(program), *args], cwd=root, capture_output=True, text=True)


def test_gemm_run_equals_the_command_line(root, tessel_program, tmp_path):
    arch = str(root / "configs/arch/array_8x8.yaml")
    result = tessel.run(arch, tessel.Gemm(64, 48, 80))
    done = cli(tessel_program, root, "run", "--arch", arch, "--gemm", "64,48,80", "--quiet", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert result.summary == json.loads((tmp_path / "summary.json").read_text())
    expected = pandas.read_csv(tmp_path / "layers.csv")
    pandas.testing.assert_frame_equal(result.layers, expected)
    assert result.numerics_passed and result.summary["numerics"]["checked"]


def test_model_run_equals_the_command_line(root, tessel_program, tmp_path):
    arch = str(root / "configs/arch/tpu_v4_like.yaml")
    model = tessel.Model("tiny", phase="generate", batch=2, input=16, output=3)
    result = tessel.run(arch, model)
    done = cli(tessel_program, root, "run", "--arch", arch, "--model", "tiny", "--phase", "generate", "--batch", "2",
               "--input", "16", "--output", "3", "--quiet", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert result.summary == json.loads((tmp_path / "summary.json").read_text())
    assert list(result.ops.columns) == list(pandas.read_csv(tmp_path / "layers.csv").columns)
    assert result.ops is result.layers
    assert result.summary["ttft_s"] + 3 * result.summary["tpot_s"] == pytest.approx(result.summary["seconds"], rel=1e-12)
    # one row per operator and step: 15 in the prefill, 16 in each decode step
    assert len(result.ops) == 15 + 3 * 16
    assert set(result.ops["phase"]) == {"prefill", "decode"}


def test_tensor_parallel_model_run_equals_the_command_line(root, tessel_program, tmp_path):
    arch = str(root / "configs/arch/a100_sxm.yaml")
    result = tessel.run(arch, tessel.Model("tiny", phase="decode", kv_len=64, tp=2))
    done = cli(tessel_program, root, "run", "--arch", arch, "--model", "tiny", "--phase", "decode", "--kv-len", "64",
               "--tp", "2", "--quiet", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert result.summary == json.loads((tmp_path / "summary.json").read_text())
    assert result.summary["tensor_parallel"] == 2
    assert set(result.ops.loc[result.ops["kind"] == "AllReduce", "op"]) == {"embed.all_reduce", "attn.all_reduce",
                                                                           "mlp.all_reduce"}


def test_stats_tree_carries_units(root):
    result = tessel.run(root / "configs/arch/array_8x8.yaml", tessel.Gemm(16, 16, 16))
    cycles = result.stat("total_cycles")
    assert cycles["unit"] == "cycles" and cycles["value"] == result.summary["total_cycles"]
    layer = next(iter(result.stats["groups"]["layers"]["groups"]))
    assert result.stat("layers", layer, "dram", "read_bytes")["unit"] == "bytes"


def test_changed_parameters_change_the_run(root):
    arch = tessel.Arch.load(root / "configs/arch/tpu_v4_like.yaml")
    gemm = tessel.Gemm(1024, 1024, 1024)
    base = tessel.run(arch, gemm, check=False).summary["total_cycles"]
    smaller = arch.with_changes(**{"array.rows": 64, "array.cols": 64})
    assert smaller.to_dict()["array"]["rows"] == 64
    assert arch.to_dict()["array"]["rows"] == 128, "the original is untouched"
    # a quarter of the PEs: compute-bound, so at least twice as long
    assert tessel.run(smaller, gemm, check=False).summary["total_cycles"] > 2 * base
    from_dict = tessel.Arch.from_dict(arch.to_dict())
    assert tessel.run(from_dict, gemm, check=False).summary["total_cycles"] == base


def test_errors_carry_the_command_lines_message(root, tessel_program):
    arch = tessel.Arch.load(root / "configs/arch/tpu_v4_like.yaml").with_changes(**{"array.rows": 0})
    with pytest.raises(tessel.TesselError) as raised:
        tessel.run(arch, tessel.Gemm(4, 4, 4))
    done = cli(tessel_program, root, "run", "--arch", arch.path(), "--gemm", "4,4,4")
    assert done.returncode == 1
    assert done.stderr.strip() == f"tessel: {raised.value}"
    assert "array.rows" in str(raised.value)
    with pytest.raises(tessel.TesselError, match="--phase 'train'"):
        tessel.run(root / "configs/arch/tpu_v4_like.yaml", tessel.Model("tiny", phase="train"))
    with pytest.raises(tessel.TesselError, match="unknown model preset"):
        tessel.run(root / "configs/arch/tpu_v4_like.yaml", tessel.Model("llama9"))
    assert issubclass(tessel.TesselError, ValueError)


def test_presets_and_arch_figures(root):
    assert {"llama2-70b", "gpt2", "tiny"} <= set(tessel.presets())
    figures = tessel.Arch.load(root / "configs/arch/tpu_v4_like.yaml").figures()
    assert figures["peak_macs_per_cycle"]["bf16"] == 2 * 4 * 128 * 128
    assert figures["dram_bytes_per_cycle"] == pytest.approx(1.2e12 / 1.05e9)


def test_plots_place_every_computing_operator(root):
    result = tessel.run(root / "configs/arch/tpu_v4_like.yaml", tessel.Model("gpt2", phase="decode", kv_len=128),
                        check=False)
    ops = tessel.plots.operators(result)
    assert ops["seconds"].sum() == pytest.approx(result.summary["seconds"], rel=1e-9)
    assert ops["energy_pj"].sum() == pytest.approx(result.summary["energy_pj"], rel=1e-9)
    ax = tessel.plots.roofline(result).axes[0]
    points = ax.collections[0].get_offsets()
    assert len(points) == int((ops["flops"] > 0).sum())
    time_ax, energy_ax = tessel.plots.breakdown(result).axes
    assert len(time_ax.patches) == len(ops) == len(energy_ax.patches)
    assert len(tessel.plots.traffic(result).axes[0].patches) == 4 * len(ops)


def test_the_roofline_keeps_prefill_and_decode_apart(root):
    result = tessel.run(root / "configs/arch/tpu_v4_like.yaml", tessel.Model("gpt2", phase="generate", input=64,
                                                                             output=4), check=False)
    ops = tessel.plots.operators(result)
    assert ops["seconds"].sum() == pytest.approx(result.summary["seconds"], rel=1e-9)
    assert "attn.qkv_proj (prefill)" in set(ops["name"]) and "attn.qkv_proj (decode)" in set(ops["name"])
    prefill, decode = tessel.plots.roofline(result).axes[0].collections[:2]
    computing = ops[ops["flops"] > 0]
    assert len(prefill.get_offsets()) == computing["name"].str.endswith("(prefill)").sum()
    assert len(decode.get_offsets()) == computing["name"].str.endswith("(decode)").sum()
    # A decode step's linears read their weights for one token: far fewer FLOPs per byte.
    assert max(decode.get_offsets()[:, 0]) < max(prefill.get_offsets()[:, 0]) / 10


def test_sweep_in_worker_processes_equals_one_by_one(root):
    arch = tessel.Arch.load(root / "configs/arch/array_8x8.yaml")
    cases = [{"arch": arch.with_changes(**{"array.rows": side, "array.cols": side}), "workload": tessel.Gemm(64, 64, 64),
              "side": side, "check": False} for side in (4, 8, 16)]
    sequential = tessel.sweep(cases)
    parallel = tessel.sweep(cases, processes=2)
    pandas.testing.assert_frame_equal(sequential, parallel)
    assert list(sequential["side"]) == [4, 8, 16]
    assert sequential["total_cycles"].is_monotonic_decreasing, "bigger arrays finish sooner"
    assert sequential["ttft_s"].isna().all(), "a GEMM run has no time to first token"
    assert sequential["ttft_s"].dtype == "float64", "missing figures are NaN in a numeric column, not None"
    assert sequential["total_cycles"].dtype == "int64"
    bad = [{"arch": arch, "workload": tessel.Model("llama9")}]
    with pytest.raises(tessel.TesselError, match="unknown model preset"):
        tessel.sweep(bad, processes=2)


def test_system_run_equals_the_command_line(root, tessel_program, tmp_path):
    system = root / "configs/systems/tpu_v4_4x4x4.yaml"
    model = tessel.Model("tiny", phase="generate", batch=2, input=16, output=2, tp=2, pp=2)
    trace = tmp_path / "trace.json"
    result = tessel.run(system, model, trace=trace)
    done = cli(tessel_program, root, "run", "--system", str(system), "--model", "tiny", "--phase", "generate",
               "--batch", "2", "--input", "16", "--output", "2", "--tp", "2", "--pp", "2", "--quiet", "--out",
               str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert result.summary == json.loads((tmp_path / "summary.json").read_text())
    assert isinstance(result.arch, tessel.System)
    assert sorted(set(result.ops["stage"])) == [0, 1]
    assert json.loads(trace.read_text())["traceEvents"]
    assert result.arch.figures()["name"] == "tpu_v4_like"
    with pytest.raises(tessel.TesselError, match="needs 128 devices"):
        tessel.run(system, tessel.Model("tiny", tp=8, pp=16))


def test_a_flag_that_does_not_apply_is_refused(root):
    arch = root / "configs/arch/array_8x8.yaml"
    with pytest.raises(tessel.TesselError, match="--seq applies to --phase prefill, not to --phase decode"):
        tessel.run(arch, tessel.Model("tiny", phase="decode", seq=64))
    assert tessel.run(arch, tessel.Model("tiny", phase="decode", kv_len=8), check=False).summary["steps"]


def test_training_equals_the_command_line(root, tessel_program, tmp_path):
    system = root / "configs/systems/tpu_v4_4x4x4.yaml"
    result = tessel.train(system, "tiny", global_batch=8, micro_batch=2, seq=32, tp=2, pp=2, dp=2, zero=1)
    done = cli(tessel_program, root, "train", "--system", str(system), "--model", "tiny", "--global-batch", "8",
               "--micro-batch", "2", "--seq", "32", "--tp", "2", "--pp", "2", "--dp", "2", "--zero", "1", "--quiet",
               "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert result.summary == json.loads((tmp_path / "summary.json").read_text())
    assert set(result.ops["pass"]) == {"forward", "backward", "backward_last", "optimizer"}
    distilled = tessel.train(system, "tiny", global_batch=8, micro_batch=2, seq=32, tp=2, pp=2, dp=2, zero=1,
                             teacher="tiny")
    assert distilled.summary["plan"]["teacher"] == "tiny"
    assert all(stage["memory_bytes"]["teacher_weights"] > 0 for stage in distilled.summary["devices"])
    assert distilled.summary["iteration_s"] > result.summary["iteration_s"]
    with pytest.raises(tessel.TesselError, match="gives no fp8 rate"):
        tessel.train(root / "configs/arch/a100_sxm.yaml", "tiny", seq=32, dtype="fp8")
    with pytest.raises(tessel.TesselError, match="interleaved"):
        tessel.train(system, "tiny", chunks=2)
    with pytest.raises(ValueError, match="unknown option"):
        import _tessel
        _tessel.train({"model": "tiny", "arch": "x", "batch": 2})


def test_config_warnings_reach_the_summaries(root):
    model = str(root / "tests/data/hf/tiny-bnb/config.json")
    warning = model + ": field 'quantization_config': "
    run = tessel.run(root / "configs/arch/tpu_v4_like.yaml", tessel.Model(model), check=False)
    trained = tessel.train(root / "tests/data/systems/ideal_links_x8.yaml", model, global_batch=4, seq=16, check=False)
    for summary in (run.summary, trained.summary):
        assert len(summary["warnings"]) == 1 and summary["warnings"][0].startswith(warning)
    preset = tessel.run(root / "configs/arch/tpu_v4_like.yaml", tessel.Model("tiny"), check=False)
    assert preset.summary["warnings"] == []


def test_plan_search_equals_the_command_line(root, tessel_program, tmp_path):
    node = root / "configs/systems/dgx_a100.yaml"
    plans = tessel.search_plans(node, "tiny", global_batch=16, seq=64, jobs=2)
    done = cli(tessel_program, root, "train", "--system", str(node), "--model", "tiny", "--global-batch", "16", "--seq",
               "64", "--search", "--jobs", "1", "--quiet", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    from_cli = pandas.read_csv(tmp_path / "plans.csv")
    assert list(plans.columns) == list(from_cli.columns)
    assert plans.equals(from_cli), "the worker processes change nothing"
    assert plans["fits"].iloc[0] == 1
    assert (plans[plans["fits"] == 1]["iteration_s"].diff().dropna() >= 0).all()


def test_summaries_record_the_version_and_commit(root, tessel_program):
    done = subprocess.run([str(tessel_program), "--version"], capture_output=True, text=True)
    assert done.returncode == 0
    result = tessel.run(root / "configs/arch/array_8x8.yaml", tessel.Gemm(8, 8, 8))
    version, commit = result.summary["tessel_version"], result.summary["tessel_commit"]
    assert done.stdout == f"tessel {version} (commit {commit})\n"


def test_pareto_front_equals_the_command_lines(root, tessel_program, tmp_path):
    spec = tmp_path / "pareto.yaml"
    spec.write_text(f"arch: {root / 'configs/arch/array_8x8.yaml'}\nvary:\n  array.rows: [2, 4, 8]\n"
                    "  array.cols: [2, 4, 8]\n  dram.bandwidth_gb_s: [4, 16]\nrun:\n  gemm: 64,96,128\n"
                    "  no-check: true\n")
    done = cli(tessel_program, root, "sweep", "--quiet", "--spec", str(spec), "--pareto", "seconds,energy_pj",
               "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    table = pandas.read_csv(tmp_path / "out/sweep.csv")
    expected = pandas.read_csv(tmp_path / "out/pareto.csv")
    front = tessel.pareto(table, ["seconds", "energy_pj"])
    assert list(front["point"]) == list(expected["point"])
    assert len(front) >= 2 and front["seconds"].is_monotonic_increasing
    # A rate is maximized: the front of (tokens/s, energy) is the same rows as (seconds, energy).
    rates = table.assign(tokens_per_s=1 / table["seconds"])
    assert sorted(tessel.pareto(rates, "tokens_per_s,energy_pj")["point"]) == sorted(front["point"])
    ax = tessel.plots.pareto(table, "seconds,energy_pj").axes[0]
    assert len(ax.collections[0].get_offsets()) == len(table)
    assert len(ax.lines[0].get_xdata()) == len(front)
    # Each axis in the unit its values reach, the values scaled to it.
    assert ax.get_xlabel() == "time (µs)" and ax.get_ylabel() == "energy (µJ)"
    points = ax.collections[0].get_offsets()
    assert points[:, 0].tolist() == pytest.approx((table["seconds"] * 1e6).tolist(), rel=1e-12)
    assert points[:, 1].tolist() == pytest.approx((table["energy_pj"] * 1e-6).tolist(), rel=1e-12)
    with pytest.raises(KeyError, match="joules"):
        tessel.pareto(table, "seconds,joules")
    with pytest.raises(tessel.TesselError, match="two or three objectives"):
        tessel.pareto(table, "seconds")
