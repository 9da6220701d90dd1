#!/usr/bin/env python3
"""Where TLS starts: the test holds the TLS wrapper's pipes (stdin, fd 5,
fd 6) and puts plaintext in the client pipe right before the point where
TLS starts (the ack on fd 6 in the current protocol, the close of fd 5 in
the legacy one). Not one plaintext byte may reach the child after that
point; the first bytes written after it are the client's first over TLS.

To leave nothing to luck the helper is stopped (SIGSTOP) while the
plaintext and the ack are written, so both are waiting at its next poll;
other rounds write them with delays between, the helper running. More
plaintext than one read takes leaves the rest in the pipe at that point:
the helper must drain it (what the pipe holds then, and its own buffer)
before it reads anything as TLS input.

Under UCSPI-TLS the test plays the front (SSLCTLFD, SSLREADFD,
SSLWRITEFD) and holds a copy of the client's descriptor, as the front
does: the handshake runs there, so the helper must read nothing from it
after STARTTLS; what it read with the STARTTLS line is discarded.

usage: tls_point_tests.py HELPER [test-name ...]
Prints one line per test and a closing "N passed, N failed" line.
"""
import fcntl
import os
import random
import select
import signal
import sys
import time

import helper_tests
import processes
from helper_tests import Failure, Run, check, read_all, registry, session

TESTS, test = registry()


def wait_for_log(run, line, timeout=5):
    """Waits until the fake child has logged `line`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if line in run.child_log():
            return
        time.sleep(0.005)
    raise Failure("child never logged %r: %r" % (line, run.child_log()))


def child_pid(run):
    return processes.child_of(run.proc.pid)[0]


F_SETPIPE_SZ = 1031


def one_ack_round(stop, delay, plaintext):
    """One session: STARTTLS, then `plaintext` into the client pipe and the
    ack, `delay` seconds apart, the helper stopped meanwhile if `stop`."""
    run = Run(options=["-vv"], control="current")
    try:
        # Room for all the plaintext while the helper is stopped.
        fcntl.fcntl(run.proc.stdin.fileno(), F_SETPIPE_SZ, 1 << 20)
        session(run)
        run.send(b"STARTTLS\r\n")
        run.expect(220)
        data, eof = read_all(run.sig_r)
        check(data == b"\x00" and eof, "fd 5: %r %s" % (data, eof))
        if stop:
            processes.stop(run.proc.pid)
        try:
            run.send(plaintext)
            if delay:
                time.sleep(delay)
            os.write(run.ack_w, b"\x00")
        finally:
            if stop:
                os.kill(run.proc.pid, signal.SIGCONT)
        # TLS is up for the helper once it has reset the child.
        wait_for_log(run, b"C: RSET")
        run.send(b"EHLO tls.test\r\n")
        r = run.expect(250)
        check(b"STARTTLS" not in r, "STARTTLS offered inside TLS: %r" % r)
        run.send(b"QUIT\r\n")
        run.expect(221)
        check(run.wait() == 0, "exit")
        log = run.child_log()
        after = log[log.index(b"C: RSET"):]
        check(after == [b"C: RSET", b"C: EHLO tls.test", b"C: QUIT"],
              "child after TLS started: %r" % after)
        check(not any(b"evil" in l for l in log), "plaintext reached the child: %r" % log)
        want = "discarded %d bytes the client sent after STARTTLS in plaintext" % len(plaintext)
        check(want in run.stderr, "no count of %d discarded bytes: %r" % (len(plaintext), run.stderr))
        tls = run.stderr.index("TLS started")
        check("> NOOP" not in run.stderr[tls:] and "> MAIL" not in run.stderr[tls:],
              "plaintext command executed after TLS started: %r" % run.stderr[tls:])
    finally:
        run.cleanup()


@test
def current_plaintext_and_ack_at_the_same_poll():
    """Both written while the helper is stopped: at its next poll the ack
    and the plaintext are ready together."""
    rng = random.Random(11)
    for i in range(40):
        plaintext = b"NOOP evil %d\r\n" % i if i % 2 else b"MAIL FROM:<evil@x.test>\r\nNOOP\r\n"
        one_ack_round(stop=True, delay=0.002 * rng.randint(0, 3), plaintext=plaintext)


@test
def current_plaintext_then_ack_running():
    """The helper running: plaintext, then the ack after 0 to 5 ms."""
    rng = random.Random(12)
    for i in range(40):
        one_ack_round(stop=False, delay=rng.choice([0, 0, 0.001, 0.005]),
                      plaintext=b"NOOP evil %d\r\n" % i)


@test
def current_large_plaintext_before_the_ack():
    """More plaintext than one read of the helper's buffer takes."""
    one_ack_round(stop=True, delay=0, plaintext=b"NOOP evil\r\n" * 9000)


