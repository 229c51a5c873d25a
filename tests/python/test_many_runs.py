"""Many simulations in one process: each run replaces the SystemC kernel, so results stay
identical and memory stays flat."""

import resource

import tessel


def resident_kib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() // 1024


def test_a_thousand_runs_are_identical_and_memory_is_flat(root):
    arch = tessel.Arch.load(root / "configs/arch/array_8x8.yaml")
    gemm = tessel.Gemm(40, 24, 56)
    first = tessel.run(arch, gemm, check=False).summary
    for _ in range(100):
        tessel.run(arch, gemm, check=False)
    warm = resident_kib()
    for _ in range(900):
        assert tessel.run(arch, gemm, check=False).summary == first
    # 8 MiB: the allocator's slack; a leak of a kernel or a module per run (several kB
    # each) would pass it within the 900 runs.
    assert resident_kib() - warm < 8 * 1024
