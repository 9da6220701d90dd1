# Sourced by the end-to-end tests (bash).  Real peers on loopback:
#
#   client -> tcpserver -HRDl0 127.0.0.1 PORT
#          -> tlswrapper -n -f CERT.pem
#          -> HELPER [helper options]          (the binary under test)
#          -> exim4 -bs                        (or the recording server)
#
# A test script:
#
#   . "$(dirname "$0")/lib.sh"
#   e2e_init "$@"            # $1 = helper path; temp dir, traps, watchdog
#   e2e_setup                # commands present, exim configured, cert made
#   start_pipeline "$E2E_HELPER" -- /usr/sbin/exim4 -bs
#   ... clients against 127.0.0.1:$E2E_PORT, check/pass/fail ...
#   e2e_finish               # exit 0 when every check passed, else 1
#
# Environment knobs:
#   E2E_TIMEOUT         hard limit for one script, seconds (default 120)
#   E2E_HELPER_OPTS     options given to the helper before the test's own
#                       (default "-v"; the helper's stderr goes to the log)
#   E2E_TLSWRAPPER_OPTS extra tlswrapper options (default "-v")
#   E2E_TCPSERVER_OPTS  extra tcpserver options (default none; e.g. -x rules.cdb)
#   E2E_KEEP=1          keep the temp dir (logs, transcripts, records)
#   E2E_CERT_KEY        ec (default) or rsa: the key type of the test cert
#   E2E_PY_TIMEOUT      limit for one python client run, seconds (60)
#   E2E_LOG_LINES       pipeline log lines shown on failure (25)
#   PYTHON              python3 to use (default /usr/bin/python3)

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${PYTHON:-}" ]; then
  if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=$(command -v python3 || echo python3); fi
fi
export PYTHON
export PYTHONPATH="$E2E_DIR${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1

E2E_EXIM=${E2E_EXIM:-/usr/sbin/exim4}
E2E_MAINLOG=${E2E_MAINLOG:-/var/log/exim4/mainlog}
E2E_USER=tws-e2e                       # the local test recipient
E2E_RCPT=$E2E_USER@localhost
E2E_HOME=/var/lib/$E2E_USER
E2E_MAILDIR=$E2E_HOME/Maildir          # exim delivers here (via ~/.forward)
E2E_EXIM_CERT=/etc/exim4/$E2E_USER-exim.crt
E2E_EXIM_KEY=/etc/exim4/$E2E_USER-exim.key
# shellcheck disable=SC2034  # used by the test scripts
E2E_RECORDER="$E2E_DIR/recording_smtpd.py"
if [ -d /run/lock ]; then E2E_LOCK=/run/lock/tws-e2e-setup.lock; else E2E_LOCK=/tmp/tws-e2e-setup.lock; fi
export E2E_RCPT E2E_MAILDIR E2E_MAINLOG

E2E_FAILED=0
E2E_PASSED=0
E2E_PIPELINE_PID=
E2E_WATCHDOG_PID=
E2E_TMP=

# ---- reporting ---------------------------------------------------------------