def one_legacy_round(plaintext):
    """STARTTLS waits behind a NOOP the child has not answered (the child
    is stopped); `plaintext` then sits in the client pipe, the helper
    stopped too, when the child's reply lets STARTTLS through and fd 5
    closes: at that poll the helper reads the child's reply, then one
    read's worth of the client pipe. It must be discarded, all of it,
    what is left in the pipe too."""
    run = Run(options=["-vv"], control="legacy")
    try:
        # Room for all the plaintext while the helper is stopped.
        fcntl.fcntl(run.proc.stdin.fileno(), F_SETPIPE_SZ, 1 << 20)
        session(run)
        child = child_pid(run)
        processes.stop(child)
        run.send(b"NOOP\r\nSTARTTLS\r\n")
        time.sleep(0.05)
        processes.stop(run.proc.pid)
        try:
            os.kill(child, signal.SIGCONT)
            wait_for_log(run, b"C: NOOP")
            time.sleep(0.02)  # the child's reply to NOOP is in the pipe
            run.send(plaintext)
        finally:
            os.kill(run.proc.pid, signal.SIGCONT)
        run.expect(250)
        data, eof = read_all(run.sig_r)
        check(data == b"220 2.0.0 Ready to start TLS\r\n" and eof, "fd 5: %r %s" % (data, eof))
        wait_for_log(run, b"C: RSET")
        run.send(b"EHLO tls.test\r\n")
        r = run.expect(250)
        check(b"STARTTLS" not in r, "STARTTLS offered inside TLS: %r" % r)
        run.send(b"QUIT\r\n")
        run.expect(221)
        check(run.wait() == 0, "exit")
        log = run.child_log()
        check(not any(b"evil" in l for l in log), "plaintext reached the child: %r" % log[-5:])
        check(log[log.index(b"C: RSET"):] == [b"C: RSET", b"C: EHLO tls.test", b"C: QUIT"],
              "child after TLS: %r" % log[-5:])
        want = "discarded %d bytes the client sent after STARTTLS in plaintext" % len(plaintext)
        check(want in run.stderr, "no count of %d discarded bytes: %r" % (
            len(plaintext), [l for l in run.stderr.splitlines() if "discarded" in l][-3:]))
    finally:
        run.cleanup()


@test
def legacy_plaintext_waiting_when_fd5_closes():
    """A command's worth of plaintext: one read takes it."""
    for i in range(20):
        one_legacy_round(b"MAIL FROM:<evil%d@x.test>\r\n" % i)


@test
def legacy_plaintext_past_one_read_when_fd5_closes():
    """More than one read takes (64 KiB): the rest is still in the pipe
    when fd 5 closes."""
    for size in (70000, 300000):
        one_legacy_round((b"NOOP evil\r\n" * (size // 11 + 1))[:size])


# ---------------------------------------------------------------------------
# UCSPI-TLS.

UCSPI_ANSWER = b"SSL_PROTOCOL=TLSv1.3\0SSL_CIPHER=TLS_AES_128_GCM_SHA256\0SSL_TLS_SNI_SERVERNAME\0\0"


def held(fd):
    """What the pipe holds now (its writer still open), without blocking."""
    os.set_blocking(fd, False)
    data = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return data
        if not chunk:
            return data
        data += chunk


def one_ucspi_round(fds, queued):
    """STARTTLS with plaintext in the same write (the helper reads them
    together: discarded and counted), then the first bytes of a handshake
    written to the client's descriptor: the front's, which the helper must
    leave where they are. `queued`: STARTTLS waits behind a NOOP the
    stopped child has not answered, and the handshake bytes come before
    the 220, as from a client that does not wait."""
    run = Run(options=["-vv"], control="ucspi", ucspi_fds=fds)
    plaintext = b"MAIL FROM:<evil@x.test>\r\nNOOP evil\r\n"
    hello = b"\x16\x03\x01\x00\xc8" + b"NOOP evil-hello\r\n" * 4
    try:
        session(run)
        if queued:
            child = child_pid(run)
            processes.stop(child)
            run.send(b"NOOP\r\nSTARTTLS\r\n" + plaintext)
            time.sleep(0.05)
            run.send(hello)
            time.sleep(0.1)  # a helper reading fd 0 after STARTTLS does it now
            os.kill(child, signal.SIGCONT)
            run.expect(250)
        else:
            run.send(b"STARTTLS\r\n" + plaintext)
        run.expect(220)
        r, _, _ = select.select([run.ctl], [], [], 5)
        command = run.ctl.recv(16) if r else b""
        check(command == b"Y", "SSLCTLFD: %r, expected Y" % command)
        if not queued:
            run.send(hello)
            time.sleep(0.1)  # a helper reading fd 0 after STARTTLS does it now
        run.ctl.sendall(UCSPI_ANSWER)
        run.ucspi_tls()
        wait_for_log(run, b"C: RSET")
        run.send(b"EHLO tls.test\r\n")
        r = run.expect(250)
        check(b"STARTTLS" not in r, "STARTTLS offered inside TLS: %r" % r)
        run.send(b"QUIT\r\n")
        run.expect(221)
        check(run.wait() == 0, "exit")
        front = held(run.front_in)
        check(front == hello, "the client's descriptor holds %r for the front's handshake, "
              "expected %r" % (front, hello))
        after, eof = read_all(run.plain_out.fileno(), timeout=1)
        check(after == b"" and eof, "on the plaintext side after the 220: %r (closed: %s)"
              % (after, eof))
        log = run.child_log()
        check(not any(b"evil" in l for l in log), "plaintext reached the child: %r" % log)
        check(log[log.index(b"C: RSET"):] == [b"C: RSET", b"C: EHLO tls.test", b"C: QUIT"],
              "child after TLS: %r" % log)
        want = "discarded %d bytes the client sent after STARTTLS in plaintext" % len(plaintext)
        check(want in run.stderr, "no count of %d discarded bytes: %r" % (len(plaintext), run.stderr))
        check("TLS started: TLSv1.3/TLS_AES_128_GCM_SHA256" in run.stderr,
              "the negotiated TLS not logged: %r" % run.stderr)
    finally:
        run.cleanup()


@test
def ucspi_nothing_read_from_the_client_after_starttls():
    """Each front's descriptor numbers (s6-ucspitlsd 2.5.1.3, later s6,
    sslserver -n); STARTTLS answered at once or queued behind a NOOP."""
    for fds in ((3, 7, 6), (7, 4, 5), (9, 3, 7)):
        for queued in (False, True):
            one_ucspi_round(fds, queued)


if __name__ == "__main__":
    helper_tests.run_tests(TESTS, sys.argv)
