#!/bin/bash
# openssl s_client -starttls smtp through the pipeline (exim4 -bs behind):
# the STARTTLS dialogue s_client drives itself works, the TLS handshake
# completes with the test certificate (verified against it: "Verification:
# OK"), a cipher is negotiated, and SMTP works inside TLS afterwards (EHLO
# -> 250, QUIT -> 221).
# Usage: t_openssl_handshake.sh HELPER
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_setup
start_pipeline "$E2E_HELPER" || e2e_finish

out=$E2E_TMP/s_client.txt
# -ign_eof: keep reading after our stdin ends, until the server closes
# (after QUIT); -nocommands: a line starting with Q or R is sent, not taken
# as a command.  Each line gets a short delay: s_client sends stdin as it
# reads it, and the replies must not be confused with the handshake output.
{
  sleep 1
  printf 'EHLO openssl.example\n'
  sleep 1
  printf 'NOOP\n'
  sleep 0.5
  printf 'QUIT\n'
  sleep 2
} | timeout -k 2 20 openssl s_client -starttls smtp -name openssl.example \
  -connect "127.0.0.1:$E2E_PORT" -servername localhost \
  -CAfile "$E2E_TMP/crt.pem" -verify_hostname localhost \
  -crlf -ign_eof -nocommands >"$out" 2>&1
rc=$?
grep -vE '^(    |[A-Za-z0-9+/=]{64}$)' "$out" | sed 's/^/    /' | head -n 80

check "s_client exits 0 (server closed after QUIT; rc=$rc)" [ $rc -eq 0 ]
check "handshake done: 'SSL handshake has read' line" grep -q '^SSL handshake has read [1-9]' "$out"
check "server certificate is the test certificate (subject CN = localhost)" \
  grep -qE '^subject=.*CN ?= ?localhost' "$out"
check "Verification: OK (against the test certificate)" grep -q '^Verification: OK' "$out"
check "Verify return code: 0 (ok)" grep -q 'Verify return code: 0 (ok)' "$out"
check "a cipher was negotiated (not NONE)" \
  grep -qE '^(New, TLSv1\.[23], Cipher is [A-Z0-9-]+|    Cipher    : [A-Z0-9-]+)$' "$out"
check "protocol is TLSv1.2 or TLSv1.3" grep -qE '^ +Protocol +: TLSv1\.[23]$' "$out"
check "EHLO inside TLS answered 250 (multi-line)" \
  grep -qE '^250-[^ ]+ Hello .*openssl\.example' "$out"
check "NOOP inside TLS answered 250" grep -qE '^250 OK' <(sed -n '/^250 HELP/,$p' "$out")
check "QUIT inside TLS answered 221" grep -qE '^221 ' "$out"
check "no TLS alert or handshake error" bash -c "! grep -qiE 'alert|handshake failure|:error:' '$out'"

stop_pipeline
e2e_finish
