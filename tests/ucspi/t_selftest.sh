#!/bin/bash
# Self-test of the UCSPI-TLS test peer (ucspi_tls_server.py), before the
# helper speaks UCSPI-TLS: behind it runs ucspi_selftest_smtpd.py, a small
# SMTP server that speaks the protocol itself.  For each flavour (s6,
# s6-new, sslserver): openssl s_client -starttls smtp, swaks --tls with a
# message, python smtplib starttls(); then the program's descriptors and
# environment, the answer to Y, how TLS ends, two sessions at once, and
# each quirk of the shared notes (PEERS.md): declining TLS, a failed
# handshake, `y`, SIGTERM when sslserver's TLS session ends; then the
# options -S, -e, TLS 1.2 and extra answer entries, the watchdog, and that
# the peer listens on 127.0.0.1 only and leaves no process behind.
# Checks are on the clients' transcripts, the peer's JSON log and the
# program's own record.
# Usage: t_selftest.sh [HELPER]   (the helper is not used)
: "${E2E_TIMEOUT:=90}"
. "$(dirname "$0")/lib.sh"
# shellcheck disable=SC2119  # no helper: the peer is what is tested
ucspi_init
ucspi_setup

SMTPD=("$PYTHON" "$UCSPI_SMTPD")
# The peer's environment names other TLS files: s6 must remove them,
# sslserver must leave its own.
export CERTFILE=/nonexistent/inherited-cert.pem KEYFILE=/nonexistent/inherited-key.pem

# scenario NAME FLAVOUR REC: one scenario of ucspi_selftest_client.py (its
# own ok/not ok lines, indented), counted as one check.
scenario() {
  run_py "$2: $1" <<EOF
import ucspi_selftest_client as t
t.run("$1", "$2", "$3")
EOF
}

# listens_on_loopback_only PORT: a listener on 127.0.0.1:PORT, none on
# another address with that port.
# shellcheck disable=SC2317  # called through check
listens_on_loopback_only() {
  "$PYTHON" - "$1" <<'EOF'
import sys
want = ":%04X" % int(sys.argv[1])
found = []
for path in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        lines = open(path).read().splitlines()[1:]
    except OSError:
        continue
    for line in lines:
        f = line.split()
        if f[3] == "0A" and f[1].endswith(want):
            found.append(f[1])
sys.exit(0 if found == ["0100007F" + want] else 1)
EOF
}

