#!/usr/bin/env python3
"""A recording SMTP server for the end-to-end tests.

Speaks just enough SMTP on stdin/stdout (inetd style, like `exim4 -bs`) to
stand behind the helper, and records what reached it, byte for byte.

Usage: recording_smtpd.py DIR     (or RECORDING_SMTPD_DIR=DIR in the
environment; the argument wins, since a helper may clean the environment)

Environment:
  RECORDING_SMTPD_DIR        directory for the records, if no argument
  RECORDING_SMTPD_STARTTLS   "1" (default) advertises STARTTLS in the EHLO
                             reply, as exim does, so that tests can check that
                             the helper strips it; "0" does not.  A STARTTLS
                             command that reaches this server is answered
                             454 and logged: the helper should never pass one.
  RECORDING_SMTPD_IDLE       seconds without input before giving up (300)

Records, all in DIR:
  session-PID.txt    one line per event of this session: the environment the
                     helper gave (TCP*, LOG_ID), uid/gid, open descriptors,
                     then every command line received ("C: " + Python repr of
                     the raw bytes, line ending included) and every reply sent
                     ("S: " + repr).
  commands.log       every command line of every session, "PID repr", so a
                     test can grep for a command that must never arrive.
  msg-PID-N.raw      the raw bytes of message N of the session as they came
                     in: for DATA everything after the DATA line up to and
                     including the CRLF before the terminating ".", still
                     dot-stuffed; for BDAT the concatenated chunk bytes.
  msg-PID-N.eml      the message: for DATA the raw bytes with the RFC 5321
                     4.5.2 transparency dot removed from every line (line =
                     bytes ending in CRLF) that starts with "."; for BDAT the
                     same bytes as .raw.
  msg-PID-N.env      "MAIL FROM:..." and "RCPT TO:..." lines of the envelope,
                     then "via DATA" or "via BDAT".

The end of DATA is recognised only as CRLF "." CRLF (or "." CRLF right
after the DATA line): a bare LF or a bare CR never ends a message here, so a
helper that rewrites line endings shows up as a changed or split message.

The final reply to a message names its record:
  250 2.0.0 OK recorded msg-PID-N
"""

import os
import select
import sys
import time

HOSTNAME = "recording.test"


