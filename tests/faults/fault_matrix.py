#!/usr/bin/env python3
"""The fault matrix (issue 16): at each phase of a session one party is
killed (SIGKILL, or what SIGKILL leaves behind: closed descriptors), and
the helper must end within -T (+ 1.5 s of slack) with the exit status,
log line and last reply the man page's ENDINGS table gives, store no
message cut or twice, leave no process behind and pass the child no
descriptor but 0, 1 and 2.

The helper runs as it does in production (as root, so it jails itself)
with fake_smtpd.py as the child (mode "fds": its greeting lists its
descriptors) and the test holding the TLS wrapper's side: the client
pipes (the helper's stdin and stdout) and the control pipes of the current
protocol (fd 5 and fd 6). The parties:

  client   the client's connection is gone: the wrapper passes the EOF on
           (the helper's stdin closes) and nobody reads its output any
           more (stdout's read end closes); the wrapper itself keeps fd 5
           and fd 6 until the helper has ended.
  wrapper  the TLS wrapper is killed: all of the test's ends close at
           once (stdin, stdout, fd 5, fd 6; the helper is stopped with
           SIGSTOP meanwhile, so its next poll sees them all closed).
  child    fake_smtpd.py (the helper's child, found in
           /proc/PID/task/PID/children) gets SIGKILL; the client keeps
           reading and must get the helper's 421, where one is due.
  policy   the greylist server (a process of this test that reads the
           request and never answers) gets SIGKILL mid-lookup.

The phases: before the greeting (a child that greets after 1.5 s), in the
middle of a command line, of a DATA body, of a BDAT chunk, after the final
dot before the child's 250 (the child is held with SIGSTOP before it
reads the dot, and let go once another party is killed), between the STARTTLS signal on fd 5 and the ack on fd 6, and
during a greylist lookup (-g against the hung server; once under -C, once
under -c).

Each cell checks: the exit status and the log line (ENDINGS), the end
within -T + 1.5 s of the kill, the client's reply when it can still read
(and nothing else), what the child stored (msg.N whole, msg.N.partial when
it saw its input end inside a body: it never got a dot it was not sent),
that the child is gone within 2 s of the helper on its own (the jailed
helper cannot signal it: it closes the child's pipes) and has released the
shared stderr, and that the child's greeting lists fds 0, 1 and 2 only.

usage: fault_matrix.py HELPER [cell ...]    (a cell: "phase x party")
Prints one line per cell, then "N passed, N failed".
"""
import os
import select
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "binary"))
import helper_tests  # noqa: E402
import processes  # noqa: E402
from helper_tests import FAKE, PYTHON, Failure, Run, check, read_all  # noqa: E402
from processes import gone_within, start_time  # noqa: E402

T = 2                # -T of every cell
SLACK = 1.5          # how much later than -T the helper may end
GRACE = 2.0          # how long the child may take to notice and exit

# The man page's ENDINGS (log text, reply to the client).
CLIENT_CLOSED = "client closed its side without QUIT"
CLIENT_CUT = "client disconnected in the middle of a message: the message is dropped"
CHILD_CLOSED = "child closed its output before QUIT"
TLS_FAILED = "TLS handshake not confirmed by the TLS wrapper"
POLICY_FAILED = "greylist lookup failed (fail-closed)"
POLICY_OPEN = "greylist lookup failed, letting the recipient through"
SERVER_ERROR = b"421 4.3.0 Mail server error, closing connection\r\n"
POLICY_DOWN = b"421 4.3.0 Policy server unavailable, closing connection\r\n"

BODY = b"Subject: whole\r\n\r\na whole message\r\n"

# A child that greets late: python sleeping, then fake_smtpd.py in the
# same process (exec), so the pid the test kills is the child's all along.
SLOW_GREETING = [PYTHON, "-c",
                 "import os, sys, time; time.sleep(1.5); os.execv(sys.argv[1], sys.argv[1:])",
                 PYTHON, FAKE]

# A greylist server that takes every connection, reads a request to its
# empty line, says so on stdout and never answers.
HUNG_POLICY = r'''
import socket, sys, threading, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
def talk(c):
    buf = b""
    while b"\n\n" not in buf:
        d = c.recv(4096)
        if not d:
            return
        buf += d
    print("asked", flush=True)
    time.sleep(3600)
while True:
    c, _ = s.accept()
    threading.Thread(target=talk, args=(c,), daemon=True).start()
'''


