#!/bin/bash
# examples.systemd: the socket unit and its service template.
#  1. systemd-analyze verify on both files (unknown keys, bad values, a
#     missing ExecStart binary or man page are reported): it must print
#     nothing. Where systemd-analyze is missing or cannot run, that is said
#     and only the structural checks below hold.
#  2. Structural checks: the keys this pairing needs (ListenStream,
#     Accept=yes, a matching NAME@.service with StandardInput=socket,
#     StandardOutput=socket, StandardError not a file).
#  3. The service's ExecStart, read from the unit as systemd would split it,
#     run under systemd-socket-activate --inetd (what Accept=yes does) on
#     127.0.0.1:FREEPORT with a fresh certificate and the built helper put
#     in place of the unit's paths: one mail with swaks --tls, 250 after
#     the dot, delivered, exim saw the client's address.
# Usage: systemd.sh HELPER   (as root; ctest passes the built binary)
. "$(dirname "$0")/../../tests/e2e/lib.sh"
UNITS=$(cd "$(dirname "$0")/../../examples/systemd" && pwd)
SOCKET=$UNITS/tlswrapper-smtp.socket
SERVICE=$UNITS/tlswrapper-smtp@.service
UNIT_CERT=/etc/ssl/private/smtp.pem
UNIT_HELPER=/usr/local/bin/tlswrapper-smtp
e2e_init "$@"

# ---- 1. systemd-analyze verify ----------------------------------------------
if command -v systemd-analyze >/dev/null 2>&1 &&
   systemd-analyze --version >/dev/null 2>&1; then
  out=$(cd "$UNITS" && timeout 60 systemd-analyze verify ./tlswrapper-smtp.socket ./tlswrapper-smtp@.service 2>&1)
  rc=$?
  printf '%s\n' "$out" | sed '/^$/d; s/^/    /'
  check "systemd-analyze verify: exit 0 and nothing printed ($(systemd-analyze --version | head -n 1))" \
    [ $rc -eq 0 ] && [ -z "$out" ]
else
  e2e_log "systemd-analyze is not available here: the units get the structural checks only"
fi

# ---- 2. structural checks ---------------------------------------------------
# key FILE SECTION KEY: the value of the last KEY= in [SECTION], continuation
# lines joined.
key() {
  "$PYTHON" - "$@" <<'PY'
import sys
path, section, key = sys.argv[1:]
cur, value, lines, buf = None, None, [], ""
for raw in open(path, encoding="utf-8"):
    line = raw.rstrip("\n")
    if buf or not line.lstrip().startswith(("#", ";")):
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        line, buf = buf + line, ""
    else:
        continue
    s = line.strip()
    if s.startswith("[") and s.endswith("]"):
        cur = s[1:-1]
    elif cur == section and "=" in s:
        k, v = s.split("=", 1)
        if k.strip() == key:
            value = v.strip()
if value is None:
    sys.exit(1)
print(value)
PY
}
has_key() { key "$@" >/dev/null; }
lacks_key() { ! key "$@" >/dev/null; }
check "socket: [Socket] ListenStream= is set ($(key "$SOCKET" Socket ListenStream))" \
  has_key "$SOCKET" Socket ListenStream
check "socket: Accept=yes (one service instance per connection)" \
  [ "$(key "$SOCKET" Socket Accept)" = yes ]
check "socket: [Install] WantedBy=sockets.target" [ "$(key "$SOCKET" Install WantedBy)" = sockets.target ]
check "service template named after the socket (tlswrapper-smtp@.service)" [ -f "$SERVICE" ]
check "service: StandardInput=socket" [ "$(key "$SERVICE" Service StandardInput)" = socket ]
check "service: StandardOutput=socket" [ "$(key "$SERVICE" Service StandardOutput)" = socket ]
se=$(key "$SERVICE" Service StandardError)
check "service: StandardError is the journal or a socket, not a file ($se)" \
  grep -qxE 'journal|journal\+console|kmsg|syslog|socket|inherit' <<<"$se"
check "service: no User= (the jails are made as root)" lacks_key "$SERVICE" Service User
check "service: no DynamicUser=" lacks_key "$SERVICE" Service DynamicUser
check "service: no NoNewPrivileges= (exim4 is setuid)" lacks_key "$SERVICE" Service NoNewPrivileges
execstart=$(key "$SERVICE" Service ExecStart)
check "service: ExecStart runs tlswrapper -n ... $UNIT_HELPER" \
  grep -qE "^/usr/bin/tlswrapper .*-n .*$UNIT_HELPER " <<<"$execstart"

# ---- 3. the ExecStart line, run as Accept=yes runs it -----------------------
if ! command -v systemd-socket-activate >/dev/null 2>&1; then
  e2e_log "systemd-socket-activate is missing: the ExecStart line is not run"
  e2e_finish
fi
e2e_setup
# systemd's splitting: quotes group words, "$$" is a "$". A lone "$" or a
# "%" would be expanded by systemd itself, so none may be there.
mapfile -t argv < <("$PYTHON" - "$execstart" "$UNIT_CERT" "$E2E_CERT" "$UNIT_HELPER" "$E2E_HELPER" <<'PY'
import re, shlex, sys
line, cert, new_cert, helper, new_helper = sys.argv[1:]
if re.search(r"(?<!\$)\$(?!\$)|%", line.replace("$$", "")):
    sys.exit("ExecStart holds a $ or % that systemd would expand")
for w in shlex.split(line):
    w = w.replace("$$", "$")
    print({cert: new_cert, helper: new_helper}.get(w, w))
PY
)
has_word() { # WORD ARGS...: WORD is one of ARGS
  local w=$1; shift
  local a
  for a in "$@"; do [ "$a" = "$w" ] && return 0; done
  return 1
}
check "ExecStart names the certificate $UNIT_CERT (replaced)" has_word "$E2E_CERT" "${argv[@]}"
check "ExecStart names the helper $UNIT_HELPER (replaced)" has_word "$E2E_HELPER" "${argv[@]}"
printf '    argv: %s\n' "${argv[*]}"

E2E_PORT=$(free_port)
printf '# systemd-socket-activate -l 127.0.0.1:%s --inetd -a %s\n' "$E2E_PORT" "${argv[*]}" >>"$E2E_TMP/pipeline.log"
"$PYTHON" -c '
import os, sys
os.setsid()
os.closerange(3, 65536)
os.execvp(sys.argv[1], sys.argv[1:])' \
  systemd-socket-activate -l "127.0.0.1:$E2E_PORT" --inetd -a "${argv[@]}" \
  </dev/null >"$E2E_TMP/activate.out" 2> >(cat >>"$E2E_TMP/pipeline.log") &
E2E_PIPELINE_PID=$!
echo "$E2E_PIPELINE_PID" >"$E2E_TMP/pipeline.pgid"
wait_listening "$E2E_PORT" "systemd-socket-activate"

example_mail systemd-example
check "exim took the session from 127.0.0.1 (-oMa), not as local SMTP" \
  grep -qF '[127.0.0.1]' <<<"$arrival"
for _ in $(seq 1 25); do
  grep -q "tlswrapper-smtp: info: 127.0.0.1: mail from=<sender-$token@example.com>" "$E2E_TMP/pipeline.log" && break
  sleep 0.2
done
check "the helper logged the transaction with tls=yes" \
  grep -qE "tlswrapper-smtp: info: 127.0.0.1: mail from=<sender-$token@example.com>.* tls=yes" "$E2E_TMP/pipeline.log"
stop_pipeline
e2e_finish
