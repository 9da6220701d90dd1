"""Client side of the peer's self-test (t_selftest.sh): scenarios against
ucspi_tls_server.py with ucspi_selftest_smtpd.py behind it.  Each scenario
prints ok/not ok lines (smtpclient.Checks) about what the client saw, what
the peer logged ($UCSPI_LOG) and what the program recorded (its --record
file), and exits 1 when one failed.

    python3 -c 'import ucspi_selftest_client as t; t.run("basic", "s6", REC)'
"""

import os
import smtplib
import socket
import ssl
import sys
import time

import smtpclient
import ucspilog

# What each flavour's program must see.
LAYOUT = {
    "s6": {"ctl": 3, "read": 7, "write": 6, "sock": [0, 1], "open": {0, 1, 2, 3, 6, 7}},
    "s6-new": {"ctl": 7, "read": 4, "write": 5, "sock": [0, 1], "open": {0, 1, 2, 4, 5, 7}},
    "sslserver": {"ctl": 9, "read": 3, "write": 7, "sock": [0, 1, 4], "open": {0, 1, 2, 3, 4, 7, 9}},
}
S6_NAMES = ["SSL_PROTOCOL", "SSL_CIPHER", "SSL_TLS_SNI_SERVERNAME",
            "SSL_PEER_CERT_HASH", "SSL_PEER_CERT_SUBJECT"]

C = smtpclient.Checks()


def port():
    return int(os.environ["UCSPI_PORT"])


def next_conn():
    """The connection number the peer gives the next connection."""
    return len(ucspilog.peer_records()) + 1


def record(conn, timeout=15.0):
    ucspilog.wait_records(conn, timeout)
    r = ucspilog.peer_record(conn)
    C.ok(r is not None, "peer logged connection %d" % conn)
    return r or {}


def show(r):
    return "%s | events: %s" % ({k: v for k, v in r.items() if k not in ("events", "answer_names")},
                                " | ".join(r.get("events", [])))


def events(rec, pid, event=None):
    return ucspilog.prog_events(rec, pid, event)


class Client(smtpclient.Client):
    """smtpclient.Client whose TLS tells a close_notify from a bare TCP
    EOF (Python's default context takes one for the other)."""

    def starttls(self, extra=b"", timeout=None, sni="localhost"):
        self.send(b"STARTTLS\r\n" + extra)
        r = self.read_reply(timeout)
        if r.code != 220:
            return r
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
        self.sock.settimeout(timeout or self.timeout)
        try:
            self.sock = ctx.wrap_socket(self.raw_sock, server_hostname=sni,
                                        suppress_ragged_eofs=False)
        except (socket.timeout, TimeoutError):
            raise smtpclient.Timeout("TLS handshake did not finish")
        except (ssl.SSLError, OSError) as e:
            raise smtpclient.ProtocolError("TLS handshake failed: %s" % e)
        self.tls = True
        return r


def client(transcript=None):
    return Client("127.0.0.1", port(), timeout=8, transcript=transcript)


def tls_end(c, wait=5.0):
    """How the server ends TLS, as the client sees it: 'close_notify',
    'eof' (TCP EOF without close_notify), 'reset', 'data', 'open'."""
    c.sock.suppress_ragged_eofs = False
    c.sock.settimeout(wait)
    try:
        data = c.sock.recv(4096)
    except ssl.SSLEOFError:
        return "eof"
    except ssl.SSLZeroReturnError:
        return "close_notify"
    except (socket.timeout, TimeoutError):
        return "open"
    except ConnectionResetError:
        return "reset"
    except ssl.SSLError as e:
        if e.reason == "UNEXPECTED_EOF_WHILE_READING":
            return "eof"
        return "error %s" % e
    return "close_notify" if data == b"" else "data %r" % data


def wait_eof(sock, wait=5.0):
    """Read (discarding) until EOF; True when EOF came within `wait`."""
    end = time.monotonic() + wait
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return True
        except (socket.timeout, TimeoutError):
            return False
        except (ConnectionResetError, ssl.SSLError, OSError):
            return True


# ---- scenarios -------------------------------------------------------------------

