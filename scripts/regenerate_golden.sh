#!/usr/bin/env bash
# Rewrites the golden whole-run outputs that tests/cpp/test_golden.cpp diffs. Run it only when
# a change of results is intended, and say why in the commit.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
tessel=build/tessel
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() {  # name, then tessel run arguments (paths relative to the repository root)
  local name=$1
  shift
  "$tessel" run --quiet --out "$out/$name" "$@"
  # Without tessel_version and tessel_commit, which change with every commit (the test ignores them).
  /usr/bin/python3 - "$out/$name/summary.json" "tests/golden/$name.summary.json" <<'EOF'
import json, sys
with open(sys.argv[1], encoding="utf-8") as file:
    summary = json.load(file)
for key in ("tessel_version", "tessel_commit"):
    summary.pop(key)
with open(sys.argv[2], "w", encoding="utf-8") as file:
    file.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
EOF
  cp "$out/$name/layers.csv" "tests/golden/$name.layers.csv"
}

while IFS='|' read -r name arguments; do
  [[ -z $name || $name == \#* ]] && continue
  # shellcheck disable=SC2086
  run "$name" $arguments
done < tests/golden/cases.txt
echo "golden outputs rewritten in tests/golden/"
