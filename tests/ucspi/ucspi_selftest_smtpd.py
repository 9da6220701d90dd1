#!/usr/bin/env python3
"""A tiny SMTP server that speaks UCSPI-TLS itself, the way the shared
notes on the peers (PEERS.md) say a program should: used only to prove the
test peer (ucspi_tls_server.py) right before the helper supports it.

    ucspi_selftest_smtpd.py --record FILE [--command Y|y|CHAR] [--decline]
                            [--linger SECS] [--no-read-answer]

The client can change the behaviour of its own session with commands of
this server's own: XDECLINE (close SSLCTLFD now and go on in plaintext),
XCOMMAND C (the byte the next STARTTLS sends), XLINGER SECS (after QUIT
inside TLS, close SSLWRITEFD and stay that long), XNOREAD (do not read
the answer to Y).  Each is answered 250 first.

Before TLS it talks on fd 0/1 (the TCP socket).  On STARTTLS it writes
its 220 on fd 1, then the command byte on SSLCTLFD; with Y it reads the
answer up to the double NUL (bounded: 64 KiB, 10 s), then talks on
SSLREADFD/SSLWRITEFD.  It never closes SSLCTLFD (sslserver would kill it)
unless told to decline.

It appends JSON lines to FILE (one object per event, each with its pid):
"start" (its environment's SSL*/TCP*/PROTO/CERTFILE/KEYFILE variables and
every open descriptor below 64: kind, socket family, access mode, the
inode it names), "declined", "starttls" (plaintext pipelined after the
STARTTLS line), "answer" (bytes, entries, how it ended, whether the
control socket is then at EOF or still open), "handshake-failed",
"tls-up", "cmd" (each command line), "message" (DATA bytes), "quit",
"sigterm", "eof", "exit".
"""

import argparse
import fcntl
import hashlib
import json
import os
import select
import signal
import socket
import stat
import sys
import time

ARGS = None
REC_FD = None


def record(event, **kw):
    kw = dict(event=event, pid=os.getpid(), t=round(time.time(), 3), **kw)
    os.write(REC_FD, (json.dumps(kw) + "\n").encode())


def describe_fds():
    out = {}
    for fd in range(64):
        if fd == REC_FD:
            continue
        try:
            st = os.fstat(fd)
        except OSError:
            continue
        d = {"ino": st.st_ino}
        try:
            d["link"] = os.readlink("/proc/self/fd/%d" % fd)
        except OSError:
            pass
        if stat.S_ISSOCK(st.st_mode):
            d["kind"] = "socket"
            try:
                s = socket.socket(fileno=os.dup(fd))
                d["family"] = {socket.AF_UNIX: "unix", socket.AF_INET: "inet",
                               socket.AF_INET6: "inet6"}.get(s.family, str(s.family))
                if s.family in (socket.AF_INET, socket.AF_INET6):
                    d["local"] = "%s:%d" % s.getsockname()[:2]
                    d["remote"] = "%s:%d" % s.getpeername()[:2]
                s.close()
            except OSError as e:
                d["family"] = "? %s" % e
        elif stat.S_ISFIFO(st.st_mode):
            d["kind"] = "pipe"
        elif stat.S_ISCHR(st.st_mode):
            d["kind"] = "chr"
        else:
            d["kind"] = "file"
        try:
            acc = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
            d["mode"] = {os.O_RDONLY: "r", os.O_WRONLY: "w", os.O_RDWR: "rw"}[acc]
            d["nonblock"] = bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK)
        except OSError:
            pass
        out[str(fd)] = d
    return out


def env_fd(name):
    v = os.environ.get(name)
    return int(v) if v is not None and v.isdigit() else None


class Conn:
    def __init__(self):
        self.infd, self.outfd = 0, 1
        self.buf = b""

    def write(self, data):
        while data:
            try:
                n = os.write(self.outfd, data)
            except BlockingIOError:
                select.select([], [self.outfd], [], 5)
                continue
            data = data[n:]

    def reply(self, text):
        self.write(text.encode() + b"\r\n")

    def fill(self, timeout):
        r, _, _ = select.select([self.infd], [], [], timeout)
        if not r:
            return None
        try:
            data = os.read(self.infd, 65536)
        except BlockingIOError:
            return b"?"       # spurious wake-up (non-blocking socket)
        except OSError:
            data = b""
        return data

    def line(self, timeout=20.0):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            data = self.fill(max(0.0, end - time.monotonic()))
            if data is None:
                return None
            if data == b"?":
                continue
            if not data:
                return b""
            self.buf += data
        i = self.buf.index(b"\n") + 1
        ln, self.buf = self.buf[:i], self.buf[i:]
        return ln


def read_answer(ctl):
    """Up to the double NUL, bounded; returns (bytes, how it ended)."""
    data = b""
    end = time.monotonic() + 10
    while not data.endswith(b"\0\0"):
        if len(data) > 65536:
            return data, "too-long"
        r, _, _ = select.select([ctl], [], [], max(0.0, end - time.monotonic()))
        if not r:
            return data, "timeout"
        chunk = os.read(ctl, 65536)
        if not chunk:
            return data, "eof"
        data += chunk
    return data, "double-nul"