def basic(fl, rec):
    """smtplib STARTTLS + a message; the program's environment,
    descriptors and the answer; how the TLS session ends."""
    lay = LAYOUT[fl]
    n = next_conn()
    s = smtplib.SMTP("127.0.0.1", port(), timeout=10)
    code, _ = s.ehlo("py.example")
    C.ok(code == 250 and s.has_extn("starttls"), "%s: plaintext EHLO offers STARTTLS" % fl)
    code, msg = s.starttls()
    C.ok(code == 220, "%s: smtplib starttls() -> 220 and handshake" % fl, repr(msg))
    s.ehlo("py.example")
    C.ok(not s.has_extn("starttls"), "%s: EHLO inside TLS: no STARTTLS" % fl)
    refused = s.sendmail("a@example.com", ["b@example.org"],
                         b"Subject: smtplib over " + fl.encode() + b"\r\n\r\nbody smtplib-token\r\n")
    C.ok(refused == {}, "%s: smtplib sendmail accepted" % fl)
    code, _ = s.quit()
    C.ok(code == 221, "%s: QUIT -> 221" % fl)
    r = record(n)
    pid = r.get("program_pid")
    C.ok(r.get("command") == "Y" and r.get("handshake") == "ok" and r.get("protocol") == "TLSv1.3",
         "%s: log: command Y, handshake ok, TLSv1.3" % fl, show(r))
    C.ok(r.get("exit_code") == 0 and r.get("sigterm") == [] and r.get("aborted") is None,
         "%s: log: program exit 0, no SIGTERM, not aborted" % fl, show(r))
    C.ok(r.get("sni") is None, "%s: log: no SNI (smtplib to an IP address)" % fl, show(r))
    C.ok(r.get("prog_end") == "eof", "%s: log: the program closed SSLWRITEFD" % fl, show(r))
    want_shut = "half-close" if fl.startswith("s6") else "close_notify+shutdown"
    C.ok(r.get("shutdown") == want_shut, "%s: log: TLS ended with %s" % (fl, want_shut), show(r))
    msgs = events(rec, pid, "message")
    C.ok(len(msgs) == 1 and msgs[0]["tls"] and "smtplib-token" in msgs[0]["head"],
         "%s: the program got the message over TLS" % fl, repr(msgs))

    # -- environment and descriptors --
    st = (events(rec, pid, "start") or [{}])[0]
    env = st.get("env", {})
    fds = st.get("fds", {})
    C.ok(env.get("SSLCTLFD") == str(lay["ctl"]) and env.get("SSLREADFD") == str(lay["read"])
         and env.get("SSLWRITEFD") == str(lay["write"]),
         "%s: SSLCTLFD/SSLREADFD/SSLWRITEFD = %d/%d/%d" % (fl, lay["ctl"], lay["read"], lay["write"]),
         repr(env))
    opened = {int(k) for k in fds}
    C.ok(opened == lay["open"], "%s: open descriptors exactly %s" % (fl, sorted(lay["open"])),
         "open: %s" % sorted(opened))
    socks = [fds.get(str(i), {}) for i in lay["sock"]]
    C.ok(all(d.get("kind") == "socket" and d.get("family") == "inet" for d in socks)
         and len({d.get("ino") for d in socks}) == 1,
         "%s: fds %s are one and the same TCP socket" % (fl, lay["sock"]), repr(socks))
    sock0 = fds.get("0", {})
    ctl = fds.get(str(lay["ctl"]), {})
    rd = fds.get(str(lay["read"]), {})
    wr = fds.get(str(lay["write"]), {})
    C.ok(ctl.get("kind") == "socket" and ctl.get("family") == "unix",
         "%s: SSLCTLFD is an AF_UNIX socket" % fl, repr(ctl))
    C.ok(rd.get("kind") == "pipe" and rd.get("mode") == "r" and wr.get("kind") == "pipe"
         and wr.get("mode") == "w", "%s: SSLREADFD a pipe's read end, SSLWRITEFD a write end" % fl,
         "%r %r" % (rd, wr))
    local_ip, local_port = sock0.get("local", ":").rsplit(":", 1)
    remote_ip, remote_port = sock0.get("remote", ":").rsplit(":", 1)
    addr = {"LOCALIP": local_ip, "LOCALPORT": local_port, "REMOTEIP": remote_ip,
            "REMOTEPORT": remote_port}
    if fl.startswith("s6"):
        C.ok(env.get("PROTO") == "TCP" and all(env.get("TCP" + k) == v for k, v in addr.items()),
             "%s: PROTO=TCP and TCPLOCALIP/PORT, TCPREMOTEIP/PORT of the connection" % fl, repr(env))
        C.ok(not any(k.startswith("SSL") and k not in ("SSLCTLFD", "SSLREADFD", "SSLWRITEFD")
                     for k in env), "%s: no SSL* address variables" % fl, repr(env))
        C.ok("CERTFILE" not in env and "KEYFILE" not in env,
             "%s: CERTFILE/KEYFILE removed (they were in the peer's environment)" % fl, repr(env))
    else:
        C.ok(env.get("PROTO") == "SSL" and all(env.get("SSL" + k) == v for k, v in addr.items()),
             "%s: PROTO=SSL and SSLLOCALIP/PORT, SSLREMOTEIP/PORT of the connection" % fl, repr(env))
        C.ok(not any(k.startswith("TCP") for k in env), "%s: no TCP* variables without -e" % fl,
             repr(env))
        C.ok(env.get("CERTFILE", "").endswith("crt.pem") and env.get("KEYFILE", "").endswith("key.pem"),
             "%s: CERTFILE/KEYFILE left in the environment" % fl, repr(env))

    nb0 = fds.get("0", {}).get("nonblock")
    up = (events(rec, pid, "tls-up") or [{}])[0]
    C.ok(nb0 is False and up.get("sock_nonblock") is True,
         "%s: fd 0 blocking at start, non-blocking once the server took the socket for TLS" % fl,
         "start %r, after %r" % (nb0, up.get("sock_nonblock")))

    # -- the answer to Y --
    ans = (events(rec, pid, "answer") or [{}])[0]
    ent = ans.get("entries", {})
    C.ok(ans.get("ended") == "double-nul", "%s: answer read to its double NUL" % fl, repr(ans))
    C.ok(ent.get("SSL_PROTOCOL") == "TLSv1.3" and ent.get("SSL_CIPHER", "").startswith("TLS_"),
         "%s: answer: SSL_PROTOCOL=TLSv1.3, SSL_CIPHER=%s" % (fl, ent.get("SSL_CIPHER")), repr(ent))
    C.ok(ans.get("bytes") == r.get("answer_bytes"), "%s: answer size as logged (%s bytes)"
         % (fl, r.get("answer_bytes")), "%r vs %r" % (ans.get("bytes"), r.get("answer_bytes")))
    if fl.startswith("s6"):
        C.ok(ans.get("names") == S6_NAMES, "%s: answer: the five s6 entries in order" % fl,
             repr(ans.get("names")))
        C.ok(50 <= ans.get("bytes", 0) <= 200, "%s: answer about 100 bytes (%s)" % (fl, ans.get("bytes")))
        C.ok(ent.get("SSL_TLS_SNI_SERVERNAME", "x") is None and ent.get("SSL_PEER_CERT_HASH", "x") is None,
             "%s: unset entries (no '='): SNI (none sent), peer cert hash" % fl, repr(ent))
        C.ok(ans.get("ctl_after") == "eof", "%s: control socket at EOF after the answer" % fl,
             repr(ans.get("ctl_after")))
    else:
        C.ok(1000 <= ans.get("bytes", 0) <= 4000, "%s: answer about 1.5 KB (%s)" % (fl, ans.get("bytes")))
        C.ok(ans.get("names", [None])[0] == "SSL_PROTOCOL" and "SSL_SESSION_ID" in ent
             and "SSL_VERSION_INTERFACE" in ent and "SSL_SERVER_S_DN" in ent,
             "%s: mod_ssl-style entries (SSL_SESSION_ID, SSL_VERSION_*, SSL_SERVER_*)" % fl,
             repr(ans.get("names")))
        C.ok(ans.get("newline_in_values") and
             ent.get("SSL_SERVER_CERT", "").startswith("-----BEGIN CERTIFICATE-----\n"),
             "%s: SSL_SERVER_CERT is a PEM certificate, newlines inside" % fl)
        C.ok(ent.get("SSL_SERVER_S_DN") == "/CN=localhost", "%s: SSL_SERVER_S_DN=/CN=localhost" % fl,
             repr(ent.get("SSL_SERVER_S_DN")))
        C.ok(ans.get("ctl_after") == "open", "%s: control socket still open after the answer" % fl,
             repr(ans.get("ctl_after")))

    # -- the end of TLS, seen by a client (SNI sent this time) --
    n = next_conn()
    c = client()
    c.read_reply()
    c.cmd("EHLO end.example")
    rep = c.starttls()
    c.cmd("EHLO end.example")
    q = c.cmd("QUIT")
    end = tls_end(c)
    c.close()
    want = "eof" if fl.startswith("s6") else "close_notify"
    C.ok(rep.code == 220 and q.code == 221 and end == want,
         "%s: after 221 the client sees %s" % (fl, want), "saw %s" % end)
    r = record(n)
    C.ok(r.get("sni") == "localhost", "%s: log: SNI localhost" % fl, show(r))
    if fl.startswith("s6"):
        # An OpenSSL client answers a bare EOF with a decode_error alert.
        C.ok(r.get("tls_end") == "program-closed"
             and r.get("client_end") in ("eof", "alert: decode_error"),
             "%s: log: the program ended TLS first; the client then (%s)" % (fl, r.get("client_end")),
             show(r))
    else:
        C.ok(r.get("tls_end") == "program-closed" and r.get("client_end") == "eof",
             "%s: log: the program ended TLS first, then the client's EOF" % fl, show(r))
    ans = (events(rec, r.get("program_pid"), "answer") or [{}])[0]
    C.ok(ans.get("entries", {}).get("SSL_TLS_SNI_SERVERNAME", "-") == ("localhost" if fl.startswith("s6") else "-"),
         "%s: SNI in the answer %s" % (fl, "(SSL_TLS_SNI_SERVERNAME=localhost)" if fl.startswith("s6") else "(sslserver: none)"),
         repr(ans.get("entries")))


