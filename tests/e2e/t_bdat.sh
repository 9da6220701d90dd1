#!/bin/bash
# BDAT (CHUNKING, RFC 3030) over TLS.  "BDAT n" is followed by exactly n raw
# bytes: no line structure, no dot-stuffing; one reply per chunk.
#  1. exim4 -bs behind: EHLO over TLS offers CHUNKING; MAIL, RCPT,
#     "BDAT n" + chunk 1 (ends mid-line, holds lines that look like SMTP
#     commands and a lone "."), "BDAT m LAST" + chunk 2; each chunk gets
#     its 250; the session goes on (RSET, NOOP -> 250, QUIT -> 221); exim
#     delivers the message and the delivered file ends with exactly the
#     sent message (exim stores lines with LF: CRLF compared as LF).
#  2. the recording server behind: the same message, then one with the
#     chunks pipelined (MAIL, RCPT, BDAT, BDAT LAST in one write) holding
#     NUL, bare CR, bare LF, 8-bit bytes and CRLF.CRLF, then one that ends
#     with "BDAT 0 LAST": each recorded byte for byte as sent.
# Usage: t_bdat.sh HELPER
# shellcheck disable=SC2016  # bash -c scripts take their values as arguments
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_setup

read -r -d '' DIALOGUE <<'EOF'
import os
from smtpclient import Client, Checks, Timeout, ProtocolError, port_from_env
t = Checks()
tok = os.environ["TOKEN"]
rcpt = os.environ["E2E_RCPT"]
rec = os.environ.get("RECDIR")

def message(tag):
    return (b"From: bdat-%s@example.com\r\nTo: %s\r\nSubject: bdat %s %s\r\n"
            b"Message-Id: <%s.%s@example.com>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n"
            b"first body line %s\r\nQUIT\r\nRSET\r\nMAIL FROM:<evil@example.com>\r\n"
            b".\r\n..two dots\r\n" % (tok.encode(), rcpt.encode(), tag, tok.encode(), tag,
                                      tok.encode(), tok.encode()) +
            b"x" * (3000 if rec else 900) + b"\r\nlast line\r\n")
    # exim 4.96 rejects a message with a line over 998 octets (550), so the
    # long line is kept under that for exim and only the recorder gets 3000.

def recorded(reply):
    """The record a recording-server reply names, or None."""
    if not rec:
        return None
    name = reply.lines[-1].split("recorded ")[-1].split(" ")[0]
    try:
        return open(os.path.join(rec, name + ".eml"), "rb").read()
    except OSError:
        return None

c = Client("127.0.0.1", port_from_env(), timeout=8, transcript=os.environ["TRANSCRIPT"])
try:
    t.ok(c.read_reply().code == 220, "greeting 220")
    t.ok(c.cmd("EHLO client.example").code == 250, "plaintext EHLO -> 250")
    s = c.starttls()
    t.ok(s.code == 220 and c.tls, "STARTTLS -> 220, handshake done", s.text)
    r = c.cmd("EHLO client.example")
    t.ok(r.code == 250 and "CHUNKING" in r.keywords(), "EHLO over TLS offers CHUNKING", r.text)

    # -- message 1: two chunks, one command and one reply at a time
    m1 = message(b"one")
    cut = m1.index(b"QUIT") + 2          # chunk 1 ends in the middle of a line
    t.ok(c.cmd("MAIL FROM:<bdat-%s@example.com>" % tok).code == 250, "MAIL -> 250")
    t.ok(c.cmd("RCPT TO:<%s>" % rcpt).code == 250, "RCPT -> 250")
    c.send(b"BDAT %d\r\n" % cut + m1[:cut])
    r = c.read_reply()
    t.ok(r.code == 250, "BDAT %d (no LAST) -> 250" % cut, r.text)
    c.send(b"BDAT %d LAST\r\n" % (len(m1) - cut) + m1[cut:])
    r = c.read_reply()
    t.ok(r.code == 250, "BDAT %d LAST -> 250" % (len(m1) - cut), r.text)
    if rec:
        got = recorded(r)
        t.ok(got == m1, "message 1 recorded byte for byte (%d bytes)" % len(m1),
             "got %r" % (got[:200] if got else got))

    if rec:
        # -- message 2: pipelined, binary chunks
        m2 = (b"Subject: bdat two %s\r\n\r\nNUL\x00byte, bare CR\rhere, bare LF\nthere\r\n"
              b"8-bit \xe9\xff\x80 bytes\r\n.\r\nafter a CRLF.CRLF\r\n\r\n.\r\n" % tok.encode())
        half = 37
        c.send(b"MAIL FROM:<bdat2-%s@example.com>\r\nRCPT TO:<%s>\r\n" % (tok.encode(), rcpt.encode())
               + b"BDAT %d\r\n" % half + m2[:half]
               + b"BDAT %d LAST\r\n" % (len(m2) - half) + m2[half:])
        codes = [c.read_reply() for _ in range(4)]
        t.ok([x.code for x in codes] == [250, 250, 250, 250],
             "pipelined MAIL, RCPT, BDAT, BDAT LAST -> four 250s in order",
             " / ".join(x.text for x in codes))
        got = recorded(codes[-1])
        t.ok(got == m2, "message 2 (NUL, bare CR/LF, 8-bit, CRLF.CRLF) recorded byte for byte",
             "got %r" % (got,))
        # -- message 3: ends with BDAT 0 LAST
        m3 = b"Subject: bdat three\r\n\r\nbody three\r\n"
        t.ok(c.cmd("MAIL FROM:<bdat3-%s@example.com>" % tok).code == 250, "MAIL (3) -> 250")
        t.ok(c.cmd("RCPT TO:<%s>" % rcpt).code == 250, "RCPT (3) -> 250")
        c.send(b"BDAT %d\r\n" % len(m3) + m3)
        t.ok(c.read_reply().code == 250, "BDAT %d -> 250" % len(m3))
        r = c.cmd("BDAT 0 LAST")
        t.ok(r.code == 250, "BDAT 0 LAST -> 250", r.text)
        got = recorded(r)
        t.ok(got == m3, "message 3 (BDAT 0 LAST) recorded byte for byte", "got %r" % (got,))

    r = c.cmd("RSET")
    t.ok(r.code == 250, "session goes on: RSET -> 250", r.text)
    r = c.cmd("NOOP")
    t.ok(r.code == 250, "session goes on: NOOP -> 250", r.text)
    r = c.cmd("QUIT")
    t.ok(r.code == 221, "QUIT -> 221", r.text)
    extra = c.pending(0.5)
    t.ok(extra == b"", "no replies left over", repr(extra))
    open(os.environ["SENT"], "wb").write(m1)
