#!/bin/bash
# The fault matrix with real peers (issue 16): tcpserver -> Debian's
# tlswrapper -n (the legacy control protocol) -> the helper (-v -T 2) ->
# exim4 -bs, a python client over TLS. At one phase of a session (the TLS
# handshake: the client got the 220 and never starts it; mid-command;
# mid-DATA; mid-BDAT; right after the final dot, before the 250 can come
# back) one party gets SIGKILL: the client process, the tlswrapper process
# of the connection, or exim4 -bs. In each cell:
#  - the helper ends within -T + 1.5 s of the kill, with the exit status
#    and the log line of the man page's ENDINGS table;
#  - the client, when it is alive, gets what that table says (421 4.3.0
#    when exim died) and nothing else;
#  - exim stores nothing when the final dot was never sent, at most one
#    copy when it was (and one exactly when the helper logged exim's 250);
#  - nothing of the connection is left: no process in the pipeline's
#    process group but tcpserver, none carrying the connection's mark in
#    its environment, none whose parents lead to tcpserver (2 s of grace;
#    a zombie, gone and waiting for init to reap it, does not count).
# The helper's exit status is written to the log by a small parent process
# between tlswrapper and the helper: it starts the helper with the
# descriptors and environment it was given (plus the mark), closes its own
# copies of them, and waits.
# Prints one line per cell, then "N passed, N failed".
# Usage: t_real_faults.sh HELPER
# shellcheck source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"
e2e_init "$@"
e2e_setup

T=2
LIMIT_MS=$(((T * 1000) + 1500))
GRACE=2
MARK=TWS_FAULTS_MARK=$$-$RANDOM$RANDOM

# ---- the status-writing parent -------------------------------------------------
SHIM=$E2E_TMP/status-shim.py
cat >"$SHIM" <<EOF
#!$PYTHON
import os, sys
env = dict(os.environ)
env["${MARK%%=*}"] = "${MARK#*=}"
pid = os.fork()
if pid == 0:
    os.execve(sys.argv[1], sys.argv[1:], env)
# Its copies of the client pipes and fd 5 would keep them open for the
# helper's peers: closed, so that only the helper holds them.
for fd in (0, 1, 5, 6):
    try:
        os.close(fd)
    except OSError:
        pass
_, st = os.waitpid(pid, 0)
os.write(2, b"tws-fault-status: %d [%s]\n" % (os.waitstatus_to_exitcode(st),
                                                os.environ.get("LOG_ID", "-").encode()))
EOF
chmod 755 "$SHIM"

E2E_HELPER_OPTS="" start_pipeline "$SHIM" "$E2E_HELPER" -v -T "$T" -- "$E2E_EXIM" -bs || e2e_finish
TCP=$E2E_PIPELINE_PID

# ---- the client ------------------------------------------------------------------
# PHASE: mid-command | mid-DATA | after the dot | mid-BDAT | TLS handshake.
# Prints "ready" at the phase, then every reply it still gets ("got: ..."),
# then how the connection ended.
read -r -d '' CLIENT <<'EOF'
import os, signal, sys
from smtpclient import Client, Timeout, ProtocolError, port_from_env
signal.alarm(40)
phase, tok, rcpt = os.environ["PHASE"], os.environ["TOKEN"].encode(), os.environ["E2E_RCPT"].encode()
def say(s):
    print(s, flush=True)
c = Client("127.0.0.1", port_from_env(), timeout=10)
try:
    c.read_reply()
    c.cmd("EHLO client.example")
    if phase == "TLS handshake":
        c.send(b"STARTTLS\r\n")
        say("STARTTLS: " + c.read_reply().text)  # and no handshake follows
    else:
        c.starttls()
        c.cmd("EHLO client.example")
        body = b"Subject: fault %s\r\n\r\nbody %s\r\n" % (tok, tok)
        if phase == "mid-command":
            c.send(b"MAIL FROM:<fault-%s@example.com" % tok)
        else:
            c.send(b"MAIL FROM:<fault-%s@example.com>\r\nRCPT TO:<%s>\r\n" % (tok, rcpt))
            c.read_reply(), c.read_reply()
            if phase == "mid-BDAT":
                c.send(b"BDAT 1000 LAST\r\n" + body)
            else:
                say("DATA: " + c.cmd("DATA").text)
                c.send(body + (b".\r\n" if phase == "after the dot" else b""))
    say("ready")
    while True:
        say("got: " + c.read_reply(timeout=20).text)
