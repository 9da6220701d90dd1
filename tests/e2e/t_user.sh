#!/bin/bash
# The -u option: the helper runs prog under that user's uid and gid.
#  1. recording server behind "-u nobody": the server's recorded uid/gid
#     are nobody's, and it inherited only fds 0, 1, 2 (not the control fd
#     5/6 nor any of the helper's own);
#  2. exim4 -bs behind "-u nobody": exim (setuid root) still accepts the
#     message over TLS and delivers it (swaks --tls).
# Usage: t_user.sh HELPER
# shellcheck disable=SC2016  # bash -c scripts take their values as arguments
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_setup
user=nobody
uid=$(id -u "$user") gid=$(id -g "$user")

# ---- 1: the recording server -------------------------------------------------
rec=$(recorder_dir)
start_pipeline "$E2E_HELPER" -u "$user" -- "$PYTHON" "$E2E_RECORDER" "$rec" || e2e_finish
out=$E2E_TMP/swaks-rec.txt
timeout -k 2 40 swaks --server "127.0.0.1:$E2E_PORT" --tls --timeout 20 \
  --from a@example.com --to b@example.org --body "user test" >"$out" 2>&1
rc=$?
check "recorder: swaks --tls exits 0" [ $rc -eq 0 ] || sed 's/^/    /' "$out"
stop_pipeline
info=$(cat "$rec"/session-*.txt 2>/dev/null | grep '^I: ')
printf '%s\n' "$info" | sed 's/^/    /'
check "recorder: prog ran as uid $uid gid $gid ($user)" \
  grep -q "^I: uid=$uid gid=$gid euid=$uid\$" <<<"$info"
fds=$(grep '^I: fds' <<<"$info" | head -n 1 | sed 's/^I: fds //')
extra=$(tr ' ' '\n' <<<"$fds" | grep -vE '^[012]->' | tr '\n' ' ')
check "recorder: prog inherited only fds 0-2 (extra: ${extra:-none})" [ -n "$fds" ] && [ -z "$extra" ]

# ---- 2: exim4 -bs --------------------------------------------------------------
token="user-$$-$RANDOM$RANDOM"
start_pipeline "$E2E_HELPER" -u "$user" || e2e_finish
out=$E2E_TMP/swaks-exim.txt
timeout -k 2 40 swaks --server "127.0.0.1:$E2E_PORT" --tls --timeout 20 \
  --from "u-$token@example.com" --to "$E2E_RCPT" --body "body $token" >"$out" 2>&1
rc=$?
check "exim -u $user: swaks --tls exits 0" [ $rc -eq 0 ] || sed 's/^/    /' "$out"
check "exim -u $user: EHLO greeting names the caller $user" grep -qE "^<~  250-.* Hello $user at " "$out"
if wait_for_delivery "body $token" 20; then
  pass "exim -u $user: delivered ($E2E_DELIVERED)"
  [ "${E2E_KEEP:-0}" = 1 ] || rm -f "$E2E_DELIVERED"
else
  fail "exim -u $user: not delivered within 20 s"
fi
stop_pipeline
e2e_finish