def parse_answer(data):
    entries = {}
    for item in data.rstrip(b"\0").split(b"\0") if data.strip(b"\0") else []:
        name, eq, value = item.partition(b"=")
        entries[name.decode("latin-1")] = value.decode("latin-1") if eq else None
    return entries


def ctl_state(ctl, wait):
    r, _, _ = select.select([ctl], [], [], wait)
    if not r:
        return "open"
    try:
        b = os.read(ctl, 1)
    except OSError as e:
        return "error %s" % e
    return "eof" if not b else "data"


def main():
    global ARGS, REC_FD
    p = argparse.ArgumentParser()
    p.add_argument("--record", required=True)
    p.add_argument("--command", default="Y")
    p.add_argument("--decline", action="store_true",
                   help="after the greeting, close SSLCTLFD and go on in plaintext")
    p.add_argument("--linger", type=float, default=0.0,
                   help="after QUIT inside TLS, close SSLWRITEFD and stay this long")
    p.add_argument("--no-read-answer", action="store_true")
    ARGS = p.parse_args()
    REC_FD = os.open(ARGS.record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    os.set_inheritable(REC_FD, False)

    def on_term(_sig, _frame):
        record("sigterm")
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
    signal.signal(signal.SIGTERM, on_term)

    keys = ("SSL", "TCP", "PROTO", "CERTFILE", "KEYFILE")
    record("start", env={k: v for k, v in os.environ.items() if k.startswith(keys)},
           fds=describe_fds(), argv=sys.argv[1:])
    ctl, rfd, wfd = env_fd("SSLCTLFD"), env_fd("SSLREADFD"), env_fd("SSLWRITEFD")
    c = Conn()
    tls = False
    declined = False
    c.reply("220 selftest.example ESMTP ucspi self-test")
    if ARGS.decline:
        os.close(ctl)
        declined = True
        record("declined")
    while True:
        ln = c.line()
        if ln is None:
            record("timeout")
            return 3
        if not ln:
            record("eof", tls=tls)
            return 0
        cmd = ln.rstrip(b"\r\n")
        verb = cmd.split(b" ", 1)[0].upper()
        record("cmd", tls=tls, line=cmd.decode("latin-1"))
        if verb in (b"EHLO", b"HELO"):
            lines = ["250-selftest.example hello", "250-PIPELINING", "250-8BITMIME"]
            if not tls and not declined:
                lines.append("250-STARTTLS")
            lines.append("250 HELP")
            if verb == b"HELO":
                lines = ["250 selftest.example"]
            c.write("".join(x + "\r\n" for x in lines).encode())
        elif verb == b"STARTTLS":
            if tls:
                c.reply("503 5.5.1 TLS already active")
                continue
            if declined:
                c.reply("454 4.7.0 TLS not available")
                continue
            c.reply("220 2.0.0 ready to start TLS")
            record("starttls", pipelined=len(c.buf))
            c.buf = b""
            os.write(ctl, ARGS.command.encode("latin-1"))
            if ARGS.command == "Y" and not ARGS.no_read_answer:
                data, how = read_answer(ctl)
                if not data and how == "eof":
                    record("handshake-failed", how="control socket EOF with no bytes")
                    return 1
                after = ctl_state(ctl, 0.3) if how == "double-nul" else how
                ent = parse_answer(data)
                record("answer", bytes=len(data), ended=how, ctl_after=after,
                       entries=ent, names=list(ent),
                       newline_in_values=any(v is not None and "\n" in v for v in ent.values()))
                if how != "double-nul":
                    return 1
            else:
                record("no-answer-asked", ctl_after=ctl_state(ctl, 0.3))
            c.infd, c.outfd = rfd, wfd
            tls = True
            record("tls-up", sock_nonblock=bool(fcntl.fcntl(0, fcntl.F_GETFL) & os.O_NONBLOCK))
        elif verb == b"DATA":
            c.reply("354 go ahead")
            body = b""
            while True:
                ln = c.line()
                if not ln:
                    record("eof-in-data")
                    return 1
                if ln in (b".\r\n", b".\n"):
                    break
                body += ln
            record("message", tls=tls, bytes=len(body), sha256=hashlib.sha256(body).hexdigest(),
                   head=body[:200].decode("latin-1"))
            c.reply("250 2.0.0 accepted")
        elif verb == b"QUIT":
            c.reply("221 2.0.0 bye")
            record("quit", tls=tls)
            if tls:
                os.close(c.outfd)
                if ARGS.linger:
                    time.sleep(ARGS.linger)
                    record("linger-done")
            return 0
        elif verb == b"XDECLINE" and not tls and not declined:
            c.reply("250 2.0.0 declining TLS")
            os.close(ctl)
            declined = True
            record("declined")
        elif verb == b"XCOMMAND" and len(cmd) > 9:
            ARGS.command = cmd[9:10].decode("latin-1")
            c.reply("250 2.0.0 command %s" % ARGS.command)
        elif verb == b"XLINGER":
            ARGS.linger = float(cmd[8:] or 0)
            c.reply("250 2.0.0 linger %g" % ARGS.linger)
        elif verb == b"XNOREAD":
            ARGS.no_read_answer = True
            c.reply("250 2.0.0 will not read the answer")
        elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
            c.reply("250 2.0.0 ok")
        else:
            c.reply("502 5.5.2 unknown command")


if __name__ == "__main__":
    rc = main()
    record("exit", status=rc)
    sys.exit(rc)
