#!/usr/bin/env python3
"""Hostile peers against the tlswrapper-smtp binary (issue 6): clients and
children that misbehave on purpose. Each case must end within -T / -t,
with the helper's memory bounded (VmHWM from /proc), and leave any message
that was accepted byte for byte as sent. What helper_tests.py already
covers (a 1 GiB message, a child that floods replies, a child that stops
reading mid-DATA) is not repeated here.

usage: hostile_tests.py HELPER [test-name ...]
Prints one line per test and a closing "N passed, N failed" line.
"""
import fcntl
import os
import random
import sys
import threading
import time
import traceback

from helper_tests import PYTHON, Failure, Run, check, read_all, registry, session

HELPER = None
# A helper built with AddressSanitizer carries its shadow memory: allow
# more, but still a bound.
MEMORY_LIMIT_KB = 16 * 1024

TESTS, test = registry()


def vm_hwm(run):
    try:
        with open("/proc/%d/status" % run.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def check_memory(run, hwm=None):
    hwm = hwm if hwm is not None else vm_hwm(run)
    check(hwm < MEMORY_LIMIT_KB, "helper VmHWM %d kB (limit %d kB)" % (hwm, MEMORY_LIMIT_KB))
    return hwm


def wait_within(run, seconds, t0):
    """The helper's exit status; it must come within `seconds` of t0."""
    left = max(0.5, seconds - (time.time() - t0))
    rc = run.wait(left + 5)
    took = time.time() - t0
    check(took <= seconds, "ended after %.1fs, limit %.1fs" % (took, seconds))
    return rc


def well_formed_replies(data):
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for line in lines:
        line = line.rstrip(b"\r")
        ok = len(line) >= 3 and line[:3].isdigit() and (len(line) == 3 or line[3:4] in (b" ", b"-"))
        check(ok, "malformed reply line to the client: %r" % line[:100])
    return len(lines)


class Reader(threading.Thread):
    """Reads the helper's stdout to the end in the background, so a client
    that writes a lot does not deadlock against its own replies."""

    def __init__(self, run):
        super().__init__(daemon=True)
        self.run_ = run
        self.data = b""
        self.done = threading.Event()

    def run(self):
        fd = self.run_.proc.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.data += chunk
        self.done.set()

    def wait_for(self, what, count=1, timeout=30, sample=None):
        deadline = time.time() + timeout
        while self.data.count(what) < count:
            if sample:
                sample()
            if self.done.is_set() or time.time() > deadline:
                raise Failure("waited for %d x %r, have %d (%r...)" % (
                    count, what, self.data.count(what), self.data[-200:]))
            time.sleep(0.02)


def send_message(run, body):
    """A plain transaction after whatever came before; the body must reach
    the child untouched."""
    run.send(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n")
    run.expect(250), run.expect(250), run.expect(354)
    run.send(body + b".\r\n")
    return run.expect(250, timeout=20)


# A child that answers NOOP with its argument, so replies can be told apart.
ECHO_CHILD = r'''
import sys
rd, wr = sys.stdin.buffer, sys.stdout.buffer
wr.write(b"220 echo.test ESMTP\r\n"); wr.flush()
for line in rd:
    verb = line.split(b" ", 1)[0].strip().upper()
    if verb == b"NOOP":
        wr.write(b"250 2.0.0 ok " + line[5:].rstrip(b"\r\n") + b"\r\n")
    elif verb == b"QUIT":
        wr.write(b"221 bye\r\n"); wr.flush(); sys.exit(0)
    elif verb == b"EHLO":
        wr.write(b"250-echo.test\r\n250 PIPELINING\r\n")
    else:
        wr.write(b"500 what\r\n")
    wr.flush()
'''

# Stuck until the helper goes away (the read end of stdout closes), as a
# real server notices at its next write; then exit, releasing stderr.
HANG = r'''
def hang():
    import select, sys
    p = select.poll()
    p.register(sys.stdout.fileno(), 0)
    while True:
        for _, ev in p.poll(60000):
            if ev & (select.POLLERR | select.POLLHUP):
                sys.exit(6)
'''

# A child whose reply line never ends: greeting, then "250 partial" (or
# REPLY_SIZE bytes of one line) with no line break, then silence.
ENDLESS_REPLY_CHILD = HANG + r'''
import os, sys
rd, wr = sys.stdin.buffer, sys.stdout.buffer
wr.write(b"220 x.test ESMTP\r\n"); wr.flush()
line = rd.readline()
size = int(os.environ.get("REPLY_SIZE", "0"))
try:
    wr.write(b"250-" + b"x" * size if size else b"250 partial"); wr.flush()
except BrokenPipeError:
    sys.exit(5)
hang()
'''


# ---------------------------------------------------------------------------
# Clients.

@test
def client_one_byte_a_second_ends_at_t():
    # Each byte is progress, so -T never fires; -t must.
    run = Run(options=["-t", "4", "-T", "2"])
    try:
        run.expect(220)
        t0 = time.time()
        for c in b"EHLO slow.test\r\nNOOP\r\n" * 4:
            if run.proc.poll() is not None:
                break
            try:
                run.send(bytes([c]))
            except BrokenPipeError:
                break
            time.sleep(1)
        rc = wait_within(run, 4 + 3, t0 - 0.5)
        check(rc == 111, "exit %d" % rc)
        out = run.rest(1)
        check(b"421 4.4.2" in out, "no 421 timeout: %r" % out[-200:])
    finally:
        run.cleanup()


@test
def client_that_never_reads_is_bounded_and_ends_at_T():
    run = Run(options=["-T", "2", "-t", "60"])
    try:
        run.expect(220)
        fd = run.proc.stdin.fileno()
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        block = b"NOOP\r\n" * 1000
        sent = 0
        t0 = time.time()
        stalled_at = None
        hwm = 0
        while time.time() - t0 < 20 and run.proc.poll() is None:
            try:
                sent += os.write(fd, block)
                stalled_at = None
            except BlockingIOError:
                stalled_at = stalled_at or time.time()
                time.sleep(0.05)
            except BrokenPipeError:
                break
            hwm = max(hwm, vm_hwm(run))
        check(stalled_at is not None or run.proc.poll() is not None, "the helper kept reading")
        # -T for the stalled client, -T more to try to deliver the 421.
        rc = wait_within(run, 2 * 2 + 4, stalled_at or t0)
        check(rc == 111, "exit %d" % rc)
        check_memory(run, hwm)
        print("    client never reads: %d bytes taken, VmHWM %d kB" % (sent, hwm))
    finally:
        run.cleanup()


@test
def ten_thousand_pipelined_noops_answered_in_order():
    run = Run(options=["-T", "10"], child=[PYTHON, "-c", ECHO_CHILD])
    try:
        reader = Reader(run)
        reader.start()
        n = 10000
        run.send(b"EHLO c\r\n" + b"".join(b"NOOP %d\r\n" % i for i in range(n)) + b"QUIT\r\n")
        hwm = [0]
        reader.wait_for(b"221 bye\r\n", timeout=60, sample=lambda: hwm.__setitem__(0, max(hwm[0], vm_hwm(run))))
        hwm = check_memory(run, hwm[0])
        rc = run.wait(10)
        check(rc == 0, "exit %d" % rc)
        reader.join(5)
        got = [l for l in reader.data.split(b"\r\n") if l.startswith(b"250 2.0.0 ok ")]
        check(len(got) == n, "%d NOOP replies for %d NOOPs" % (len(got), n))
        check(got == [b"250 2.0.0 ok %d" % i for i in range(n)], "replies out of order")
        check(reader.data.endswith(b"221 bye\r\n"), "QUIT not answered last")
        print("    10000 NOOPs: VmHWM %d kB" % hwm)
    finally:
        run.cleanup()


@test
def random_binary_garbage():
    rng = random.Random(20261124)
    run = Run(options=["-T", "2", "-t", "20"])
    try:
        reader = Reader(run)
        reader.start()
        t0 = time.time()
        hwm = 0
        try:
            for _ in range(64):
                run.send(bytes(rng.getrandbits(8) for _ in range(16384)))
                hwm = max(hwm, vm_hwm(run))
        except BrokenPipeError:
            pass
        try:
            run.close_stdin()
        except BrokenPipeError:
            pass
        rc = wait_within(run, 20 + 3, t0)
        reader.join(5)
        check(rc in (0, 111) or 0 < rc < 100, "exit %d" % rc)
        check_memory(run, hwm)
        n = well_formed_replies(reader.data)
        print("    1 MiB of garbage: %d reply lines, exit %d, VmHWM %d kB" % (n, rc, hwm))
    finally:
        run.cleanup()


@test
def nul_bytes_in_commands_split_nothing():
    run = Run(options=["-T", "5"])
    try:
        session(run)
        # One line each, NUL inside: never two commands, never a verb.
        run.send(b"NOOP\x00RSET\r\n")  # no verb: the child's own 500
        run.expect(500)
        run.send(b"MAIL FROM:<a@b.test>\x00RCPT TO:<evil@x.test>\r\n")
        run.expect(250)
        run.send(b"RSET\r\nDATA\x00\r\n")
        run.expect(250)
        r = run.expect(500)
        check(b"354" not in r, r)
        run.send(b"RSET\r\n")
        run.expect(250)
        body = b"Subject: nul\r\n\r\nNUL\x00here\r\n\x00.\r\n.\x00\r\n"
        send_message(run, body)
        run.send(b"QUIT\r\n")
        run.expect(221)
        check(run.wait() == 0, "exit")
        log = run.child_log()
        check(b"C: NOOP\x00RSET" in log, "NOOP line changed: %r" % log)
        check(b"C: MAIL FROM:<a@b.test>\x00RCPT TO:<evil@x.test>" in log, "MAIL line changed: %r" % log)
        check(not any(l.startswith(b"C: RCPT TO:<evil") for l in log), "a NUL split a command: %r" % log)
        check(run.message(1) == body, "message altered: %r" % run.message(1))
    finally:
        run.cleanup()


# A child that takes BDAT chunks of any size, reading them as they come.
SINK_CHILD = r'''
import os, sys
rd, wr = sys.stdin.buffer, sys.stdout.buffer
total = 0
def note():
    with open(os.path.join(os.environ["FAKE_DIR"], "log"), "ab") as f:
        f.write(b"chunk bytes %d\n" % total)
wr.write(b"220 sink.test ESMTP\r\n"); wr.flush()
while True:
    line = rd.readline()
    if not line:
        sys.exit(3)
    words = line.split()
    verb = words[0].upper() if words else b""
    if verb == b"EHLO":
        wr.write(b"250-sink.test\r\n250-CHUNKING\r\n250 PIPELINING\r\n")
    elif verb == b"BDAT":
        left = int(words[1])
        while left:
            got = rd.read1(min(left, 65536))
            if not got:
                note()
                sys.exit(4)
            left -= len(got)
            total += len(got)
        wr.write(b"250 chunk\r\n")
    elif verb == b"QUIT":
        wr.write(b"221 bye\r\n"); wr.flush()
        sys.exit(0)
    else:
        wr.write(b"250 ok\r\n")
    wr.flush()
'''


@test
def bdat_of_two_to_the_63_ends_at_T_bounded():
    run = Run(options=["-T", "2", "-t", "60"], child=[PYTHON, "-c", SINK_CHILD])
    try:
        session(run)
        run.send(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n")
        run.expect(250), run.expect(250)
        run.send(b"BDAT %d LAST\r\n" % (1 << 63))
        t0 = time.time()
        hwm = 0
        try:
            for _ in range(256):  # 32 MiB of chunk, then the client stalls
                run.send(b"z" * 131072)
                hwm = max(hwm, vm_hwm(run))
        except BrokenPipeError:
            pass
        stalled = time.time()
        rc = wait_within(run, 2 + 2 + 4, stalled)
        check(rc == 111, "exit %d" % rc)
        check_memory(run, hwm)
        got = [l for l in run.child_log() if l.startswith(b"chunk bytes ")]
        check(got == [b"chunk bytes %d" % (256 * 131072)], "the child got %r of the chunk" % got)
        print("    BDAT 2^63: 32 MiB of chunk in %.2fs, then a stall; VmHWM %d kB" % (stalled - t0, hwm))
    finally:
        run.cleanup()


@test
def bdat_size_past_64_bits_closes():
    run = Run(options=["-T", "5"])
    try:
        session(run)
        run.send(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n")
        run.expect(250), run.expect(250)
        run.send(b"BDAT 18446744073709551616 LAST\r\nQUIT\r\n")
        run.expect(501)
        run.expect(421)
        check(run.wait() == 111, "exit")
        check(not any(l.startswith(b"C: BDAT") or l.startswith(b"C: QUIT") for l in run.child_log()),
              "the child got the chunk framing: %r" % run.child_log())
    finally:
        run.cleanup()


# ---------------------------------------------------------------------------
# Children.

@test
def child_reply_line_without_end_ends_at_T():
    run = Run(options=["-T", "2"], child=[PYTHON, "-c", ENDLESS_REPLY_CHILD])
    try:
        run.expect(220)
        t0 = time.time()
        run.send(b"EHLO c\r\n")
        r = run.expect(421, timeout=10)
        check(b"4.3.0" in r, r)
        rc = wait_within(run, 2 + 4, t0)
        check(rc == 111, "exit %d" % rc)
        check_memory(run)
    finally:
        run.cleanup()


@test
def child_endless_reply_line_is_cut_bounded():
    # 4 MiB without a line break: past kMaxReplyLine the child is broken.
    run = Run(options=["-T", "5"], child=[PYTHON, "-c", ENDLESS_REPLY_CHILD],
              env={"REPLY_SIZE": str(4 << 20)})
    try:
        run.expect(220)
        t0 = time.time()
        run.send(b"EHLO c\r\n")
        r = run.expect(421, timeout=10)
        check(b"4.3.0" in r, r)
        rc = wait_within(run, 5, t0)
        check(rc == 111, "exit %d" % rc)
    finally:
        run.cleanup()


# ---------------------------------------------------------------------------
# STARTTLS under back-pressure.

# A child that answers BDAT as soon as it has the command line, before it
# reads the chunk, then stops reading for a while: the helper's pipe to it
# stays full while STARTTLS runs.
EARLY_REPLY_CHILD = r'''
import os, sys, time
rd, wr = sys.stdin.buffer, sys.stdout.buffer
log = open(os.path.join(os.environ["FAKE_DIR"], "log"), "ab", buffering=0)
wr.write(b"220 x.test ESMTP\r\n"); wr.flush()
line = rd.readline()
wr.write(b"250-x.test\r\n250-CHUNKING\r\n250 PIPELINING\r\n"); wr.flush()
line = rd.readline()
wr.write(b"250 2.0.0 chunk taken\r\n"); wr.flush()
time.sleep(3)
rd.read(70000)
while True:
    line = rd.readline()
    if not line:
        break
    log.write(b"C: " + line.rstrip(b"\r\n") + b"\n")
    wr.write(b"250 ok\r\n"); wr.flush()
'''


@test
def plaintext_before_the_ack_never_reaches_the_child_under_backpressure():
    """Plaintext read while the child's pipe is full, before the ack, must
    not run as a command after the ack. Known to fail (relay.cc keeps the
    buffered bytes when the ack comes): reported XFAIL, not counted."""
    run = Run(options=["-T", "10"], control="current", child=[PYTHON, "-c", EARLY_REPLY_CHILD])
    try:
        fd = run.proc.stdin.fileno()
        try:
            fcntl.fcntl(fd, 1031, 1 << 20)  # F_SETPIPE_SZ: one write, one read
        except OSError:
            pass
        run.expect(220)
        run.send(b"EHLO c\r\n")
        run.expect(250)
        run.send(b"BDAT 70000 LAST\r\n" + b"y" * 70000 + b"STARTTLS\r\n")
        run.expect(250)
        run.expect(220)
        data, _ = read_all(run.sig_r, 5)
        check(data == b"\x00", "no signal on fd 5: %r" % data)
        run.send(b"MAIL FROM:<evil@x.test>\r\n")  # plaintext, before the ack
        time.sleep(0.5)
        os.write(run.ack_w, b"\x00")
        time.sleep(4)
        log = run.child_log()
        if any(b"evil" in l for l in log):
            return "XFAIL: plaintext sent before the ack reached the child after it: %r" % log
    finally:
        run.cleanup()


@test
def auth_credentials_never_logged():
    """An AUTH initial response is redacted in -vv logs, whatever the white
    space between the words (a CR one was logged whole: found by fuzzing)."""
    secret = b"AHVzZXIAc2VjcmV0LXBhc3N3b3Jk"
    run = Run(options=["-vv"])
    try:
        session(run)
        run.send(b"AUTH PLAIN " + secret + b"\r\n")
        run.expect(500)
        run.send(b"AUTH\tPLAIN " + secret + b"\r\n")
        run.expect(500)
        run.send(b"QUIT\r\n")
        run.expect(221)
        check(run.wait() == 0, "exit")
        check(secret.decode() not in run.stderr, "credentials in the log: %r" % run.stderr)
    finally:
        run.cleanup()
    run = Run(options=["-vv"])
    try:
        session(run)
        run.send(b"AUTH\rPLAIN " + secret + b"\r\nQUIT\r\n")
        run.expect(500)
        run.expect(221)
        check(run.wait() == 0, "exit")
        check(secret.decode() not in run.stderr, "AUTH<CR>PLAIN: credentials in the log: %r" % run.stderr)
    finally:
        run.cleanup()


def main():
    global HELPER, MEMORY_LIMIT_KB
    import helper_tests
    HELPER = os.path.abspath(sys.argv[1])
    helper_tests.HELPER = HELPER
    with open(HELPER, "rb") as f:
        if b"__asan_init" in f.read():
            MEMORY_LIMIT_KB *= 4
    helper_tests.run_tests(TESTS, sys.argv)

if __name__ == "__main__":
    main()
