#!/bin/bash
# The main job, for real, on loopback: builds tlswrapper-smtp and puts it in
# the pipeline an admin would run,
#   tcpserver -> tlswrapper -n (fresh self-signed certificate)
#             -> tlswrapper-smtp -v -> exim4 -bs
# sends one mail through it with `swaks --tls`, prints the SMTP transcript,
# the helper's log lines and where exim delivered the mail, then stops
# everything it started. Run as root on a Debian machine.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
cmake -S . -B build -DTWS_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
helper=$(pwd)/build/tlswrapper-smtp

set +e
. tests/e2e/lib.sh
e2e_init "$helper"
e2e_setup
start_pipeline "$helper" || e2e_finish
echo "== pipeline on 127.0.0.1:$E2E_PORT:"
echo "   tcpserver -> tlswrapper -n -f cert.pem -> $helper -v -> exim4 -bs"
token="demo-$$-$RANDOM"
echo
echo "== swaks --tls transcript"
timeout -k 2 40 swaks --server "127.0.0.1:$E2E_PORT" --tls --timeout 20 \
  --ehlo client.example --from "sender@example.com" --to "$E2E_RCPT" \
  --header "Subject: tlswrapper-smtp demo $token" --body "Hello over STARTTLS ($token)."
rc=$?
echo
if wait_for_delivery "$token" 20; then
  echo "== exim delivered the mail to $E2E_DELIVERED:"
  sed 's/^/   /' "$E2E_DELIVERED"
  pass "mail delivered"
else
  fail "mail not delivered (swaks exit $rc)"
fi
stop_pipeline
echo
echo "== tlswrapper-smtp's log lines (stderr of the pipeline):"
grep 'tlswrapper-smtp:' "$E2E_TMP"/pipeline.log 2>/dev/null | sed 's/^/   /'
[ "$rc" -eq 0 ] || fail "swaks exited $rc"
e2e_finish
