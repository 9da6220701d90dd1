#!/bin/bash
# The pregreet test (-p) with real clients through tcpserver -> tlswrapper
# -n -> HELPER -p 1 -> exim4 -bs:
#  1. Good clients wait for the greeting's last line and deliver over
#     STARTTLS: swaks, msmtp, curl (smtp:// --ssl-reqd), Python's smtplib,
#     Perl's Net::SMTP and openssl s_client; each message arrives.
#  2. Early talkers get 554 5.7.1 and the connection ends: a client that
#     sends EHLO in the same write as its connect, one that pipelines EHLO,
#     MAIL, RCPT right after the "220-" line; the helper logs "pregreet:",
#     exim ends (its input closed) and leaves no line in its mainlog; with
#     the recording server as prog nothing of theirs reaches the server.
#  3. Per client with tcprules (tcpserver -x): RELAYCLIENT (127.0.0.2)
#     gets the greeting at once, GREETDELAY=0 (127.0.0.3) too, and an
#     early talker from 127.0.0.3 is not refused.
#  4. STARTTLS and greylisting (-g, a real postgrey) with -p: the first try
#     is greylisted, the retry after postgrey's delay is delivered.
# Usage: t_pregreet.sh HELPER
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_setup
for c in msmtp curl perl; do
  command -v "$c" >/dev/null 2>&1 || die "missing $c (scripts/deps.sh installs msmtp curl libio-socket-ssl-perl)"
done
perl -MNet::SMTP -MIO::Socket::SSL -e 1 2>/dev/null || die "Perl lacks Net::SMTP or IO::Socket::SSL"

WAIT=1

# deliver NAME: the message NAME's token must arrive in the maildir.
delivered() {
  if wait_for_delivery "$1" 20; then
    pass "$2: delivered ($1)"
    [ "${E2E_KEEP:-0}" = 1 ] || rm -f "$E2E_DELIVERED"
  else
    fail "$2: not delivered within 20 s ($1)"
  fi
}

message() { # TOKEN: a small message with TOKEN in its subject and body
  printf 'From: sender-%s@example.com\r\nTo: %s\r\nSubject: %s\r\n\r\nbody line with %s\r\n' \
    "$1" "$E2E_RCPT" "$1" "$1"
}

# ---- 1. good clients --------------------------------------------------------

start_pipeline "$E2E_HELPER" -p "$WAIT" || e2e_finish

# swaks: the greeting's first line at once, the last after the wait.
tok="pg-swaks-$$-$RANDOM"
out=$E2E_TMP/swaks.txt
timeout -k 2 40 swaks --server "127.0.0.1:$E2E_PORT" --tls --timeout 20 \
  --ehlo client.example --from "sender-$tok@example.com" --to "$E2E_RCPT" \
  --header "Subject: $tok" --body "body line with $tok" >"$out" 2>&1
rc=$?
sed 's/^/    /' "$out" | head -n 30
check "swaks --tls exits 0" [ $rc -eq 0 ]
check "swaks saw the greeting as a 220- line then a 220 line" \
  grep -qE '^<-  220 ' <(grep -A1 -E '^<-  220-' "$out")
check "swaks: TLS started" grep -q '^=== TLS started with cipher' "$out"
delivered "$tok" swaks

# msmtp, STARTTLS required.
tok="pg-msmtp-$$-$RANDOM"
message "$tok" | timeout -k 2 40 msmtp --host=127.0.0.1 --port="$E2E_PORT" --domain=client.example \
  --tls=on --tls-starttls=on --tls-certcheck=off --auth=off --timeout=20 \
  --from="sender-$tok@example.com" "$E2E_RCPT" >"$E2E_TMP/msmtp.txt" 2>&1
rc=$?
sed 's/^/    /' "$E2E_TMP/msmtp.txt"
check "msmtp --tls-starttls exits 0" [ $rc -eq 0 ]
delivered "$tok" msmtp

# curl, smtp:// with --ssl-reqd (STARTTLS or fail).
tok="pg-curl-$$-$RANDOM"
message "$tok" >"$E2E_TMP/curl-msg.txt"
timeout -k 2 40 curl -sS --max-time 30 --ssl-reqd -k "smtp://127.0.0.1:$E2E_PORT/client.example" \
  --mail-from "sender-$tok@example.com" --mail-rcpt "$E2E_RCPT" \
  --upload-file "$E2E_TMP/curl-msg.txt" >"$E2E_TMP/curl.txt" 2>&1
rc=$?
sed 's/^/    /' "$E2E_TMP/curl.txt"
check "curl smtp:// --ssl-reqd exits 0" [ $rc -eq 0 ]
delivered "$tok" curl

