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

# SystemC runs each SC_THREAD on a QuickThreads stack of its own, switched without telling
# AddressSanitizer: its fake stacks for use-after-return would be torn by the switches, so
# that detection is off. Leaks are checked, but for the one SystemC context the kernel keeps
# for the life of the process (its static events belong to it; see sim/sc_kernel).
export ASAN_OPTIONS=detect_stack_use_after_return=0:detect_leaks=1:abort_on_error=1:strict_string_checks=1
export LSAN_OPTIONS=suppressions=$root/scripts/sanitize.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1

cd "$build_dir"
if [[ $fast == --fast ]]; then
  # Readers, numerics, one run of each kind, the system timeline, training and the fuzzed corpus.
  ctest --output-on-failure -j "$(nproc)" -R 'ConfigYaml|GpuConfig|SystemConfig|HfConfig|OpCheck|Golden|SystemRun|TrainingRun|Sweep|fuzz'
else
  ctest --output-on-failure -j "$(nproc)" -E '^python\.'
fi

# The Python module under an uninstrumented interpreter: the runtime preloaded, and leaks not
# checked, since CPython keeps its objects to the end by design.
ASAN_OPTIONS=detect_stack_use_after_return=0:detect_leaks=0:abort_on_error=1 \
  LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)" \
  PYTHONPATH="$root/python:$build_dir/python" TESSEL_BINARY_DIR="$build_dir" \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider "$root/tests/python/test_package.py"
echo "sanitize: clean"