except (Timeout, ProtocolError, OSError) as e:
    t.ok(False, "dialogue completed", "%s: %s" % (type(e).__name__, e))
c.close()
t.exit()
EOF

# ---- 1: exim4 -bs ----------------------------------------------------------
token="bdat$$x$RANDOM$RANDOM"
mark=$(exim_log_mark)
start_pipeline "$E2E_HELPER" || e2e_finish
run_py "exim: BDAT over TLS, two chunks, session goes on" \
  TOKEN="$token" TRANSCRIPT="$E2E_TMP/client-exim.txt" SENT="$E2E_TMP/sent-exim.eml" \
  <<<"$DIALOGUE" && wait=20 || wait=3
if wait_for_delivery "first body line $token" "$wait"; then
  pass "exim: BDAT message delivered ($E2E_DELIVERED)"
  check "exim: delivered file ends with exactly the sent message (CRLF as LF)" \
    "$PYTHON" -c '
import sys
sent = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
got = open(sys.argv[2], "rb").read()
sys.exit(0 if got.endswith(b"\n" + sent) else 1)' "$E2E_TMP/sent-exim.eml" "$E2E_DELIVERED"
  [ "${E2E_KEEP:-0}" = 1 ] || rm -f "$E2E_DELIVERED"
else
  fail "exim: BDAT message not delivered within $wait s"
fi
sleep 0.3
log=$(exim_log_since "$mark")
printf '%s\n' "$log" | sed 's/^/    mainlog: /'
check "exim: mainlog shows no SMTP protocol error (chunk bytes read as commands)" \
  bash -c '! grep -qiE "protocol error|synchronization error" <<<"$1"' _ "$log"
stop_pipeline

# ---- 2: the recording server ------------------------------------------------
rec=$(recorder_dir)
token="bdat$$y$RANDOM$RANDOM"
start_pipeline "$E2E_HELPER" -- "$PYTHON" "$E2E_RECORDER" "$rec" || e2e_finish
run_py "recorder: BDAT chunks byte-exact, pipelined, BDAT 0 LAST" \
  TOKEN="$token" RECDIR="$rec" TRANSCRIPT="$E2E_TMP/client-rec.txt" SENT="$E2E_TMP/sent-rec.eml" \
  <<<"$DIALOGUE"
stop_pipeline
check "recorder: no chunk byte was taken for a command (no 'evil' MAIL in the command log)" \
  bash -c '[ -s "$1/commands.log" ] && ! grep -q "evil@example.com" "$1/commands.log"' _ "$rec"

e2e_finish
