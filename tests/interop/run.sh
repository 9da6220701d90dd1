#!/bin/bash
# The helper behind REAL TLS fronts, not the test model: s6-networking's
# s6-tcpserver + s6-ucspitlsd -S, ucspi-ssl's sslserver -n (UCSPI-TLS), and
# an upstream tlswrapper -n (the current fd 5/6 protocol), each given by its
# path.  None of them is packaged in Debian, so CI runs the model
# (tests/ucspi) and this script is run by hand (README, "Interop").
#
#   tests/interop/run.sh --helper build/tlswrapper-smtp \
#       [--s6 BINDIR]... [--sslserver PATH]... [--tlswrapper PATH]...
#
# --s6 BINDIR      the bin directory of an s6-networking install (it holds
#                  s6-tcpserver, s6-ucspitlsd, s6-tlsd-io); the TLS library
#                  it was built with is read from s6-tlsd-io's libraries
# --sslserver PATH sslserver (ucspi-ssl); it loads an RSA key only
# --tlswrapper PATH an upstream tlswrapper with the fd 5/6 protocol, run
#                  under Debian's tcpserver
#
# Cases, behind each front, on 127.0.0.1 only, exim4 -bs behind the helper
# unless said otherwise:
#   swaks-tls       swaks --tls: the mail delivered, the helper's log line
#                   naming the TLS in use
#   openssl         openssl s_client -starttls smtp: EHLO over TLS, 221, a
#                   clean close (no "unexpected eof", exit 0)
#   pipelined       STARTTLS and a MAIL in the same write (recording server
#                   behind): the MAIL never reaches the server, the helper
#                   logs the bytes it discarded, the session goes on over TLS
#   plaintext       swaks without --tls: the mail delivered, tls=no
#   child-env       a recording program behind: it has fds 0, 1, 2 only and
#                   none of SSLCTLFD, SSLREADFD, SSLWRITEFD, CERTFILE, KEYFILE
# One line per case (PASS or FAIL, the front, the case), the details of a
# failed case after it, then "N passed, N failed"; exit 1 on any failure.
# Root (exim's set-up, the fronts' keys): it uses tests/e2e/lib.sh.
# Knobs: E2E_TIMEOUT (whole run, default 900 s), E2E_KEEP=1.

HERE=$(cd "$(dirname "$0")" && pwd)
helper=
fronts=()
while [ $# -gt 0 ]; do
  case $1 in
    --helper) helper=$2; shift 2 ;;
    --s6) fronts+=("s6:$2"); shift 2 ;;
    --sslserver) fronts+=("sslserver:$2"); shift 2 ;;
    --tlswrapper) fronts+=("tlswrapper:$2"); shift 2 ;;
    -h | --help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "$0: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$helper" ] || [ ${#fronts[@]} -eq 0 ]; then
  echo "usage: $0 --helper PATH [--s6 BINDIR]... [--sslserver PATH]... [--tlswrapper PATH]..." >&2
  exit 2
fi
: "${E2E_TIMEOUT:=900}"
# shellcheck source=../e2e/lib.sh
. "$HERE/../e2e/lib.sh"
e2e_init "$helper" >/dev/null
e2e_setup >/dev/null
FAKE=$HERE/../binary/fake_smtpd.py
# sslserver loads its key with SSL_CTX_use_RSAPrivateKey_file: an RSA pair.
mkdir -p "$E2E_TMP/rsa" && E2E_CERT_KEY=rsa make_cert "$E2E_TMP/rsa" || die "no RSA certificate"

CASES_PASSED=0
CASES_FAILED=0
DETAILS=$E2E_TMP/case.log

# start_front KIND PATH PROG [ARGS...]: the front on a free port of
# 127.0.0.1 with the helper (-v) and PROG behind, in its own process group
# (E2E_PIPELINE_PID, so stop_pipeline and the cleanup stop it); everyone's
# stderr in $E2E_TMP/pipeline.log.  Sets E2E_PORT.
start_front() {
  local kind=$1 path=$2 port
  shift 2
  local -a cmd
  stop_pipeline
  port=$(free_port) || return 1
  case $kind in
    s6)
      cmd=(env "CERTFILE=$E2E_TMP/crt.pem" "KEYFILE=$E2E_TMP/key.pem"
           "$path/s6-tcpserver" 127.0.0.1 "$port" "$path/s6-ucspitlsd" -S -- "$E2E_HELPER" -v "$@") ;;
    sslserver)
      cmd=(env "CERTFILE=$E2E_TMP/rsa/crt.pem" "KEYFILE=$E2E_TMP/rsa/key.pem" DHFILE=
           "$path" -n -H -R -l localhost 127.0.0.1 "$port" "$E2E_HELPER" -v "$@") ;;
    tlswrapper)
      cmd=(tcpserver -HRDl0 127.0.0.1 "$port" "$path" -v -n -f "$E2E_CERT" "$E2E_HELPER" -v "$@") ;;
  esac
  printf '# front: %s\n' "${cmd[*]}" >>"$E2E_TMP/pipeline.log"
  "$PYTHON" -c '
