#!/usr/bin/env python3
"""Tests of the tlswrapper-smtp binary itself: options, the child process,
both control protocols (this script holds the fd 5 / fd 6 pipes the TLS
wrapper would), faults, timeouts and byte-exactness, with fake_smtpd.py as
the child where a fault no real server produces is needed.

usage: helper_tests.py HELPER [test-name ...]
Prints one line per test and a closing "N passed, N failed" line.
"""
import fcntl
import hashlib
import os
import pwd
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, "fake_smtpd.py")
HELPER = None
# The system's python, which any user may run (the fake child runs under -u).
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def high(fd):
    """Moves fd above the control numbers, so placing it on 5 or 6 in the
    helper cannot clobber the other one."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100)
    os.close(fd)
    return moved


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


class Run:
    """One helper process: stdin/stdout pipes as the TLS wrapper's, the
    control pipes when asked, fake_smtpd.py (or `child`) as prog.

    control="ucspi" plays a UCSPI-TLS front (s6-ucspitlsd, sslserver -n;
    tests/ucspi/README.md): SSLCTLFD, SSLREADFD, SSLWRITEFD on the numbers
    `ucspi_fds` gives (s6-ucspitlsd 2.5.1.3's by default), the test holding
    the front's ends: `ctl` (the control socket), `tls_in_w` and `tls_out_r`
    (the client's cleartext once TLS is up), and `front_in`, a copy of the
    client's descriptor (the helper's fd 0), on which the front runs the
    handshake. ucspi_tls() moves the test's client to the TLS pipes."""

    def __init__(self, options=(), mode="normal", control=None, child=None, env=None,
                 helper=None, as_user=None, ucspi_fds=(3, 7, 6)):
        self.dir = tempfile.mkdtemp(prefix="tws-test-")
        self.sig_r = self.ack_w = None
        self.ctl = self.tls_in_w = self.tls_out_r = self.front_in = None
        self.plain_in = self.plain_out = None
        fds = {}
        stdin = subprocess.PIPE
        e = dict(os.environ)
        if control in ("legacy", "current"):
            self.sig_r, sig_w = os.pipe()
            fds[5] = high(sig_w)
        if control == "current":
            ack_r, self.ack_w = os.pipe()
            fds[6] = high(ack_r)
        if control == "ucspi":
            ctl_fd, read_fd, write_fd = ucspi_fds
            helper_ctl, self.ctl = socket.socketpair()
            fds[ctl_fd] = high(helper_ctl.detach())
            tls_r, self.tls_in_w = os.pipe()
            fds[read_fd] = high(tls_r)
            self.tls_out_r, tls_w = os.pipe()
            fds[write_fd] = high(tls_w)
            e.update({"SSLCTLFD": str(ctl_fd), "SSLREADFD": str(read_fd),
                      "SSLWRITEFD": str(write_fd)})
            stdin, client_w = os.pipe()
            self.front_in = high(os.dup(stdin))
        e.update({"FAKE_MODE": mode, "FAKE_DIR": self.dir, "TCPREMOTEIP": "192.0.2.7",
                  "LOG_ID": "testid"})
        e.update(env or {})
        prog = child or [PYTHON, FAKE]

        if as_user is not None:
            os.chmod(self.dir, 0o777)

        def place():
            for target, fd in fds.items():
                os.dup2(fd, target)
            if as_user is not None:
                os.setgroups([])
                os.setgid(as_user.pw_gid)
                os.setuid(as_user.pw_uid)

        self.proc = subprocess.Popen([helper or HELPER, *options, *prog], stdin=stdin,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=e, close_fds=False, preexec_fn=place)
        for fd in fds.values():
            os.close(fd)
        if control == "ucspi":
            os.close(stdin)
            self.proc.stdin = os.fdopen(client_w, "wb")
        self.out = b""
        self.broken = False

    def send(self, data):
        """Writes to the helper. A helper that has already ended (its own
        decision: the replies and exit status it left are what the test
        checks) is not an error here."""
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.broken = True

    def read_more(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return False
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            return False
        self.out += chunk
        return True

    def reply(self, timeout=5):
        """The next complete reply (all its lines), as bytes."""
        deadline = time.time() + timeout
        while True:
            lines = self.out.split(b"\n")
            for i, line in enumerate(lines[:-1]):
                if len(line) >= 4 and line[3:4] == b" " or len(line.rstrip(b"\r")) == 3:
                    text = b"\n".join(lines[: i + 1]) + b"\n"
                    self.out = self.out[len(text):]
                    return text
            left = deadline - time.time()
            if left <= 0 or not self.read_more(left):
                raise Failure("no complete reply; have %r" % self.out[:300])

    def expect(self, code, timeout=5):
        r = self.reply(timeout)
        check(r.startswith(str(code).encode()), "expected %s, got %r" % (code, r[:300]))
        return r

    def ucspi_tls(self):
        """The front's TLS is up: from now on the test's client writes to
        SSLREADFD's pipe and reads from SSLWRITEFD's (send, reply, expect);
        the plaintext pipes stay as plain_in, plain_out."""
        self.plain_in, self.plain_out = self.proc.stdin, self.proc.stdout
        self.proc.stdin = os.fdopen(self.tls_in_w, "wb")
        self.proc.stdout = os.fdopen(self.tls_out_r, "rb")
        self.tls_in_w = self.tls_out_r = None

    def close_stdin(self):
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            self.broken = True

    def wait(self, timeout=10):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure("helper did not exit within %ss" % timeout)
        self.stderr = self.proc.stderr.read().decode(errors="replace")
        return rc

    def rest(self, timeout=3):
        while self.read_more(timeout):
            pass
        return self.out

    def child_log(self):
        try:
            with open(os.path.join(self.dir, "log"), "rb") as f:
                return f.read().split(b"\n")[:-1]
        except FileNotFoundError:
            return []

    def message(self, n=1, partial=False):
        name = os.path.join(self.dir, "msg.%d" % n + (".partial" if partial else ""))
        if not os.path.exists(name):
            return None
        with open(name, "rb") as f:
            return f.read()

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr, self.plain_in,
                  self.plain_out, self.ctl):
            try:
                f.close()
            except Exception:
                pass
        for fd in (self.sig_r, self.ack_w, self.tls_in_w, self.tls_out_r, self.front_in):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        shutil.rmtree(self.dir, ignore_errors=True)


def read_all(fd, timeout=5):
    data = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], deadline - time.time())
        if not r:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            return data, True
        data += chunk
    return data, False