except ProtocolError as e:
    say("closed: %s" % e)
except (Timeout, OSError) as e:
    say("ended: %s: %s" % (type(e).__name__, e))
EOF

# ---- processes -------------------------------------------------------------------
children() { cat "/proc/$1/task/$1/children" 2>/dev/null; }
now_ms() { date +%s%3N; }

# The processes of the connection: tcpserver's child (tlswrapper), the
# status parent, the helper, exim. Sets TLSW, HELPER_PID, EXIM_PID.
find_connection() {
  local s h
  TLSW='' HELPER_PID='' EXIM_PID=''
  for s in $(children "$TCP"); do
    [ "$(cat "/proc/$s/comm" 2>/dev/null)" = tlswrapper ] && TLSW=$s
  done
  [ -n "$TLSW" ] || return 1
  for s in $(children "$TLSW"); do
    for h in $(children "$s"); do
      [ "$(cat "/proc/$h/comm" 2>/dev/null)" = tlswrapper-smtp ] && HELPER_PID=$h
    done
  done
  [ -n "$HELPER_PID" ] && EXIM_PID=$(children "$HELPER_PID" | awk '{print $1}')
  [ -n "$TLSW" ] && [ -n "$HELPER_PID" ] && [ -n "$EXIM_PID" ]
}

# Processes of the pipeline but tcpserver (and those there before the
# first connection: the log pipe's cat): its process group, the mark in
# the environment, parents leading to tcpserver. Zombies (exited, not yet
# reaped by init) do not count. One line each: pid and command.
leftovers() {
  "$PYTHON" - "$TCP" "$MARK" "${BASELINE:-}" <<'EOF'
import os, sys
tcp, mark, base = sys.argv[1], sys.argv[2].encode(), set(sys.argv[3].split())
procs = {}
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    try:
        with open("/proc/%s/stat" % pid) as f:
            state, ppid, pgid = f.read().rsplit(")", 1)[1].split()[:3]
    except OSError:
        continue
    procs[pid] = (state, ppid, pgid)
for pid, (state, ppid, pgid) in sorted(procs.items()):
    if pid == tcp or pid in base or state in ("Z", "X"):
        continue
    hit = pgid == tcp
    if not hit:
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                hit = mark in f.read().split(b"\0")
        except OSError:
            pass
    p, hops = ppid, 0
    while not hit and p in procs and hops < 64:
        hit = p == tcp
        p, hops = procs[p][1], hops + 1
    if hit:
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")[:70]
        except OSError:
            cmd = "?"
        print(pid, cmd)
EOF
}

BASELINE=$(leftovers | awk '{print $1}' | tr '\n' ' ')

