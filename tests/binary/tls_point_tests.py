#!/usr/bin/env python3
"""Where TLS starts: the test holds the TLS wrapper's pipes (stdin, fd 5,
fd 6) and puts plaintext in the client pipe right before the point where
TLS starts (the ack on fd 6 in the current protocol, the close of fd 5 in
the legacy one). Not one plaintext byte may reach the child after that
point; the first bytes written after it are the client's first over TLS.

To leave nothing to luck the helper is stopped (SIGSTOP) while the
plaintext and the ack are written, so both are waiting at its next poll;
other rounds write them with delays between, the helper running.

usage: tls_point_tests.py HELPER [test-name ...]
Prints one line per test and a closing "N passed, N failed" line.
"""
import fcntl
import os
import random
import signal
import sys
import time

import helper_tests
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
    with open("/proc/%d/task/%d/children" % (run.proc.pid, run.proc.pid)) as f:
        return int(f.read().split()[0])


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
            os.kill(run.proc.pid, signal.SIGSTOP)
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


@test
def legacy_plaintext_waiting_when_fd5_closes():
    """The legacy protocol has no ack: fd 5 closing is the point. STARTTLS
    waits behind a NOOP the child has not answered (the child is stopped);
    plaintext then sits in the client pipe, the helper stopped too, when
    the child's reply lets STARTTLS through: it must be discarded."""
    for i in range(20):
        run = Run(options=["-vv"], control="legacy")
        try:
            session(run)
            child = child_pid(run)
            os.kill(child, signal.SIGSTOP)
            run.send(b"NOOP\r\nSTARTTLS\r\n")
            time.sleep(0.05)
            os.kill(run.proc.pid, signal.SIGSTOP)
            try:
                os.kill(child, signal.SIGCONT)
                time.sleep(0.05)  # the child's reply to NOOP is in the pipe
                run.send(b"MAIL FROM:<evil%d@x.test>\r\n" % i)
            finally:
                os.kill(run.proc.pid, signal.SIGCONT)
            run.expect(250)
            data, eof = read_all(run.sig_r)
            check(data == b"220 2.0.0 Ready to start TLS\r\n" and eof, "fd 5: %r %s" % (data, eof))
            wait_for_log(run, b"C: RSET")
            run.send(b"EHLO tls.test\r\n")
            run.expect(250)
            run.send(b"QUIT\r\n")
            run.expect(221)
            check(run.wait() == 0, "exit")
            log = run.child_log()
            check(not any(b"evil" in l for l in log), "plaintext reached the child: %r" % log)
            check(log[log.index(b"C: RSET"):] == [b"C: RSET", b"C: EHLO tls.test", b"C: QUIT"],
                  "child after TLS: %r" % log)
            check("discarded %d bytes" % len(b"MAIL FROM:<evil%d@x.test>\r\n" % i) in run.stderr,
                  "discard not counted: %r" % run.stderr)
        finally:
            run.cleanup()


if __name__ == "__main__":
    helper_tests.run_tests(TESTS, sys.argv)
