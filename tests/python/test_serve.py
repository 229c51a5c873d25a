"""tessel.serve: the same run as `tessel serve`, its reports as Python values."""

from pathlib import Path

import pytest

import tessel

ROOT = Path(__file__).resolve().parents[2]
ARCH = str(ROOT / "configs" / "arch" / "tpu_v4_like.yaml")
A100 = str(ROOT / "configs" / "arch" / "a100_sxm.yaml")


def test_serve_reports_each_request_and_iteration():
    served = tessel.serve(ARCH, "llama2-7b", arrivals="poisson:20", requests_count=12, prompt_len="uniform:50,300",
                          output_len="8", seed=5, slo_ttft_ms=1000)
    assert len(served.requests) == 12
    assert list(served.requests.columns[:4]) == ["id", "arrival_s", "prompt_tokens", "output_tokens"]
    assert (served.requests["ttft_s"] >= served.requests["queueing_s"]).all()
    assert served.iterations["decode_tokens"].sum() == 12 * 7, "each request's tokens after the first"
    assert served.summary["load"]["output_tokens"] == 12 * 8
    assert served.summary["goodput_requests_per_s"] is not None
    assert served.summary["scheduler"]["policy"] == "continuous"


def test_a_runs_requests_csv_replays_as_a_trace(tmp_path):
    first = tessel.serve(ARCH, "llama2-7b", arrivals="poisson:10", requests_count=6, prompt_len="128",
                         output_len="uniform:2,6", seed=2)
    trace = tmp_path / "trace.csv"
    first.requests.to_csv(trace, index=False)
    again = tessel.serve(ARCH, "llama2-7b", requests=trace)
    assert again.requests["e2e_s"].tolist() == pytest.approx(first.requests["e2e_s"].tolist(), rel=1e-6)


def test_replicas_share_the_requests():
    one = tessel.serve(ARCH, "llama2-7b", concurrency=8, requests_count=16, prompt_len="100", output_len="6")
    two = tessel.serve(ARCH, "llama2-7b", concurrency=8, requests_count=16, prompt_len="100", output_len="6",
                       replicas=2)
    assert two.summary["replicas"] == 2
    assert sorted(two.requests["replica"].unique()) == [0, 1] and set(one.requests["replica"]) == {0}
    assert two.requests["e2e_s"].mean() < one.requests["e2e_s"].mean(), "half the batch on each copy"
    with pytest.raises(tessel.TesselError, match="--replicas"):
        tessel.serve(ARCH, "llama2-7b", concurrency=2, replicas=0)


def test_bad_keywords_raise_the_command_lines_errors():
    with pytest.raises(tessel.TesselError, match="one of requests, arrivals or concurrency"):
        tessel.serve(ARCH, "llama2-7b")
    with pytest.raises(tessel.TesselError, match="--prompt-len"):
        tessel.serve(ARCH, "llama2-7b", concurrency=2, prompt_len="uniform:9,3")
    with pytest.raises(tessel.TesselError, match="--max-batch"):
        tessel.serve(ARCH, "llama2-7b", concurrency=2, max_batch=0)


def test_a_kv_cache_in_host_memory_holds_its_blocks_and_slows_decoding():
    resident = tessel.serve(ARCH, "llama2-7b", concurrency=2, requests_count=4, prompt_len="1024", output_len="4")
    offloaded = tessel.serve(ARCH, "llama2-7b", concurrency=2, requests_count=4, prompt_len="1024", output_len="4",
                             offload_kv_gbps=16, host_memory_gib=64)
    assert offloaded.summary["offload_kv_bytes_per_s"] == 16e9
    assert offloaded.summary["kv_host_bytes"] == 64 * 2**30
    assert offloaded.requests["tpot_s"].mean() > resident.requests["tpot_s"].mean()
    with pytest.raises(tessel.TesselError, match="--host-memory-gib needs --offload-kv-gbps"):
        tessel.serve(ARCH, "llama2-7b", concurrency=1, host_memory_gib=64)