def concurrent(fl, rec):
    """Two connections at once, interleaved."""
    n = next_conn()
    a, b = client(), client()
    ok = a.read_reply().code == 220 and b.read_reply().code == 220
    a.cmd("EHLO a.example")
    b.cmd("EHLO b.example")
    ok = ok and a.starttls().code == 220 and b.starttls().code == 220
    ok = ok and a.cmd("EHLO a.example").code == 250 and b.cmd("EHLO b.example").code == 250
    ok = ok and a.cmd("QUIT").code == 221 and b.cmd("QUIT").code == 221
    a.close()
    b.close()
    C.ok(ok, "%s: two interleaved TLS sessions" % fl)
    recs = ucspilog.wait_records(n + 1)
    mine = [r for r in recs if r["conn"] in (n, n + 1)]
    C.ok(len(mine) == 2 and all(r["handshake"] == "ok" and r["exit_code"] == 0 for r in mine)
         and mine[0]["program_pid"] != mine[1]["program_pid"],
         "%s: log: both connections, each its own program" % fl, repr([show(r) for r in mine]))


def decline(fl, rec):
    """The program closes SSLCTLFD without a command."""
    n = next_conn()
    c = client()
    c.read_reply()
    r1 = c.cmd("XDECLINE")
    if fl.startswith("s6"):
        e = c.cmd("EHLO plain.example")
        st = c.cmd("STARTTLS")
        no = c.cmd("NOOP")
        q = c.cmd("QUIT")
        C.ok(r1.code == 250 and e.code == 250 and "STARTTLS" not in e.keywords() and st.code == 454
             and no.code == 250 and q.code == 221,
             "%s: after the decline the session goes on in plaintext (EHLO, NOOP, QUIT)" % fl)
        c.close()
        r = record(n)
        C.ok(r.get("command") is None and r.get("ctl") == "eof-before-command"
             and r.get("tls_end") == "no-tls" and r.get("sigterm") == [] and r.get("exit_code") == 0,
             "%s: log: no command, no TLS, no SIGTERM, exit 0" % fl, show(r))
    else:
        try:
            c.send(b"NOOP\r\n")
        except OSError:
            pass
        C.ok(wait_eof(c.sock, 5.0), "%s: after the decline the connection closes (program killed)" % fl)
        c.close()
        r = record(n)
        C.ok(r.get("command") is None and r.get("sigterm") == ["ctl-eof-before-command"]
             and r.get("exit_signal") == 15,
             "%s: log: SIGTERM as the control socket closed; program died of it" % fl, show(r))
        C.ok(len(events(rec, r.get("program_pid"), "sigterm")) == 1,
             "%s: the program recorded the SIGTERM" % fl)


