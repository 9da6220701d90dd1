#!/usr/bin/env python3
"""Greylisting (-g, -c, -C) against a real postgrey on a loopback port, with
its own database, a short delay and its whitelists switched off; and
against policy servers of our own that misbehave in the ways a real one
can (not listening, silent, garbage, closing, oversized, slow pieces).

usage: greylist_tests.py HELPER [test-name ...]
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helper_tests  # noqa: E402
from helper_tests import Failure, Run, check, registry, session  # noqa: E402

TESTS, test = registry()
DELAY = 3


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


class Postgrey:
    def __init__(self, delay=DELAY, extra=()):
        self.dir = tempfile.mkdtemp(prefix="tws-postgrey-")
        os.chmod(self.dir, 0o755)
        empty = os.path.join(self.dir, "empty")
        open(empty, "w").close()
        db = os.path.join(self.dir, "db")
        os.mkdir(db)
        shutil.chown(db, "postgrey", "postgrey")
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["postgrey", "--inet=127.0.0.1:%d" % self.port, "--dbdir=" + db,
             "--delay=%d" % delay, "--whitelist-clients=" + empty,
             "--whitelist-recipients=" + empty, "--auto-whitelist-clients=0", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not wait_listening(self.port):
            self.stop()
            raise Failure("postgrey did not start")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class FakePolicy:
    """A policy server of our own. `behaviour`: defer | silent | garbage |
    close_after_answer | oversized | pieces. Records every request."""

    def __init__(self, behaviour, family=socket.AF_INET):
        self.behaviour = behaviour
        self.requests = []
        self.connections = 0
        self.sock = socket.socket(family)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.talk, args=(conn,), daemon=True).start()

    def talk(self, conn):
        buf = b""
        with conn:
            while True:
                try:
                    data = conn.recv(4096)
                except OSError:
                    return
                if not data:
                    return
                buf += data
                while b"\n\n" in buf:
                    req, buf = buf.split(b"\n\n", 1)
                    self.requests.append(req.decode(errors="replace"))
                    b = self.behaviour
                    if b == "silent":
                        time.sleep(30)
                        return
                    if b == "garbage":
                        conn.sendall(b"hello there\n\n")
                    elif b == "oversized":
                        conn.sendall(b"action=DUNNO " + b"x" * 10000 + b"\n\n")
                    elif b == "pieces":
                        for piece in (b"act", b"ion=DEFER_IF_PER", b"MIT slowly, in pieces\n", b"\n"):
                            conn.sendall(piece)
                            time.sleep(0.2)
                    else:
                        conn.sendall(b"action=DEFER_IF_PERMIT Greylisted by the fake\n\n")
                    if b == "close_after_answer":
                        return

    def stop(self):
        self.stopping = True
        self.sock.close()


def attrs(request):
    return dict(line.split("=", 1) for line in request.split("\n") if "=" in line)


def envelope(run, mail=b"MAIL FROM:<a@b.example>\r\n"):
    session(run)
    run.send(mail)
    run.expect(250)


def rcpts_seen(run):
    return [l for l in run.child_log() if l.upper().startswith(b"C: RCPT")]


# ---------------------------------------------------------------------------
# A real postgrey.

@test
def postgrey_defers_then_accepts_after_the_delay():
    pg = Postgrey()
    run = None
    try:
        run = Run(options=["-v", "-g", "127.0.0.1:%d" % pg.port])
        envelope(run)
        run.send(b"RCPT TO:<c@d.example>\r\n")
        r = run.expect(450)
        check(b"Greylisted" in r, "postgrey's text not passed on: %r" % r)
        check(rcpts_seen(run) == [], "the child saw a deferred RCPT")
        run.send(b"RCPT TO:<c@d.example>\r\n")
        run.expect(450)  # retried before the delay: still deferred
        time.sleep(DELAY + 1.5)
        run.send(b"RCPT TO:<c@d.example>\r\n")
        run.expect(250)
        check(len(rcpts_seen(run)) == 1, "child RCPTs: %r" % rcpts_seen(run))
        run.send(b"DATA\r\n")
        run.expect(354)
        run.send(b"Subject: greylisted\r\n\r\nhello\r\n.\r\nQUIT\r\n")
        run.expect(250), run.expect(221)
        check(run.wait() == 0, "exit")
        check(run.message(1) == b"Subject: greylisted\r\n\r\nhello\r\n", "message not delivered")
        check("greylist defer" in run.stderr and "greylist pass" in run.stderr,
              "verdicts not logged with -v: %r" % run.stderr)
        check("from=<a@b.example> to=<c@d.example>" in run.stderr, "no triplet in the log")
    finally:
        if run:
            run.cleanup()
        pg.stop()


@test
def postgrey_each_recipient_own_verdict_null_sender_params_lowercase():
    pg = Postgrey()
    run = None
    try:
        g = ["-g", "localhost:%d" % pg.port]
        run = Run(options=g)
        envelope(run, b"mail from: <> SIZE=100 BODY=8BITMIME\r\n")
        run.send(b"rcpt to:<one@d.example>\r\n")
        run.expect(450)
        run.send(b"QUIT\r\n")
        run.expect(221)
        run.wait()
        run.cleanup()
        time.sleep(DELAY + 1.5)
        run = Run(options=g)
        envelope(run, b"mail from: <> SIZE=100 BODY=8BITMIME\r\n")
        # one@ has waited out the delay, two@ is new: one verdict each.
        run.send(b"rcpt to:<one@d.example>\r\nrcpt to:<two@d.example>\r\n")
        run.expect(250)
        run.expect(450)
        seen = rcpts_seen(run)
        check(seen == [b"C: rcpt to:<one@d.example>"], "child RCPTs: %r" % seen)
        # RSET forgets the sender: the next RCPT is not looked up.
        run.send(b"RSET\r\nrcpt to:<three@d.example>\r\n")
        run.expect(250)
        run.expect(250)  # the fake child accepts any RCPT
        check(len(rcpts_seen(run)) == 2, "RCPT after RSET was not passed on")
    finally:
        if run:
            run.cleanup()
        pg.stop()


@test
def postgrey_closing_after_each_query_still_greylists():
    # --exim: postgrey closes the connection after every answer.
    pg = Postgrey(extra=["--exim"])
    run = None
    try:
        run = Run(options=["-g", "127.0.0.1:%d" % pg.port])
        envelope(run)
        for i in range(3):
            run.send(b"RCPT TO:<r%d@d.example>\r\n" % i)
            run.expect(450)
        check(rcpts_seen(run) == [], "greylisting silently switched off after a close")
    finally:
        if run:
            run.cleanup()
        pg.stop()


# ---------------------------------------------------------------------------
# Policy servers that misbehave.

@test
def request_attributes():
    fake = FakePolicy("defer")
    run = Run(options=["-g", "127.0.0.1:%d" % fake.port], env={"TCPREMOTEHOST": "client.example"})
    try:
        session(run, b"EHLO helo.example\r\n")
        run.send(b"MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<c@d.example> NOTIFY=NEVER\r\n")
        run.expect(250)
        r = run.expect(450)
        check(b"Greylisted by the fake" in r, r)
        a = attrs(fake.requests[0])
        want = {"request": "smtpd_access_policy", "protocol_state": "RCPT",
                "protocol_name": "ESMTP", "client_address": "192.0.2.7",
                "client_name": "client.example", "helo_name": "helo.example",
                "sender": "a@b.example", "recipient": "c@d.example", "size": "100"}
        for k, v in want.items():
            check(a.get(k) == v, "%s=%r, expected %r" % (k, a.get(k), v))
        check(a.get("instance", "").startswith("testid."), "instance %r" % a.get("instance"))
    finally:
        run.cleanup()
        fake.stop()


def fault(behaviour, closed, port=None, timeout="2"):
    """One RCPT against a misbehaving server; returns (run, reply, seconds)."""
    fake = FakePolicy(behaviour) if port is None else None
    p = port if port is not None else fake.port
    opts = ["-T", timeout, "-g", "127.0.0.1:%d" % p] + (["-c"] if closed else ["-C"])
    run = Run(options=opts)
    envelope(run)
    t0 = time.time()
    run.send(b"RCPT TO:<c@d.example>\r\n")
    r = run.reply(timeout=10)
    return run, r, time.time() - t0, fake


def check_fault(behaviour, port=None):
    # -C: the recipient goes through, with a warning.
    run, r, secs, fake = fault(behaviour, False, port)
    try:
        check(r.startswith(b"250"), "%s -C: %r" % (behaviour, r))
        check(len(rcpts_seen(run)) == 1, "%s -C: RCPT not passed on" % behaviour)
        run.send(b"QUIT\r\n")
        run.expect(221)
        run.wait()
        check("warning" in run.stderr, "%s -C: no warning: %r" % (behaviour, run.stderr))
    finally:
        run.cleanup()
        if fake:
            fake.stop()
    # -c: 421 and exit 111.
    run, r, secs, fake = fault(behaviour, True, port)
    try:
        check(r.startswith(b"421 4.3.0"), "%s -c: %r" % (behaviour, r))
        check(run.wait() == 111, "%s -c: exit" % behaviour)
        check(rcpts_seen(run) == [], "%s -c: RCPT passed on" % behaviour)
    finally:
        run.cleanup()
        if fake:
            fake.stop()


@test
def server_not_listening():
    check_fault("not listening", port=free_port())


@test
def server_answers_garbage():
    check_fault("garbage")


@test
def server_answers_over_the_size_bound():
    check_fault("oversized")


@test
def server_never_answers_costs_one_T_per_session():
    check_fault("silent")
    fake = FakePolicy("silent")
    run = Run(options=["-T", "2", "-g", "127.0.0.1:%d" % fake.port])
    try:
        envelope(run)
        t0 = time.time()
        run.send(b"RCPT TO:<a@d.example>\r\nRCPT TO:<b@d.example>\r\nRCPT TO:<c@d.example>\r\n")
        run.expect(250, 10), run.expect(250, 10), run.expect(250, 10)
        secs = time.time() - t0
        check(secs < 3.5, "three RCPTs took %.1fs: more than one -T" % secs)
    finally:
        run.cleanup()
        fake.stop()


@test
def stop_during_a_hung_lookup_is_heard_at_once():
    # The lookup runs in the poll loop: SIGTERM while the server thinks
    # gets the 421 of a stop at once, not after -T (10 s here).
    fake = FakePolicy("silent")
    run = Run(options=["-T", "10", "-v", "-g", "127.0.0.1:%d" % fake.port])
    try:
        envelope(run)
        run.send(b"RCPT TO:<a@d.example>\r\n")
        deadline = time.time() + 5
        while not fake.requests and time.time() < deadline:
            time.sleep(0.02)
        check(fake.requests, "the greylist server was never asked")
        t0 = time.time()
        run.proc.send_signal(signal.SIGTERM)
        r = run.reply(timeout=5)
        secs = time.time() - t0
        check(r.startswith(b"421 4.3.2"), "reply to the RCPT after the stop: %r" % r)
        check(secs < 1.0, "the stop took %.2f s during the lookup" % secs)
        check(run.wait() == 111, "exit status")
        check(rcpts_seen(run) == [], "the RCPT reached the child")
        check("stopped: on SIGTERM" in run.stderr, "no stop ending logged: %r" % run.stderr)
    finally:
        run.cleanup()
        fake.stop()


@test
def server_answers_in_pieces():
    fake = FakePolicy("pieces")
    run = Run(options=["-g", "127.0.0.1:%d" % fake.port, "-c"])
    try:
        envelope(run)
        run.send(b"RCPT TO:<c@d.example>\r\n")
        r = run.expect(450)
        check(b"slowly, in pieces" in r, r)
    finally:
        run.cleanup()
        fake.stop()


@test
def server_closes_after_each_answer_reconnects():
    fake = FakePolicy("close_after_answer")
    run = Run(options=["-g", "127.0.0.1:%d" % fake.port, "-c"])
    try:
        envelope(run)
        for i in range(4):
            run.send(b"RCPT TO:<r%d@d.example>\r\n" % i)
            run.expect(450)
        check(len(fake.requests) == 4, "requests: %d" % len(fake.requests))
        check(fake.connections >= 4, "connections: %d" % fake.connections)
        check(rcpts_seen(run) == [], "a deferred RCPT reached the child")
    finally:
        run.cleanup()
        fake.stop()


@test
def bracketed_ipv6_server():
    fake = FakePolicy("defer", socket.AF_INET6)
    run = Run(options=["-g", "[::1]:%d" % fake.port, "-c"])
    try:
        envelope(run)
        run.send(b"RCPT TO:<c@d.example>\r\n")
        run.expect(450)
        check(len(fake.requests) == 1, "no request over IPv6")
    finally:
        run.cleanup()
        fake.stop()


@test
def bad_g_values_are_usage_errors():
    for bad in ("nohostport", "host:", ":25", "host:0", "host:65536", "::1:25", "[::1]25", "h:x"):
        p = subprocess.run([helper_tests.HELPER, "-g", bad, "true"], capture_output=True, timeout=10)
        check(p.returncode == 100, "-g %s: exit %d" % (bad, p.returncode))


if __name__ == "__main__":
    helper_tests.run_tests(TESTS, sys.argv)