# exim_spool_of PID: the spool files (-D data, -H header) of the message
# that exim process PID was receiving: exim 4.96 names a message
# TTTTTT-PPPPPP-FF, PPPPPP its pid in base 62.
SPOOL=$("$E2E_EXIM" -bP spool_directory | sed 's/^spool_directory = //')
exim_spool_of() {
  local enc
  enc=$("$PYTHON" -c '
import sys
d, n, s = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", int(sys.argv[1]), ""
for _ in range(6):
    s, n = d[n % 62] + s, n // 62
print(s)' "$1")
  find "$SPOOL/input" -name "??????-$enc-??-[DH]" 2>/dev/null
}

# ---- one cell --------------------------------------------------------------------
# cell PHASE PARTY STATUS LOGTEXT CLIENT_WANTS STORED
#   PARTY: client | tlswrapper | exim
#   LOGTEXT: the helper's log line, or alternatives separated by "|"
#   CLIENT_WANTS: the one reply the client must get after the kill, or ""
#     when it must get none
#   STORED: none | by-ending (after the dot: the ending logged says
#     where the terminator went, see the cell)
# Prints "ok    PHASE x PARTY: what happened" or "FAIL  PHASE x PARTY: why".
cell() {
  local phase=$1 party=$2 want_status=$3 want_log=$4 want_reply=$5 stored=$6
  local name="$phase x $party" token cout before t0 t1 took line status id log_lines
  local errs=() mark arrivals copies left gotlines alt logged=
  token="f$$-$RANDOM$RANDOM"
  cout=$E2E_TMP/client-$token.txt
  : >"$cout"
  mark=$(exim_log_mark)
  before=$(grep -c '^tws-fault-status:' "$E2E_TMP/pipeline.log")
  # Not under timeout(1): the pid killed must be the client's own.
  PHASE=$phase TOKEN=$token "$PYTHON" - <<<"$CLIENT" >"$cout" 2>&1 &
  local cpid=$!
  for _ in $(seq 1 100); do grep -q '^ready' "$cout" && break; sleep 0.1; done
  if ! grep -q "^ready" "$cout" || ! find_connection; then
    fail "$name: the session did not reach its phase: $(tr '\n' '|' <"$cout")"
    kill -KILL "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null
    return
  fi
  # What was sent has reached exim (after the dot: kill at once, before
  # the 250 can come back).
  [ "$phase" = "after the dot" ] || sleep 0.3
  case $party in
    client) kill -KILL "$cpid"; wait "$cpid" 2>/dev/null ;;
    tlswrapper) kill -KILL "$TLSW" ;;
    exim) kill -KILL "$EXIM_PID" ;;
  esac
  t0=$(now_ms)
  line=
  while [ $(($(now_ms) - t0)) -lt $((LIMIT_MS + 5000)) ]; do
    line=$(grep '^tws-fault-status:' "$E2E_TMP/pipeline.log" | sed -n "$((before + 1))p")
    [ -n "$line" ] && break
    sleep 0.05
  done
  t1=$(now_ms)
  took=$((t1 - t0))
  if [ -z "$line" ]; then
    errs+=("the helper did not end within $(((LIMIT_MS + 5000) / 1000)) s")
  fi
  status=$(echo "$line" | awk '{print $2}')
  id=$(echo "$line" | sed -n 's/.*\[\(.*\)\]$/\1/p')
  log_lines=$(grep -F "[$id]" "$E2E_TMP/pipeline.log" | grep '^tlswrapper-smtp:')
  [ -n "$line" ] && [ "$took" -gt "$LIMIT_MS" ] && errs+=("ended ${took} ms after the kill (limit $LIMIT_MS ms)")
  [ -n "$line" ] && [ "$status" != "$want_status" ] && errs+=("exit status $status, expected $want_status")
  IFS='|' read -r -a alt <<<"$want_log"
  for a in "${alt[@]}"; do
    grep -qF -- "$a" <<<"$log_lines" && { logged=$a; break; }
  done
  [ -n "$logged" ] || errs+=("no log line \"$want_log\" in: $(tr '\n' '|' <<<"$log_lines")")

  # The client: what it got after the kill (when it lived on).
  if [ "$party" != client ]; then
    for _ in $(seq 1 60); do grep -qE '^(closed|ended):' "$cout" && break; sleep 0.1; done
    gotlines=$(sed -n '/^ready$/,$p' "$cout" | sed -n 's/^got: //p')
    if [ -z "$want_reply" ]; then
      [ -z "$gotlines" ] || errs+=("the client got a reply: $gotlines")
    else
      [ "$gotlines" = "$want_reply" ] || errs+=("the client got \"$gotlines\", expected \"$want_reply\"")
    fi
  fi
  kill -KILL "$cpid" 2>/dev/null
  wait "$cpid" 2>/dev/null

  # Nothing left behind.
  left=
  for _ in $(seq 1 $((GRACE * 10))); do
    left=$(leftovers)
    [ -z "$left" ] && break
    sleep 0.1
  done
  if [ -n "$left" ]; then
    errs+=("left behind $GRACE s after: $(tr '\n' '|' <<<"$left")")
  fi

  # What exim stored.
  sleep 0.5
  arrivals=$(exim_log_since "$mark" | grep -c "<= fault-$token@example.com")
  copies=$(grep -rlF "body $token" "$E2E_MAILDIR" 2>/dev/null | wc -l)
  case $stored in
    none)
      [ "$arrivals" -eq 0 ] && [ "$copies" -eq 0 ] || errs+=("exim stored the message: $arrivals arrivals, $copies copies")
      ;;
    by-ending)
      # CLOSED: the client's EOF came after the terminator, which exim
      # got, and every reply owed came back before the end: exim's 250 is
      # in the transaction line and exim has the message, once. CUT: the
      # EOF overtook the terminator, which exim never got: nothing stored.
      if [ "$logged" = "$CLOSED" ]; then
        grep -qE "mail from=<fault-$token@example.com> .*reply=250 " <<<"$log_lines" ||
          errs+=("\"$CLOSED\" logged without exim's 250 in the transaction line")
        wait_for_delivery "body $token" 10 >/dev/null
        arrivals=$(exim_log_since "$mark" | grep -c "<= fault-$token@example.com")
        copies=$(grep -rlF "body $token" "$E2E_MAILDIR" 2>/dev/null | wc -l)
        [ "$arrivals" -eq 1 ] && [ "$copies" -eq 1 ] ||
          errs+=("\"$CLOSED\" logged, but $arrivals arrivals, $copies copies")
      else
        [ "$arrivals" -eq 0 ] && [ "$copies" -eq 0 ] ||
          errs+=("\"$logged\" logged, but $arrivals arrivals, $copies copies")
      fi
      ;;
  esac
  [ "${E2E_KEEP:-0}" = 1 ] || grep -rlF "body $token" "$E2E_MAILDIR" 2>/dev/null | xargs -r rm -f
  # exim killed while it received leaves its data file (-D) in the spool,
  # with no header file (-H): no message, never delivered. Checked, then
  # removed, so that runs leave nothing behind.
  local spool='' spool_note=''
  if [ "$party" = exim ]; then
    spool=$(exim_spool_of "$EXIM_PID")
    if grep -q -- '-H$' <<<"$spool"; then
      errs+=("exim has a header file for the cut message: $(tr '\n' ' ' <<<"$spool")")
    elif [ -n "$spool" ]; then
      spool_note=", exim's spool data file ($(stat -c %s "$spool") bytes, no header) removed"
      rm -f -- "$spool"
    fi
  fi

  local msg
  msg="status ${status:-none}, \"$logged\", $(printf '%d.%d' $((took / 1000)) $((took % 1000 / 100))) s"
  [ "$party" != client ] && msg="$msg, client got: ${gotlines:-nothing}"
  [ "$stored" = by-ending ] && msg="$msg, exim stored $arrivals"
  [ "$stored" = none ] && msg="$msg, exim stored 0$spool_note"
  if [ ${#errs[@]} -eq 0 ]; then
    E2E_PASSED=$((E2E_PASSED + 1))
    printf 'ok    %s: %s\n' "$name" "$msg"
  else
    E2E_FAILED=$((E2E_FAILED + 1))
    printf 'FAIL  %s: %s\n' "$name" "$(printf '%s; ' "${errs[@]}")"
  fi
}

CUT="client disconnected in the middle of a message: the message is dropped"
CLOSED="client closed its side without QUIT"
CHILD="child closed its output before QUIT"
ERR421="421 4.3.0 Mail server error, closing connection"

cell "TLS handshake" client 111 "$CLOSED" "" none
cell "mid-command" client 111 "$CLOSED" "" none
cell "mid-DATA" client 111 "$CUT" "" none
cell "mid-BDAT" client 111 "$CUT" "" none
# The dot was sent: exim has the message once and the helper relays its
# 250 into the void; or, should the connection's end overtake the dot,
# the message is dropped and exim has nothing. Which one the log says.
cell "after the dot" client 111 "$CLOSED|$CUT" "" by-ending
cell "mid-command" tlswrapper 111 "$CLOSED" "" none
cell "mid-DATA" tlswrapper 111 "$CUT" "" none
cell "mid-BDAT" tlswrapper 111 "$CUT" "" none
cell "mid-command" exim 111 "$CHILD" "$ERR421" none
cell "mid-DATA" exim 111 "$CHILD" "$ERR421" none
cell "mid-BDAT" exim 111 "$CHILD" "$ERR421" none

stop_pipeline
echo "$E2E_PASSED passed, $E2E_FAILED failed"
e2e_finish
