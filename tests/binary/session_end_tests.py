#!/usr/bin/env python3
"""How a session ends (the man page's ENDINGS table), with the binary and
fake_smtpd.py as the child: a client that closes its sending side without
QUIT, a server that announces its shutdown with 421, the exit status, and
the stop signals SIGTERM and SIGHUP.

usage: session_end_tests.py HELPER [test-name ...]
Prints one line per test and a closing "N passed, N failed" line.
"""
import hashlib
import os
import signal
import sys
import time

import helper_tests
from helper_tests import Failure, Run, check, registry, session

TESTS, test = registry()


def body_of(size, line=8190):
    """A body of about `size` bytes in lines of `line` bytes, no dots."""
    row = (b"x" * (line - 2)) + b"\r\n"
    return row * (size // len(row))


# ---------------------------------------------------------------------------
# The client closes its sending side (shutdown of the write half).

@test
def half_close_after_pipelined_commands_gets_every_reply():
    run = Run(options=["-v"])
    try:
        run.expect(220)
        run.send(b"EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nNOOP\r\n")
        run.close_stdin()
        out = run.rest()
        codes = [l[:4] for l in out.split(b"\r\n") if l and l[3:4] == b" "]
        check(codes == [b"250 ", b"250 ", b"250 ", b"250 "], "replies: %r" % out)
        check(run.wait() == 111, "exit status")
        check("client closed its side without QUIT" in run.stderr, "log: %r" % run.stderr)
        check(run.child_log()[-1] == b"EOF", "child input not closed: %r" % run.child_log())
    finally:
        run.cleanup()


@test
def half_close_after_the_final_dot_gets_exactly_one_250():
    run = Run(options=["-v"])
    try:
        session(run)
        run.send(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n")
        run.expect(250), run.expect(250), run.expect(354)
        run.send(b"Subject: t\r\n\r\nhello\r\n.\r\n")
        run.close_stdin()
        out = run.rest()
        check(out == b"250 2.0.0 message 1 accepted\r\n", "after the dot: %r" % out)
        check(run.wait() == 111, "exit status")
        check(run.message(1) == b"Subject: t\r\n\r\nhello\r\n", "stored: %r" % run.message(1))
        check(run.message(2) is None and run.message(1, partial=True) is None, "stored twice or cut")
        check("reply=250 2.0.0 message 1 accepted" in run.stderr, "log: %r" % run.stderr)
    finally:
        run.cleanup()


@test
def half_close_after_a_large_body_passes_it_all():
    """A slow child: when the client closes, much of the body is still in
    the helper (its buffer and backlog). All of it reaches the child, then
    the final dot, and the 250 comes back."""
    body = body_of(3 * 1024 * 1024)
    run = Run(options=["-v"], mode="slow_reader")
    try:
        session(run)
        run.send(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n")
        run.expect(250), run.expect(250), run.expect(354)
        run.send(body + b".\r\n")
        run.close_stdin()
        out = run.rest(30)
        check(out == b"250 2.0.0 message 1 accepted\r\n", "after the dot: %r" % out[:200])
        check(run.wait(30) == 111, "exit status")
        got = run.message(1)
        check(got is not None and hashlib.sha256(got).digest() == hashlib.sha256(body).digest(),
              "body not passed whole: %s bytes" % (None if got is None else len(got)))
    finally:
        run.cleanup()


@test
def half_close_in_the_middle_of_a_body_never_completes_it():
    body = body_of(1024 * 1024)
    run = Run(options=["-v"], mode="slow_reader")
    try:
        session(run)
        run.send(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n")
        run.expect(250), run.expect(250), run.expect(354)
        run.send(body)  # no final dot
        run.close_stdin()
        out = run.rest(15)
        check(out == b"", "replies to an unfinished body: %r" % out[:200])
        check(run.wait(15) == 111, "exit status")
        check(run.message(1) is None, "an unfinished body was completed")
        check(b"EOF in DATA" in run.child_log(), "child log: %r" % run.child_log()[-3:])
        check("warning: 192.0.2.7: client disconnected in the middle of a message: the message "
              "is dropped" in run.stderr, "log: %r" % run.stderr)
    finally:
        run.cleanup()


@test
def half_close_in_the_middle_of_a_bdat_chunk_never_completes_it():
    run = Run(options=["-v"])
    try:
        session(run)
        run.send(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nBDAT 1000 LAST\r\n" + b"y" * 400)
        run.expect(250), run.expect(250)
        run.close_stdin()
        check(run.rest() == b"", "replies to an unfinished chunk")
        check(run.wait() == 111, "exit status")
        check(run.message(1) is None, "an unfinished chunk was completed")
        check("the message is dropped" in run.stderr, "log: %r" % run.stderr)
    finally:
        run.cleanup()


@test
def half_close_after_quit_gives_the_childs_status():
    run = Run(env={"FAKE_QUIT_STATUS": "3"})
    try:
        session(run)
        run.send(b"QUIT\r\n")
        run.close_stdin()
        check(run.rest().startswith(b"221 "), "no 221")
        check(run.wait() == 3, "exit status is not the child's")
    finally:
        run.cleanup()


# ---------------------------------------------------------------------------
# The server closes (RFC 5321 3.8) and the exit status.

@test
def unsolicited_421_then_exit_is_the_one_answer():
    run = Run(options=["-v"], mode="shutdown_after_ehlo")
    try:
        session(run)
        out = run.rest()
        check(out == b"421 4.3.2 shutting down\r\n", "client got: %r" % out)
        check(run.wait() == 111, "exit status")
        check("warning: 192.0.2.7: child closing: 421 4.3.2 shutting down" in run.stderr,
              "log: %r" % run.stderr)
        check("error" not in run.stderr, "an error logged: %r" % run.stderr)
    finally:
        run.cleanup()


@test
def a_421_reply_ends_it_with_111_and_no_second_reply():
    """The child answers NOOP with 421 and exits 0; the pipelined QUIT gets
    no answer. The status is 111: the child never accepted QUIT."""
    run = Run(options=["-v"], mode="noop_421")
    try:
        session(run)
        run.send(b"NOOP\r\nQUIT\r\n")
        out = run.rest()
        check(out == b"421 4.3.2 going down\r\n", "client got: %r" % out)
        check(run.wait() == 111, "exit status")
        check("child closing: 421 4.3.2 going down" in run.stderr, "log: %r" % run.stderr)
        check("child closed its output" not in run.stderr, "log: %r" % run.stderr)
    finally:
        run.cleanup()


@test
def child_exit_before_answering_quit_is_111():
    run = Run(mode="die_after_mail")
    try:
        session(run)
        run.send(b"MAIL FROM:<a@b.test>\r\n")
        run.expect(250)
        run.send(b"QUIT\r\n")
        out = run.rest()
        check(out == b"421 4.3.0 Mail server error, closing connection\r\n", "client got %r" % out)
        check(run.wait() == 111, "exit status")
    finally:
        run.cleanup()


# ---------------------------------------------------------------------------
# SIGTERM and SIGHUP.

def stop(run, sig):
    time.sleep(0.1)  # past the start-up, into the loop
    os.kill(run.proc.pid, sig)
    return time.time()


@test
def sigterm_while_idle_is_421_4_3_2_and_111():
    for sig, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGHUP, "SIGHUP")):
        run = Run(options=["-T", "2"])
        try:
            session(run)
            t0 = stop(run, sig)
            out = run.rest()
            check(out == b"421 4.3.2 System shutting down, closing connection\r\n",
                  "%s: client got %r" % (name, out))
            check(run.wait() == 111, "%s: exit status" % name)
            check(time.time() - t0 < 2.5, "%s: took %.1fs" % (name, time.time() - t0))
            check("warning: 192.0.2.7: stopped: on %s" % name in run.stderr,
                  "%s: log: %r" % (name, run.stderr))
            check(run.child_log()[-1] == b"EOF", "child input not closed: %r" % run.child_log())
        finally:
            run.cleanup()


@test
def sigterm_relays_the_replies_owed_first():
    run = Run(options=["-T", "3"], mode="slow_noop")
    try:
        session(run)
        run.send(b"NOOP\r\n")
        stop(run, signal.SIGTERM)
        out = run.rest()
        check(out == b"250 2.0.0 ok\r\n421 4.3.2 System shutting down, closing connection\r\n",
              "client got %r" % out)
        check(run.wait() == 111, "exit status")
    finally:
        run.cleanup()


@test
def sigterm_in_the_middle_of_a_body_cuts_it():
    run = Run(options=["-T", "2"])
    try:
        session(run)
        run.send(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n")
        run.expect(250), run.expect(250), run.expect(354)
        run.send(b"part of a body\r\n")
        stop(run, signal.SIGTERM)
        out = run.rest()
        check(out == b"421 4.3.2 System shutting down, closing connection\r\n", "got %r" % out)
        check(run.wait() == 111, "exit status")
        check(run.message(1) is None, "the cut body was completed")
        check(b"EOF in DATA" in run.child_log(), "child: %r" % run.child_log()[-3:])
    finally:
        run.cleanup()


@test
def sigterm_with_a_silent_child_ends_within_T():
    """The NOOP's reply is owed when the stop comes. The child's -T clock
    started when the NOOP was written to it, before the signal; the stop's
    grace is -T from the signal, so the child's clock runs out first: the
    ending is ChildTimeout (421 4.3.0, an error line), not Stopped."""
    run = Run(options=["-T", "1"], mode="silent")
    try:
        session(run)
        run.send(b"NOOP\r\n")
        t0 = stop(run, signal.SIGTERM)
        out = run.rest(4)
        check(out == b"421 4.3.0 Mail server error, closing connection\r\n",
              "client got %r" % out)
        check(run.wait(6) == 111, "exit status")
        check(time.time() - t0 < 3.5, "took %.1fs" % (time.time() - t0))
        check("error: 192.0.2.7: timed out waiting for the child's reply" in run.stderr,
              "log: %r" % run.stderr)
        check("stopped" not in run.stderr, "log: %r" % run.stderr)
    finally:
        run.cleanup()


if __name__ == "__main__":
    helper_tests.run_tests(TESTS, sys.argv)
