#!/bin/bash
# tlswrapper-smtp behind each UCSPI-TLS front the peer plays (s6-ucspitlsd
# 2.5.1.3, a later s6 with other descriptor numbers, sslserver -n), chosen
# by the helper from SSLCTLFD/SSLREADFD/SSLWRITEFD with no option:
#  - swaks --tls: a mail through exim4 -bs, delivered, the helper's log line
#    naming the negotiated protocol and cipher (tls=TLSv1.3/...);
#  - bytes exact over TLS to the recording server (NUL, 8-bit, long lines);
#  - openssl s_client -starttls smtp completes the handshake;
#  - the child inherits no front descriptor or variable (CERTFILE ...);
#  - the helper sends Y, reads the answer to its end and never closes the
#    control socket early: no SIGTERM from sslserver, no hang under it;
#  - plaintext pipelined after STARTTLS is never executed;
#  - a failed handshake ends the helper (111) with no plaintext reply;
#  - the client address comes from SSLREMOTEIP under sslserver (PROTO=SSL).
# Usage: t_helper.sh HELPER
. "$(dirname "$0")/lib.sh"
ucspi_init "$@"
e2e_setup
FAKE=$UCSPI_DIR/../binary/fake_smtpd.py

read -r -d '' BYTES <<'EOF'
import os
from smtpclient import Client, Checks, Timeout, ProtocolError, port_from_env, dot_stuff
t = Checks()
c = Client("127.0.0.1", port_from_env(), timeout=10, transcript=os.environ["TRANSCRIPT"])
body = (b"Subject: bytes\r\n\r\n" + bytes(range(1, 256)) + b"\r\nNUL\x00here\r\n"
        + b"x" * 70000 + b"\r\n.dot first\r\n")
try:
    t.ok(c.read_reply().code == 220, "greeting")
    t.ok(c.cmd("EHLO client.example").code == 250, "EHLO")
    t.ok(c.starttls().code == 220, "STARTTLS, handshake")
    t.ok(c.cmd("EHLO client.example").code == 250, "EHLO over TLS")
    t.ok(c.cmd("MAIL FROM:<a@example.com>").code == 250, "MAIL")
    t.ok(c.cmd("RCPT TO:<b@example.com>").code == 250, "RCPT")
    t.ok(c.cmd("DATA").code == 354, "DATA")
    c.send(dot_stuff(body))
    t.ok(c.read_reply().code == 250, "message accepted")
    raw = [f for f in os.listdir(os.environ["RECDIR"]) if f.endswith(".eml")]
    got = open(os.path.join(os.environ["RECDIR"], raw[0]), "rb").read() if raw else b""
    t.ok(got == body, "the server got the body byte for byte", "%d of %d bytes" % (len(got), len(body)))
    t.ok(c.cmd("QUIT").code == 221, "QUIT")
except (Timeout, ProtocolError, OSError) as e:
    t.ok(False, "dialogue completed", "%s: %s" % (type(e).__name__, e))
c.close()
t.exit()
EOF

read -r -d '' INJECT <<'EOF'
import os
from smtpclient import Client, Checks, Timeout, ProtocolError, port_from_env
t = Checks()
c = Client("127.0.0.1", port_from_env(), timeout=10, transcript=os.environ["TRANSCRIPT"])
try:
    t.ok(c.read_reply().code == 220, "greeting")
    t.ok(c.cmd("EHLO client.example").code == 250, "EHLO")
    s = c.starttls(extra=b"MAIL FROM:<evil@example.com>\r\n")
    t.ok(s.code == 220, "STARTTLS with a MAIL in the same write -> 220")
    r = c.cmd("EHLO client.example")
    t.ok(r.code == 250 and len(r.lines) > 1, "EHLO over TLS gets its own reply", r.text)
    t.ok(c.cmd("MAIL FROM:<good@example.com>").code == 250, "MAIL over TLS: 250, not 503")
    t.ok(c.cmd("QUIT").code == 221, "QUIT")
except (Timeout, ProtocolError, OSError) as e:
    # A handshake spoiled by the plaintext (bytes the helper left on the
    # socket the front runs TLS on) fails here too.
    t.ok(False, "dialogue completed", "%s: %s" % (type(e).__name__, e))
c.close()
t.exit()
EOF


read -r -d '' GARBAGE <<'EOF'
import os, socket, time
from smtpclient import Client, Checks, port_from_env
t = Checks()
c = Client("127.0.0.1", port_from_env(), timeout=10, transcript=os.environ["TRANSCRIPT"])
t.ok(c.read_reply().code == 220, "greeting")
t.ok(c.cmd("STARTTLS").code == 220, "STARTTLS -> 220")
c.send(b"this is not a TLS ClientHello\r\n" * 4)
left = b""
c.sock.settimeout(8)
try:
    while True:
        d = c.sock.recv(4096)
        if not d:
            break
        left += d
except OSError:
    pass
t.ok(b"250" not in left and b"421" not in left and b"454" not in left,
     "no SMTP reply in plaintext after the failed handshake", repr(left[:120]))