e2e_log() { printf '# %s\n' "$*"; }
pass() { E2E_PASSED=$((E2E_PASSED + 1)); printf 'ok - %s\n' "$*"; }
fail() { E2E_FAILED=$((E2E_FAILED + 1)); printf 'not ok - %s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; fail "$*"; exit 1; }

# check "what" command [args...]: one check, passed when the command succeeds.
check() {
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

# run_py "what" [env assignments...] -- python code on stdin: the code
# prints its own ok/not ok lines (smtpclient.Checks); counted as one check.
run_py() {
  local what=$1; shift
  local out rc
  out=$(timeout -k 2 "${E2E_PY_TIMEOUT:-60}" env "$@" "$PYTHON" - 2>&1)
  rc=$?
  printf '%s\n' "$out" | sed 's/^/    /'
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    fail "$what (client killed after ${E2E_PY_TIMEOUT:-60} s)"
  elif [ $rc -eq 0 ]; then
    pass "$what"
  else
    fail "$what"
  fi
  return $rc
}

e2e_finish() {
  local name
  name=$(basename "$0" .sh)
  if [ "$E2E_FAILED" -eq 0 ] && [ "$E2E_PASSED" -gt 0 ]; then
    printf '%s: PASS (%d checks) helper=%s\n' "$name" "$E2E_PASSED" "$E2E_HELPER"
    exit 0
  fi
  printf '%s: FAIL (%d failed, %d passed) helper=%s\n' "$name" "$E2E_FAILED" "$E2E_PASSED" "$E2E_HELPER"
  exit 1
}

# ---- life cycle ----------------------------------------------------------------

# e2e_init HELPER: temp dir, cleanup trap, watchdog.
e2e_init() {
  E2E_HELPER=${1:-}
  [ -n "$E2E_HELPER" ] || { echo "usage: $0 HELPER-BINARY" >&2; exit 2; }
  case $E2E_HELPER in /*) ;; *) E2E_HELPER=$(cd "$(dirname "$E2E_HELPER")" && pwd)/$(basename "$E2E_HELPER") ;; esac
  [ -x "$E2E_HELPER" ] || { echo "$0: helper not executable: $E2E_HELPER" >&2; exit 2; }
  export E2E_HELPER
  E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tws-e2e.XXXXXX") || exit 2
  chmod 755 "$E2E_TMP"
  trap e2e_cleanup EXIT
  trap 'fail "interrupted"; exit 1' INT TERM HUP
  local limit=${E2E_TIMEOUT:-120} me=$$
  (
    trap - EXIT INT HUP
    sleep "$limit" &
    spid=$!
    trap 'kill "$spid" 2>/dev/null; exit 0' TERM
    wait "$spid"
    echo "not ok - $(basename "$0"): hard time limit of $limit s reached" >&2
    [ -f "$E2E_TMP/pipeline.pgid" ] && kill -KILL -- "-$(cat "$E2E_TMP/pipeline.pgid")" 2>/dev/null
    kill -TERM "$me" 2>/dev/null
  ) </dev/null >/dev/null &
  E2E_WATCHDOG_PID=$!
  e2e_log "$(basename "$0") helper=$E2E_HELPER tmp=$E2E_TMP"
}

e2e_cleanup() {
  local rc=$?
  stop_pipeline
  [ -n "$E2E_WATCHDOG_PID" ] && kill "$E2E_WATCHDOG_PID" 2>/dev/null && wait "$E2E_WATCHDOG_PID" 2>/dev/null
  E2E_WATCHDOG_PID=
  if [ "$E2E_FAILED" -ne 0 ] && [ -s "$E2E_TMP/pipeline.log" ]; then
    echo "# --- last lines of the pipeline's stderr ($E2E_TMP/pipeline.log) ---"
    tail -n "${E2E_LOG_LINES:-25}" "$E2E_TMP/pipeline.log" | cut -c1-300 | sed 's/^/# /'
  fi
  if [ "${E2E_KEEP:-0}" = 1 ]; then
    echo "# kept $E2E_TMP"
  elif [ -n "$E2E_TMP" ] && [ -d "$E2E_TMP" ]; then
    rm -rf "$E2E_TMP"
  fi
  exit $rc
}

# e2e_setup: the peers are installed (installing them is done elsewhere,
# scripts/deps.sh), we are root, exim is configured, a fresh cert exists.
e2e_setup() {
  local c missing=
  for c in tcpserver tlswrapper swaks openssl timeout flock "$PYTHON" "$E2E_EXIM" update-exim4.conf useradd getent; do
    command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
  done
  [ -z "$missing" ] || die "missing commands:$missing (install: tlswrapper exim4-daemon-light ucspi-tcp swaks openssl python3)"
  [ "$(id -u)" -eq 0 ] || die "the e2e tests run as root (tlswrapper loads keys as root and jails itself)"
  "$PYTHON" -c 'import ssl' 2>/dev/null || die "$PYTHON lacks the ssl module"
  # One set-up at a time when tests run in parallel.
  (
    flock -w 120 9 || { echo "waited 120 s for $E2E_LOCK" >&2; exit 1; }
    configure_exim
  ) 9>"$E2E_LOCK" || die "configuring exim failed"
  make_cert "$E2E_TMP" || die "making the test certificate failed"
  E2E_CERT=$E2E_TMP/cert.pem
  export E2E_CERT
}

# make_cert DIR: DIR/key.pem, DIR/crt.pem (self-signed, CN=localhost, SAN
# localhost/127.0.0.1/::1) and DIR/cert.pem = key + certificate, the one
# file tlswrapper -f wants.
make_cert() {
  local dir=$1
  local keyopt
  case ${E2E_CERT_KEY:-ec} in
    rsa) keyopt=(-newkey rsa:2048) ;;
    *) keyopt=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1) ;;
  esac
  timeout 60 openssl req -x509 "${keyopt[@]}" -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
    -keyout "$dir/key.pem" -out "$dir/crt.pem" >/dev/null 2>"$dir/openssl-req.log" || {
    cat "$dir/openssl-req.log" >&2; return 1; }
  cat "$dir/key.pem" "$dir/crt.pem" >"$dir/cert.pem"
  chmod 600 "$dir/key.pem" "$dir/cert.pem"
}

# configure_exim: idempotent.  Through Debian's own mechanism:
#  - a system user tws-e2e whose ~/.forward names ~/Maildir/, so exim's
#    userforward router delivers each message to its own file in
#    /var/lib/tws-e2e/Maildir/new (transport address_directory);
#  - a macro block (MAIN_TLS_ENABLE + a certificate of its own) in
#    /etc/exim4/exim4.conf.localmacros (or conf.d/main/000_localmacros with
#    the split configuration), then update-exim4.conf when it changed.
# The exim log stays where Debian puts it: /var/log/exim4/mainlog.
configure_exim() {
  if ! getent passwd "$E2E_USER" >/dev/null; then
    useradd --system --home-dir "$E2E_HOME" --create-home --shell /usr/sbin/nologin "$E2E_USER" ||
      { echo "useradd $E2E_USER failed" >&2; return 1; }
  fi
  local home
  home=$(getent passwd "$E2E_USER" | cut -d: -f6)
  [ "$home" = "$E2E_HOME" ] || { echo "user $E2E_USER has home $home, expected $E2E_HOME" >&2; return 1; }
  install -d -o "$E2E_USER" -g "$(id -gn "$E2E_USER")" -m 755 "$E2E_HOME"
  if [ "$(cat "$E2E_HOME/.forward" 2>/dev/null)" != "$E2E_MAILDIR/" ]; then
    printf '%s/\n' "$E2E_MAILDIR" >"$E2E_HOME/.forward"
  fi
  chown "$E2E_USER:" "$E2E_HOME/.forward"
  chmod 644 "$E2E_HOME/.forward"

  # exim's own certificate: it offers STARTTLS itself, which the helper
  # must hide from clients.
  if [ ! -s "$E2E_EXIM_CERT" ] || [ ! -s "$E2E_EXIM_KEY" ]; then
    timeout 60 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -days 3650 -subj "/CN=exim-behind-helper.localhost" \
      -keyout "$E2E_EXIM_KEY" -out "$E2E_EXIM_CERT" >/dev/null 2>&1 ||
      { echo "cannot make exim's certificate" >&2; return 1; }
  fi
  chown root:Debian-exim "$E2E_EXIM_CERT" "$E2E_EXIM_KEY" 2>/dev/null
  chmod 644 "$E2E_EXIM_CERT"
  chmod 640 "$E2E_EXIM_KEY"

  local split target block current changed=0
  split=$( . /etc/exim4/update-exim4.conf.conf 2>/dev/null; echo "${dc_use_split_config:-false}")
  if [ "$split" = true ]; then
    target=/etc/exim4/conf.d/main/000_localmacros
  else
    target=/etc/exim4/exim4.conf.localmacros
  fi
  block="# BEGIN tlswrapper-smtp e2e (tests/e2e/lib.sh; remove this block to undo)
.ifndef MAIN_TLS_ENABLE
MAIN_TLS_ENABLE = yes
.endif
.ifndef MAIN_TLS_CERTIFICATE
MAIN_TLS_CERTIFICATE = $E2E_EXIM_CERT
.endif
.ifndef MAIN_TLS_PRIVATEKEY
MAIN_TLS_PRIVATEKEY = $E2E_EXIM_KEY
.endif
# END tlswrapper-smtp e2e"
  [ -e "$target" ] || : >"$target"
  current=$(sed -n '/^# BEGIN tlswrapper-smtp e2e/,/^# END tlswrapper-smtp e2e/p' "$target")
  if [ "$current" != "$block" ]; then
    sed -i '/^# BEGIN tlswrapper-smtp e2e/,/^# END tlswrapper-smtp e2e/d' "$target"
    printf '%s\n' "$block" >>"$target"
    changed=1
  fi
  if [ $changed = 1 ] || [ ! -s /var/lib/exim4/config.autogenerated ] ||
     [ "$target" -nt /var/lib/exim4/config.autogenerated ]; then
    timeout 60 update-exim4.conf || { echo "update-exim4.conf failed" >&2; return 1; }
  fi

  # Checks that the configuration does what the tests rely on.
  local route
  route=$(timeout 20 "$E2E_EXIM" -bt "$E2E_RCPT" 2>&1)
  case $route in
    *"$E2E_MAILDIR/"*address_directory*) ;;
    *) echo "exim does not route $E2E_RCPT to $E2E_MAILDIR/: $route" >&2; return 1 ;;
  esac
  timeout 20 "$E2E_EXIM" -bP tls_certificate 2>/dev/null | grep -qF "$E2E_EXIM_CERT" ||
    { echo "exim's tls_certificate is not $E2E_EXIM_CERT (is MAIN_TLS_* set elsewhere?)" >&2; }
  return 0
}

# ---- the pipeline ------------------------------------------------------------

free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_listening() { # PORT: a socket listens on 127.0.0.1:PORT
  "$PYTHON" - "$1" <<'EOF'
import sys
want = "%04X" % int(sys.argv[1])
for line in open("/proc/net/tcp"):
    f = line.split()
    if len(f) > 3 and f[3] == "0A" and f[1] == "0100007F:" + want:
        sys.exit(0)
sys.exit(1)
EOF
}

# start_pipeline HELPER [helper options...] [-- PROG [ARGS...]]
# PROG defaults to "exim4 -bs".  Sets and exports E2E_PORT and
# E2E_PIPELINE_PID (tcpserver, leader of a process group holding the whole
# pipeline).  Everything's stderr goes to $E2E_TMP/pipeline.log through a
# pipe, as under multilog: a jailed helper cannot write to a regular file.
# Only fds 0-2 are inherited: a stray fd 5 or 6 would change the STARTTLS
# control protocol the helper sees.
start_pipeline() {
  local helper=$1; shift
  local -a hopts=() prog=() tlsopts=() defopts=() tcpopts=()
  read -r -a defopts <<<"${E2E_HELPER_OPTS--v}"
  read -r -a tlsopts <<<"${E2E_TLSWRAPPER_OPTS--v}"
  read -r -a tcpopts <<<"${E2E_TCPSERVER_OPTS-}"
  while [ $# -gt 0 ]; do
    if [ "$1" = -- ]; then shift; prog=("$@"); break; fi
    hopts+=("$1"); shift
  done
  [ ${#prog[@]} -gt 0 ] || prog=("$E2E_EXIM" -bs)
  stop_pipeline
  local port
  for _ in 1 2 3 4 5; do
    port=$(free_port) || return 1
    printf '# pipeline: tcpserver -HRDl0 %s 127.0.0.1 %s tlswrapper %s -n -f %s %s %s %s\n' \
      "${tcpopts[*]}" "$port" "${tlsopts[*]}" "$E2E_CERT" "$helper" "${defopts[*]} ${hopts[*]}" "${prog[*]}" \
      >>"$E2E_TMP/pipeline.log"
    "$PYTHON" -c '
import os, sys
try:
    os.setsid()
except OSError:
    pass
os.closerange(3, 65536)
os.execvp(sys.argv[1], sys.argv[1:])' \
      tcpserver -HRDl0 "${tcpopts[@]}" 127.0.0.1 "$port" \
      tlswrapper "${tlsopts[@]}" -n -f "$E2E_CERT" \
      "$helper" "${defopts[@]}" "${hopts[@]}" "${prog[@]}" \
      </dev/null >>"$E2E_TMP/pipeline.out" 2> >(cat >>"$E2E_TMP/pipeline.log") &
    E2E_PIPELINE_PID=$!
    echo "$E2E_PIPELINE_PID" >"$E2E_TMP/pipeline.pgid"
    for _ in $(seq 1 50); do
      if port_listening "$port"; then
        E2E_PORT=$port
        export E2E_PORT E2E_PIPELINE_PID
        e2e_log "pipeline up on 127.0.0.1:$E2E_PORT (pgid $E2E_PIPELINE_PID): helper ${defopts[*]} ${hopts[*]} -> ${prog[*]}"
        return 0
      fi
      kill -0 "$E2E_PIPELINE_PID" 2>/dev/null || break
      sleep 0.1
    done
    stop_pipeline
  done
  fail "could not start tcpserver (see $E2E_TMP/pipeline.log)"
  return 1
}

# stop_pipeline: TERM, then KILL, the pipeline's whole process group.
stop_pipeline() {
  [ -n "$E2E_PIPELINE_PID" ] || return 0
  local pid=$E2E_PIPELINE_PID
  E2E_PIPELINE_PID=
  kill -TERM -- "-$pid" 2>/dev/null
  for _ in $(seq 1 30); do
    kill -0 -- "-$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  rm -f "$E2E_TMP/pipeline.pgid"
  return 0
}

# wait_for_delivery TOKEN TIMEOUT: wait until a message containing TOKEN
# (any unique string, e.g. put in the body; or an exim message id, which
# the delivered Received: header carries) is in the test maildir.  Sets
# E2E_DELIVERED to its file.
wait_for_delivery() {
  local token=$1 limit=${2:-20} end f
  E2E_DELIVERED=
  end=$(($(date +%s) + limit))
  while [ "$(date +%s)" -le "$end" ]; do
    f=$(grep -lF -- "$token" "$E2E_MAILDIR"/new/* "$E2E_MAILDIR"/cur/* 2>/dev/null | head -n 1)
    if [ -n "$f" ]; then
      # shellcheck disable=SC2034  # read by the test scripts
      E2E_DELIVERED=$f
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# wait_listening PORT WHAT: up to 5 s for a listener on 127.0.0.1:PORT,
# then one check line saying WHAT listens.
wait_listening() {
  local up=no
  for _ in $(seq 1 50); do
    if port_listening "$1"; then up=yes; break; fi
    sleep 0.1
  done
  check "$2 listens on 127.0.0.1:$1" [ $up = yes ]
}

# example_mail NAME: one mail with swaks --tls to 127.0.0.1:$E2E_PORT as
# an admin would test a new service, its transcript printed; checks that
# swaks succeeded over TLS and that exim delivered it. Sets token (unique,
# in the sender, subject and body), out (the transcript) and arrival (the
# mainlog's arrival line, printed).
example_mail() {
  local rc mark
  token="$1-$$-$RANDOM$RANDOM"
  out=$E2E_TMP/swaks.txt
  mark=$(exim_log_mark)
  timeout -k 2 40 swaks --server "127.0.0.1:$E2E_PORT" --tls --timeout 20 \
    --ehlo client.example --from "sender-$token@example.com" --to "$E2E_RCPT" \
    --header "Subject: $token" --body "body line with $token" >"$out" 2>&1
  rc=$?
  sed 's/^/    /' "$out"
  check "swaks --tls exits 0" [ $rc -eq 0 ]
  check "TLS started" grep -q '^=== TLS started with cipher' "$out"
  check "message accepted over TLS (250 after the dot)" \
    grep -qE '^<~  250 ' <(sed -n '/^ ~> \.$/,$p' "$out")
  if wait_for_delivery "$token" 20; then
    pass "delivered: $token found in $E2E_DELIVERED"
    [ "${E2E_KEEP:-0}" = 1 ] || rm -f "$E2E_DELIVERED"
  else
    fail "not delivered within 20 s"
  fi
  arrival=$(exim_log_since "$mark" | grep "<= sender-$token@example.com")
  printf '    mainlog: %s\n' "$arrival"
}

# exim_log_since MARK: exim mainlog lines written after the mark returned by
# exim_log_mark (the log's size in bytes).
exim_log_mark() { stat -c %s "$E2E_MAINLOG" 2>/dev/null || echo 0; }
exim_log_since() { tail -c +"$(($1 + 1))" "$E2E_MAINLOG" 2>/dev/null; }

# CONF: appends a PLAIN authenticator for $AUTH_USER / $AUTH_PASS to an exim
# configuration whose last section is its authenticators, makes it
# readable by exim, and has exim check it (-bV).
exim_add_plain_authenticator() {
  cat >>"$1" <<EOF

tws_e2e_plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if and {{eq{\$auth2}{$AUTH_USER}}{eq{\$auth3}{$AUTH_PASS}}}}
  server_set_id = \$auth2
EOF
  chown root:root "$1"
  chmod 644 "$1"
  timeout 20 "$E2E_EXIM" -C "$1" -bV >"$1.check" 2>&1 || { cat "$1.check" >&2; return 1; }
}

# TEXT: a line of the helper holding TEXT reached the pipeline's log (within 5 s).
helper_log_has() {
  for _ in $(seq 1 50); do
    grep -qF -- "$1" "$E2E_TMP/pipeline.log" && return 0
    sleep 0.1
  done
  return 1
}

# recorder_dir: a fresh directory for the recording server, writable by any
# uid (the helper's -u may run the server as another user).
recorder_dir() {
  local d
  d=$(mktemp -d "$E2E_TMP/rec.XXXXXX") && chmod 1777 "$d" && echo "$d"
}