import os, sys
os.setsid()
os.closerange(3, 65536)
os.execvp(sys.argv[1], sys.argv[1:])' "${cmd[@]}" \
    </dev/null >>"$E2E_TMP/pipeline.out" 2> >(cat >>"$E2E_TMP/pipeline.log") &
  E2E_PIPELINE_PID=$!
  echo "$E2E_PIPELINE_PID" >"$E2E_TMP/pipeline.pgid"
  for _ in $(seq 1 50); do
    if port_listening "$port"; then E2E_PORT=$port; export E2E_PORT; return 0; fi
    kill -0 "$E2E_PIPELINE_PID" 2>/dev/null || break
    sleep 0.1
  done
  fail "the front did not listen on 127.0.0.1:$port (see $E2E_TMP/pipeline.log)"
  return 1
}

# run_case FRONT-LABEL CASE FUNCTION [ARGS...]: the function's checks go
# to the details; one PASS/FAIL line.
run_case() {
  local label=$1 name=$2 before=$E2E_FAILED
  shift 2
  : >"$DETAILS"
  LOG_MARK=$(stat -c %s "$E2E_TMP/pipeline.log" 2>/dev/null || echo 0)
  "$@" >>"$DETAILS" 2>&1
  if [ "$E2E_FAILED" -eq "$before" ] && grep -q '^ok - ' "$DETAILS"; then
    CASES_PASSED=$((CASES_PASSED + 1))
    printf 'PASS %s %s\n' "$label" "$name"
  else
    CASES_FAILED=$((CASES_FAILED + 1))
    printf 'FAIL %s %s\n' "$label" "$name"
    grep -v '^ok - ' "$DETAILS" | tail -n 40 | sed 's/^/    /'
    printf '    --- pipeline log ---\n'
    tail -n 15 "$E2E_TMP/pipeline.log" | cut -c1-300 | sed 's/^/    /'
  fi
  stop_pipeline
}

# What everyone wrote on stderr during this case.
case_log() { tail -c +"$((LOG_MARK + 1))" "$E2E_TMP/pipeline.log"; }
# The helper's transaction line for the sender of example_mail's token.
helper_line() { case_log | grep "tlswrapper-smtp: info: .*mail from=<sender-$token@example.com>"; }

case_swaks_tls() {
  local kind=$1 path=$2 want
  start_front "$kind" "$path" "$E2E_EXIM" -bs || return
  example_mail "interop-$kind"
  # UCSPI-TLS names what was negotiated; tlswrapper's protocol says nothing.
  if [ "$kind" = tlswrapper ]; then want='tls=yes( |$)'; else want='tls=TLSv1\.[23]/[A-Z0-9_-]+( |$)'; fi
  sleep 0.5
  printf 'helper: %s\n' "$(helper_line)"
  check "the helper's log line: reply=250 and $want" grep -qE "reply=250 .*$want" <(helper_line)
}

# A front's handshake can fail by a race (s6 with libtls on a socket left
# non-blocking: a fast client's answer is sometimes there in time), so the
# TLS cases below run SESSIONS sessions each.
SESSIONS=${INTEROP_SESSIONS:-5}

case_openssl() {
  local kind=$1 path=$2 out rc i
  start_front "$kind" "$path" "$E2E_EXIM" -bs || return
  for i in $(seq 1 "$SESSIONS"); do
    out=$(printf 'EHLO client.example\r\nQUIT\r\n' |
      timeout 30 openssl s_client -starttls smtp -connect "127.0.0.1:$E2E_PORT" -servername localhost -ign_eof 2>&1)
    rc=$?
    sed -n '/^---$/,$p' <<<"$out" | grep -vE '^( {4}|[A-Za-z0-9+/=]{64}$)' | tail -n 12
    check "$i: openssl s_client exits 0 (rc=$rc)" [ $rc -eq 0 ]
    check "$i: EHLO answered over TLS" grep -q '^250[ -]' <<<"$out"
    check "$i: 221 after QUIT" grep -q '^221' <<<"$out"
    check "$i: a clean close: no unexpected eof, no error" bash -c '! grep -qiE "unexpected eof|:error:" <<<"$1"' _ "$out"
  done
}