def bad_handshake(fl, rec):
    """Garbage instead of a ClientHello after the 220."""
    n = next_conn()
    c = client()
    c.read_reply()
    c.cmd("EHLO bad.example")
    c.send(b"STARTTLS\r\n")
    rep = c.read_reply()
    c.send(b"GARBAGE, NOT A CLIENTHELLO\r\n" * 4)
    closed = wait_eof(c.sock, 8.0)
    c.close()
    C.ok(rep.code == 220 and closed, "%s: garbage after 220: the connection closes" % fl)
    r = record(n)
    pid = r.get("program_pid")
    C.ok(r.get("command") == "Y" and r.get("handshake") == "failed" and r.get("answer_bytes") == 0,
         "%s: log: Y, handshake failed (%s), no answer" % (fl, r.get("handshake_error")), show(r))
    if fl.startswith("s6"):
        hf = events(rec, pid, "handshake-failed")
        C.ok(len(hf) == 1, "%s: the program read EOF with no bytes on SSLCTLFD" % fl, repr(hf))
        C.ok(r.get("sigterm") == [] and r.get("exit_code") == 1,
             "%s: log: no SIGTERM, the program exited by itself (1)" % fl, show(r))
    else:
        C.ok(r.get("sigterm") == ["handshake-failed"] and r.get("exit_signal") == 15,
             "%s: log: SIGTERM to the program, which died of it" % fl, show(r))
        C.ok(len(events(rec, pid, "sigterm")) == 1, "%s: the program recorded the SIGTERM" % fl)