class Session:
    def __init__(self, outdir):
        self.outdir = outdir
        self.pid = os.getpid()
        self.inbuf = b""
        self.eof = False
        self.idle = float(os.environ.get("RECORDING_SMTPD_IDLE", "300"))
        self.starttls = os.environ.get("RECORDING_SMTPD_STARTTLS", "1") != "0"
        self.msgno = 0
        self.log = open(os.path.join(outdir, "session-%d.txt" % self.pid), "ab", buffering=0)
        self.cmdlog = open(os.path.join(outdir, "commands.log"), "ab", buffering=0)
        self.reset()

    def reset(self):
        self.mail = None
        self.rcpts = []
        self.chunks = None  # list of BDAT chunks while a BDAT transfer is open

    # ---- I/O ---------------------------------------------------------------
    def note(self, text):
        self.log.write(text.encode("utf-8", "backslashreplace") + b"\n")

    def fill(self):
        """Read more input; False at EOF or idle timeout."""
        if self.eof:
            return False
        r, _, _ = select.select([0], [], [], self.idle)
        if not r:
            self.note("E: idle timeout")
            self.eof = True
            return False
        data = os.read(0, 65536)
        if not data:
            self.eof = True
            return False
        self.inbuf += data
        return True

    def readline(self):
        """A command line, ending included (CRLF, or a bare LF, or what was
        left at EOF).  None at EOF with nothing buffered."""
        while True:
            i = self.inbuf.find(b"\n")
            if i >= 0:
                line, self.inbuf = self.inbuf[: i + 1], self.inbuf[i + 1 :]
                return line
            if len(self.inbuf) > 1 << 20:
                line, self.inbuf = self.inbuf, b""
                return line
            if not self.fill():
                if self.inbuf:
                    line, self.inbuf = self.inbuf, b""
                    return line
                return None

    def readexact(self, n):
        while len(self.inbuf) < n:
            if not self.fill():
                break
        data, self.inbuf = self.inbuf[:n], self.inbuf[n:]
        return data

    def read_data_body(self):
        """Bytes up to the terminating CRLF.CRLF (the CRLF before the dot
        kept, the ".CRLF" consumed).  None at EOF."""
        # A message may be empty: ".\r\n" right after the DATA line.
        while len(self.inbuf) < 3:
            if not self.fill():
                return None
        if self.inbuf.startswith(b".\r\n"):
            self.inbuf = self.inbuf[3:]
            return b""
        start = 0
        while True:
            i = self.inbuf.find(b"\r\n.\r\n", start)
            if i >= 0:
                body, self.inbuf = self.inbuf[: i + 2], self.inbuf[i + 5 :]
                return body
            start = max(0, len(self.inbuf) - 4)
            if not self.fill():
                return None

    def reply(self, text):
        data = text.encode() + b"\r\n"
        self.note("S: " + repr(data))
        os.write(1, data)

    # ---- records -----------------------------------------------------------
    def store(self, raw, eml, via):
        self.msgno += 1
        name = "msg-%d-%d" % (self.pid, self.msgno)
        base = os.path.join(self.outdir, name)
        with open(base + ".raw", "wb") as f:
            f.write(raw)
        with open(base + ".eml", "wb") as f:
            f.write(eml)
        with open(base + ".env", "wb") as f:
            f.write(self.mail.rstrip(b"\r\n") + b"\n")
            for r in self.rcpts:
                f.write(r.rstrip(b"\r\n") + b"\n")
            f.write(b"via " + via.encode() + b"\n")
        self.note("M: %s %d bytes via %s" % (name, len(eml), via))
        return name

    @staticmethod
    def unstuff(raw):
        out = []
        for line in raw.split(b"\r\n"):
            out.append(line[1:] if line.startswith(b".") else line)
        return b"\r\n".join(out)

    # ---- the dialogue ------------------------------------------------------
    def run(self):
        self.note("I: uid=%d gid=%d euid=%d" % (os.getuid(), os.getgid(), os.geteuid()))
        self.note("I: fds " + " ".join(INHERITED_FDS))
        for k in sorted(os.environ):
            if k.startswith("TCP") or k in ("LOG_ID", "PROTO"):
                self.note("I: env %s=%s" % (k, os.environ[k]))
        self.reply("220 %s ESMTP recording server" % HOSTNAME)
        while True:
            line = self.readline()
            if line is None:
                self.note("E: EOF")
                return 0
            self.note("C: " + repr(line))
            self.cmdlog.write(b"%d %s\n" % (self.pid, repr(line).encode()))
            if self.chunks is not None and not line.upper().startswith(b"BDAT ") \
                    and line.upper().rstrip(b"\r\n") not in (b"RSET", b"QUIT"):
                self.reply("503 5.5.1 only BDAT or RSET after a non-LAST BDAT")
                continue
            if not self.command(line):
                return 0

    def command(self, line):
        text = line.rstrip(b"\r\n")
        verb = text.split(b" ", 1)[0].upper()
        arg = text[len(verb) + 1 :] if len(text) > len(verb) else b""
        if verb == b"EHLO":
            self.reset()
            ext = ["PIPELINING", "CHUNKING", "8BITMIME", "SIZE 104857600"]
            if self.starttls:
                ext.append("STARTTLS")
            ext.append("HELP")
            self.reply("250-%s Hello %s" % (HOSTNAME, arg.decode("latin-1")))
            for i, e in enumerate(ext):
                self.reply(("250 " if i == len(ext) - 1 else "250-") + e)
        elif verb == b"HELO":
            self.reset()
            self.reply("250 %s Hello %s" % (HOSTNAME, arg.decode("latin-1")))
        elif verb == b"MAIL":
            if self.mail is not None:
                self.reply("503 5.5.1 nested MAIL command")
            else:
                self.mail = line
                self.reply("250 2.1.0 OK")
        elif verb == b"RCPT":
            if self.mail is None:
                self.reply("503 5.5.1 sender not yet given")
            else:
                self.rcpts.append(line)
                self.reply("250 2.1.5 Accepted")
        elif verb == b"DATA":
            if self.mail is None or not self.rcpts:
                self.reply("503 5.5.1 valid RCPT command must precede DATA")
                return True
            self.reply("354 Enter message, ending with \".\" on a line by itself")
            raw = self.read_data_body()
            if raw is None:
                self.note("E: EOF inside DATA")
                return False
            name = self.store(raw, self.unstuff(raw), "DATA")
            self.reset()
            self.reply("250 2.0.0 OK recorded %s" % name)
        elif verb == b"BDAT":
            parts = arg.split()
            try:
                n = int(parts[0])
                last = len(parts) > 1 and parts[1].upper() == b"LAST"
                if n < 0 or len(parts) > 2 or (len(parts) == 2 and not last):
                    raise ValueError
            except (ValueError, IndexError):
                self.reply("501 5.5.4 syntax: BDAT size [LAST]")
                return True
            chunk = self.readexact(n)
            self.note("B: %d bytes%s" % (len(chunk), " LAST" if last else ""))
            if len(chunk) < n:
                self.note("E: EOF inside BDAT")
                return False
            if self.mail is None or not self.rcpts:
                self.reply("503 5.5.1 valid RCPT command must precede BDAT")
                return True
            if self.chunks is None:
                self.chunks = []
            self.chunks.append(chunk)
            if last:
                body = b"".join(self.chunks)
                name = self.store(body, body, "BDAT")
                self.reset()
                self.reply("250 2.0.0 OK recorded %s" % name)
            else:
                self.reply("250 2.0.0 %d octets received" % n)
        elif verb == b"RSET":
            self.reset()
            self.reply("250 2.0.0 Reset OK")
        elif verb == b"NOOP":
            self.reply("250 2.0.0 OK")
        elif verb == b"VRFY":
            self.reply("252 2.1.5 cannot verify")
        elif verb == b"HELP":
            self.reply("214 2.0.0 recording server")
        elif verb == b"STARTTLS":
            self.note("E: STARTTLS reached the server")
            self.reply("454 4.7.0 TLS not available here")
        elif verb == b"QUIT":
            self.reply("221 2.0.0 %s closing connection" % HOSTNAME)
            return False
        else:
            self.reply("500 5.5.2 unrecognised command")
        return True


def inherited_fds():
    """The descriptors open at start, before this program opens any."""
    fds = []
    for fd in sorted(int(x) for x in os.listdir("/proc/self/fd")):
        try:
            fds.append("%d->%s" % (fd, os.readlink("/proc/self/fd/%d" % fd)))
        except OSError:
            pass
    return fds


INHERITED_FDS = []


def main():
    INHERITED_FDS.extend(inherited_fds())
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("RECORDING_SMTPD_DIR")
    if not outdir or not os.path.isdir(outdir):
        sys.stderr.write("recording_smtpd: usage: recording_smtpd.py DIR\n")
        return 111
    return Session(outdir).run()


if __name__ == "__main__":
    sys.exit(main())