c.close()
t.exit()
EOF

# Each flavour's SSLCTLFD (README.md): the -vvv line names it.
declare -A SSLCTLFD_OF=([s6]=3 [s6-new]=7 [sslserver]=9)
for flavour in s6 s6-new sslserver; do
  e2e_log "==== $flavour"
  # 1. a mail through exim with swaks --tls
  start_ucspi "$flavour" -- "$E2E_HELPER" -v "$E2E_EXIM" -bs || e2e_finish
  example_mail "ucspi-$flavour"
  ucspi_wait_log 1 10
  ucspi_check_log "$flavour: the helper asked with Y, the handshake succeeded" \
    'r["command"] == "Y" and r["handshake"] == "ok"'
  ucspi_check_log "$flavour: no SIGTERM: the control socket was never closed early" 'r["sigterm"] == []'
  ucspi_check_log "$flavour: the helper's exit status is the child's after QUIT (0)" 'r["exit_code"] == 0'
  check "$flavour: the transaction line names the negotiated TLS" \
    grep -qE "tlswrapper-smtp: info: 127\.0\.0\.1: mail from=<sender-ucspi-$flavour-[^>]*> .*reply=250 .*tls=TLSv1\.[23]/[A-Z0-9_-]+ " "$E2E_TMP/pipeline.log"
  # 2. openssl s_client
  out=$(printf 'EHLO x\r\nQUIT\r\n' | timeout 20 openssl s_client -starttls smtp -connect "127.0.0.1:$UCSPI_PORT" -ign_eof 2>&1)
  check "$flavour: openssl s_client -starttls smtp: handshake and EHLO over TLS" \
    grep -q "^250" <<<"$(sed -n '/^---$/,$p' <<<"$out")"
  stop_ucspi

  # 3. byte-exact to the recording server
  rec=$(recorder_dir)
  start_ucspi "$flavour" -- "$E2E_HELPER" -v "$PYTHON" "$E2E_RECORDER" "$rec" || e2e_finish
  run_py "$flavour: bytes exact over TLS" RECDIR="$rec" TRANSCRIPT="$E2E_TMP/bytes-$flavour.txt" <<<"$BYTES"
  # 4. plaintext after STARTTLS never runs
  run_py "$flavour: STARTTLS + MAIL in one write" TRANSCRIPT="$E2E_TMP/inj-$flavour.txt" <<<"$INJECT"
  # The negative check means something only if this session's commands
  # reached the log: the MAIL sent over TLS did.
  check "$flavour: the MAIL sent over TLS reached the server" \
    grep -q "good@example.com" "$rec/commands.log"
  check "$flavour: the pipelined plaintext MAIL never reached the server" \
    bash -c '! grep -q "evil@example.com" "$1/commands.log"' _ "$rec"
  stop_ucspi

  # 6. what the child inherits, and the address under sslserver; the log
  # is read from here on (an earlier flavour's lines must not count)
  log_from=$(($(stat -c %s "$E2E_TMP/pipeline.log") + 1))
  FAKE_MODE=fds FAKE_DIR=$E2E_TMP start_ucspi "$flavour" -- "$E2E_HELPER" -vvv "$PYTHON" "$FAKE" ||
    e2e_finish
  greeting=$(timeout 10 "$PYTHON" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=8)
print(s.recv(4096).decode(errors="replace").strip())
s.sendall(b"QUIT\r\n"); s.recv(4096)' "$UCSPI_PORT" 2>&1)
  e2e_log "greeting: $greeting"
  stop_ucspi
  check "$flavour: the child has fds 0, 1, 2 only" grep -q " fds=0,1,2 " <<<"$greeting"
  check "$flavour: the child has no SSL*FD, CERTFILE or KEYFILE" grep -q " front=-" <<<"$greeting"
  stage_log=$(tail -c "+$log_from" "$E2E_TMP/pipeline.log")
  check "$flavour: the helper said at -vvv which front it chose" \
    grep -q "TLS front: UCSPI-TLS (SSLCTLFD ${SSLCTLFD_OF[$flavour]}," <<<"$stage_log"
  if [ "$flavour" = sslserver ]; then
    check "sslserver: the client address comes from SSLREMOTEIP (PROTO=SSL)" \
      grep -q "tlswrapper-smtp: tracing: 127.0.0.1: TLS front: UCSPI-TLS (SSLCTLFD 9," <<<"$stage_log"
  fi

  # 7. a failed handshake: 111, nothing in plaintext
  start_ucspi "$flavour" -- "$E2E_HELPER" -v "$E2E_EXIM" -bs || e2e_finish
  run_py "$flavour: garbage instead of a ClientHello" TRANSCRIPT="$E2E_TMP/bad-$flavour.txt" <<<"$GARBAGE"
  ucspi_wait_log 1 15
  ucspi_check_log "$flavour: the handshake failed and the helper ended with 111" \
    'r["handshake"] == "failed" and r["exit_code"] == 111'
  stop_ucspi
done

e2e_finish
