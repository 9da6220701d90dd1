"""What /proc says about a process of the tests: its child (the helper's
prog) and its start time, so a recycled pid is never taken for the child;
and a SIGSTOP that has taken hold.
Shared by the Python suites that hold the helper's pipes
(tests/binary/*_tests.py, tests/faults/fault_matrix.py)."""
import os
import signal
import time


class NoChild(Exception):
    pass


def start_time(pid):
    """The start time of pid (field 22 of /proc/PID/stat), None when it is
    gone or a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def child_of(pid, timeout=5):
    """(pid, start time) of pid's first child, waiting up to `timeout`
    seconds for it to exist; NoChild when it does not."""
    deadline = time.time() + timeout
    while True:
        try:
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                kids = f.read().split()
        except FileNotFoundError:
            raise NoChild("process %d is gone" % pid)
        if kids:
            child = int(kids[0])
            return child, start_time(child)
        if time.time() >= deadline:
            raise NoChild("process %d has no child after %ss" % (pid, timeout))
        time.sleep(0.01)


def gone_within(pid, start, seconds):
    """Whether the process (pid, start time) is gone within `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if start_time(pid) != start:
            return True
        time.sleep(0.02)
    return start_time(pid) != start


def stop(pid, timeout=5):
    """SIGSTOP to pid, returning once it has stopped. kill(2) only makes
    the signal pending: a process woken from poll(2) may still run, and
    take the events of that moment with it, after kill() has returned (a
    test that closes descriptors "while the helper is stopped" must not
    close them before it is)."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.time() + timeout
    while True:
        try:
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            raise NoChild("process %d is gone" % pid)
        if state in ("T", "t"):
            return
        if state in ("Z", "X"):
            raise NoChild("process %d is gone" % pid)
        if time.time() >= deadline:
            raise RuntimeError("process %d not stopped after %ss (state %s)" % (pid, timeout, state))
        time.sleep(0.001)
