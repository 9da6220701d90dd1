#!/bin/bash
# examples.tcpserver: runs examples/tcpserver/run piped into
# examples/tcpserver/log/run, as daemontools or runit would (each in its
# own directory), with the address, port, certificate, helper and log
# directory pointed at 127.0.0.1:FREEPORT, a fresh certificate, the built
# binary and a temp dir; the rest as written (softlimit, tcpserver -HRDl0,
# tlswrapper -n, -u Debian-exim, exim4 -bs with -oMa, multilog). Sends one
# mail with swaks --tls and checks: 250 after the dot, delivery, exim saw
# the client's address (not local SMTP), and the helper's log line reached
# multilog's current file carrying the id of tlswrapper's line. Stops
# everything it started.
# Usage: tcpserver.sh HELPER   (as root; ctest passes the built binary)
. "$(dirname "$0")/../../tests/e2e/lib.sh"
EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd)
e2e_init "$@"
for c in softlimit multilog; do
  command -v "$c" >/dev/null 2>&1 || die "missing $c (package daemontools; scripts/deps.sh installs it)"
done
e2e_setup
LOGDIR=$E2E_TMP/multilog

# run | log/run in a process group of its own (stop_pipeline and the
# watchdog end the group), only fds 0-2 inherited: a stray fd 5 or 6 would
# change the STARTTLS control protocol the helper sees.
start_service() {
  E2E_PORT=$(free_port) || return 1
  LISTEN_ADDR=127.0.0.1 LISTEN_PORT=$E2E_PORT CERT_PEM=$E2E_CERT TLSWRAPPER_SMTP=$E2E_HELPER \
    LOG_DIR=$LOGDIR \
    "$PYTHON" -c '
import os, sys
os.setsid()
os.closerange(3, 65536)
os.execvp(sys.argv[1], sys.argv[1:])' \
    sh -c 'cd "$1" && ./run | (cd log && exec ./run)' sh "$EXAMPLES/tcpserver" \
    </dev/null >"$E2E_TMP/service.out" 2>&1 &
  E2E_PIPELINE_PID=$!
  echo "$E2E_PIPELINE_PID" >"$E2E_TMP/pipeline.pgid"
  for _ in $(seq 1 50); do
    port_listening "$E2E_PORT" && return 0
    kill -0 "$E2E_PIPELINE_PID" 2>/dev/null || break
    sleep 0.1
  done
  return 1
}

if start_service; then
  pass "examples/tcpserver/run listens on 127.0.0.1:$E2E_PORT"
else
  fail "examples/tcpserver/run did not start"
  sed 's/^/    /' "$E2E_TMP/service.out" "$LOGDIR/current" 2>/dev/null
  e2e_finish
fi

example_mail tcpserver-example
check "QUIT answered 221" grep -qE '^<~  221 ' "$out"
check "exim took the session from 127.0.0.1 (-oMa), not as local SMTP" \
  grep -qF '[127.0.0.1]' <<<"$arrival"

# The helper's line is written when the session ends; multilog may take a
# moment to pass it on.
line=
for _ in $(seq 1 50); do
  line=$(grep -F "tlswrapper-smtp: info: 127.0.0.1: mail from=<sender-$token@example.com>" "$LOGDIR/current" 2>/dev/null)
  [ -n "$line" ] && break
  sleep 0.2
done
printf '    multilog: %s\n' "$line"
check "the helper's transaction line (tls=yes) reached multilog through the pipe" \
  grep -qE 'reply=250 .* tls=yes \[[^] ]+\]$' <<<"$line"
id=$(sed -n 's/.*\[\([^] ]*\)\]$/\1/p' <<<"$line")
check "tlswrapper's line of the same connection carries the same id [$id]" \
  grep -qE "tlswrapper: .*\[$id\]\$" "$LOGDIR/current"
check "no warning or error from the helper" \
  bash -c '! grep -E "tlswrapper-smtp: (warning|error):" "$1"' _ "$LOGDIR/current"

stop_pipeline
if [ "$E2E_FAILED" -ne 0 ]; then
  echo "# --- multilog current ---"
  tail -n 20 "$LOGDIR/current" 2>/dev/null | sed 's/^/# /'
fi
e2e_finish
