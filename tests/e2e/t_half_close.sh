#!/bin/bash
# A client that closes its sending side right after the final dot (a TCP
# shutdown of its write side; it keeps reading), with exim4 -bs behind:
#  1. tcpserver -> HELPER -> exim4 -bs, no TLS front: exactly one 250
#     comes back for the message, and exactly one copy is delivered (a
#     lost 250 makes a real client send the message again: a duplicate);
#  2. over TLS through tcpserver -> tlswrapper -n -> HELPER: Debian's
#     tlswrapper ends the whole connection at the client's EOF, so the 250
#     cannot reach the client there; the helper still relays it (its log
#     line), the message is delivered once, and no second reply comes.
# Usage: t_half_close.sh HELPER
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_setup

read -r -d '' DIALOGUE <<'EOF'
import os, socket
from smtpclient import Client, Checks, Timeout, ProtocolError, port_from_env
t = Checks()
tok = os.environ["TOKEN"]
c = Client("127.0.0.1", port_from_env(), timeout=10, transcript=os.environ["TRANSCRIPT"])
try:
    t.ok(c.read_reply().code == 220, "greeting")
    t.ok(c.cmd("EHLO client.example").code == 250, "EHLO")
    if os.environ["TLS"] == "1":
        t.ok(c.starttls().code == 220, "STARTTLS -> 220, handshake")
        t.ok(c.cmd("EHLO client.example").code == 250, "EHLO over TLS")
    # The whole transaction in one write, then the half-close.
    c.send(("MAIL FROM:<half-%s@example.com>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (tok, os.environ["E2E_RCPT"])).encode())
    t.ok(c.read_reply().code == 250, "MAIL")
    t.ok(c.read_reply().code == 250, "RCPT")
    t.ok(c.read_reply().code == 354, "DATA")
    c.send(("Subject: half-close %s\r\n\r\nbody %s\r\n.\r\n" % (tok, tok)).encode())
    # shutdown(2) on a copy of the descriptor: the TLS layer stays as it is.
    half = socket.socket(fileno=os.dup(c.sock.fileno()))
    half.shutdown(socket.SHUT_WR)
    half.close()
    if os.environ["WANT_250"] == "1":
        r = c.read_reply()
        t.ok(r.code == 250, "after the dot and the half-close: 250", r.text)
        rest = c.pending(2.0)
        t.ok(b"250" not in rest, "no second 250", repr(rest))
    else:
        # The wrapper may cut the connection: whatever comes, one reply at most.
        rest = c.pending(3.0)
        print("# the client got after the half-close: %r" % rest)
        t.ok(rest.count(b"\r\n") <= 1, "at most one reply after the half-close", repr(rest))
except (Timeout, ProtocolError, OSError) as e:
    t.ok(False, "dialogue completed", "%s: %s" % (type(e).__name__, e))
c.close()
t.exit()
EOF

# one_message WHAT TOKEN WANT250: the dialogue, then the checks on exim's side.
one_message() {
  local what=$1 token=$2 want=$3 mark arrivals copies line id
  mark=$(exim_log_mark)
  run_py "$what: the dialogue" TOKEN="$token" WANT_250="$want" TLS="${TLS:-1}" \
    TRANSCRIPT="$E2E_TMP/client-$token.txt" <<<"$DIALOGUE"
  if wait_for_delivery "body $token" 20; then
    pass "$what: delivered ($E2E_DELIVERED)"
    [ "${E2E_KEEP:-0}" = 1 ] || rm -f "$E2E_DELIVERED"
  else
    fail "$what: not delivered within 20 s"
  fi
  sleep 1
  arrivals=$(exim_log_since "$mark" | grep -c "<= half-$token@example.com")
  check "$what: exactly one arrival in exim's mainlog (saw $arrivals)" [ "$arrivals" -eq 1 ]
  copies=$(grep -rlF "body $token" "$E2E_MAILDIR" 2>/dev/null | grep -vxF "${E2E_DELIVERED:-/}" | wc -l)
  check "$what: no second copy in the maildir (saw $copies more)" [ "$copies" -eq 0 ]
  # Both stages write to one log: the half-close line must be this
  # session's, the one that logged this token's transaction ([ID] ends
  # every line of a session).
  line=$(grep -E "mail from=<half-$token@example.com> .*reply=250 " "$E2E_TMP/pipeline.log")
  check "$what: the helper logged the transaction with exim's 250" [ -n "$line" ]
  id=$(sed -n 's/.* \[\([^] ]*\)\]$/\1/p' <<<"$line" | head -n 1)
  check "$what: the helper logged the half-close in the same session [${id:-no id}]" \
    grep -qF "client closed its side without QUIT: every reply owed was relayed [${id:-no id}]" "$E2E_TMP/pipeline.log"
}

# ---- 1: no TLS front: the 250 reaches the half-closed client -----------------
port=$(free_port) || die "no free port"
"$PYTHON" -c 'import os, sys; os.setsid(); os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])' \
  tcpserver -HRDl0 127.0.0.1 "$port" "$E2E_HELPER" -v "$E2E_EXIM" -bs \
  </dev/null >/dev/null 2> >(cat >>"$E2E_TMP/pipeline.log") &
direct=$!
for _ in $(seq 1 50); do port_listening "$port" && break; sleep 0.1; done
E2E_PORT=$port TLS=0 one_message "plaintext" "half$$p$RANDOM$RANDOM" 1
kill -TERM -- "-$direct" 2>/dev/null; wait "$direct" 2>/dev/null

# ---- 2: over TLS through Debian's tlswrapper ----------------------------------
start_pipeline "$E2E_HELPER" || e2e_finish
one_message "TLS" "half$$t$RANDOM$RANDOM" 0
stop_pipeline
e2e_finish
