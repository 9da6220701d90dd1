"""A small SMTP client for the end-to-end tests: raw control over every
byte sent (so a test can put two commands in one packet, send BDAT chunks,
or a body that no library would send), strict reading of replies, STARTTLS
with the standard ssl module, and a transcript of both directions.

Every read has a deadline: a peer that never answers raises Timeout, so a
test fails instead of hanging.
"""

import os
import re
import socket
import ssl
import sys
import time


class Timeout(Exception):
    pass


class ProtocolError(Exception):
    pass


class Reply:
    def __init__(self, raw):
        self.raw = raw
        self.lines = raw.decode("latin-1").split("\r\n")[:-1]
        self.code = int(self.lines[-1][:3])

    @property
    def text(self):
        return " | ".join(self.lines)

    def keywords(self):
        """EHLO keywords (upper case) from the lines after the first."""
        return [l[4:].split(" ")[0].upper() for l in self.lines[1:]]

    def __repr__(self):
        return "Reply(%r)" % self.raw


class Client:
    def __init__(self, host, port, timeout=10.0, transcript=None):
        self.timeout = timeout
        self.buf = b""
        self.tls = False
        self.plain_after_220 = b""
        self.tfile = open(transcript, "ab", buffering=0) if transcript else None
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.raw_sock = self.sock

    # ---- transcript ----------------------------------------------------------
    def note(self, tag, data):
        if self.tfile:
            chan = "tls" if self.tls else "plain"
            if isinstance(data, bytes):
                data = repr(data)
            self.tfile.write(("%s %s %s\n" % (chan, tag, data)).encode("utf-8", "backslashreplace"))

    # ---- bytes -----------------------------------------------------------------
    def send(self, data):
        self.note("C:", data if len(data) <= 300 else data[:150] + b"..." + data[-100:]
                  + (" (%d bytes)" % len(data)).encode())
        self.sock.sendall(data)

    def _recv(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout("no data within %.1f s" % self.timeout)
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            raise Timeout("no data within %.1f s (have %r)" % (self.timeout, self.buf))
        except ssl.SSLError as e:
            raise ProtocolError("TLS error: %s" % e)
        except ConnectionResetError:
            data = b""
        if not data:
            raise ProtocolError("connection closed by server (have %r)" % self.buf)
        return data

    def read_reply(self, timeout=None):
        """One complete reply (all continuation lines).  Checks the form:
        every line 'NNN-' or 'NNN ' with one code, CRLF endings."""
        deadline = time.monotonic() + (timeout or self.timeout)
        lines = []
        code = None
        while True:
            i = self.buf.find(b"\n")
            if i < 0:
                self.buf += self._recv(deadline)
                continue
            line, self.buf = self.buf[: i + 1], self.buf[i + 1 :]
            lines.append(line)
            if not line.endswith(b"\r\n"):
                raise ProtocolError("reply line without CRLF: %r" % line)
            if not re.match(rb"^[2-5][0-9][0-9]([ -].*)?\r\n$", line, re.S):
                raise ProtocolError("malformed reply line: %r" % line)
            if code is None:
                code = line[:3]
            elif line[:3] != code:
                raise ProtocolError("reply code changed inside a reply: %r" % b"".join(lines))
            if line[3:4] != b"-":
                raw = b"".join(lines)
                self.note("S:", raw)
                return Reply(raw)

    def cmd(self, line, timeout=None):
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\r\n")
        return self.read_reply(timeout)

    def pending(self, wait=0.5):
        """Bytes the server sends without being asked, within `wait`."""
        data = self.buf
        self.buf = b""
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.sock.settimeout(left)
            try:
                more = self.sock.recv(65536)
            except (socket.timeout, TimeoutError, ssl.SSLWantReadError):
                break
            except (ssl.SSLError, OSError):
                break
            if not more:
                break
            data += more
        if data:
            self.note("S(unasked):", data)
        return data

    # ---- STARTTLS ----------------------------------------------------------------
    def starttls(self, extra=b"", timeout=None):
        """Send STARTTLS (plus `extra`, in the same write), read the reply
        and, on 220, run the TLS handshake.  Bytes that followed the 220 in
        cleartext are kept in plain_after_220.  Returns the reply."""
        self.send(b"STARTTLS\r\n" + extra)
        r = self.read_reply(timeout)
        if r.code != 220:
            return r
        self.plain_after_220 = self.buf
        self.buf = b""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock.settimeout(timeout or self.timeout)
        try:
            self.sock = ctx.wrap_socket(self.raw_sock, server_hostname="localhost")
        except (socket.timeout, TimeoutError):
            raise Timeout("TLS handshake did not finish within %.1f s" % (timeout or self.timeout))
        except (ssl.SSLError, OSError) as e:
            raise ProtocolError("TLS handshake failed: %s" % e)
        self.tls = True
        self.note("==", "TLS started: %s %s" % (self.sock.version(), self.sock.cipher()[0]))
        return r

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def dot_stuff(message):
    """RFC 5321 4.5.2: a '.' is added before every line (after CRLF) that
    starts with '.', and the terminator CRLF.CRLF is appended.  `message`
    must end in CRLF."""
    assert message.endswith(b"\r\n")
    out = (b"." if message.startswith(b".") else b"") + message.replace(b"\r\n.", b"\r\n..")
    return out + b".\r\n"


def smuggling_escape(body):
    """The helper's one documented change to a body: a '.' alone between
    line breaks where either break is a bare CR or bare LF (which a lenient
    server could take for the end of the message) gets a second '.'.
    `body` is what the client sent, without the terminator."""
    out = bytearray()
    for i, c in enumerate(body):
        if c == 0x2E:
            before = body[i - 1:i] if i else b"\n"
            after = body[i + 1:i + 2]
            proper = i == 0 or body[max(0, i - 2):i] == b"\r\n"
            if before in (b"\r", b"\n") and after in (b"\r", b"\n"):
                if not (proper and body[i + 1:i + 3] == b"\r\n"):
                    out += b"."
        out.append(c)
    return bytes(out)


class Checks:
    """ok/not ok lines and a final exit status."""

    def __init__(self):
        self.failed = 0
        self.passed = 0

    def ok(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print("ok - %s" % what, flush=True)
        else:
            self.failed += 1
            print("not ok - %s%s" % (what, (": " + detail) if detail else ""), flush=True)
        return cond

    def exit(self):
        sys.exit(1 if self.failed or not self.passed else 0)


def port_from_env():
    return int(os.environ["E2E_PORT"])