# Python's smtplib.
tok="pg-smtplib-$$-$RANDOM"
run_py "smtplib: STARTTLS and sendmail" TOK="$tok" <<'EOF'
import os, smtplib, ssl, sys
tok = os.environ["TOK"]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with smtplib.SMTP("127.0.0.1", int(os.environ["E2E_PORT"]), "client.example", timeout=20) as s:
    s.starttls(context=ctx)
    s.sendmail("sender-%s@example.com" % tok, [os.environ["E2E_RCPT"]],
               "Subject: %s\r\n\r\nbody line with %s\r\n" % (tok, tok))
print("ok - smtplib sent %s" % tok)
EOF
delivered "$tok" smtplib

# Perl's Net::SMTP.
tok="pg-netsmtp-$$-$RANDOM"
TOK=$tok timeout -k 2 40 perl -MNet::SMTP -e '
  my $t = $ENV{TOK};
  my $s = Net::SMTP->new("127.0.0.1", Port => $ENV{E2E_PORT}, Hello => "client.example",
                         Timeout => 20) or die "connect: $@\n";
  $s->starttls(SSL_verify_mode => 0) or die "starttls: " . $s->message;
  $s->mail("sender-$t\@example.com") or die "mail: " . $s->message;
  $s->to($ENV{E2E_RCPT}) or die "rcpt: " . $s->message;
  $s->data("Subject: $t\r\n\r\nbody line with $t\r\n") or die "data: " . $s->message;
  $s->quit;
  print "sent $t\n";' >"$E2E_TMP/netsmtp.txt" 2>&1
rc=$?
sed 's/^/    /' "$E2E_TMP/netsmtp.txt"
check "Net::SMTP starttls and data succeed" [ $rc -eq 0 ]
delivered "$tok" Net::SMTP

# openssl s_client -starttls smtp reads the multi-line greeting itself.
tok="pg-sclient-$$-$RANDOM"
{
  sleep 2.5
  printf 'EHLO client.example\n'; sleep 0.5
  printf 'MAIL FROM:<sender-%s@example.com>\n' "$tok"; sleep 0.3
  printf 'RCPT TO:<%s>\n' "$E2E_RCPT"; sleep 0.3
  printf 'DATA\n'; sleep 0.3
  printf 'Subject: %s\n\nbody line with %s\n.\n' "$tok" "$tok"; sleep 0.5
  printf 'QUIT\n'; sleep 1
} | timeout -k 2 30 openssl s_client -starttls smtp -name client.example \
  -connect "127.0.0.1:$E2E_PORT" -crlf -ign_eof -nocommands -quiet >"$E2E_TMP/s_client.txt" 2>&1
rc=$?
grep -E '^[0-9]{3}' "$E2E_TMP/s_client.txt" | sed 's/^/    /'
check "s_client exits 0" [ $rc -eq 0 ]
check "s_client: 250 after the dot" grep -qE '^250 OK id=' "$E2E_TMP/s_client.txt"
delivered "$tok" "openssl s_client"

# ---- 2. early talkers -----------------------------------------------------------

exim_count() { pgrep -g "$E2E_PIPELINE_PID" -x exim4 | wc -l; }
mark=$(exim_log_mark)
run_py "EHLO in the same write as the connect: 554, then the connection ends" <<'EOF'
import os, socket, time
from smtpclient import Checks
c = Checks()
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.settimeout(10)
# connect, and the first write right behind it: nothing read in between
s.connect(("127.0.0.1", int(os.environ["E2E_PORT"])))
s.sendall(b"EHLO early.bot.example\r\nMAIL FROM:<bot@example.com>\r\n")
got = b""
while True:
    try:
        b = s.recv(4096)
    except socket.timeout:
        break
    if not b:
        break
    got += b
c.ok(got.endswith(b"554 5.7.1 Protocol error: talking before the greeting\r\n"), "554 at the end", got)
c.ok(b"\n220 " not in b"\n" + got, "the greeting's last line never came", got)
c.exit()
EOF
check "the helper logged the early talker" helper_log_has 'pregreet: '
check "... with its first line quoted" helper_log_has '"EHLO early.bot.example"'
run_py "pipelining right after the 220- line: 554" <<'EOF'
import os
from smtpclient import Checks, Client
c = Checks()
cl = Client("127.0.0.1", int(os.environ["E2E_PORT"]))
first = b""
while not first.endswith(b"\n"):
    first += cl.sock.recv(1)
c.ok(first.startswith(b"220-"), "a 220- line first", first)
cl.send(b"EHLO pipe.bot.example\r\nMAIL FROM:<bot@example.com>\r\nRCPT TO:<victim@example.org>\r\n")
r = cl.read_reply(10)
c.ok(r.code == 554 and b"5.7.1" in r.raw, "554 5.7.1", r.raw)
c.ok(cl.sock.recv(100) == b"", "connection closed")
c.exit()
EOF
check "... logged after some ms" helper_log_has '"EHLO pipe.bot.example"'
gone=no
for _ in $(seq 1 50); do [ "$(exim_count)" -eq 0 ] && { gone=yes; break; }; sleep 0.1; done
check "exim ends when its input is closed (no exim4 left in the pipeline)" [ $gone = yes ]
check "exim logged nothing of the early talkers" \
  bash -c '! grep -qE "bot\.example" <(tail -c +"$(($1 + 1))" "$2")' _ "$mark" "$E2E_MAINLOG"