class PolicyServer:
    def __init__(self):
        self.proc = subprocess.Popen([PYTHON, "-c", HUNG_POLICY], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self.port = int(self.line(10))

    def line(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            raise Failure("the policy server said nothing within %ss" % timeout)
        return self.proc.stdout.readline().decode().strip()

    def wait_asked(self):
        check(self.line(5) == "asked", "the policy server got no request")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


# ---------------------------------------------------------------------------
# Processes.

def child_of(run, timeout=5):
    """The helper's child: (pid, start time)."""
    try:
        return processes.child_of(run.proc.pid, timeout)
    except processes.NoChild as e:
        raise Failure("the helper has no child: %s" % e)


# ---------------------------------------------------------------------------
# The test's side.

def close_quietly(f):
    try:
        f.close()
    except (OSError, ValueError):
        pass


def close_client(run):
    close_quietly(run.proc.stdin)
    close_quietly(run.proc.stdout)


def close_control(run):
    for name in ("sig_r", "ack_w"):
        fd = getattr(run, name)
        if fd is not None:
            os.close(fd)
            setattr(run, name, None)


def read_to_eof(run, deadline):
    """The helper's output until it closes stdout (or the deadline)."""
    fd = run.proc.stdout.fileno()
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], max(0, deadline - time.time()))
        if not r:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        run.out += chunk
    out, run.out = run.out, b""
    return out


def stderr_of(run, deadline):
    """The helper's stderr to its end, and whether the end came before the
    deadline. The child shares it, so the end comes once both have closed
    it: a child left behind holds it open."""
    fd = run.proc.stderr.fileno()
    data = b""
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], max(0, deadline - time.time()))
        if not r:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            return data.decode(errors="replace"), True
        data += chunk
    return data.decode(errors="replace"), False


# ---------------------------------------------------------------------------
# Phases: each brings a fresh session to its point and says what is known.

