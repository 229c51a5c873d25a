#!/usr/bin/env bash
# AddressSanitizer and UndefinedBehaviorSanitizer: builds tessel instrumented into
# build-sanitize/ (after scripts/setup.sh has installed what it needs), then runs the C++
# tests and the Python suites against that build. Usage: scripts/sanitize.sh [--fast]
# (--fast: the subset CI runs, a few minutes). Any report fails the run.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$root/build-sanitize
fast=${1:-}

"$root/scripts/setup.sh"
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPython_EXECUTABLE=/usr/bin/python3 \
  -DTESSEL_BUILD_BENCH=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined"
cmake --build "$build_dir" -j "$(nproc)"
munmap_shim=$build_dir/libsanitize_munmap.so
g++ -shared -fPIC -O2 -o "$munmap_shim" "$root/scripts/sanitize_munmap.cpp" -ldl

# SystemC runs each SC_THREAD on a QuickThreads stack of its own. It announces its switches
# to AddressSanitizer, but not every one (sim/sc_kernel.cpp puts the caller's stack right
# after each run), so the fake stacks of use-after-return detection would be torn by them:
# that detection is off. Stacks it unmaps keep their shadow unless the munmap shim clears it
# (scripts/sanitize_munmap.cpp); the shim is preloaded ahead of the runtime the executables
# link, which is safe because the runtime does not intercept munmap, hence
# verify_asan_link_order=0. Leaks are checked, but for the one SystemC context the kernel
# keeps for the life of the process (its static events belong to it; see sim/sc_kernel).
export ASAN_OPTIONS=detect_stack_use_after_return=0:detect_leaks=1:abort_on_error=1:strict_string_checks=1:verify_asan_link_order=0
export LD_PRELOAD=$munmap_shim
export LSAN_OPTIONS=suppressions=$root/scripts/sanitize.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1

cd "$build_dir"
if [[ $fast == --fast ]]; then
  # Readers, numerics, one run of each kind, the system timeline, training, sweeps, serving,
  # the fuzzed corpus, and the Python entry points.
  cpp_tests='ConfigYaml|GpuConfig|CpuConfig|CpuGemm|CpuDevice|SystemConfig|HfConfig|OpCheck|Golden|SystemRun|TrainingRun'
  cpp_tests+='|Sweep|ServingScheduler|ServingRun|CliServe|PlacementSearch|Requests\.|fuzz'
  python_tests='^python\.(test_package|test_fuzz_entry)$'
else
  cpp_tests='.'
  python_tests='^python\.'
fi
ctest --output-on-failure -j "$(nproc)" -R "$cpp_tests" -E '^python\.'

# The Python module under the uninstrumented interpreter: the runtime preloaded first, and
# leaks not checked, since CPython keeps its objects to the end by design. test_many_runs is
# left to the plain suite: it holds resident memory flat over a thousand runs, which the
# runtime's quarantine of freed memory (by design) does not.
ASAN_OPTIONS=detect_stack_use_after_return=0:detect_leaks=0:abort_on_error=1 \
  LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so) $munmap_shim" \
  ctest --output-on-failure -j "$(nproc)" -R "$python_tests" -E '^python\.test_many_runs$'
echo "sanitize: clean"
