#!/bin/bash
# Runs every end-to-end test against one helper binary, one after another,
# and prints a summary.  Exit 0 when all passed.
# Usage: run_all.sh HELPER [t_name ...]      (default: every t_*.sh)
# Each test's full output goes to $E2E_OUT (default: a temp dir, printed).
set -u
dir=$(cd "$(dirname "$0")" && pwd)
helper=${1:?usage: run_all.sh HELPER [t_name ...]}
shift
out=${E2E_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/tws-e2e-out.XXXXXX")}
mkdir -p "$out"
if [ $# -gt 0 ]; then tests=("$@"); else tests=(); for t in "$dir"/t_*.sh; do tests+=("$(basename "$t" .sh)"); done; fi
failed=0
for t in "${tests[@]}"; do
  t=${t%.sh}
  start=$(date +%s)
  "$dir/$t.sh" "$helper" >"$out/$t.txt" 2>&1
  rc=$?
  secs=$(($(date +%s) - start))
  if [ $rc -eq 0 ]; then
    printf 'PASS  %-30s %3ss\n' "$t" "$secs"
  else
    failed=$((failed + 1))
    printf 'FAIL  %-30s %3ss  (rc %s)\n' "$t" "$secs" "$rc"
    grep -E '^ *not ok' "$out/$t.txt" | head -n 8 | cut -c1-200 | sed 's/^ */      /'
  fi
done
echo "outputs: $out"
[ $failed -eq 0 ]