for fl in s6 s6-new sslserver; do
  rec=$E2E_TMP/smtpd-$fl.jsonl
  start_ucspi "$fl" -- "${SMTPD[@]}" --record "$rec" || continue
  pgid=$UCSPI_PID
  check "$fl: the peer listens on 127.0.0.1:$UCSPI_PORT only" listens_on_loopback_only "$UCSPI_PORT"

  # openssl s_client: STARTTLS dialogue, handshake verified against the
  # test certificate, EHLO and QUIT inside TLS.
  out=$E2E_TMP/s_client-$fl.txt
  {
    sleep 0.6
    printf 'EHLO openssl.example\n'
    sleep 0.3
    printf 'QUIT\n'
    sleep 0.6
  } | timeout -k 2 15 openssl s_client -starttls smtp -connect "127.0.0.1:$UCSPI_PORT" \
    -servername localhost -CAfile "$E2E_TMP/crt.pem" -verify_hostname localhost \
    -crlf -ign_eof -nocommands >"$out" 2>&1
  grep -E '^(New,|Verification|250[- ]|221|    Protocol)' "$out" | sed 's/^/    /'
  check "$fl: s_client: handshake, TLSv1.3" grep -q '^New, TLSv1.3, Cipher is TLS_' "$out"
  check "$fl: s_client: Verification: OK" grep -q '^Verification: OK' "$out"
  check "$fl: s_client: EHLO inside TLS answered by the program" grep -q '^250-selftest.example hello' "$out"
  check "$fl: s_client: QUIT inside TLS answered 221" grep -q '^221 2.0.0 bye' "$out"
  ucspi_wait_log 1 || fail "$fl: no log record for the s_client session"
  ucspi_check_log "$fl: log: s_client session: Y, handshake ok, SNI localhost, exit 0" \
    'r["command"] == "Y" and r["handshake"] == "ok" and r["sni"] == "localhost" and r["exit_code"] == 0 and r["sigterm"] == []' 1

  # swaks: a whole message over TLS.
  token=ucspi-$fl-$$-$RANDOM
  out=$E2E_TMP/swaks-$fl.txt
  timeout -k 2 30 swaks --server "127.0.0.1:$UCSPI_PORT" --tls --timeout 10 \
    --ehlo client.example --from a@example.com --to b@example.org \
    --header "Subject: $token" --body "body line with $token" >"$out" 2>&1
  rc=$?
  grep -E '^(===|<~|<-|\*\*\*) ' "$out" | head -n 30 | sed 's/^/    /'
  check "$fl: swaks --tls exits 0" [ $rc -eq 0 ]
  check "$fl: swaks: TLS started" grep -q '^=== TLS started with cipher TLSv1.3' "$out"
  check "$fl: swaks: message accepted over TLS (250 after the dot)" \
    grep -qE '^<~  250 ' <(sed -n '/^ ~> \.$/,$p' "$out")
  ucspi_wait_log 2 || fail "$fl: no log record for the swaks session"
  check "$fl: the program got swaks's message over TLS" \
    "$PYTHON" -c 'import sys, ucspilog as u
sys.exit(not any(e["tls"] and sys.argv[2] in e["head"] for e in u.prog_events(sys.argv[1], event="message")))' "$rec" "$token"

  for s in basic decline bad_handshake lower_y linger; do
    scenario "$s" "$fl" "$rec"
  done
  [ "$fl" = s6 ] && scenario concurrent "$fl" "$rec"
  ucspi_check_log "$fl: log: no connection aborted or killed by the peer" \
    'all(x["aborted"] is None and x["killed"] is None for x in __import__("ucspilog").peer_records())'
  stop_ucspi
  check "$fl: nothing left of the peer's process group after stop_ucspi" \
    bash -c "! kill -0 -- -$pgid 2>/dev/null"
done

# Options.
rec=$E2E_TMP/smtpd-opts.jsonl
start_ucspi s6 --close-notify -- "${SMTPD[@]}" --record "$rec" &&
  scenario close_notify_option s6 "$rec"
start_ucspi sslserver --env-tcp -- "${SMTPD[@]}" --record "$rec" &&
  scenario env_tcp sslserver "$rec"
start_ucspi s6 --tls-version 1.2 --answer-extra X_EXTRA=a=b --answer-extra X_UNSET --answer-pad 300 \
  -- "${SMTPD[@]}" --record "$rec" &&
  scenario tls12_extra s6 "$rec"

# The program starts with no signal ignored or blocked (python, the peer,
# ignores SIGPIPE): it tells the client itself.
start_ucspi s6 -- sh -c 'exec grep -E "^Sig(Ign|Blk)" /proc/self/status' &&
  check "the program's signal dispositions: nothing ignored, nothing blocked" "$PYTHON" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
data = b""
while True:
    more = s.recv(4096)
    if not more:
        break
    data += more
print("    " + data.decode().replace("\n", " ").replace("\t", " "))
sys.exit(data != b"SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n")' "$UCSPI_PORT"

# The watchdog: a program that never ends is killed, and logged.
start_ucspi s6 --conn-timeout 2 -- sleep 30 &&
  scenario watchdog s6 "$rec"
pgid=$UCSPI_PID
stop_ucspi
check "watchdog: nothing left of the peer's process group" bash -c "! kill -0 -- -$pgid 2>/dev/null"

e2e_finish