stop_pipeline

# The same with the recording server: nothing of theirs reaches it.
rec=$(recorder_dir)
start_pipeline "$E2E_HELPER" -p "$WAIT" -- "$PYTHON" "$E2E_RECORDER" "$rec" || e2e_finish
run_py "early talker in front of the recording server: 554" <<'EOF'
import os, socket
from smtpclient import Checks
c = Checks()
s = socket.create_connection(("127.0.0.1", int(os.environ["E2E_PORT"])), timeout=10)
s.sendall(b"EHLO recorded.bot.example\r\n")
got = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    got += b
c.ok(got.endswith(b"554 5.7.1 Protocol error: talking before the greeting\r\n"), "554", got)
c.exit()
EOF
sleep 0.5
check "the recording server ran" bash -c 'ls "$1"/session-*.txt' _ "$rec"
check "... and got no command" bash -c '! grep -q "^C: " "$1"/session-*.txt' _ "$rec"
stop_pipeline

# ---- 3. per client, with tcprules ----------------------------------------------

printf '127.0.0.2:allow,RELAYCLIENT=""\n127.0.0.3:allow,GREETDELAY="0"\n:allow\n' >"$E2E_TMP/rules"
tcprules "$E2E_TMP/rules.cdb" "$E2E_TMP/rules.tmp" <"$E2E_TMP/rules"
E2E_TCPSERVER_OPTS="-x $E2E_TMP/rules.cdb" start_pipeline "$E2E_HELPER" -p 5 || e2e_finish
run_py "tcprules: RELAYCLIENT and GREETDELAY=0 get the greeting at once, others wait" <<'EOF'
import os, socket, time
from smtpclient import Checks
c = Checks()
port = int(os.environ["E2E_PORT"])
def first_line(src):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    t0 = time.time()
    line = b""
    while not line.endswith(b"\n"):
        line += s.recv(1)
    return s, line, time.time() - t0
for src in ("127.0.0.2", "127.0.0.3"):
    s, line, took = first_line(src)
    c.ok(line.startswith(b"220 "), "%s: the whole greeting at once" % src, line)
    s.sendall(b"QUIT\r\n")
    s.close()
s, line, _ = first_line("127.0.0.1")
c.ok(line.startswith(b"220-"), "127.0.0.1: a 220- line, the rest waits", line)
s.close()
c.exit()
EOF
stop_pipeline

# ---- 4. STARTTLS and greylisting with -p ---------------------------------------

pgdir=$(mktemp -d "$E2E_TMP/postgrey.XXXXXX")
chmod 755 "$pgdir"
mkdir "$pgdir/db" && chown postgrey:postgrey "$pgdir/db"
: >"$pgdir/empty"
pgport=$(free_port)
postgrey --inet="127.0.0.1:$pgport" --dbdir="$pgdir/db" --delay=2 --whitelist-clients="$pgdir/empty" \
  --whitelist-recipients="$pgdir/empty" --auto-whitelist-clients=0 >/dev/null 2>"$pgdir/log" &
pgpid=$!
wait_listening "$pgport" postgrey
start_pipeline "$E2E_HELPER" -p "$WAIT" -g "127.0.0.1:$pgport" || e2e_finish
tok="pg-grey-$$-$RANDOM"
try_grey() {
  timeout -k 2 40 swaks --server "127.0.0.1:$E2E_PORT" --tls --timeout 20 \
    --ehlo client.example --from "sender-$tok@example.com" --to "$E2E_RCPT" \
    --header "Subject: $tok" --body "body line with $tok" >"$1" 2>&1
}
try_grey "$E2E_TMP/grey1.txt"
check "greylisted over TLS after the wait: 450 to RCPT" \
  grep -qE '^<~\*+ 450 ' "$E2E_TMP/grey1.txt"
check "... and the greeting came as 220- then 220" \
  grep -qE '^<-  220 ' <(grep -A1 -E '^<-  220-' "$E2E_TMP/grey1.txt")
sleep 3
try_grey "$E2E_TMP/grey2.txt"
rc=$?
sed 's/^/    /' "$E2E_TMP/grey2.txt" | grep -E '^    (<|=== TLS)' | head -n 20
check "retried after the delay: swaks exits 0" [ $rc -eq 0 ]
delivered "$tok" "greylisting with -p"
stop_pipeline
kill "$pgpid" 2>/dev/null
wait "$pgpid" 2>/dev/null

e2e_finish