def session(run, ehlo=b"EHLO client.test\r\n"):
    run.expect(220)
    run.send(ehlo)
    return run.expect(250)


def registry():
    """A suite's list of tests and the decorator that adds to it."""
    tests = []

    def test(fn):
        tests.append(fn)
        return fn

    return tests, test


TESTS, test = registry()


# ---------------------------------------------------------------------------
# Options and exit statuses.

@test
def options_refused_before_prog_runs():
    marker = tempfile.mktemp(prefix="tws-marker-")
    prog = ["sh", "-c", "touch " + marker]
    for bad in (["-x"], ["-t", "0"], ["-t", "86401"], ["-T", "abc"], ["-T"], ["-t", ""],
                ["-T", "-5"], ["-u"], ["-u", "no-such-user-here"], ["-u", "root"]):
        p = subprocess.run([HELPER, *bad, *prog], capture_output=True, timeout=10)
        check(p.returncode == 100, "%s: exit %d, expected 100" % (bad, p.returncode))
        check(not os.path.exists(marker), "%s: prog ran" % bad)
    p = subprocess.run([HELPER], capture_output=True, timeout=10)
    check(p.returncode == 100, "no prog: exit %d" % p.returncode)
    p = subprocess.run([HELPER, "-q", "-x", "true"], capture_output=True, timeout=10)
    check(p.returncode == 100, "-q -x: exit %d" % p.returncode)


@test
def help_on_stdout_usage_error_one_line_on_stderr():
    marker = tempfile.mktemp(prefix="tws-marker-")
    p = subprocess.run([HELPER, "-h", "sh", "-c", "touch " + marker], capture_output=True,
                       timeout=10, env={"TCPREMOTEIP": "192.0.2.7"})
    out = p.stdout.decode()
    check(p.returncode == 0, "-h: exit %d, expected 0" % p.returncode)
    check(p.stderr == b"", "-h wrote to stderr: %r" % p.stderr)
    check(out.startswith("usage: tlswrapper-smtp [-hqvcCas] "), "-h: %r" % out[:80])
    for opt in "hqvtTugCcasJj":
        check(("\n  -%s " % opt) in out, "-h does not list -%s" % opt)
    for name in ("RELAYCLIENT", "NOTLS", "REQUIRETLS", "FORCETLS", "GREYLIST"):
        check(("\n  %s " % name) in out, "-h does not list %s" % name)
    check(not os.path.exists(marker), "-h: prog ran")
    for bad, says in ((["-Z", "true"], "unknown option -Z"), (["-T"], "option -T needs a value"),
                      ([], "no program to run")):
        p = subprocess.run([HELPER, *bad], capture_output=True, timeout=10,
                           env={"TCPREMOTEIP": "192.0.2.7"})
        err = p.stderr.decode()
        check(p.returncode == 100 and p.stdout == b"", "%s: exit %d" % (bad, p.returncode))
        check(err.count("\n") == 1 and err.startswith("tlswrapper-smtp: " + says + "; usage: "),
              "%s: not one usage line: %r" % (bad, err))
        check("192.0.2.7" not in err and "unknown:" not in err and "error:" not in err,
              "%s: the usage line reads as a session's log line: %r" % (bad, err))