def test_attention_apart_runs_on_its_own_devices():
    xeon = str(ROOT / "configs" / "arch" / "xeon_8480.yaml")
    served = tessel.serve(ARCH, "llama2-7b", attention=xeon, attention_link_gbps=25, concurrency=2,
                          requests_count=4, prompt_len="256", output_len="4", attention_microbatches=2)
    assert served.summary["attention"]["arch"] == "xeon_8480"
    assert served.summary["attention"]["microbatches"] == 2
    assert served.summary["attention"]["link_bytes_per_s"] == 25e9
    with pytest.raises(tessel.TesselError, match="go together"):
        tessel.serve(ARCH, "llama2-7b", attention=xeon, concurrency=1)


def test_a_placement_file_places_the_devices():
    placement = ROOT / "configs" / "placements" / "a100x4_attention_on_xeon.yaml"
    served = tessel.serve(None, "llama2-7b", placement=placement, concurrency=2, requests_count=4,
                          prompt_len="256", output_len="4")
    assert served.summary["tp"] == 4 and served.summary["attention"]["arch"] == "xeon_8480"
    with pytest.raises(tessel.TesselError, match="places the devices"):
        tessel.serve(ARCH, "llama2-7b", placement=placement, concurrency=1)


def test_disaggregated_serving_runs_prompts_on_their_own_devices():
    h100 = str(ROOT / "configs" / "arch" / "h100_sxm.yaml")
    served = tessel.serve(ARCH, "llama2-7b", prefill=h100, kv_link_gbps=50, arrivals="poisson:20",
                          requests_count=8, prompt_len="256", output_len="4")
    assert served.summary["prefill"]["arch"] == "h100_sxm"
    assert set(served.iterations["engine"]) == {"prefill", "decode"}
    assert served.iterations.query("engine == 'prefill'")["decode_tokens"].sum() == 0
    with pytest.raises(tessel.TesselError, match="go together"):
        tessel.serve(ARCH, "llama2-7b", prefill=h100, concurrency=1)


def test_search_ranks_the_placements_of_a_node():
    dgx = str(ROOT / "configs" / "systems" / "dgx_a100.yaml")
    ranked = tessel.serve(dgx, "llama2-7b", search=True, arrivals="poisson:20", requests_count=8, prompt_len="128",
                          output_len="4", slo_ttft_ms=500)
    assert len(ranked) == 19
    assert ranked["goodput_per_device"].is_monotonic_decreasing
    assert ranked["rank"].tolist() == list(range(1, 20))
    assert (ranked["devices"] == ranked["tp"] * ranked["replicas"] + ranked["prefill_tp"]).all()
    with pytest.raises(tessel.TesselError, match="chooses the placement"):
        tessel.serve(dgx, "llama2-7b", search=True, tp=2, concurrency=1)


def test_a_quantized_model_holds_more_kv_blocks_and_decodes_faster():
    dense = tessel.serve(A100, "llama2-7b", arrivals="poisson:4", requests_count=30)
    packed = tessel.serve(A100, "llama2-7b", arrivals="poisson:4", requests_count=30, quant="w4a16-g128,kv-int8")
    assert packed.summary["quant"]["weights"]["format"] == "int4"
    assert packed.summary["quant"]["kv_cache"]["format"] == "int8"
    # Fewer weight bytes leave more of the HBM for the cache, whose blocks are half as large.
    assert packed.summary["scheduler"]["kv_blocks"] > 2 * dense.summary["scheduler"]["kv_blocks"]
    assert packed.summary["tpot_s"]["p50"] < dense.summary["tpot_s"]["p50"]
    run = tessel.run(A100, tessel.Model("llama2-7b", phase="decode", kv_len=64, quant="w4a16-g128"), check=False)
    assert run.summary["quant"]["name"] == "w4a16-g128"
    assert run.summary["numerics"]["scheme_layer"] is None  # not checked
    pruned = tessel.run(A100, tessel.Model("llama2-7b", phase="decode", kv_len=64, quant="prune-heads-25"), check=False)
    assert pruned.summary["quant"]["prune"] == {"heads": 0.25, "mlp_channels": 0.0}
    assert pruned.summary["kv_cache_bytes"] * 4 == run.summary["kv_cache_bytes"] * 3
