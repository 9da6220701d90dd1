# shellcheck shell=bash
# Sourced by the UCSPI-TLS tests (bash).  The test peer on loopback:
#
#   client -> ucspi_tls_server.py --flavour s6|s6-new|sslserver  127.0.0.1:PORT
#             (plays s6-tcpserver + s6-ucspitlsd, or sslserver -n)
#          -> PROG [ARGS...]            (the helper, or any program)
#
# It builds on tests/e2e/lib.sh (sourced here): reporting (pass, fail,
# check, run_py, e2e_finish), the temp dir and watchdog (e2e_init), the
# test certificate (make_cert) and, for tests that want exim, e2e_setup.
#
# A test script:
#
#   . "$(dirname "$0")/lib.sh"
#   ucspi_init "$@"          # $1 = helper path (optional); e2e_init + cleanup of the peer
#   ucspi_setup              # or e2e_setup when exim is wanted: commands, cert
#   start_ucspi s6 -- "$E2E_HELPER" -v /usr/sbin/exim4 -bs
#   ... clients against 127.0.0.1:$UCSPI_PORT ...
#   ucspi_wait_log 1
#   ucspi_check_log "TLS started with Y" 'r["command"] == "Y" and r["handshake"] == "ok"'
#   stop_ucspi
#   e2e_finish
#
# Environment knobs (besides tests/e2e/lib.sh's):
#   UCSPI_PEER_OPTS   options given to every peer before the test's own
#                     (default "-v": the peer's event lines go to the log)
#   UCSPI_MAX_TIME    the peer's own hard limit, seconds (default: E2E_TIMEOUT or 120)

UCSPI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../e2e/lib.sh
. "$UCSPI_DIR/../e2e/lib.sh"
export PYTHONPATH="$UCSPI_DIR:$PYTHONPATH"
UCSPI_PEER=$UCSPI_DIR/ucspi_tls_server.py
# shellcheck disable=SC2034  # used by the test scripts
UCSPI_SMTPD=$UCSPI_DIR/ucspi_selftest_smtpd.py
UCSPI_PID=
UCSPI_PORT=
UCSPI_LOG=
UCSPI_FLAVOUR=
UCSPI_N=0