@test
def option_forms_accepted():
    for opts in (["-T2"], ["-T", "2"], ["-t600", "-T15"], ["-vvv"], ["-q"], ["-v", "-v", "-v", "-v"],
                 ["-qT", "3"], ["--"]):
        run = Run(options=opts)
        try:
            session(run)
            run.send(b"QUIT\r\n")
            run.expect(221)
            rc = run.wait()
            check(rc == 0, "%s: exit %d" % (opts, rc))
        finally:
            run.cleanup()


@test
def quit_returns_the_childs_status():
    run = Run(env={"FAKE_QUIT_STATUS": "5"})
    try:
        session(run)
        run.send(b"QUIT\r\n")
        run.expect(221)
        check(run.wait() == 5, "exit status is not the child's")
    finally:
        run.cleanup()


@test
def unstartable_prog_is_111():
    p = subprocess.run([HELPER, "/nonexistent/prog"], capture_output=True, timeout=10,
                       input=b"")
    check(p.returncode == 111, "exit %d" % p.returncode)
    check(b"unable to run" in p.stderr, "no log line: %r" % p.stderr)


@test
def log_lines_carry_ip_and_id():
    run = Run(options=["-v"])
    try:
        session(run)
        run.send(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n")
        run.expect(250), run.expect(250), run.expect(354)
        run.send(b"hi\r\n.\r\nQUIT\r\n")
        run.expect(250), run.expect(221)
        run.wait()
        want = "tlswrapper-smtp: info: 192.0.2.7: mail from=<a@b.test> to=<c@d.test> reply=250 2.0.0 message 1 accepted tls=no [testid]"
        check(want in run.stderr.splitlines(), "no transaction line in %r" % run.stderr)
    finally:
        run.cleanup()


@test
def quiet_means_no_messages():
    run = Run(options=["-q"], mode="garbage")
    try:
        session(run)
        run.send(b"NOOP\r\n")
        run.expect(421)
        check(run.wait() == 111, "exit")
        check(run.stderr == "", "stderr not empty: %r" % run.stderr)
    finally:
        run.cleanup()


# ---------------------------------------------------------------------------
# The child.

@test
def child_gets_only_fds_0_1_2_and_the_environment():
    run = Run(mode="fds", control="current")
    try:
        g = run.expect(220)
        check(b" fds=0,1,2 " in g, "child fds: %r" % g)
        check(b"remote=192.0.2.7" in g, "environment not inherited: %r" % g)
    finally:
        run.cleanup()


@test
def child_runs_under_u_user():
    if os.geteuid() != 0:
        raise Failure("needs root to test -u")
    nobody = pwd.getpwnam("nobody")
    run = Run(options=["-u", "nobody"], mode="fds")
    try:
        os.chmod(run.dir, 0o777)
        g = run.expect(220)
        check(b"uid=%d gid=%d" % (nobody.pw_uid, nobody.pw_gid) in g, "child ids: %r" % g)
        check(b"groups=0" not in g and b",0," not in g, "child keeps group 0: %r" % g)
    finally:
        run.cleanup()


# ---------------------------------------------------------------------------
# Control protocols.

@test
def current_protocol_signal_ack_and_discard():
    run = Run(control="current")
    try:
        r = session(run)
        check(r.count(b"STARTTLS") == 1 and r.endswith(b"250 STARTTLS\r\n"), "EHLO: %r" % r)
        # Plaintext pipelined after STARTTLS, in the same write and later.
        run.send(b"STARTTLS\r\nMAIL FROM:<evil@x.test>\r\n")
        run.expect(220)
        data, eof = read_all(run.sig_r)
        check(data == b"\x00" and eof, "fd 5 got %r (closed: %s)" % (data, eof))
        run.send(b"RCPT TO:<evil@x.test>\r\n")
        time.sleep(0.3)
        os.write(run.ack_w, b"\x00")
        time.sleep(0.2)
        run.send(b"EHLO again.test\r\n")
        r = run.expect(250)
        check(b"STARTTLS" not in r, "STARTTLS advertised inside TLS: %r" % r)
        run.send(b"STARTTLS\r\n")
        run.expect(503)
        run.send(b"QUIT\r\n")
        run.expect(221)
        check(run.wait() == 0, "exit")
        log = run.child_log()
        check(not any(b"evil" in l for l in log), "plaintext reached the child: %r" % log)
        check(b"C: RSET" in log, "no RSET after TLS: %r" % log)
        check(log.index(b"C: RSET") < log.index(b"C: EHLO again.test"), "order: %r" % log)
    finally:
        run.cleanup()


@test
def current_protocol_bad_ack_is_111():
    run = Run(control="current")
    try:
        session(run)
        run.send(b"STARTTLS\r\n")
        run.expect(220)
        read_all(run.sig_r)
        os.write(run.ack_w, b"x")
        run.send(b"MAIL FROM:<a@b>\r\n")
        check(run.wait() == 111, "exit")
        log = run.child_log()
        check(log[-1] in (b"C: EHLO client.test", b"EOF"), "child got more: %r" % log)
        check(not any(l.startswith(b"C: RSET") or l.startswith(b"C: MAIL") for l in log),
              "child got commands after the bad ack: %r" % log)
    finally:
        run.cleanup()


@test
def current_protocol_missing_ack_is_111_after_T():
    run = Run(options=["-T", "1"], control="current")
    try:
        session(run)
        run.send(b"STARTTLS\r\n")
        run.expect(220)
        t0 = time.time()
        check(run.wait(8) == 111, "exit")
        check(time.time() - t0 < 4, "took %.1fs" % (time.time() - t0))
        check(not any(l.startswith(b"C: RSET") for l in run.child_log()), "RSET sent")
    finally:
        run.cleanup()


@test
def legacy_protocol_220_on_fd5_and_discard():
    run = Run(control="legacy")
    try:
        r = session(run)
        check(r.endswith(b"250 STARTTLS\r\n"), "EHLO: %r" % r)
        run.send(b"STARTTLS\r\nMAIL FROM:<evil@x.test>\r\n")
        data, eof = read_all(run.sig_r)
        check(data == b"220 2.0.0 Ready to start TLS\r\n" and eof, "fd 5: %r %s" % (data, eof))
        time.sleep(0.2)
        run.send(b"EHLO tls.test\r\n")
        r = run.expect(250)
        check(b"STARTTLS" not in r, "advertised inside TLS: %r" % r)
        run.send(b"QUIT\r\n")
        run.expect(221)
        check(run.wait() == 0, "exit")
        log = run.child_log()
        check(not any(b"evil" in l for l in log), "plaintext reached the child: %r" % log)
        check(b"C: RSET" in log, "no RSET: %r" % log)
    finally:
        run.cleanup()


@test
def no_control_channel_no_starttls():
    run = Run()
    try:
        r = session(run)
        check(b"STARTTLS" not in r, "advertised without a channel: %r" % r)
        run.send(b"STARTTLS\r\n")
        run.expect(502)
    finally:
        run.cleanup()


# ---------------------------------------------------------------------------
# The TLS policy (-a, -s): the front is known only once fds 5 and 6 are seen.

@test
def tls_required_without_a_tls_front_is_100_before_prog_runs():
    marker = tempfile.mktemp(prefix="tws-marker-")
    for opts in (["-s"], ["-as"], ["-v", "-s", "-a"]):
        p = subprocess.run([HELPER, *opts, "sh", "-c", "touch " + marker], capture_output=True,
                           timeout=10, input=b"")
        check(p.returncode == 100, "%s: exit %d, expected 100" % (opts, p.returncode))
        check(not os.path.exists(marker), "%s: prog ran" % opts)
        check(b"-s: no TLS front" in p.stderr, "%s: no log line: %r" % (opts, p.stderr))


@test
def auth_needs_tls_without_a_tls_front_warns_and_refuses_auth():
    run = Run(options=["-a"])
    try:
        session(run)
        run.send(b"AUTH PLAIN AHVzZXIAcGFzcw==\r\nNOOP\r\n")
        run.expect(538)
        run.expect(250)
        run.send(b"QUIT\r\n")
        run.expect(221)
        check(run.wait() == 0, "exit")
        check("-a: no TLS front" in run.stderr, "no warning: %r" % run.stderr)
        check("AHVzZXIAcGFzcw==" not in run.stderr, "credentials logged: %r" % run.stderr)
        log = run.child_log()
        check(not any(l.upper().startswith(b"C: AUTH") for l in log), "AUTH reached the child: %r" % log)
    finally:
        run.cleanup()


@test
def tls_required_refuses_mail_until_tls_then_passes_it():
    for control in ("legacy", "current"):
        run = Run(options=["-v", "-s"], control=control)
        try:
            session(run)
            run.send(b"MAIL FROM:<plain@x.test>\r\nRCPT TO:<b@x.test>\r\nNOOP\r\n")
            run.expect(530)
            run.expect(530)
            run.expect(250)
            run.send(b"STARTTLS\r\n")
            if control == "legacy":
                data, eof = read_all(run.sig_r)
                check(data == b"220 2.0.0 Ready to start TLS\r\n" and eof, "fd 5: %r" % data)
            else:
                run.expect(220)
                data, eof = read_all(run.sig_r)
                check(data == b"\0" and eof, "fd 5: %r" % data)
                os.write(run.ack_w, b"\0")
            time.sleep(0.2)
            run.send(b"EHLO tls.test\r\n")
            r = run.expect(250)
            check(b"STARTTLS" not in r, "advertised inside TLS: %r" % r)
            run.send(b"MAIL FROM:<tls@x.test>\r\n")
            run.expect(250)
            run.send(b"QUIT\r\n")
            run.expect(221)
            check(run.wait() == 0, "%s: exit" % control)
            log = run.child_log()
            check(not any(b"plain@x.test" in l or b"b@x.test" in l for l in log),
                  "%s: refused commands reached the child: %r" % (control, log))
            check(b"C: MAIL FROM:<tls@x.test>" in log, "%s: MAIL inside TLS missing: %r" % (control, log))
            check("refused before TLS: 2" in run.stderr, "%s: no count: %r" % (control, run.stderr))
        finally:
            run.cleanup()


@test
def client_that_never_reads_its_refusals_is_not_read_either():
    """Under -s every line is answered by the helper itself, with no round
    trip to the child: a client that sends and never reads must not make
    the replies waiting for it grow without bound."""
    run = Run(options=["-s"], control="legacy")
    try:
        session(run)
        fd = run.proc.stdin.fileno()
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        sent = 0
        deadline = time.time() + 3
        while time.time() < deadline and run.proc.poll() is None:
            try:
                sent += os.write(fd, b"\n" * 65536)
            except BlockingIOError:
                time.sleep(0.05)
        check(run.proc.poll() is None, "helper died (exit %s)" % run.proc.returncode)
        hwm = int(proc_status(run.proc.pid)["VmHWM"].split()[0])
        check(sent < 2 * 1024 * 1024, "the helper kept reading: %d bytes taken" % sent)
        # AddressSanitizer's shadow memory comes on top (hostile_tests.py).
        with open(HELPER, "rb") as f:
            limit = 8 * 1024 * (4 if b"__asan_init" in f.read() else 1)
        check(hwm < limit, "helper VmHWM %d kB (limit %d kB)" % (hwm, limit))
        return "%d bytes taken, helper VmHWM %d kB" % (sent, hwm)
    finally:
        run.cleanup()


# ---------------------------------------------------------------------------
# Faults.

@test
def child_exits_after_mail():
    run = Run(mode="die_after_mail")
    try:
        session(run)
        run.send(b"MAIL FROM:<a@b>\r\n")
        run.expect(250)
        run.send(b"RCPT TO:<c@d>\r\n")
        run.expect(421)
        check(run.wait() == 111, "exit")
    finally:
        run.cleanup()


@test
def child_dies_mid_data_no_250():
    run = Run(mode="die_in_data")
    try:
        session(run)
        run.send(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        run.expect(250), run.expect(250), run.expect(354)
        try:
            run.send(b"x" * 70 + b"\r\n" * 1)
            for _ in range(100):
                run.send(b"y" * 76 + b"\r\n")
            run.send(b".\r\n")
        except BrokenPipeError:
            pass
        r = run.rest()
        check(b"\n250" not in b"\n" + r, "client got a 250: %r" % r)
        check(r.startswith(b"421"), "no 421: %r" % r)
        check(run.wait() == 111, "exit")
    finally:
        run.cleanup()


@test
def child_killed_mid_session():
    run = Run()
    try:
        session(run)
        pid = int(subprocess.check_output(["pgrep", "-P", str(run.proc.pid)]).split()[0])
        os.kill(pid, signal.SIGKILL)
        run.expect(421)
        check(run.wait() == 111, "exit")
    finally:
        run.cleanup()


@test
def child_never_answers_T():
    run = Run(options=["-T", "1"], mode="silent")
    try:
        session(run)
        run.send(b"NOOP\r\n")
        t0 = time.time()
        run.expect(421, timeout=6)
        check(run.wait() == 111, "exit")
        check(time.time() - t0 < 4, "took %.1fs" % (time.time() - t0))
    finally:
        run.cleanup()


@test
def child_sends_garbage():
    run = Run(mode="garbage")
    try:
        session(run)
        run.send(b"NOOP\r\n")
        r = run.expect(421)
        check(b"4.3.0" in r, r)
        check(run.wait() == 111, "exit")
    finally:
        run.cleanup()


@test
def child_floods_replies_memory_stays_bounded():
    run = Run(options=["-T", "2"], mode="flood")
    try:
        run.expect(220)
        run.send(b"EHLO x\r\n")
        # Do not read for a while: the helper must stop reading the child.
        time.sleep(1.5)
        with open("/proc/%d/status" % run.proc.pid) as f:
            hwm = [int(l.split()[1]) for l in f if l.startswith("VmHWM")][0]
        check(hwm < 16 * 1024, "helper VmHWM %d kB" % hwm)
    finally:
        run.cleanup()


@test
def child_stops_reading_mid_data():
    run = Run(options=["-T", "1"], mode="stop_reading_in_data")
    try:
        session(run)
        run.send(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        run.expect(250), run.expect(250), run.expect(354)
        try:
            for _ in range(200):
                run.send(b"z" * 8190 + b"\r\n")
        except BrokenPipeError:
            pass
        check(run.wait(10) == 111, "exit")
    finally:
        run.cleanup()


@test
def client_vanishes_mid_command():
    run = Run()
    try:
        session(run)
        run.send(b"MAIL FROM:<a@b")
        run.close_stdin()
        check(run.wait() == 111, "exit")
        log = run.child_log()
        check(not any(l.startswith(b"C: MAIL") for l in log), "partial command reached child: %r" % log)
    finally:
        run.cleanup()


@test
def client_vanishes_mid_data():
    run = Run()
    try:
        session(run)
        run.send(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        run.expect(250), run.expect(250), run.expect(354)
        run.send(b"Subject: cut\r\n\r\nhalf a message\r\n")
        time.sleep(0.3)
        run.close_stdin()
        check(run.wait() == 111, "exit")
        check(run.message(1) is None, "a partial message was completed")
    finally:
        run.cleanup()


@test
def session_timeout_ends_a_busy_session():
    run = Run(options=["-t", "2", "-T", "10"])
    try:
        session(run)
        t0 = time.time()
        got = b""
        while time.time() - t0 < 6:
            try:
                run.send(b"NOOP\r\n")
            except BrokenPipeError:
                pass
            r = run.reply()
            if r.startswith(b"421"):
                got = r
                break
            time.sleep(0.2)
        check(got.startswith(b"421 4.4.2"), "no 421 timeout: %r" % got)
        check(1.5 < time.time() - t0 < 4, "after %.1fs" % (time.time() - t0))
        check(run.wait() == 111, "exit")
    finally:
        run.cleanup()


@test
def client_idle_T():
    run = Run(options=["-T", "1"])
    try:
        session(run)
        r = run.expect(421, timeout=5)
        check(b"4.4.2" in r, r)
        check(run.wait() == 111, "exit")
    finally:
        run.cleanup()


# ---------------------------------------------------------------------------
# The jail.

def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)


def proc_limits(pid):
    with open("/proc/%d/limits" % pid) as f:
        return f.read()


def limit_of(limits, name):
    for line in limits.splitlines():
        if line.startswith(name):
            return line[len(name):].split()[0]
    return None


@test
def jail_shows_in_proc():
    run = Run(mode="fds")
    try:
        g = session(run)
        st = proc_status(run.proc.pid)
        uids = st["Uid"].split()
        gids = st["Gid"].split()
        check(all(u == uids[0] for u in uids) and uids[0] != "0", "Uid: %s" % st["Uid"])
        check(all(x == gids[0] for x in gids) and gids[0] != "0", "Gid: %s" % st["Gid"])
        check("0" not in st["Groups"].split(), "Groups: %s" % st["Groups"])
        root = os.readlink("/proc/%d/root" % run.proc.pid)
        check(root == "/var/lib/tlswrapper/empty", "root: %s" % root)
        lim = proc_limits(run.proc.pid)
        for name, want in (("Max processes", "0"), ("Max core file size", "0"),
                           ("Max file size", "0")):
            check(limit_of(lim, name) == want, "%s: %s" % (name, limit_of(lim, name)))
        nofile = int(limit_of(lim, "Max open files"))
        check(nofile <= 8, "Max open files %d" % nofile)
        check(limit_of(lim, "Max data size") != "unlimited", "no memory cap")
        check(st.get("NoNewPrivs", "").strip() == "1", "NoNewPrivs: %s" % st.get("NoNewPrivs"))
        check(st.get("Seccomp", "").strip() == "2", "Seccomp: %s" % st.get("Seccomp"))
        # The child is not jailed.
        run.send(b"QUIT\r\n")
        run.expect(221)
        check(run.wait() == 0, "exit")
    finally:
        run.cleanup()


@test
def child_sees_real_root_and_only_0_1_2():
    run = Run(mode="fds", control="legacy")
    try:
        g = run.expect(220)
        check(b" root=/ " in g, "child root: %r" % g)
        check(b" fds=0,1,2 " in g, "child fds: %r" % g)
    finally:
        run.cleanup()


@test
def jail_dir_option():
    d = tempfile.mkdtemp(prefix="tws-jail-")
    os.chmod(d, 0o755)
    run = Run(options=["-J", d])
    try:
        session(run)
        root = os.readlink("/proc/%d/root" % run.proc.pid)
        check(root == d, "root %s, expected %s" % (root, d))
    finally:
        run.cleanup()
        os.rmdir(d)


@test
def missing_jail_dir_no_greeting_111():
    run = Run(options=["-J", "/nonexistent/jail/dir"])
    try:
        rc = run.wait()
        check(rc == 111, "exit %d" % rc)
        check(run.rest(1) == b"", "greeting sent: %r" % run.out)
        check("unable to create jail" in run.stderr, "log: %r" % run.stderr)
    finally:
        run.cleanup()


@test
def concurrent_sessions_have_different_uids():
    a, b = Run(), Run()
    try:
        session(a), session(b)
        ua = proc_status(a.proc.pid)["Uid"].split()[0]
        ub = proc_status(b.proc.pid)["Uid"].split()[0]
        check(ua != ub and "0" not in (ua, ub), "uids %s %s" % (ua, ub))
    finally:
        a.cleanup()
        b.cleanup()


@test
def jail_user_option():
    nobody = pwd.getpwnam("nobody")
    run = Run(options=["-j", "nobody"])
    try:
        session(run)
        st = proc_status(run.proc.pid)
        check(st["Uid"].split()[0] == str(nobody.pw_uid), "Uid %s" % st["Uid"])
        check(st["Gid"].split()[0] == str(nobody.pw_gid), "Gid %s" % st["Gid"])
    finally:
        run.cleanup()
    for bad in ("root", "no-such-user-here"):
        p = subprocess.run([HELPER, "-j", bad, "true"], capture_output=True, timeout=10)
        check(p.returncode == 100, "-j %s: exit %d" % (bad, p.returncode))


@test
def not_root_fails_closed_nojail_runs():
    nobody = pwd.getpwnam("nobody")
    run = Run(as_user=nobody)
    try:
        check(run.wait() == 111, "jailed helper as non-root did not exit 111")
        check("unable to create jail" in run.stderr, "log: %r" % run.stderr)
    finally:
        run.cleanup()
    nojail = os.path.join(os.path.dirname(HELPER), "tlswrapper-smtp-nojail")
    run = Run(as_user=nobody, helper=nojail)
    try:
        session(run)
        run.send(b"QUIT\r\n")
        run.expect(221)
        check(run.wait() == 0, "nojail exit")
    finally:
        run.cleanup()


# ---------------------------------------------------------------------------
# Bytes.

def send_message(run, body, quit=True):
    session(run)
    run.send(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n")
    run.expect(250), run.expect(250), run.expect(354)
    run.send(body + b".\r\n")
    r = run.expect(250, timeout=60)
    if quit:
        run.send(b"QUIT\r\n")
        run.expect(221)
        check(run.wait() == 0, "exit")
    return r


@test
def body_is_byte_exact():
    body = (b"Subject: exact\r\n\r\n" + b"a" * 5000 + b"\r\n" + b"b" * 70000 + b"\r\n" +
            bytes(range(256)) + b"\r\nNUL\x00inside\r\n..dot-stuffed\r\n..\r\n.x\r\n\xff\xfe\r\n")
    run = Run()
    try:
        send_message(run, body)
        check(run.message(1) == body, "child got a different body")
    finally:
        run.cleanup()


@test
def bare_lf_dot_is_escaped_not_ending():
    body = b"line one\n.\nstill the body\r\n"
    run = Run()
    try:
        send_message(run, body)
        check(run.message(1) == b"line one\n..\nstill the body\r\n", repr(run.message(1)))
    finally:
        run.cleanup()


@test
def bdat_chunks_pass_raw():
    run = Run()
    try:
        r = session(run)
        check(b"CHUNKING" in r, r)
        chunk1 = b"Subject: bdat\r\n\r\nQUIT\r\n.\r\nRSET\r\n"
        chunk2 = b"\x00\xff last part\r\n"
        run.send(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n")
        run.expect(250), run.expect(250)
        run.send(b"BDAT %d\r\n" % len(chunk1) + chunk1 + b"BDAT %d LAST\r\n" % len(chunk2) + chunk2)
        run.expect(250), run.expect(250)
        run.send(b"NOOP\r\nQUIT\r\n")
        run.expect(250), run.expect(221)
        check(run.wait() == 0, "exit")
        check(run.message(1) == chunk1 + chunk2, repr(run.message(1)))
    finally:
        run.cleanup()


@test
def one_gib_message_bounded_memory():
    run = Run()
    try:
        session(run)
        run.send(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 0\r\n")
        run.expect(250), run.expect(250), run.expect(250)
        line = b"0123456789" * 7 + b"abcd\r\n"  # 76 bytes
        block = line * (1 << 14)
        total = 1 << 30
        digest = hashlib.sha256()
        sent = 0
        hwm = 0
        status = "/proc/%d/status" % run.proc.pid
        size = len(block)
        run.send(b"BDAT %d LAST\r\n" % (total - total % size))
        while sent + size <= total:
            run.proc.stdin.write(block)
            digest.update(block)
            sent += size
            if sent % (64 << 20) < size:
                with open(status) as f:
                    hwm = max(hwm, [int(l.split()[1]) for l in f if l.startswith("VmHWM")][0])
        run.proc.stdin.flush()
        run.expect(250, timeout=120)
        run.send(b"QUIT\r\n")
        run.expect(221)
        check(run.wait() == 0, "exit")
        with open(os.path.join(run.dir, "msg.1"), "rb") as f:
            got = hashlib.sha256()
            n = 0
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                n += len(b)
                got.update(b)
        check(n == sent and got.digest() == digest.digest(), "body differs (%d of %d bytes)" % (n, sent))
        check(hwm < 16 * 1024, "helper VmHWM %d kB" % hwm)
        print("    1 GiB via BDAT: helper VmHWM %d kB" % hwm)
    finally:
        run.cleanup()


def run_tests(tests, argv):
    """Runs the tests named in argv[2:] (all when none), argv[1] being the
    helper; prints a line per test and the closing count."""
    global HELPER
    HELPER = os.path.abspath(argv[1])
    wanted = set(argv[2:])
    unknown = wanted - {fn.__name__ for fn in tests}
    if unknown:
        print("unknown test: %s; the tests are:\n  %s" % (
            ", ".join(sorted(unknown)), "\n  ".join(fn.__name__ for fn in tests)))
        sys.exit(2)
    passed = failed = 0
    for fn in tests:
        if wanted and fn.__name__ not in wanted:
            continue
        t0 = time.time()
        try:
            note = fn()
            passed += 1
            print("ok    %s (%.1fs)%s" % (fn.__name__, time.time() - t0, "\n    " + note if note else ""))
        except Exception as e:
            failed += 1
            print("FAIL  %s: %s" % (fn.__name__, e))
            if not isinstance(e, Failure):
                traceback.print_exc()
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    run_tests(TESTS, sys.argv)