def lower_y(fl, rec):
    """`y`: TLS without the answer."""
    n = next_conn()
    c = client()
    c.read_reply()
    c.cmd("EHLO y.example")
    c.cmd("XCOMMAND y")
    rep = c.starttls()
    C.ok(rep.code == 220 and c.tls, "%s: y: handshake completes" % fl)
    if fl == "s6":
        try:
            e = c.cmd("EHLO y.example")
            got = "reply %s" % e.code
        except (smtpclient.ProtocolError, smtpclient.Timeout, OSError) as ex:
            got = "closed: %s" % ex
        C.ok(got.startswith("closed"), "%s: y: TLS engine gone after the handshake, EHLO unanswered" % fl,
             got)
        c.close()
        r = record(n)
        C.ok(r.get("command") == "y" and r.get("handshake") == "ok" and r.get("answer_bytes") == 0
             and r.get("tls_end") == "engine-killed", "%s: log: y, handshake ok, engine killed" % fl, show(r))
    else:
        e = c.cmd("EHLO y.example")
        q = c.cmd("QUIT")
        c.close()
        C.ok(e.code == 250 and q.code == 221, "%s: y: the session works inside TLS" % fl)
        r = record(n)
        C.ok(r.get("command") == "y" and r.get("handshake") == "ok" and r.get("answer_bytes") == 0
             and r.get("exit_code") == 0, "%s: log: y, handshake ok, nothing written, exit 0" % fl, show(r))
    na = events(rec, r.get("program_pid"), "no-answer-asked")
    want = "open" if fl == "sslserver" else "eof"
    C.ok(len(na) == 1 and na[0].get("ctl_after") == want,
         "%s: y: control socket %s after the command" % (fl, want), repr(na))


