"""What /proc says about a process of the tests: its child (the helper's
prog) and its start time, so a recycled pid is never taken for the child.
Shared by the Python suites that hold the helper's pipes
(tests/binary/*_tests.py, tests/faults/fault_matrix.py)."""
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
