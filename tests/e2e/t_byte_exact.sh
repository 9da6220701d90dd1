#!/bin/bash
# Message bodies pass byte for byte (RFC 5321 4.5.2: the proxy must not
# alter one byte of an accepted message).  The recording server stands
# behind the helper; over TLS the client sends, each by DATA in its own
# transaction:
#   a 5000-byte line, a 70000-byte line, all 128 8-bit byte values, NUL
#   bytes, dot-stuffed lines (".", "..", ".x", a leading "." on the first
#   line), bare LF with a bare "<LF>.<LF>" (SMTP smuggling), bare CR, and
#   one line holding all 256 byte values;
# each in its own session, and compares, for each, what the server got:
#   msg-*.raw == the dot-stuffed bytes the client sent (terminator excluded)
#   msg-*.eml == the message before stuffing,
# except for the one documented change: a "." between line breaks where a
# break is a bare CR or LF gets a second "." (smuggling_escape), so no
# lenient server can take it for the end of the message.
# A helper that rewrites bare LF to CRLF or NUL to a line break splits the
# smuggling case into two messages or changes the bytes: both show here.
# Usage: t_byte_exact.sh HELPER
# shellcheck disable=SC2016  # bash -c scripts take their values as arguments
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_setup

rec=$(recorder_dir)
start_pipeline "$E2E_HELPER" -- "$PYTHON" "$E2E_RECORDER" "$rec" || e2e_finish
run_py "DATA bodies reach the server byte for byte" \
  RECDIR="$rec" TRANSCRIPT="$E2E_TMP/client.txt" <<'EOF'
import os
from smtpclient import Client, Checks, Timeout, ProtocolError, port_from_env, dot_stuff
from smtpclient import smuggling_escape
t = Checks()
rec = os.environ["RECDIR"]
H = b"Subject: byte-exact %s\r\n\r\n"
cases = [
    ("5000-byte line", H % b"5000" + b"a" * 5000 + b"\r\nend\r\n"),
    ("70000-byte line", H % b"70000" + bytes(range(65, 91)) * 2692 + b"ab\r\nend\r\n"),
    ("8-bit bytes", H % b"8bit" + bytes(range(128, 256)) + b"\r\n\xc3\xa9t\xc3\xa9 \xe2\x82\xac\r\n"),
    ("NUL bytes", H % b"nul" + b"a\x00b\r\n\x00\r\n\x00\x00\x00end\r\n"),
    ("dot-stuffed lines", b".first line starts with a dot\r\n" + H % b"dots"
        + b".\r\n..\r\n.x\r\n...\r\n. \r\nmid.dle\r\n.\r\n"),
    ("bare LF and <LF>.<LF> (smuggling)", H % b"barelf" + b"one\ntwo\n.\nMAIL FROM:<smuggled@example.com>\n"
        + b"three\r\n"),
    ("bare CR", H % b"barecr" + b"one\rtwo\r.\r\rthree\r\n"),
    ("all 256 byte values", H % b"all256" + bytes(range(256)) + b"\r\n"),
]

def record(reply, ext):
    name = reply.lines[-1].split("recorded ")[-1].split(" ")[0]
    try:
        return open(os.path.join(rec, name + ext), "rb").read()
    except OSError:
        return None

def first_diff(a, b):
    if a is None:
        return "no record"
    n = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    return "got %d bytes, want %d; first difference at %d: got %r want %r" % (
        len(a), len(b), n, a[n:n + 20], b[n:n + 20])

def session(i, what, msg):
    """One case, one connection: a failure cannot spill into the next."""
    c = Client("127.0.0.1", port_from_env(), timeout=10, transcript=os.environ["TRANSCRIPT"])
    try:
        t.ok(c.read_reply().code == 220, "%s: greeting 220" % what)
        t.ok(c.cmd("EHLO client.example").code == 250, "%s: plaintext EHLO -> 250" % what)
        s = c.starttls()
        if not t.ok(s.code == 220 and c.tls, "%s: STARTTLS -> 220, handshake done" % what, s.text):
            return
        r = c.cmd("EHLO client.example")
        t.ok(r.code == 250 and "8BITMIME" in r.keywords(), "%s: EHLO over TLS -> 250 with 8BITMIME"
             % what, r.text)
        r = c.cmd("MAIL FROM:<exact%d@example.com> BODY=8BITMIME" % i)
        t.ok(r.code == 250, "%s: MAIL -> 250" % what, r.text)
        t.ok(c.cmd("RCPT TO:<exact@example.org>").code == 250, "%s: RCPT -> 250" % what)
        r = c.cmd("DATA")
        if not t.ok(r.code == 354, "%s: DATA -> 354" % what, r.text):
            return
        stuffed = dot_stuff(msg)
        c.send(stuffed)
        r = c.read_reply()
        t.ok(r.code == 250 and "recorded" in r.text, "%s: end of DATA -> one 250" % what, r.text)
        raw, eml = record(r, ".raw"), record(r, ".eml")
        want_raw, want_eml = smuggling_escape(stuffed[:-3]), smuggling_escape(msg)
        t.ok(raw == want_raw, "%s: server got the stuffed bytes unchanged (%d bytes)"
             % (what, len(stuffed) - 3), first_diff(raw, want_raw))
        t.ok(eml == want_eml, "%s: message after unstuffing equals the original" % what,
             first_diff(eml, want_eml))
        extra = c.pending(0.3)
        t.ok(extra == b"", "%s: no extra reply (message not split)" % what, repr(extra))
        r = c.cmd("NOOP")
        t.ok(r.code == 250 and len(r.lines) == 1, "%s: NOOP -> 250 (still in step)" % what, r.text)
        t.ok(c.cmd("QUIT").code == 221, "%s: QUIT -> 221" % what)
    except (Timeout, ProtocolError, OSError) as e:
        t.ok(False, "%s: dialogue completed" % what, "%s: %s" % (type(e).__name__, e))
    finally:
        c.close()

for i, (what, msg) in enumerate(cases):
    session(i, what, msg)
t.exit()
EOF
stop_pipeline
n=$(find "$rec" -name "msg-*.eml" | wc -l)
check "the server recorded exactly 8 messages (recorded $n)" [ "$n" -eq 8 ]
check "no smuggled command reached the server" \
  bash -c '! grep -q "smuggled@example.com" "$1/commands.log"' _ "$rec"

e2e_finish
