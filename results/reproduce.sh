#!/usr/bin/env bash
# Regenerates every table, CSV and figure under results/ (each folder's own reproduce.sh), one
# folder per core at a time. --fast regenerates only the folders that take seconds, which
# the test suite compares with what is committed (tests/python/test_results_fresh.py).
# Usage: results/reproduce.sh [--fast] [--jobs N] [FOLDER ...]
#   (after scripts/setup.sh; all: about 7 minutes on 2 cores; --fast: about half a minute)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The folders whose reproduce.sh takes seconds.
fast=(gpu_validation power scalesim_reference dataflow_study number_formats tpu_v1_roofline design_pareto
      cpu_validation)

jobs=$(nproc)
folders=()
while (($#)); do
  case $1 in
    --fast) folders+=("${fast[@]}") ;;
    --jobs) jobs=$2; shift ;;
    -h|--help) sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "results/reproduce.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [[ -x $here/$1/reproduce.sh ]] || { echo "results/reproduce.sh: no folder results/$1" >&2; exit 2; }
       folders+=("$1") ;;
  esac
  shift
done
if ((${#folders[@]} == 0)); then
  for script in "$here"/*/reproduce.sh; do folders+=("$(basename "$(dirname "$script")")"); done
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
# One folder: its output in a log, shown only when it fails; a line with its time either way.
run_folder() {
  local folder=$1 start=$SECONDS
  if "$here/$folder/reproduce.sh" >"$logs/$folder.log" 2>&1; then
    echo "results/$folder: regenerated in $((SECONDS - start)) s"
  else
    echo "results/$folder: FAILED after $((SECONDS - start)) s:" >&2
    tail -20 "$logs/$folder.log" >&2
    return 1
  fi
}
export -f run_folder
export here logs
printf '%s\n' "${folders[@]}" | xargs -P "$jobs" -I{} bash -c 'run_folder {}'
