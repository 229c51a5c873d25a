"""Numbers that crashed the interpreter: the Python entry points check every numeric keyword
as the command line checks its flag, and raise TesselError naming the flag and its range."""

import math
import subprocess
import sys
import textwrap

import pytest

import tessel


def raises_in_a_subprocess(root, call):
    """Runs `call` (Python source using `tessel` and `root`) in its own interpreter, so that a
    crash fails the test instead of killing pytest; returns the TesselError's message."""
    script = textwrap.dedent(f"""
        import pathlib, tessel
        root = pathlib.Path({str(root)!r})
        try:
            {call}
        except tessel.TesselError as error:
            print(error)
        else:
            print("no error")
        """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"the interpreter died ({done.returncode}): {done.stderr}"
    return done.stdout.strip()


def test_the_crashing_calls_raise_instead(root):
    message = raises_in_a_subprocess(
        root, 'tessel.run(root / "configs/arch/array_8x8.yaml", tessel.Gemm(16, 16, 16), confirm=2**64 - 1)')
    assert message == "--confirm: 18446744073709551615 is not a whole number in [1, 1000]"
    message = raises_in_a_subprocess(
        root, 'tessel.run(root / "configs/arch/tpu_v4_like.yaml", tessel.Model("tiny", seq=-1))')
    assert message == "--seq: -1 is not a whole number in [1, 10000000]"
    message = raises_in_a_subprocess(
        root, 'tessel.run(root / "configs/arch/tpu_v4_like.yaml", tessel.Gemm(2**64 - 1, 1, 1))')
    assert message.startswith("--gemm: ") and "[1, 10000000]" in message


@pytest.mark.parametrize("keyword, value, flag", [
    ("batch", -1, "--batch"), ("batch", 0, "--batch"), ("kv_len", -1, "--kv-len"), ("input", 2**70, "--input"),
    ("output", 100_001, "--output"), ("tp", 0, "--tp"), ("microbatches", -3, "--microbatches"),
    ("expert_skew", math.nan, "--expert-skew"), ("expert_skew", 0.5, "--expert-skew"), ("batch", 2.5, "--batch"),
    ("batch", True, "--batch")])
def test_model_keywords_are_bounded(root, keyword, value, flag):
    with pytest.raises(tessel.TesselError, match=f"^{flag}: "):
        tessel.run(root / "configs/arch/tpu_v4_like.yaml", tessel.Model("tiny", phase="generate", **{keyword: value}))


@pytest.mark.parametrize("keyword, value, flag", [
    ("seed", -1, "--seed"), ("confirm", 0, "--confirm"), ("confirm", 1001, "--confirm")])
def test_run_keywords_are_bounded(root, keyword, value, flag):
    with pytest.raises(tessel.TesselError, match=f"^{flag}: "):
        tessel.run(root / "configs/arch/array_8x8.yaml", tessel.Gemm(8, 8, 8), **{keyword: value})


@pytest.mark.parametrize("keyword, value, flag", [
    ("global_batch", -1, "--global-batch"), ("micro_batch", 0, "--micro-batch"), ("seq", 10**8, "--seq"),
    ("zero", 4, "--zero"), ("lora_rank", -1, "--lora-rank"), ("chunks", 0, "--chunks")])
def test_train_keywords_are_bounded(root, keyword, value, flag):
    with pytest.raises(tessel.TesselError, match=f"^{flag}: "):
        tessel.train(root / "configs/arch/a100_sxm.yaml", "tiny", check=False, **{keyword: value})


def test_search_keywords_are_bounded(root):
    with pytest.raises(tessel.TesselError, match="^--jobs: -1 is not a whole number in \\[0, 256\\]"):
        tessel.search_plans(root / "configs/arch/a100_sxm.yaml", "tiny", jobs=-1)
    with pytest.raises(tessel.TesselError, match="^--search-full: "):
        tessel.search_plans(root / "configs/arch/a100_sxm.yaml", "tiny", full=-1)


def test_huge_requests_are_refused_with_the_reason(root):
    with pytest.raises(tessel.TesselError, match="its simulation would take"):
        tessel.run(root / "configs/arch/tpu_v4_like.yaml", tessel.Gemm(10**6, 10**6, 10**6))
    with pytest.raises(tessel.TesselError, match="FLOPs, more than the 2\\^62"):
        tessel.run(root / "configs/arch/tpu_v4_like.yaml", tessel.Model("llama2-7b", batch=100_000, seq=10**6))

