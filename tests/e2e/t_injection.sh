#!/bin/bash
# STARTTLS command injection (the CVE-2011-0411 class).  The client sends
#   "STARTTLS\r\nMAIL FROM:<inject-TOKEN@example.com>\r\n"
# in ONE write, reads the 220, does the TLS handshake, then EHLO, MAIL,
# RCPT, DATA, NOOP, QUIT over TLS.  The injected plaintext MAIL must be
# discarded, never executed:
#  - replies stay in step: the first EHLO over TLS (sent at once, as real
#    clients do) gets a multi-line EHLO reply, not the injected MAIL's
#    "250 OK"; MAIL over TLS gets a one-line 250 (not 503 "nested MAIL"),
#    and so on to QUIT, with nothing left over.  The dialogue stops at the
#    first reply out of step;
#  - with exim4 -bs behind: the delivered message has the TLS sender as its
#    Return-path and exim's mainlog never mentions the injected address;
#  - with the recording server behind: the injected command line never
#    reached the server at all (its command log).
# Usage: t_injection.sh HELPER
# shellcheck disable=SC2016  # bash -c scripts take their values as arguments
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_setup

read -r -d '' DIALOGUE <<'EOF'
import os
from smtpclient import Client, Checks, Timeout, ProtocolError, port_from_env
t = Checks()
tok = os.environ["TOKEN"]
c = Client("127.0.0.1", port_from_env(), timeout=8, transcript=os.environ["TRANSCRIPT"])

class OutOfStep(Exception):
    pass

def expect(r, code, what, lines=None):
    """One check; a wrong reply means the dialogue is out of step: stop."""
    good = r.code == code and (lines is None or (lines == "many") == (len(r.lines) > 1))
    t.ok(good, what, r.text)
    if not good:
        raise OutOfStep(what)

try:
    expect(c.read_reply(), 220, "greeting 220")
    r = c.cmd("EHLO client.example")
    expect(r, 250, "plaintext EHLO -> 250", "many")
    t.ok("STARTTLS" in r.keywords(), "plaintext EHLO offers STARTTLS", r.text)
    injected = b"MAIL FROM:<inject-%s@example.com>\r\n" % tok.encode()
    s = c.starttls(extra=injected)
    expect(s, 220, "STARTTLS (sent with the injected MAIL in one write) -> 220")
    t.ok(c.plain_after_220 == b"", "no cleartext bytes after the 220", repr(c.plain_after_220))
    # A real client talks at once after the handshake: no waiting here.
    r = c.cmd("EHLO client.example")
    expect(r, 250, "EHLO over TLS -> its own multi-line 250 (a one-line '250 OK' "
           "would be the injected MAIL's reply)", "many")
    r = c.cmd("MAIL FROM:<tls-%s@example.com>" % tok)
    expect(r, 250, "MAIL over TLS -> one-line 250 (503 would mean the injected MAIL ran)", "one")
    r = c.cmd("RCPT TO:<%s>" % os.environ["E2E_RCPT"])
    expect(r, 250, "RCPT over TLS -> one-line 250", "one")
    expect(c.cmd("DATA"), 354, "DATA over TLS -> 354")
    c.send(("From: tls-%s@example.com\r\nTo: %s\r\nSubject: injection %s\r\n"
            "Message-Id: <%s@example.com>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n"
            "body %s\r\n.\r\n" % (tok, os.environ["E2E_RCPT"], tok, tok, tok)).encode())
    expect(c.read_reply(), 250, "end of DATA -> 250", "one")
    expect(c.cmd("NOOP"), 250, "NOOP -> 250", "one")
    expect(c.cmd("QUIT"), 221, "QUIT -> 221")
    extra = c.pending(1.0)
    t.ok(extra == b"", "no replies left over after QUIT", repr(extra))
except OutOfStep as e:
    print("# out of step at: %s; then unasked: %r" % (e, c.pending(1.0)))
except (Timeout, ProtocolError, OSError) as e:
    t.ok(False, "dialogue completed", "%s: %s" % (type(e).__name__, e))
c.close()
t.exit()
EOF

# ---- 1: exim4 -bs behind the helper ----------------------------------------
token="inj$$x$RANDOM$RANDOM"
mark=$(exim_log_mark)
start_pipeline "$E2E_HELPER" || e2e_finish
run_py "exim: replies in step after STARTTLS+MAIL in one packet" \
  TOKEN="$token" TRANSCRIPT="$E2E_TMP/client-exim.txt" <<<"$DIALOGUE" && wait=20 || wait=3
if wait_for_delivery "body $token" "$wait"; then
  pass "exim: message sent over TLS delivered ($E2E_DELIVERED)"
  check "exim: delivered Return-path is the TLS sender, not the injected one" \
    grep -qi "^Return-path: <tls-$token@example.com>" "$E2E_DELIVERED"
  [ "${E2E_KEEP:-0}" = 1 ] || rm -f "$E2E_DELIVERED"
else
  fail "exim: message sent over TLS not delivered within $wait s"
fi
sleep 0.5
log=$(exim_log_since "$mark")
printf '%s\n' "$log" | sed 's/^/    mainlog: /'
check "exim: mainlog never mentions the injected sender inject-$token" \
  bash -c '! grep -q "inject-$1" <<<"$2"' _ "$token" "$log"
check "exim: mainlog shows no SMTP protocol error/synchronization error" \
  bash -c '! grep -qiE "protocol error|synchronization error" <<<"$1"' _ "$log"
stop_pipeline

# ---- 2: the recording server behind the helper -----------------------------
rec=$(recorder_dir)
token="inj$$y$RANDOM$RANDOM"
start_pipeline "$E2E_HELPER" -- "$PYTHON" "$E2E_RECORDER" "$rec" || e2e_finish
run_py "recorder: replies in step after STARTTLS+MAIL in one packet" \
  TOKEN="$token" TRANSCRIPT="$E2E_TMP/client-rec.txt" <<<"$DIALOGUE"
stop_pipeline
e2e_log "commands the recording server received:"
sed 's/^/    /' "$rec/commands.log" 2>/dev/null
check "recorder: the injected MAIL never reached the server" \
  bash -c '[ -s "$1/commands.log" ] && ! grep -q "inject-$2" "$1/commands.log"' _ "$rec" "$token"
check "recorder: no STARTTLS reached the server" \
  bash -c '! grep -qi "STARTTLS" "$1/commands.log"' _ "$rec"
check "recorder: the message's envelope sender is the TLS one" \
  bash -c 'grep -qs "MAIL FROM:<tls-$2@example.com>" "$1"/msg-*.env' _ "$rec" "$token"

e2e_finish
