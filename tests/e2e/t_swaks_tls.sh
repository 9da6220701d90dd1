#!/bin/bash
# swaks --tls through tcpserver -> tlswrapper -n -> HELPER -> exim4 -bs:
# STARTTLS is offered and works, the message is accepted (250) and exim
# delivers it (the unique token turns up in the test maildir).
# Usage: t_swaks_tls.sh HELPER
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_setup
start_pipeline "$E2E_HELPER" || e2e_finish

token="swaks-tls-$$-$RANDOM$RANDOM"
out=$E2E_TMP/swaks.txt
mark=$(exim_log_mark)
timeout -k 2 40 swaks --server "127.0.0.1:$E2E_PORT" --tls --timeout 20 \
  --ehlo client.example --from "sender-$token@example.com" --to "$E2E_RCPT" \
  --header "Subject: e2e $token" --body "body line with $token" >"$out" 2>&1
rc=$?
sed 's/^/    /' "$out"

check "swaks exits 0 (every reply as expected)" [ $rc -eq 0 ]
check "STARTTLS offered in the plaintext EHLO reply" grep -qE '^<-  250[- ]STARTTLS' "$out"
check "STARTTLS answered 220" grep -qE '^<-  220 ' <(grep -A1 -E '^ -> STARTTLS' "$out")
check "TLS handshake completed" grep -q '^=== TLS started with cipher' "$out"
check "message accepted over TLS (250 after the dot)" \
  grep -qE '^<~  250 ' <(sed -n '/^ ~> \.$/,$p' "$out")
check "QUIT answered 221 over TLS" grep -qE '^<~  221 ' "$out"

if wait_for_delivery "$token" 20; then
  pass "delivered: $token found in $E2E_DELIVERED"
  check "delivered copy carries the body line" \
    grep -q "^body line with $token" "$E2E_DELIVERED"
  check "envelope sender kept (Return-path)" \
    grep -qi "^Return-path: <sender-$token@example.com>" "$E2E_DELIVERED"
  [ "${E2E_KEEP:-0}" = 1 ] || rm -f "$E2E_DELIVERED"
else
  fail "not delivered to $E2E_MAILDIR within 20 s (token $token)"
  exim_log_since "$mark" | sed 's/^/    mainlog: /'
fi
check "exim's mainlog records the arrival (<= sender-$token@example.com)" \
  grep -q "<= sender-$token@example.com" <(exim_log_since "$mark")

stop_pipeline
e2e_finish
