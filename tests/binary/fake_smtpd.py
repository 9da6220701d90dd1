#!/usr/bin/env python3
"""An inetd-style SMTP server for tests: speaks just enough SMTP on stdin and
stdout, records what it receives, and can misbehave on request.

Environment:
  FAKE_DIR          where to record: `log` (one line per command) and
                    msg.N (each complete message body, raw, as received)
  FAKE_MODE         normal | fds | die_after_mail | die_in_data | silent |
                    garbage | stop_reading_in_data | flood | no_chunking |
                    shutdown_after_ehlo (an unsolicited 421, then exit 0) |
                    noop_421 (NOOP answered 421, then exit 0) |
                    slow_noop (NOOP answered after 1 s) |
                    slow_reader (sleeps 20 ms every 32 body lines)
  FAKE_QUIT_STATUS  exit status after QUIT (default 0)
"""
import os
import sys

rd = sys.stdin.buffer
wr = sys.stdout.buffer
mode = os.environ.get("FAKE_MODE", "normal")
outdir = os.environ.get("FAKE_DIR", "/tmp")
msg_count = 0


def say(text):
    wr.write(text.encode() if isinstance(text, str) else text)
    wr.flush()


def note(text):
    with open(os.path.join(outdir, "log"), "ab") as f:
        f.write(text + b"\n")


def record(body, complete=True):
    global msg_count
    msg_count += 1
    name = "msg.%d" % msg_count + ("" if complete else ".partial")
    with open(os.path.join(outdir, name), "wb") as f:
        f.write(body)


def hang():
    """Stuck, reading nothing, until the helper goes away (the read end of
    our stdout closes), as a real server stuck in a lookup would notice at
    its next write."""
    import select
    p = select.poll()
    p.register(wr.fileno(), 0)
    while True:
        for _, ev in p.poll(60000):
            if ev & (select.POLLERR | select.POLLHUP):
                sys.exit(6)


greeting = "220 fake.test ESMTP"
if mode == "fds":
    fds = sorted(int(x) for x in os.listdir("/proc/self/fd"))
    fds = [fd for fd in fds if os.path.exists("/proc/self/fd/%d" % fd)]
    front = sorted(k for k in os.environ
                   if k in ("SSLCTLFD", "SSLREADFD", "SSLWRITEFD", "CERTFILE", "KEYFILE"))
    greeting += " fds=%s uid=%d gid=%d groups=%s remote=%s root=%s front=%s" % (
        ",".join(map(str, fds)), os.getuid(), os.getgid(),
        ",".join(map(str, sorted(os.getgroups()))), os.environ.get("TCPREMOTEIP", "-"),
        os.readlink("/proc/self/root"), ",".join(front) or "-")
say(greeting + "\r\n")

chunk = b""
while True:
    line = rd.readline()
    if not line:
        note(b"EOF")
        if chunk:
            record(chunk, complete=False)
        sys.exit(3)
    note(b"C: " + line.rstrip(b"\r\n"))
    verb = line.split(b" ", 1)[0].strip().upper()
    if mode == "silent" and verb not in (b"EHLO", b"HELO"):
        hang()
    if mode == "garbage" and verb not in (b"EHLO", b"HELO"):
        say("this is not smtp\r\n")
        continue
    if verb == b"EHLO":
        if mode == "flood":
            while True:
                say(b"250-flood " + b"x" * 1000 + b"\r\n")
        caps = ["fake.test", "PIPELINING", "8BITMIME", "SIZE 104857600", "STARTTLS"]
        if mode != "no_chunking":
            caps.insert(3, "CHUNKING")
        say("".join("250-%s\r\n" % c for c in caps[:-1]) + "250 %s\r\n" % caps[-1])
        if mode == "shutdown_after_ehlo":
            import time
            time.sleep(0.3)
            say("421 4.3.2 shutting down\r\n")
            sys.exit(0)
    elif verb == b"HELO":
        say("250 fake.test\r\n")
    elif verb == b"MAIL":
        say("250 2.1.0 sender ok\r\n")
        if mode == "die_after_mail":
            sys.exit(7)
    elif verb == b"RCPT":
        say("250 2.1.5 recipient ok\r\n")
    elif verb == b"NOOP" and mode == "noop_421":
        say("421 4.3.2 going down\r\n")
        sys.exit(0)
    elif verb in (b"RSET", b"NOOP"):
        if verb == b"NOOP" and mode == "slow_noop":
            import time
            time.sleep(1)
        chunk = b""
        say("250 2.0.0 ok\r\n")
    elif verb == b"QUIT":
        say("221 2.0.0 bye\r\n")
        sys.exit(int(os.environ.get("FAKE_QUIT_STATUS", "0")))
    elif verb == b"DATA":
        say("354 go ahead\r\n")
        if mode == "stop_reading_in_data":
            hang()
        body = b""
        lines_read = 0
        while True:
            piece = rd.readline()
            if not piece:
                note(b"EOF in DATA")
                record(body, complete=False)
                sys.exit(4)
            lines_read += 1
            if mode == "slow_reader" and lines_read % 32 == 0:
                import time
                time.sleep(0.02)
            if mode == "die_in_data" and len(body) > 1000:
                record(body, complete=False)
                sys.exit(9)
            # Strict end: CRLF . CRLF, where the first CRLF ends the previous line.
            if piece == b".\r\n" and (body == b"" or body.endswith(b"\r\n")):
                break
            body += piece
        record(body)
        say("250 2.0.0 message %d accepted\r\n" % msg_count)
    elif verb == b"BDAT":
        words = line.split()
        size = int(words[1])
        data = b""
        while len(data) < size:
            more = rd.read(size - len(data))
            if not more:
                note(b"EOF in BDAT")
                record(chunk + data, complete=False)
                sys.exit(5)
            data += more
        chunk += data
        if len(words) > 2 and words[2].upper() == b"LAST":
            record(chunk)
            chunk = b""
            say("250 2.0.0 message %d accepted\r\n" % msg_count)
        else:
            say("250 2.0.0 %d octets received\r\n" % size)
    else:
        say("500 5.5.1 unrecognised command\r\n")