# ucspi_init [HELPER]: e2e_init (temp dir, traps, watchdog) plus the
# peer's cleanup on every exit.  Without HELPER (a test of the peer
# itself) the peer stands for the thing under test in the summary line.
ucspi_init() {
  if [ $# -gt 0 ] && [ -n "$1" ]; then e2e_init "$1"; else e2e_init "$UCSPI_PEER"; fi
  trap ucspi_cleanup EXIT
}

_ucspi_status() { return "$1"; }
ucspi_cleanup() {
  local rc=$?
  stop_ucspi
  _ucspi_status "$rc"
  e2e_cleanup
}

# ucspi_setup: what the peer needs (python3 with ssl, openssl) and the
# test certificate ($E2E_TMP/crt.pem, key.pem, cert.pem; E2E_CERT), made
# unless e2e_setup made it already.  No root, no exim.
ucspi_setup() {
  local c missing=
  for c in openssl timeout "$PYTHON"; do
    command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
  done
  [ -z "$missing" ] || die "missing commands:$missing"
  "$PYTHON" -c 'import ssl' 2>/dev/null || die "$PYTHON lacks the ssl module"
  if [ -z "${E2E_CERT:-}" ] || [ ! -s "$E2E_TMP/crt.pem" ]; then
    make_cert "$E2E_TMP" || die "making the test certificate failed"
    E2E_CERT=$E2E_TMP/cert.pem
    export E2E_CERT
  fi
}

# start_ucspi FLAVOUR [peer options...] -- PROG [ARGS...]
# Starts the peer (its own session and process group) on a free port of
# 127.0.0.1 in front of PROG, with the test certificate.  Sets and exports
# UCSPI_PORT (and E2E_PORT, for the e2e clients), UCSPI_PID (the peer =
# its process group), UCSPI_LOG (its JSON log, fresh for each start),
# UCSPI_FLAVOUR; UCSPI_N counts the starts.  The peer's stderr goes to $E2E_TMP/pipeline.log (shown on
# failure).  Peer options: see ucspi_tls_server.py --help or README.md.
start_ucspi() {
  local flavour=${1:-}
  shift || true
  local -a popts=() prog=() defopts=()
  read -r -a defopts <<<"${UCSPI_PEER_OPTS--v}"
  while [ $# -gt 0 ]; do
    if [ "$1" = -- ]; then shift; prog=("$@"); break; fi
    popts+=("$1"); shift
  done
  if [ -z "$flavour" ] || [ ${#prog[@]} -eq 0 ]; then
    fail "usage: start_ucspi FLAVOUR [peer options] -- PROG [ARGS]"
    return 1
  fi
  stop_ucspi
  UCSPI_N=$((UCSPI_N + 1))
  local portfile=$E2E_TMP/ucspi-$UCSPI_N.port
  UCSPI_LOG=$E2E_TMP/ucspi-$UCSPI_N.jsonl
  : >"$UCSPI_LOG"
  rm -f "$portfile"
  printf '# ucspi peer %s: %s %s -- %s\n' "$UCSPI_N" "$flavour" "${defopts[*]} ${popts[*]}" "${prog[*]}" \
    >>"$E2E_TMP/pipeline.log"
  "$PYTHON" "$UCSPI_PEER" --flavour "$flavour" --port 0 --port-file "$portfile" \
    --cert "$E2E_TMP/crt.pem" --key "$E2E_TMP/key.pem" --log "$UCSPI_LOG" --setsid \
    --max-time "${UCSPI_MAX_TIME:-${E2E_TIMEOUT:-120}}" "${defopts[@]}" "${popts[@]}" -- "${prog[@]}" \
    </dev/null >>"$E2E_TMP/ucspi.out" 2> >(cat >>"$E2E_TMP/pipeline.log") &
  UCSPI_PID=$!
  echo "$UCSPI_PID" >"$E2E_TMP/ucspi.pgid"
  for _ in $(seq 1 100); do
    if [ -s "$portfile" ]; then
      UCSPI_PORT=$(cat "$portfile")
      UCSPI_FLAVOUR=$flavour
      E2E_PORT=$UCSPI_PORT              # the e2e clients (example_mail, smtpclient) use it
      export UCSPI_PORT UCSPI_PID UCSPI_LOG UCSPI_FLAVOUR E2E_PORT
      e2e_log "ucspi peer $UCSPI_N ($flavour ${popts[*]}) on 127.0.0.1:$UCSPI_PORT (pgid $UCSPI_PID) -> ${prog[*]}"
      return 0
    fi
    kill -0 "$UCSPI_PID" 2>/dev/null || break
    sleep 0.05
  done
  stop_ucspi
  fail "could not start the ucspi peer (see $E2E_TMP/pipeline.log)"
  return 1
}

# stop_ucspi: TERM to the peer (it ends its connections: each program gets
# TERM, then KILL, and its record is written), then KILL to whatever is
# left of its process group.
stop_ucspi() {
  [ -n "$UCSPI_PID" ] || return 0
  local pid=$UCSPI_PID
  UCSPI_PID=
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 80); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  rm -f "$E2E_TMP/ucspi.pgid"
  return 0
}

# ucspi_wait_log N [SECS]: wait (default 15 s) until the peer's log holds
# N connection records (a record is written when its connection is over:
# TLS ended and the program reaped).  Fails (returns 1) on timeout.
ucspi_wait_log() {
  local n=${1:-1} limit=${2:-15} end
  end=$(($(date +%s) + limit))
  local have
  while :; do
    have=$(grep -c . "$UCSPI_LOG" 2>/dev/null)
    [ "${have:-0}" -ge "$n" ] && return 0
    [ "$(date +%s)" -le "$end" ] || return 1
    sleep 0.05
  done
}

# ucspi_check_log WHAT EXPR [CONN]: one check; EXPR is python evaluated
# with r = the JSON record of connection CONN (1 = the first this peer
# accepted; default: the last).  On failure the record is printed.
#   ucspi_check_log "no SIGTERM" 'r["sigterm"] == [] and r["exit_code"] == 0'
ucspi_check_log() {
  local what=$1 expr=$2 conn=${3:-last}
  check "$what" "$PYTHON" "$UCSPI_DIR/ucspilog.py" check "$what" "$expr" "$conn"
}

# ucspi_log_get FIELD [CONN]: the field of a record, as JSON, on stdout.
ucspi_log_get() {
  "$PYTHON" "$UCSPI_DIR/ucspilog.py" get "$1" "${2:-last}"
}