case_pipelined() {
  local kind=$1 path=$2 rec i
  rec=$(recorder_dir)
  start_front "$kind" "$path" "$PYTHON" "$E2E_RECORDER" "$rec" || return
  for i in $(seq 1 "$SESSIONS"); do
  run_py "$i: STARTTLS and a MAIL in one write" TRANSCRIPT="$E2E_TMP/pipelined.txt" <<'EOF'
import os
from smtpclient import Client, Checks, Timeout, ProtocolError, port_from_env
t = Checks()
c = Client("127.0.0.1", port_from_env(), timeout=15, transcript=os.environ["TRANSCRIPT"])
try:
    t.ok(c.read_reply().code == 220, "greeting")
    t.ok(c.cmd("EHLO client.example").code == 250, "EHLO")
    t.ok(c.starttls(extra=b"MAIL FROM:<evil@example.com>\r\n").code == 220, "STARTTLS + MAIL -> 220, handshake")
    r = c.cmd("EHLO client.example")
    t.ok(r.code == 250 and "STARTTLS" not in r.text, "EHLO over TLS, no STARTTLS offered", r.text)
    t.ok(c.cmd("MAIL FROM:<good@example.com>").code == 250, "MAIL over TLS: 250, not 503")
    t.ok(c.cmd("QUIT").code == 221, "QUIT")
except (Timeout, ProtocolError, OSError) as e:
    t.ok(False, "dialogue completed", "%s: %s" % (type(e).__name__, e))
c.close()
t.exit()
EOF
  done
  sleep 0.5
  check "the pipelined MAIL never reached the server" bash -c '! grep -q "evil@example.com" "$1/commands.log"' _ "$rec"
  check "the MAIL sent over TLS did, in every session" \
    [ "$(grep -c "good@example.com" "$rec/commands.log")" -eq "$SESSIONS" ]
  check "the helper logged the 30 discarded bytes, in every session" \
    [ "$(case_log | grep -c "discarded 30 bytes")" -eq "$SESSIONS" ]
}

case_plaintext() {
  local kind=$1 path=$2 out rc
  start_front "$kind" "$path" "$E2E_EXIM" -bs || return
  token="interop-plain-$kind-$$-$RANDOM$RANDOM"
  out=$(timeout -k 2 40 swaks --server "127.0.0.1:$E2E_PORT" --timeout 20 --ehlo client.example \
    --from "sender-$token@example.com" --to "$E2E_RCPT" --header "Subject: $token" --body "body $token" 2>&1)
  rc=$?
  sed 's/^/  /' <<<"$out" | tail -n 12
  check "swaks (no TLS) exits 0" [ $rc -eq 0 ]
  check "no TLS in the session" bash -c '! grep -q "TLS started" <<<"$1"' _ "$out"
  if wait_for_delivery "$token" 20; then pass "delivered: $E2E_DELIVERED"; rm -f "$E2E_DELIVERED"; else fail "not delivered"; fi
  sleep 0.5
  printf 'helper: %s\n' "$(helper_line)"
  check "the helper's log line: reply=250 tls=no" grep -qE "reply=250 .*tls=no( |$)" <(helper_line)
}

case_child_env() {
  local kind=$1 path=$2 greeting
  FAKE_MODE=fds FAKE_DIR=$E2E_TMP start_front "$kind" "$path" "$PYTHON" "$FAKE" || return
  greeting=$(timeout 15 "$PYTHON" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
print(s.recv(4096).decode(errors="replace").strip())
s.sendall(b"QUIT\r\n"); s.recv(4096)' "$E2E_PORT" 2>&1)
  printf 'greeting: %s\n' "$greeting"
  check "the child has fds 0, 1, 2 only" grep -q " fds=0,1,2 " <<<"$greeting"
  check "no SSLCTLFD, SSLREADFD, SSLWRITEFD, CERTFILE or KEYFILE in its environment" grep -q " front=-" <<<"$greeting"
}

for f in "${fronts[@]}"; do
  kind=${f%%:*}
  path=${f#*:}
  case $kind in
    s6)
      lib=bearssl
      ldd "$path/s6-tlsd-io" 2>/dev/null | grep -q 'libtls' && lib=libtls
      label="s6-$lib" ;;
    *) label=$kind ;;
  esac
  printf '# %s: %s\n' "$label" "$path"
  for c in swaks-tls openssl pipelined plaintext child-env; do
    run_case "$label" "$c" "case_${c//-/_}" "$kind" "$path"
  done
done

printf '%d passed, %d failed\n' "$CASES_PASSED" "$CASES_FAILED"
[ "$CASES_FAILED" -eq 0 ]
