#!/bin/bash
# Under UCSPI-TLS the program's fd 0 and 1 are the TCP socket itself, one
# open file description shared with the TLS server (PEERS.md, "Measured
# behind the real servers").  Its file status flags (O_NONBLOCK ...) belong
# to that description: whatever the program sets, the server gets.
# s6-networking built with libtls runs its handshake on the socket as it
# finds it and fails on a non-blocking one; every server keeps using the
# socket after the program is gone.  So:
#  1. the peer itself: a program that sets O_NONBLOCK on fd 0 before `Y`
#     fails the handshake behind s6 with libtls (the peer's default), not
#     behind s6 with BearSSL or sslserver, which set it themselves;
#  2. the helper behind every flavour and backend, a STARTTLS session: the
#     flags of the shared socket are the server's when `Y` arrives and when
#     the helper has exited; the handshake succeeds;
#  3. the helper, a plaintext-only session: the socket is still blocking
#     when the helper has exited.
# No exim, no root: the recording server stands behind the helper.
# Usage: t_shared_fd.sh HELPER
. "$(dirname "$0")/lib.sh"
ucspi_init "$@"
ucspi_setup

# A UCSPI-TLS program that sets O_NONBLOCK on fd 0 (the shared socket),
# then starts TLS the proper way: 220 on fd 1, `Y`, the answer read.
NONBLOCKING_PROG=$E2E_TMP/nonblocking_prog.py
cat >"$NONBLOCKING_PROG" <<'EOF'
import fcntl, os, select
fcntl.fcntl(0, fcntl.F_SETFL, fcntl.fcntl(0, fcntl.F_GETFL) | os.O_NONBLOCK)
os.write(1, b"220 ready for TLS\r\n")
ctl = int(os.environ["SSLCTLFD"])
os.write(ctl, b"Y")
answer = b""
while not answer.endswith(b"\0\0") and select.select([ctl], [], [], 10)[0]:
    d = os.read(ctl, 4096)
    if not d:
        break
    answer += d
os._exit(0 if answer.endswith(b"\0\0") else 3)
EOF

# handshake_after_220: read the 220, then a TLS handshake; prints "ok" or why not.
read -r -d '' HANDSHAKE <<'EOF'
import os, socket, ssl
s = socket.create_connection(("127.0.0.1", int(os.environ["UCSPI_PORT"])), timeout=10)
buf = b""
while not buf.endswith(b"\r\n"):
    d = s.recv(1)
    if not d:
        break
    buf += d
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
try:
    t = ctx.wrap_socket(s, server_hostname="localhost")
    print("ok", t.version())
except (OSError, ssl.SSLError) as e:
    print("failed:", type(e).__name__, e)
EOF

# 1. The peer fails libtls handshakes on a non-blocking shared socket.
for spec in "s6" "s6 --backend bearssl" "s6-new" "sslserver"; do
  read -r -a args <<<"$spec"
  start_ucspi "${args[@]}" -- "$PYTHON" "$NONBLOCKING_PROG" || e2e_finish
  got=$(timeout 20 "$PYTHON" -c "$HANDSHAKE" 2>&1)
  ucspi_wait_log 1 15
  ucspi_check_log "peer $spec: the program's O_NONBLOCK is seen when Y arrives" \
    'r["sock_nonblock_at_command"] is True and r["sock_flags_changed"][:1] == ["command: +O_NONBLOCK"]'
  case $spec in
    s6 | s6-new)
      check "peer $spec (libtls): the client's handshake fails ($got)" grep -q '^failed' <<<"$got"
      ucspi_check_log "peer $spec (libtls): handshake failed on want read, control socket closed empty" \
        'r["backend"] == "libtls" and r["handshake"] == "failed" and "want read" in r["handshake_error"] and r["answer_bytes"] == 0 and r["exit_code"] == 3'
      ;;
    *)
      check "peer $spec: the handshake succeeds all the same ($got)" grep -q '^ok' <<<"$got"
      ucspi_check_log "peer $spec: handshake ok, answer read" \
        'r["handshake"] == "ok" and r["answer_bytes"] > 0 and r["exit_code"] == 0'
      ;;
  esac
  stop_ucspi
done

# 2 and 3. The helper never changes the shared socket's flags.
# One session: EHLO, STARTTLS and EHLO over TLS when TLS=1, MAIL, QUIT.
read -r -d '' SESSION <<'EOF'
import os
from smtpclient import Client, Checks, Timeout, ProtocolError, port_from_env
t = Checks()
tls = os.environ["TLS"] == "1"
c = Client("127.0.0.1", port_from_env(), timeout=10, transcript=os.environ["TRANSCRIPT"])
try:
    t.ok(c.read_reply().code == 220, "greeting")
    t.ok(c.cmd("EHLO client.example").code == 250, "EHLO")
    if tls:
        t.ok(c.starttls().code == 220, "STARTTLS, handshake")
        t.ok(c.cmd("EHLO client.example").code == 250, "EHLO over TLS")
    t.ok(c.cmd("MAIL FROM:<a@example.com>").code == 250,
         "MAIL over TLS" if tls else "MAIL in plaintext")
    t.ok(c.cmd("QUIT").code == 221, "QUIT")
except (Timeout, ProtocolError, OSError) as e:
    t.ok(False, "dialogue completed", "%s: %s" % (type(e).__name__, e))
c.close()
t.exit()
EOF

for spec in "s6" "s6 --backend bearssl" "s6-new" "sslserver"; do
  read -r -a args <<<"$spec"
  rec=$(recorder_dir)
  start_ucspi "${args[@]}" -- "$E2E_HELPER" -v "$PYTHON" "$E2E_RECORDER" "$rec" || e2e_finish
  tag=${spec// /}
  run_py "helper behind $spec: a STARTTLS session" TLS=1 TRANSCRIPT="$E2E_TMP/tls-$tag.txt" <<<"$SESSION"
  ucspi_wait_log 1 15
  ucspi_check_log "helper behind $spec: the socket blocking when Y arrives, the handshake ok" \
    'r["sock_nonblock_at_command"] is False and r["handshake"] == "ok" and r["answer_bytes"] > 0'
  ucspi_check_log "helper behind $spec: the socket's flags are the server's at Y and after the helper's exit" \
    'r["sock_flags_changed"] == [] and r["sock_nonblock_at_exit"] is not None and r["exit_code"] == 0'
  run_py "helper behind $spec: a plaintext-only session" TLS=0 TRANSCRIPT="$E2E_TMP/plain-$tag.txt" <<<"$SESSION"
  ucspi_wait_log 2 15
  ucspi_check_log "helper behind $spec: no TLS asked for, the helper exited 0" \
    'r["command"] is None and r["exit_code"] == 0' 2
  ucspi_check_log "helper behind $spec: the socket still blocking after the helper's exit" \
    'r["sock_nonblock_at_exit"] is False and r["sock_flags_changed"] == []' 2
  stop_ucspi
done

e2e_finish
