#!/usr/bin/env python3
"""The pregreet test (-p, GREETDELAY, RELAYCLIENT) with the binary and
fake_smtpd.py as the child: the greeting's last line waits, an early
talker gets 554 and exit 111 with nothing passed on, and the per-client
environment turns the test off, sets its wait, or, malformed, is logged
and read the stricter way.

usage: pregreet_tests.py HELPER [test-name ...]
Prints one line per test and a closing "N passed, N failed" line.
"""
import sys
import time

import helper_tests
from helper_tests import Failure, Run, check, registry

TESTS, test = registry()

REJECTED = b"554 5.7.1 Protocol error: talking before the greeting\r\n"


def first_line(run, timeout=5):
    deadline = time.time() + timeout
    while b"\n" not in run.out:
        left = deadline - time.time()
        if left <= 0 or not run.read_more(left):
            raise Failure("no line; have %r" % run.out[:200])
    line, _, run.out = run.out.partition(b"\n")
    return line + b"\n"


def rejected_early(run, send_before_greeting):
    """Sends EHLO (before or right after the 220- line); checks the 554,
    exit 111, the log line, and that the child saw no command."""
    if not send_before_greeting:
        check(first_line(run) == b"220-fake.test ESMTP\r\n", "no 220- line first")
    run.send(b"EHLO bot.test\r\nMAIL FROM:<spam@bot.test>\r\n")
    out = run.rest()
    check(out.endswith(REJECTED), "no 554 at the end: %r" % out)
    check(b"220 " not in out, "the greeting's last line went out: %r" % out)
    rc = run.wait()
    check(rc == 111, "exit %d, expected 111" % rc)
    check("pregreet: " in run.stderr and 'EHLO bot.test' in run.stderr,
          "no pregreet log line: %r" % run.stderr)
    commands = [l for l in run.child_log() if l.startswith(b"C: ")]
    check(commands == [], "the child got %r" % commands)


@test
def client_that_waits_gets_the_greeting_after_the_wait():
    run = Run(options=["-p", "1"])
    try:
        t0 = time.time()
        check(first_line(run) == b"220-fake.test ESMTP\r\n", "no 220- line")
        early = time.time() - t0
        check(first_line(run) == b"220 fake.test ESMTP\r\n", "no final 220 line")
        waited = time.time() - t0
        check(early < 0.9 and waited >= 0.95, "220- after %.2fs, 220 after %.2fs" % (early, waited))
        run.send(b"EHLO good.test\r\nQUIT\r\n")
        run.expect(250)
        run.expect(221)
        check(run.wait() == 0, "exit status")
        check(run.child_log()[:1] == [b"C: EHLO good.test"], "child log %r" % run.child_log())
    finally:
        run.cleanup()


@test
def a_wait_longer_than_T_is_not_a_client_timeout():
    # The client is rightly silent during the wait: -T does not run then.
    run = Run(options=["-T", "1", "-p", "2"])
    try:
        check(first_line(run) == b"220-fake.test ESMTP\r\n", "no 220- line")
        last = first_line(run)
        check(last == b"220 fake.test ESMTP\r\n", "got %r instead of the final 220" % last)
        run.send(b"QUIT\r\n")
        run.expect(221)
        check(run.wait() == 0, "exit status")
    finally:
        run.cleanup()


@test
def ehlo_before_the_greeting_is_rejected():
    run = Run(options=["-v", "-p", "2"])
    try:
        rejected_early(run, send_before_greeting=True)
    finally:
        run.cleanup()


@test
def ehlo_after_the_first_line_is_rejected():
    run = Run(options=["-v", "-p", "2"])
    try:
        rejected_early(run, send_before_greeting=False)
        check("after " in run.stderr and " ms" in run.stderr, "no wait in %r" % run.stderr)
    finally:
        run.cleanup()


@test
def greetdelay_zero_turns_the_test_off_for_this_client():
    run = Run(options=["-p", "2"], env={"GREETDELAY": "0"})
    try:
        check(first_line(run) == b"220 fake.test ESMTP\r\n", "the greeting was held")
    finally:
        run.cleanup()


@test
def relayclient_turns_the_test_off():
    run = Run(options=["-p", "2"], env={"RELAYCLIENT": ""})
    try:
        check(first_line(run) == b"220 fake.test ESMTP\r\n", "the greeting was held")
    finally:
        run.cleanup()
    # A variable about the test itself wins over RELAYCLIENT (ENVIRONMENT).
    run = Run(options=["-v"], env={"RELAYCLIENT": "", "GREETDELAY": "2"})
    try:
        rejected_early(run, send_before_greeting=False)
    finally:
        run.cleanup()


@test
def greetdelay_turns_the_test_on_without_p():
    run = Run(options=["-v"], env={"GREETDELAY": "2"})
    try:
        rejected_early(run, send_before_greeting=False)
    finally:
        run.cleanup()


@test
def malformed_greetdelay_is_logged_and_read_strictly():
    for env, options in (({"GREETDELAY": "soon"}, ["-v", "-p", "2"]),
                         ({"GREETDELAY": "301"}, ["-v"]),
                         ({"GREETDELAY": ""}, ["-v"])):
        run = Run(options=options, env=env)
        try:
            rejected_early(run, send_before_greeting=False)
            check('GREETDELAY="%s" is not 0 to 300 seconds' % env["GREETDELAY"] in run.stderr,
                  "%r: no log line naming it: %r" % (env, run.stderr))
        finally:
            run.cleanup()


@test
def bad_p_is_a_usage_error():
    import subprocess
    for bad in (["-p", "301"], ["-p", "x"], ["-p"]):
        p = subprocess.run([helper_tests.HELPER, *bad, "true"], capture_output=True, timeout=10)
        check(p.returncode == 100, "%s: exit %d, expected 100" % (bad, p.returncode))


if __name__ == "__main__":
    helper_tests.run_tests(TESTS, sys.argv)