def linger(fl, rec):
    """The program closes SSLWRITEFD after QUIT but stays 1 s."""
    n = next_conn()
    c = client()
    c.read_reply()
    c.cmd("EHLO linger.example")
    c.cmd("XLINGER 1")
    c.starttls()
    c.cmd("EHLO linger.example")
    q = c.cmd("QUIT")
    end = tls_end(c)
    c.close()
    C.ok(q.code == 221, "%s: QUIT -> 221, then the client sees %s" % (fl, end))
    r = record(n)
    if fl.startswith("s6"):
        C.ok(r.get("sigterm") == [] and r.get("exit_code") == 0,
             "%s: log: the program lingers and exits 0, no SIGTERM" % fl, show(r))
    else:
        C.ok(r.get("sigterm") == ["tls-ended"] and r.get("exit_signal") == 15,
             "%s: log: SIGTERM again when the TLS session ended" % fl, show(r))
        C.ok(len(events(rec, r.get("program_pid"), "linger-done")) == 0,
             "%s: the program was killed before its linger ended" % fl)


def one_session(what, expect_end=None, sni=True):
    """One full session; returns the log record."""
    n = next_conn()
    c = client()
    c.read_reply()
    c.cmd("EHLO one.example")
    rep = c.starttls()
    e = c.cmd("EHLO one.example")
    q = c.cmd("QUIT")
    end = tls_end(c)
    c.close()
    C.ok(rep.code == 220 and e.code == 250 and q.code == 221, "%s: session over TLS" % what)
    if expect_end:
        C.ok(end == expect_end, "%s: the client sees %s after 221" % (what, expect_end), "saw %s" % end)
    return record(n)


def close_notify_option(fl, rec):
    r = one_session("%s --close-notify" % fl, "close_notify")
    C.ok(r.get("shutdown") == "close_notify+half-close", "%s -S: log: close_notify then half-close" % fl,
         show(r))


def env_tcp(fl, rec):
    r = one_session("%s --env-tcp" % fl)
    env = (events(rec, r.get("program_pid"), "start") or [{}])[0].get("env", {})
    C.ok(env.get("PROTO") == "TCP" and env.get("TCPREMOTEIP") == "127.0.0.1"
         and env.get("SSLREMOTEIP") == "127.0.0.1" and env.get("TCPLOCALPORT") == str(port()),
         "%s -e: TCP* variables as well as SSL*, PROTO=TCP" % fl, repr(env))


def tls12_extra(fl, rec):
    r = one_session("%s --tls-version 1.2" % fl)
    ans = (events(rec, r.get("program_pid"), "answer") or [{}])[0]
    ent = ans.get("entries", {})
    C.ok(ent.get("SSL_PROTOCOL") == "TLSv1.2" and ent.get("SSL_CIPHER", "").startswith("ECDHE-ECDSA-"),
         "%s: TLSv1.2 answer: %s %s" % (fl, ent.get("SSL_PROTOCOL"), ent.get("SSL_CIPHER")), repr(ent))
    C.ok(ent.get("X_EXTRA") == "a=b" and "X_UNSET" in ent and ent["X_UNSET"] is None
         and len(ent.get("SSL_TEST_PAD", "")) == 300,
         "%s: --answer-extra/--answer-pad entries" % fl, repr(ans.get("names")))


def watchdog(fl, rec):
    n = next_conn()
    s = socket.create_connection(("127.0.0.1", port()), timeout=5)
    t0 = time.monotonic()
    r = record(n, 10)
    closed = wait_eof(s, 3.0)
    s.close()
    took = time.monotonic() - t0
    C.ok(r.get("aborted") == "conn-timeout" and r.get("killed") == "conn-timeout"
         and r.get("exit_signal") in (9, 15),
         "%s: --conn-timeout 2: program killed, record written (%.1f s)" % (fl, took), show(r))
    C.ok(closed, "%s: the client's connection closed with it" % fl)


def run(name, fl, rec):
    try:
        globals()[name](fl, rec)
    except (smtpclient.ProtocolError, smtpclient.Timeout, OSError, smtplib.SMTPException) as e:
        C.ok(False, "%s: %s: %s: %s" % (fl, name, type(e).__name__, e))
    C.exit()


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2], sys.argv[3])
