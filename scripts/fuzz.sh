#!/usr/bin/env bash
# The documented fuzzing run: 125,000 mutated inputs for each of the ten readers (1.25 x 10^6 in all),
# seeded so that it repeats. Sets up first. Usage: scripts/fuzz.sh [inputs-per-reader] [seed]
# On a crash, a hang or a rejection naming no place, the inputs are left in the folder it names.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
work=$(mktemp -d)
if SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 "$root/build/tests/tessel_fuzz" --inputs "${1:-125000}" --seed "${2:-1}" \
  --source "$root" --work "$work"; then
  rm -rf "$work"
else
  echo "fuzz: failed; the last input of each reader is in $work" >&2
  exit 1
fi