class Cell:
    """One session driven to a phase, then one party killed."""

    def __init__(self, phase, party):
        self.phase, self.party = phase, party
        self.policy = None
        self.greeting = None
        self.stopped = False
        self.options = ["-v", "-T", str(T)]
        self.child = None
        if phase == "greylist -C" or phase == "greylist -c":
            self.policy = PolicyServer()
            self.options += ["-g", "127.0.0.1:%d" % self.policy.port, phase.split()[1]]
        if phase == "before the greeting":
            self.child = SLOW_GREETING
        self.run = Run(options=self.options, mode="fds", control="current", child=self.child)
        self.child_pid, self.child_start = child_of(self.run)

    def greet(self):
        self.greeting = self.run.expect(220)
        self.run.send(b"EHLO client.test\r\n")
        r = self.run.expect(250)
        check(r.endswith(b"250 STARTTLS\r\n"), "EHLO reply: %r" % r)

    def drive(self):
        run = self.run
        if self.phase == "before the greeting":
            time.sleep(0.3)
            check(run.out == b"" and not self.greeting, "greeted already")
        elif self.phase == "mid-command":
            self.greet()
            run.send(b"MAIL FROM:<a@b.test")
            time.sleep(0.3)
        elif self.phase == "mid-DATA body":
            self.greet()
            run.send(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n")
            run.expect(250), run.expect(250), run.expect(354)
            run.send(b"Subject: cut\r\n\r\nhalf a message\r\n")
            time.sleep(0.3)
        elif self.phase == "mid-BDAT chunk":
            self.greet()
            run.send(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nBDAT 1000 LAST\r\n" +
                     b"y" * 400)
            run.expect(250), run.expect(250)
            time.sleep(0.3)
        elif self.phase == "after the dot, before the 250":
            # The child is stopped before it reads the dot: whoever dies
            # next, it has not answered yet.
            self.greet()
            run.send(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n")
            run.expect(250), run.expect(250), run.expect(354)
            processes.stop(self.child_pid)
            self.stopped = True
            run.send(BODY + b".\r\n")
            time.sleep(0.3)
        elif self.phase == "STARTTLS, before the ack":
            self.greet()
            run.send(b"STARTTLS\r\n")
            run.expect(220)
            data, eof = read_all(run.sig_r)
            check(data == b"\x00" and eof, "fd 5: %r (closed: %s)" % (data, eof))
            time.sleep(0.1)
        elif self.phase.startswith("greylist"):
            self.greet()
            run.send(b"MAIL FROM:<a@b.test>\r\n")
            run.expect(250)
            run.send(b"RCPT TO:<c@d.test>\r\n")
            self.policy.wait_asked()
            time.sleep(0.1)
        else:
            raise Failure("no such phase")

    def kill(self):
        """Kills the party; returns the time of the kill."""
        run = self.run
        if self.party == "client":
            close_client(run)
        elif self.party == "TLS wrapper":
            # All at once: the helper stopped meanwhile (processes.stop
            # returns once it is), so its next poll sees every end closed
            # together.
            processes.stop(run.proc.pid)
            try:
                close_client(run)
                close_control(run)
            finally:
                os.kill(run.proc.pid, signal.SIGCONT)
        elif self.party == "child":
            os.kill(self.child_pid, signal.SIGKILL)
        elif self.party == "policy server":
            self.policy.kill()
        t0 = time.time()
        if self.stopped and self.party != "child":
            os.kill(self.child_pid, signal.SIGCONT)
        return t0

    def cleanup(self):
        if self.policy:
            self.policy.kill()
        if start_time(self.child_pid) == self.child_start:
            os.kill(self.child_pid, signal.SIGKILL)
        self.run.cleanup()


# ---------------------------------------------------------------------------
# What each cell must come to.

def expected(phase, party):
    """(status, log text, reply the client gets or None when it cannot
    read, what the child must have stored: "none" | "partial" | "one")."""
    if phase == "after the dot, before the 250":
        if party == "child":
            # Never a 250 for a message the server did not take.
            return 111, CHILD_CLOSED, SERVER_ERROR, "none"
        # The message was whole: it reaches the child, once, and its 250
        # is relayed (into the void) before the end.
        return 111, CLIENT_CLOSED, None, "one"
    mid = phase in ("mid-DATA body", "mid-BDAT chunk")
    if party in ("client", "TLS wrapper"):
        if phase == "STARTTLS, before the ack":
            # The client's EOF ends a session waiting for its handshake;
            # the wrapper's death closes the ack channel.
            return 111, TLS_FAILED if party == "TLS wrapper" else CLIENT_CLOSED, None, "none"
        if phase == "greylist -c":
            # The helper is in the lookup: the server's silence ends it.
            return 111, POLICY_FAILED, None, "none"
        return 111, CLIENT_CUT if mid else CLIENT_CLOSED, None, "partial" if mid else "none"
    if party == "child":
        if phase == "STARTTLS, before the ack":
            return 111, CHILD_CLOSED, b"", "none"  # no reply in the handshake
        # A lookup runs in the poll loop: the child's death is heard at
        # once, not after the greylist server's -T.
        return 111, CHILD_CLOSED, SERVER_ERROR, "none"
    if party == "policy server":
        if phase == "greylist -C":
            return 0, POLICY_OPEN, b"250", "one"
        return 111, POLICY_FAILED, POLICY_DOWN, "none"
    raise Failure("no such party")


def run_cell(phase, party):
    """One cell: the session driven to `phase`, `party` killed, then every
    check against expected(); returns the line that says what happened."""
    status, log, reply, stored = expected(phase, party)
    cell = Cell(phase, party)
    run = cell.run
    try:
        cell.drive()
        t0 = cell.kill()
        limit = t0 + T + SLACK
        got_reply = None
        if reply is not None and not (party == "policy server" and status == 0):
            got_reply = read_to_eof(run, limit + 5)
        elif party == "policy server":
            # Fail open: the recipient goes through and the session goes on.
            r = run.reply(timeout=T + SLACK + 5)
            got_reply = r
            took_reply = time.time() - t0
            check(time.time() <= limit, "the RCPT reply came %.1fs after the kill" % (time.time() - t0))
            run.send(b"DATA\r\n")
            run.expect(354)
            run.send(BODY + b".\r\nQUIT\r\n")
            run.expect(250), run.expect(221)
            limit = time.time() + T + SLACK
        try:
            rc = run.proc.wait(max(0.1, limit - time.time()) + 5)
        except subprocess.TimeoutExpired:
            raise Failure("the helper did not end within %.1fs of the kill" % (time.time() - t0))
        took = time.time() - t0
        err, closed = stderr_of(run, time.time() + GRACE)
        check(closed, "stderr still open %.1fs after the helper ended: the child holds it; "
              "log: %r" % (GRACE, err))
        check(took <= T + SLACK or (party == "policy server" and status == 0),
              "ended %.1fs after the kill (limit %.1fs)" % (took, T + SLACK))
        check(rc == status, "exit status %d, expected %d; log: %r" % (rc, status, err))
        check(log in err, "no log line %r in %r" % (log, err))
        if reply is not None:
            if party == "policy server" and status == 0:
                check(got_reply.startswith(reply), "RCPT got %r" % got_reply)
                check("warning" in err, "no warning for the failed lookup: %r" % err)
            else:
                check(got_reply == reply, "the client got %r, expected %r" % (got_reply, reply))
        # The child is gone, on its own, within the grace.
        check(gone_within(cell.child_pid, cell.child_start, GRACE),
              "the child (pid %d) is still there %.1fs after the helper ended" % (cell.child_pid, GRACE))
        # What the child stored.
        msgs = sorted(f for f in os.listdir(run.dir) if f.startswith("msg."))
        log_lines = run.child_log()
        if stored == "none":
            check(msgs == [], "the child stored %r" % msgs)
        elif stored == "partial":
            check(msgs == ["msg.1.partial"], "the child stored %r, expected only a cut one" % msgs)
            check(log_lines and log_lines[-1] in (b"EOF in DATA", b"EOF in BDAT"),
                  "the child did not see the body end without its dot: %r" % log_lines[-3:])
        elif stored == "one":
            check(msgs == ["msg.1"], "the child stored %r, expected one message" % msgs)
            check(run.message(1) == BODY, "message: %r" % run.message(1))
            check("reply=250 2.0.0 message 1 accepted" in err,
                  "the child's 250 was not relayed: %r" % err)
        if phase == "mid-command":
            check(not any(l.startswith(b"C: MAIL") for l in log_lines),
                  "the cut command reached the child: %r" % log_lines)
        if phase == "STARTTLS, before the ack":
            check(b"C: RSET" not in log_lines, "the child was reset as if TLS had started")
        if phase == "greylist -c":
            check(not any(l.startswith(b"C: RCPT") for l in log_lines),
                  "the RCPT reached the child under -c: %r" % log_lines)
        if phase == "greylist -C" and party != "child":
            # Fail open: the lookup failed, the recipient went through.
            check(b"C: RCPT TO:<c@d.test>" in log_lines, "the RCPT did not reach the child: %r" % log_lines)
            check(POLICY_OPEN in err, "no warning for the failed lookup: %r" % err)
        if cell.greeting is not None:
            check(b" fds=0,1,2 " in cell.greeting, "the child's descriptors: %r" % cell.greeting)
        if party == "policy server" and status == 0:
            return "RCPT %s (%.1f s), \"%s\", session goes on, status %d, one message" % (
                got_reply[:3].decode(), took_reply, log, rc)
        return "status %d, \"%s\", %.1f s" % (rc, log, took)
    finally:
        cell.cleanup()


PHASES = ["before the greeting", "mid-command", "mid-DATA body", "mid-BDAT chunk",
          "after the dot, before the 250",
          "STARTTLS, before the ack", "greylist -C", "greylist -c"]
PARTIES = ["client", "TLS wrapper", "child", "policy server"]


def cells():
    for phase in PHASES:
        for party in PARTIES:
            if party == "policy server" and not phase.startswith("greylist"):
                continue
            yield phase, party


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        sys.exit(2)
    helper_tests.HELPER = os.path.abspath(argv[1])
    wanted = set(argv[2:])
    unknown = wanted - {"%s x %s" % cell for cell in cells()}
    if unknown:
        print("unknown cell: %s; the cells are:\n  %s" % (
            ", ".join(sorted(unknown)), "\n  ".join("%s x %s" % cell for cell in cells())))
        sys.exit(2)
    passed = failed = 0
    t_all = time.time()
    for phase, party in cells():
        name = "%s x %s" % (phase, party)
        if wanted and name not in wanted:
            continue
        try:
            note = run_cell(phase, party)
            passed += 1
            print("ok    %s: %s" % (name, note))
        except Exception as e:
            failed += 1
            print("FAIL  %s: %s" % (name, e))
            if not isinstance(e, Failure):
                traceback.print_exc()
        sys.stdout.flush()
    print("%d passed, %d failed (%.0f s)" % (passed, failed, time.time() - t_all))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(sys.argv)
