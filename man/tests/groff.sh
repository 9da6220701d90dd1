#!/bin/sh
# man.groff: the manual page formats without a single warning, as
# `groff -man -ww -z` (all warnings, no output) and for a UTF-8 terminal.
# Usage: groff.sh MANPAGE
page=$1
command -v groff >/dev/null 2>&1 || { echo "groff is missing (package groff-base; scripts/deps.sh installs it)"; exit 1; }
status=0
for t in ascii utf8; do
  out=$(LC_ALL=C.UTF-8 groff -man -ww -z -T"$t" "$page" 2>&1)
  rc=$?
  if [ $rc -ne 0 ] || [ -n "$out" ]; then
    echo "not ok - groff -man -ww -z -T$t $page (exit $rc):"
    printf '%s\n' "$out" | sed 's/^/    /'
    status=1
  else
    echo "ok - groff -man -ww -z -T$t $page: no warnings"
  fi
done
if ! out=$(groff -man -ww -z "$page" 2>&1) || [ -n "$out" ]; then
  echo "not ok - groff -man -ww -z $page:"; printf '%s\n' "$out" | sed 's/^/    /'; status=1
else
  echo "ok - groff -man -ww -z $page prints nothing"
fi
exit $status
