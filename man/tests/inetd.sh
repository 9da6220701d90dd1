#!/bin/bash
# examples.inetd: the inetd.conf line and the script it starts, run the way
# inetd runs a "nowait" service: a small stand-in for inetd (below) reads
# the line, listens on 127.0.0.1:FREEPORT instead of the service's port,
# and for each connection starts the line's program with the line's argv
# and the connection as descriptors 0, 1 AND 2, as inetd does. The
# script's certificate, helper and syslog command are pointed at a fresh
# certificate, the built binary and a file. One mail with swaks --tls:
# 250 after the dot, delivered, exim saw the client's address, no log
# line reached the client, and the helper's line reached the log.
# Usage: inetd.sh HELPER   (as root; ctest passes the built binary)
. "$(dirname "$0")/../../tests/e2e/lib.sh"
DIR=$(cd "$(dirname "$0")/../../examples/inetd" && pwd)
CONF=$DIR/inetd.conf
LINE_PROGRAM=/usr/local/sbin/tlswrapper-smtp-inetd
e2e_init "$@"

mapfile -t fields < <(grep -vE '^[[:space:]]*(#|$)' "$CONF" | head -n 1 | tr -s ' \t' '\n')
printf '    line: %s\n' "${fields[*]}"
check "inetd.conf has exactly one service line" \
  [ "$(grep -cvE '^[[:space:]]*(#|$)' "$CONF")" -eq 1 ]
check "service smtp, stream, tcp, nowait, root" \
  [ "${fields[0]}/${fields[1]}/${fields[2]}/${fields[3]}/${fields[4]}" = smtp/stream/tcp/nowait/root ]
check "the program is $LINE_PROGRAM, argv[0] its name" \
  [ "${fields[5]}" = "$LINE_PROGRAM" ] && [ "${fields[6]}" = "$(basename "$LINE_PROGRAM")" ]
check "smtp is port 25 in /etc/services" \
  grep -qE '^smtp[[:space:]]+25/tcp' /etc/services
check "the script next to it is executable" [ -x "$DIR/$(basename "$LINE_PROGRAM")" ]

e2e_setup
E2E_PORT=$(free_port)
SYSLOG_FILE=$E2E_TMP/syslog.txt
: >"$SYSLOG_FILE"
# The stand-in for inetd: accept, fork, connection on 0, 1 and 2, exec.
CERT_PEM=$E2E_CERT TLSWRAPPER_SMTP=$E2E_HELPER SYSLOG="tee -a $SYSLOG_FILE" \
"$PYTHON" - "$E2E_PORT" "$DIR/$(basename "$LINE_PROGRAM")" "${fields[@]:6}" \
  </dev/null >"$E2E_TMP/inetd.out" 2>&1 <<'PY' &
import os, signal, socket, sys
os.setsid()
os.closerange(3, 65536)
port, program, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
while True:
    c, _ = s.accept()
    if os.fork() == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        s.close()
        for fd in (0, 1, 2):
            os.dup2(c.fileno(), fd)
        os.closerange(3, 65536)
        os.execv(program, argv)
    c.close()
PY
E2E_PIPELINE_PID=$!
echo "$E2E_PIPELINE_PID" >"$E2E_TMP/pipeline.pgid"
wait_listening "$E2E_PORT" "the stand-in for inetd"

example_mail inetd-example
check "no log line reached the client" bash -c '! grep -q "tlswrapper" "$1"' _ "$out"
check "exim took the session from 127.0.0.1 (-oMa), not as local SMTP" \
  grep -qF '[127.0.0.1]' <<<"$arrival"
for _ in $(seq 1 25); do
  grep -q "tlswrapper-smtp: info: 127.0.0.1: mail from=<sender-$token@example.com>" "$SYSLOG_FILE" && break
  sleep 0.2
done
sed 's/^/    log: /' "$SYSLOG_FILE"
check "the helper's transaction line (tls=yes) went to the log command" \
  grep -qE "tlswrapper-smtp: info: 127.0.0.1: mail from=<sender-$token@example.com>.* tls=yes" "$SYSLOG_FILE"
stop_pipeline
e2e_finish
