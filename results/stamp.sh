#!/usr/bin/env bash
# Ends a results table with what made it: the command, the commit (and whether the code had
# uncommitted changes) and the machine. An earlier stamp is replaced, so a table carries one.
# The freshness test (tests/python/test_results_fresh.py) ignores this line and compares the rest.
# Usage: results/stamp.sh TABLE.md COMMAND
set -euo pipefail
table=$1
command=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
commit=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo "unknown")
changed=$(git -C "$root" status --porcelain --untracked-files=no -- . ':!results' 2>/dev/null || true)
if [[ $commit != unknown && -n $changed ]]; then
  commit="$commit with uncommitted changes"
fi
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
machine="$(uname -sm), ${cpu:-unknown CPU}, $(nproc) cores"
kept=$(grep -v '^_Made by_ ' "$table")  # (command substitution drops the trailing blank lines)
printf '%s\n\n_Made by_ `%s` at commit %s on %s, %s.\n' "$kept" "$command" "$commit" "$machine" \
  "$(date -u +%Y-%m-%d)" >"$table"
