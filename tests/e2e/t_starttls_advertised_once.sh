#!/bin/bash
# STARTTLS advertisement, with exim4 -bs behind (exim offers STARTTLS
# itself, which the helper must not pass on):
#  - the plaintext EHLO reply is well formed and names STARTTLS exactly once;
#  - after the handshake nothing arrives unasked, and the EHLO reply inside
#    TLS names no STARTTLS at all (RFC 3207);
#  - a second STARTTLS inside TLS is refused (5xx) and the session goes on;
#  - the same counts seen by swaks (plaintext "<-" vs TLS "<~" lines).
# Usage: t_starttls_advertised_once.sh HELPER
# shellcheck disable=SC2016  # bash -c scripts take their values as arguments
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_setup
start_pipeline "$E2E_HELPER" || e2e_finish

run_py "python client: STARTTLS advertised once in plaintext, never inside TLS" \
  TRANSCRIPT="$E2E_TMP/client.txt" <<'EOF'
import os
from smtpclient import Client, Checks, Timeout, ProtocolError, port_from_env
t = Checks()
c = Client("127.0.0.1", port_from_env(), timeout=10, transcript=os.environ["TRANSCRIPT"])
try:
    g = c.read_reply()
    t.ok(g.code == 220, "greeting 220", g.text)
    r = c.cmd("EHLO client.example")
    t.ok(r.code == 250 and len(r.lines) > 1, "plaintext EHLO -> multi-line 250", r.text)
    kw = r.keywords()
    print("# plaintext EHLO keywords: %s" % " ".join(kw))
    t.ok(kw.count("STARTTLS") == 1, "plaintext EHLO names STARTTLS exactly once",
         "%d times" % kw.count("STARTTLS"))
    t.ok(all(l[3] == "-" for l in r.lines[:-1]) and r.lines[-1][3:4] in (" ", ""),
         "plaintext EHLO reply: '250-' lines then one final '250 ' line", r.text)
    for k in ("PIPELINING", "8BITMIME", "CHUNKING", "SIZE"):
        t.ok(k in kw, "plaintext EHLO passes the server's %s" % k)
    s = c.starttls()
    t.ok(s.code == 220, "STARTTLS -> 220", s.text)
    t.ok(c.plain_after_220 == b"", "no cleartext bytes after the 220", repr(c.plain_after_220))
    t.ok(c.tls, "TLS handshake completed")
    extra = c.pending(1.0)
    t.ok(extra == b"", "nothing arrives unasked after the handshake", repr(extra))
    r = c.cmd("EHLO client.example")
    kw = r.keywords()
    print("# EHLO keywords inside TLS: %s" % " ".join(kw))
    t.ok(r.code == 250 and len(r.lines) > 1, "EHLO inside TLS -> multi-line 250", r.text)
    t.ok(r.lines[0].split(" ")[0][4:] != "STARTTLS" and len(r.lines[0]) > 4,
         "EHLO reply inside TLS starts with the server's greeting line", r.lines[0])
    t.ok("STARTTLS" not in kw, "EHLO inside TLS names no STARTTLS",
         "%d times" % kw.count("STARTTLS"))
    for k in ("PIPELINING", "8BITMIME", "CHUNKING", "SIZE"):
        t.ok(k in kw, "EHLO inside TLS passes the server's %s" % k)
    r = c.cmd("STARTTLS")
    t.ok(500 <= r.code < 600, "second STARTTLS inside TLS refused with 5xx", r.text)
    r = c.cmd("NOOP")
    t.ok(r.code == 250, "NOOP after the refused STARTTLS -> 250", r.text)
    r = c.cmd("QUIT")
    t.ok(r.code == 221, "QUIT -> 221", r.text)
except (Timeout, ProtocolError, OSError) as e:
    t.ok(False, "dialogue completed", "%s: %s" % (type(e).__name__, e))
c.close()
t.exit()
EOF

# The same counts from swaks's transcript.
out=$E2E_TMP/swaks.txt
timeout -k 2 40 swaks --server "127.0.0.1:$E2E_PORT" --tls --timeout 20 \
  --ehlo client.example --from "x@example.com" --to "$E2E_RCPT" --quit-after EHLO >"$out" 2>&1
rc=$?
sed 's/^/    /' "$out"
check "swaks --tls --quit-after EHLO exits 0" [ $rc -eq 0 ]
n_plain=$(grep -cE '^<-  250[- ]STARTTLS' "$out")
n_tls=$(grep -cE '^<~  250[- ]STARTTLS' "$out")
check "swaks: plaintext EHLO names STARTTLS once (saw $n_plain)" [ "$n_plain" -eq 1 ]
check "swaks: EHLO inside TLS names no STARTTLS (saw $n_tls)" [ "$n_tls" -eq 0 ]
check "swaks: EHLO inside TLS happened" grep -qE '^<~  250 ' "$out"

stop_pipeline
e2e_finish
