"""The Python entry points under mutated keyword arguments: seeded, a few hundred calls. Each
call returns a Result or raises TesselError (a ValueError) naming the keyword it refuses or
its value; none may crash the interpreter (a crash fails the whole file)."""

import random

import pytest

import tessel

EXTREMES = [0, -1, 2**64 - 1, 2**64, 1e308, float("nan"), float("inf"), "", "x", None, [], 3, 65537, True]


def calls(root):
    arch = str(root / "configs/arch/array_8x8.yaml")
    tpu = str(root / "configs/arch/tpu_v4_like.yaml")
    system = str(root / "configs/systems/tpu_v4_4x4x4.yaml")
    return [
        (tessel.run, (arch, tessel.Gemm(16, 24, 8)), {"check": False, "confirm": 2, "seed": 1}),
        (tessel.run, (tpu, tessel.Model("tiny", seq=16, batch=2)), {"check": False}),
        (tessel.train, (system, "tiny"), {"global_batch": 4, "micro_batch": 1, "seq": 16, "tp": 2, "pp": 2,
                                          "dp": 1, "zero": 1, "check": False}),
    ]


@pytest.mark.parametrize("seed", range(3))
def test_mutated_keywords_run_or_raise_naming_the_keyword(root, seed):
    rng = random.Random(seed)
    for _ in range(60):
        function, args, kwargs = rng.choice(calls(root))
        kwargs = dict(kwargs)
        key = rng.choice(sorted(kwargs))
        kwargs[key] = rng.choice(EXTREMES)
        try:
            function(*args, **kwargs)
        except tessel.TesselError as error:
            message = str(error)
            assert key.replace("_", "-") in message or key in message or repr(kwargs[key]) in message, (
                key, kwargs[key], message)
