#!/usr/bin/env python3
"""The soak benchmark: many sessions at once through the real pipeline.

  client (this script's worker processes: a thread per session, Python's ssl)
    -> tcpserver -HRDl0 -c N -b N 127.0.0.1 PORT
    -> tlswrapper -n -f cert.pem            (a fresh self-signed P-256 cert)
    -> HELPER                               (jailed: run as root)
    -> sink --record FILE                   (bench/sink.cc)

Soak mode (the default): C sessions open at once, each EHLO, STARTTLS, the
TLS handshake, EHLO, then 1..5 messages (MAIL, RCPT, DATA or BDAT,
pipelined), QUIT; a new session starts as soon as one ends, until the
duration is over (or M messages were started). Bodies of mixed sizes
(1 KiB .. 10 MiB, the distribution is printed); a share of the messages by
BDAT in chunks of mixed sizes, the rest by DATA. Each body starts with a
unique id, its CRC-32C is computed here and compared with the sink's reply
(`250 2.0.0 received bytes=N crc32c=X`) and with the line the sink appends
to its record file, so that every message can be counted: sent, accepted
(250 seen), stored (in the record), lost (accepted, not stored intact),
duplicated (stored twice), corrupted (stored with other bytes).

The same run is then made with Debian's helper. It cannot do BDAT (it reads
the chunk as command lines and the session hangs), so its run leaves the
BDAT messages out of the main phase, and a separate short phase sends a
few BDAT sessions to it and counts how they end.

Idle-flood mode (--idle-flood): N connections (1000) that read the
greeting, send EHLO in plaintext, read the reply and then send nothing; the
helper runs with -T 5 and must answer each with `421 4.4.2 Timeout, closing
connection` and end within -T + 1 s of the client's last byte, with exit
status 111 (recorded by bench/status_shim between tlswrapper and the
helper: tlswrapper's own status says nothing about the helper's).

Figures: sessions/s, messages/s, MiB/s, p50/p99 session latency, the sum of
Private_Dirty (/proc/PID/smaps_rollup) over all helper processes of the
pipeline, sampled every second, at its peak and per session, and failures
by kind (the client's, and the pipeline's log lines). See README.md here.

Exit status: 0 when no message was lost, duplicated or corrupted and every
accepted body was stored with the right CRC (and, in --smoke, no session of
ours failed; in --idle-flood, every check passed); 1 otherwise; 2 when the
benchmark could not run (not root, a missing program).
"""

import argparse
import asyncio
import base64
import collections
import ctypes
import multiprocessing
import os
import random
import re
import resource
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

KIB = 1024
MIB = 1024 * 1024
LINE = 78  # 76 characters and CRLF

# Body sizes: (weight, low, high), log-uniform within each range.
SIZE_MIX = [
    (35, 1 * KIB, 4 * KIB),
    (30, 4 * KIB, 64 * KIB),
    (20, 64 * KIB, 512 * KIB),
    (10, 512 * KIB, 2 * MIB),
    (5, 2 * MIB, 10 * MIB),
]
MESSAGES_PER_SESSION = (1, 5)  # uniform
BDAT_CHUNKS = [4 * KIB, 64 * KIB, 1 * MIB]  # chunk size drawn per message, or one chunk
MAX_CHUNKS = 512  # a 4 KiB draw for a body over 2 MiB becomes 64 KiB


def fmt_size(n):
    if n >= MIB:
        return f"{n / MIB:g} MiB"
    return f"{n / KIB:g} KiB"


def die(msg, code=2):
    print(f"soak.py: {msg}", file=sys.stderr)
    sys.exit(code)


def percentile(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


# ---------------------------------------------------------------------------
# CRC-32C through bench/crc32c_lib.cc (the sink's own code)

class Crc:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.bench_crc32c.restype = ctypes.c_uint32
        self.lib.bench_crc32c.argtypes = [ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t]

    def of(self, crc, buf, offset=0, length=None):
        """crc continued over buf[offset:offset+length] (buf: bytes, no copy)."""
        if length is None:
            length = len(buf) - offset
        base = ctypes.cast(ctypes.c_char_p(buf), ctypes.c_void_p).value
        return self.lib.bench_crc32c(crc, base + offset, length)


# ---------------------------------------------------------------------------
# The pipeline

def make_cert(d):
    key, crt, both = (os.path.join(d, n) for n in ("key.pem", "crt.pem", "cert.pem"))
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", key, "-out", crt],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60)
    if r.returncode != 0:
        die("openssl req failed: " + r.stderr.strip())
    with open(both, "wb") as out:
        for p in (key, crt):
            with open(p, "rb") as f:
                out.write(f.read())
    os.chmod(both, 0o600)
    return both, crt


def listening(port):
    want = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f:
            x = line.split()
            if len(x) > 3 and x[1] == want and x[3] == "0A":
                return True
    return False


def normalise_log(line):
    """A log line as a kind: the variable parts (ids, numbers, addresses) gone."""
    line = re.sub(r"\s*\[[A-Za-z0-9]{6,}\]\s*$", "", line)
    line = re.sub(r"127\.0\.0\.1", "IP", line)
    line = re.sub(r"\d+", "N", line)
    return line[:160]


class Pipeline:
    """tcpserver -> tlswrapper -n -> [wrap...] helper [opts] -> sink --record."""

    def __init__(self, tmp, cert, helper, helper_opts, sink_argv, conns, wrap=(),
                 keep_lines=False):
        self.tmp = tmp
        self.proc = None
        self.port = None
        self.log_kinds = collections.Counter()
        self.log_examples = {}
        self.log_lines = 0
        self.keep_lines = keep_lines
        self.lines = []  # (monotonic time read, line) with keep_lines
        prog = ["tlswrapper", "-n", "-f", cert] + list(wrap) + [helper] + list(helper_opts) + \
            list(sink_argv)
        env = dict(os.environ, PATH="/usr/sbin:/usr/bin:/sbin:/bin")
        for _ in range(10):
            port = random.randint(20000, 60999)
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            argv = ["tcpserver", "-HRDl0", "-c", str(conns), "-b", str(min(conns, 4096)),
                    "127.0.0.1", str(port)] + prog
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         start_new_session=True, env=env)
            for _ in range(100):
                if listening(port) or self.proc.poll() is not None:
                    break
                time.sleep(0.05)
            if self.proc.poll() is None and listening(port):
                self.port = port
                self.argv = argv
                break
            self.stop()
        if self.port is None:
            die("could not start tcpserver")
        # Every stderr (tcpserver, tlswrapper, the helper) is this one pipe,
        # as under multilog: a jailed helper cannot write to a file.
        self.reader = threading.Thread(target=self._read_log, daemon=True)
        self.reader.start()

    def _read_log(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.log_lines += 1
            if self.keep_lines:
                self.lines.append((time.monotonic(), line))
            k = normalise_log(line)
            self.log_kinds[k] += 1
            self.log_examples.setdefault(k, line[:300])

    def stop(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        if hasattr(self, "reader"):
            self.reader.join(timeout=5)
        self.proc = None


def process_table():
    """pid -> (ppid, comm), read from /proc/PID/stat."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                s = f.read()
        except OSError:
            continue
        lp, rp = s.find(b"("), s.rfind(b")")
        comm = s[lp + 1:rp].decode("utf-8", "replace")
        ppid = int(s[rp + 2:].split()[1])
        table[int(name)] = (ppid, comm)
    return table


def private_dirty_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Private_Dirty:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class MemorySampler:
    """Every `interval` s: the helper processes under the pipeline's tcpserver
    (comm "tlswrapper-smtp", which Debian's symlinked binary also has), and
    the sum of their Private_Dirty."""

    def __init__(self, root_pid, interval=1.0, comm="tlswrapper-smtp"):
        self.root = root_pid
        self.interval = interval
        self.comm = comm
        self.samples = []  # (t, helpers, total_kb, max_one_kb)
        self.stop_ev = threading.Event()
        self.cost = 0.0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def sample(self):
        t0 = time.monotonic()
        table = process_table()
        children = collections.defaultdict(list)
        for pid, (ppid, _) in table.items():
            children[ppid].append(pid)
        helpers = []
        todo = [self.root]
        while todo:
            p = todo.pop()
            for c in children.get(p, ()):
                todo.append(c)
                if table[c][1] == self.comm:
                    helpers.append(c)
        total, n, most = 0, 0, 0
        for pid in helpers:
            kb = private_dirty_kb(pid)
            if kb is not None:
                total += kb
                n += 1
                most = max(most, kb)
        self.samples.append((t0, n, total, most))
        self.cost += time.monotonic() - t0

    def _run(self):
        while not self.stop_ev.is_set():
            self.sample()
            self.stop_ev.wait(self.interval)

    def stop(self):
        self.stop_ev.set()
        self.thread.join()

    def peak(self):
        """(total_kb, helpers) of the sample with the largest total."""
        if not self.samples:
            return None
        s = max(self.samples, key=lambda x: x[2])
        return s[2], s[1]

    def max_one(self):
        return max((s[3] for s in self.samples), default=None)

    def per_session(self):
        """Median over the samples with at least half the peak's helpers of
        total / helpers: what one open session costs at load."""
        most = max((s[1] for s in self.samples), default=0)
        xs = [s[2] / s[1] for s in self.samples if s[1] > 0 and s[1] >= most / 2]
        return statistics.median(xs) if xs else None


class Perf:
    """perf record -a over a run: the machine's CPU samples by command name,
    to see where the time goes (and how much went to other work)."""

    def __init__(self, path):
        self.path = path
        self.proc = None
        if shutil.which("perf"):
            self.proc = subprocess.Popen(["perf", "record", "-a", "-F", "49", "-q", "-o", path],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)

    def stop(self):
        """[(percent, comm)] of the non-idle samples, or None."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        r = subprocess.run(["perf", "report", "-i", self.path, "--sort", "comm", "--stdio", "-q"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           timeout=120)
        out = []
        for line in r.stdout.splitlines():
            m = re.match(r"\s*([\d.]+)%\s+(.+?)\s*$", line)
            if m:
                out.append((float(m.group(1)), m.group(2)))
        try:
            os.unlink(self.path)
        except OSError:
            pass
        return out or None


def cpu_busy():
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        x = [int(v) for v in f.readline().split()[1:]]
    idle = x[3] + x[4]
    return sum(x) - idle, sum(x)


# ---------------------------------------------------------------------------
# The workload

def draw_size(rng):
    total = sum(w for w, _, _ in SIZE_MIX)
    r = rng.uniform(0, total)
    for w, lo, hi in SIZE_MIX:
        if r < w:
            break
        r -= w
    return int(lo * (hi / lo) ** rng.random())


def plan_session(rng, bdat_share):
    """[(size, how, chunk)] for one session."""
    msgs = []
    for _ in range(rng.randint(*MESSAGES_PER_SESSION)):
        size = draw_size(rng)
        how = "bdat" if rng.random() < bdat_share else "data"
        chunk = None
        if how == "bdat":
            c = rng.choice(BDAT_CHUNKS + [None])  # None: the whole body in one chunk
            while c is not None and size > c * MAX_CHUNKS:
                c = BDAT_CHUNKS[BDAT_CHUNKS.index(c) + 1]
            chunk = (c, rng.random() < 0.1)  # and sometimes a final "BDAT 0 LAST"
        msgs.append((size, how, chunk))
    return msgs


class Bodies:
    """Bodies as the id header plus a slice of one large buffer of base64 lines
    (no line starts with a dot), with a dot-stuffed line in every header."""

    def __init__(self, crc, seed):
        rng = random.Random(seed)
        raw = base64.encodebytes(rng.randbytes(11 * MIB * 57 // 78 + 4096))
        self.base = raw.replace(b"\n", b"\r\n")
        self.lines = len(self.base) // LINE
        self.crc = crc
        self.rng = rng

    def make(self, mid, size):
        head = (f"X-Soak-Id: {mid}\r\nSubject: soak message {mid}\r\n\r\n"
                ".. a line that starts with a dot, dot-stuffed on the wire\r\n").encode()
        lines = max(0, (size - len(head)) // LINE)
        start = self.rng.randrange(0, self.lines - lines) * LINE if lines < self.lines else 0
        n = lines * LINE
        crc = self.crc.of(0, head)
        crc = self.crc.of(crc, self.base, start, n)
        return head, memoryview(self.base)[start:start + n], len(head) + n, crc


# ---------------------------------------------------------------------------
# The client: worker processes, each with one thread per open session, on
# blocking sockets (Python's ssl releases the GIL while it encrypts, reads
# and writes). An asyncio client was tried first: under load it left
# replies unread for more than 15 s after a long pipelined BDAT stream
# (Python 3.11's SSL transport), so the helpers timed out on it; the same
# stream from blocking sockets never waited more than a second.

class Fail(Exception):
    def __init__(self, kind, detail=None):
        super().__init__(kind)
        self.kind = kind
        self.detail = detail


class Conn:
    """One session's socket: reply lines from its own buffer (so what was
    read past the 220 to STARTTLS can be seen), writes with sendall; every
    wait limited by the socket's timeout. Records when it last read a reply
    line and last finished a write, for the failure reports."""

    def __init__(self, sock, t0):
        self.sock = sock
        self.buf = b""
        self.read_at = self.wrote_at = t0

    def since(self):
        now = time.monotonic()
        return (f"{now - self.read_at:.2f} s after the last reply line read, "
                f"{now - self.wrote_at:.2f} s after the last write completed")

    def readline(self):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
                return line
            if len(self.buf) > 4096:
                line, self.buf = self.buf, b""
                return line
            data = self.sock.recv(65536)
            if not data:
                line, self.buf = self.buf, b""
                return line
            self.buf += data

    def rest(self):
        """What comes before the end of the stream (b"" at once at EOF)."""
        if self.buf:
            return self.buf
        return self.sock.recv(65536)

    def close(self):
        self.sock.close()


class Worker:
    def __init__(self, cfg, index):
        self.cfg = cfg
        self.index = index
        self.rng = random.Random(f"{cfg['seed']}.{index}")
        self.crc = Crc(cfg["crc_lib"])
        self.bodies = Bodies(self.crc, f"{cfg['seed']}.{index}.body")
        self.lock = threading.Lock()  # the generators and the tallies below
        self.msgs = []  # [id, how, size, crc, sent, accepted, t_done, reply_ok]
        self.sessions = []  # (t_start, t_end, ok, kind, messages done, plan)
        self.failures = collections.Counter()
        self.details = {}  # failure kind -> [when it happened, against the last I/O]
        self.started = 0  # messages planned into sessions
        self.seq = 0
        self.ctx = ssl.create_default_context(cafile=cfg["cafile"])
        self.ctx.check_hostname = True

    def reply(self, c, stage):
        lines = []
        while True:
            try:
                line = c.readline()
            except socket.timeout:
                raise Fail(f"timeout waiting for the reply to {stage}", c.since())
            except (OSError, ssl.SSLError) as e:
                raise Fail(f"{type(e).__name__} waiting for the reply to {stage}", c.since())
            if not line:
                raise Fail(f"connection closed before the reply to {stage}"
                           + (f" (after {lines[-1][:40]!r})" if lines else ""), c.since())
            c.read_at = time.monotonic()
            if not line.endswith(b"\r\n") or len(line) < 5:
                raise Fail(f"bad reply line to {stage}")
            text = line.decode("ascii", "replace").rstrip("\r\n")
            lines.append(text)
            if text[3:4] != "-":
                return int(text[:3]), lines

    def expect(self, c, stage, code):
        got, lines = self.reply(c, stage)
        if got != code:
            raise Fail(f"{got} reply to {stage} ({lines[-1][:60]})")
        return lines

    def write(self, c, data, stage):
        try:
            c.sock.sendall(data)
        except socket.timeout:
            raise Fail(f"timeout writing {stage}", c.since())
        except (OSError, ssl.SSLError) as e:
            raise Fail(f"{type(e).__name__} writing {stage}", c.since())
        c.wrote_at = time.monotonic()

    def message(self, c, plan):
        size, how, chunk = plan
        with self.lock:
            self.seq += 1
            mid = f"{self.cfg['run']}.{self.index}.{self.seq}"
        head, tail, n, crc = self.bodies.make(mid, size)
        rec = [mid, how, n, crc, False, False, None, False]
        with self.lock:
            self.msgs.append(rec)
        cmds = b"MAIL FROM:<soak@client.example>\r\nRCPT TO:<sink@sink.example>\r\n"
        if how == "data":
            self.write(c, cmds + b"DATA\r\n", "MAIL, RCPT, DATA")
            self.expect(c, "MAIL", 250)
            self.expect(c, "RCPT", 250)
            self.expect(c, "DATA", 354)
            self.write(c, head, "the DATA body")
            for off in range(0, len(tail), 256 * KIB):
                self.write(c, tail[off:off + 256 * KIB], "the DATA body")
            self.write(c, b".\r\n", "the final dot")
            rec[4] = True
        else:
            size_c, zero_last = chunk
            total = len(head) + len(tail)
            step = size_c or total
            pieces = [(off, min(step, total - off)) for off in range(0, total, step)]
            # Commands and chunks go out as one pipelined stream, gathered
            # into writes of up to 256 KiB (as a client with writev would);
            # the replies are read after it (at most MAX_CHUNKS of them, a
            # few KiB, which the socket buffers hold).
            out = bytearray(cmds)
            for i, (off, k) in enumerate(pieces):
                last = i == len(pieces) - 1 and not zero_last
                out += b"BDAT %d%s\r\n" % (k, b" LAST" if last else b"")
                if off < len(head):
                    out += head[off:off + k]
                t0 = max(0, off - len(head))
                t1 = off + k - len(head)
                while t0 < t1:
                    take = min(t1 - t0, max(0, 256 * KIB - len(out)))
                    out += tail[t0:t0 + take]
                    t0 += take
                    if len(out) >= 256 * KIB:
                        self.write(c, out, "BDAT chunks")
                        out.clear()
            if zero_last:
                out += b"BDAT 0 LAST\r\n"
                pieces.append((total, 0))
            self.write(c, out, "BDAT chunks")
            rec[4] = True
            self.expect(c, "MAIL", 250)
            self.expect(c, "RCPT", 250)
            for _ in pieces[:-1]:
                self.expect(c, "a BDAT chunk", 250)
        code, lines = self.reply(c, "the end of the message")
        if code != 250:
            raise Fail(f"{code} reply to the end of the message ({lines[-1][:60]})")
        rec[5] = True
        rec[6] = time.monotonic()
        m = re.search(r"bytes=(\d+) crc32c=([0-9a-f]{8})", lines[-1])
        if m and int(m.group(1)) == n and int(m.group(2), 16) == crc:
            rec[7] = True
        else:
            with self.lock:
                self.failures["250 reply with another byte count or CRC than sent"] += 1

    def session(self, plan):
        t0 = time.monotonic()
        c = None
        done = 0
        try:
            try:
                sock = socket.create_connection(("127.0.0.1", self.cfg["port"]),
                                                timeout=self.cfg["io_timeout"])
            except socket.timeout:
                raise Fail("timeout connecting")
            except OSError as e:
                raise Fail(f"connect: {e.strerror or type(e).__name__}")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c = Conn(sock, t0)
            self.expect(c, "the greeting", 220)
            self.write(c, b"EHLO client.example\r\n", "EHLO")
            lines = self.expect(c, "EHLO", 250)
            if not any(l[4:].upper().startswith("STARTTLS") for l in lines):
                raise Fail("STARTTLS not offered")
            self.write(c, b"STARTTLS\r\n", "STARTTLS")
            self.expect(c, "STARTTLS", 220)
            if c.buf:
                raise Fail("bytes after the 220 to STARTTLS, before the handshake")
            try:
                c.sock = self.ctx.wrap_socket(c.sock, server_hostname="localhost")
            except socket.timeout:
                raise Fail("timeout in the TLS handshake")
            except (ssl.SSLError, OSError) as e:
                raise Fail(f"TLS handshake: {type(e).__name__}")
            self.write(c, b"EHLO client.example\r\n", "EHLO in TLS")
            lines = self.expect(c, "EHLO in TLS", 250)
            if any(l[4:].upper().startswith("STARTTLS") for l in lines):
                raise Fail("STARTTLS offered inside TLS")
            for p in plan:
                self.message(c, p)
                done += 1
            self.write(c, b"QUIT\r\n", "QUIT")
            self.expect(c, "QUIT", 221)
            try:
                rest = c.rest()
            except socket.timeout:
                raise Fail("timeout waiting for the end after QUIT")
            except (OSError, ssl.SSLError):
                rest = b""  # the peer may close without a TLS close_notify
            if rest:
                raise Fail("bytes after the QUIT reply")
            ok = (True, None)
        except Fail as f:
            ok = (False, f.kind)
            with self.lock:
                self.failures[f.kind] += 1
                if f.detail:
                    self.details.setdefault(f.kind, []).append(f.detail)
        except Exception as e:  # anything else is a failure of its own kind
            kind = f"client exception {type(e).__name__}: {e}"[:120]
            ok = (False, kind)
            with self.lock:
                self.failures[kind] += 1
        finally:
            if c is not None:
                try:
                    c.close()
                except OSError:
                    pass
        with self.lock:
            self.sessions.append((t0, time.monotonic(), ok[0], ok[1], done, plan))

    def next_plan(self):
        cfg = self.cfg
        with self.lock:
            if time.monotonic() >= cfg["deadline"]:
                return None
            while True:
                if cfg["messages"] is not None and self.started >= cfg["messages"]:
                    return None
                plan = plan_session(self.rng, cfg["bdat_share"])
                if cfg["only"]:
                    plan = [p for p in plan if p[1] == cfg["only"]]
                if cfg["messages"] is not None:
                    plan = plan[:cfg["messages"] - self.started]
                if plan:
                    self.started += len(plan)
                    return plan

    def slot(self):
        while True:
            plan = self.next_plan()
            if plan is None:
                return
            self.session(plan)

    def run(self):
        threads = [threading.Thread(target=self.slot, daemon=True)
                   for _ in range(self.cfg["concurrency"])]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def set_comm(name):
    """The process's name as perf and /proc show it (other python3s run too)."""
    try:
        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


def worker_main(cfg, index, conn):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_comm("soak-client")
    threading.stack_size(512 * KIB)
    w = Worker(cfg, index)
    w.run()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    conn.send({"msgs": w.msgs, "sessions": w.sessions, "failures": dict(w.failures),
               "details": w.details, "cpu": ru.ru_utime + ru.ru_stime})
    conn.close()


def run_workers(cfg, workers):
    """Splits concurrency and the message budget over `workers` processes."""
    ctx = multiprocessing.get_context("fork")
    procs = []
    for i in range(workers):
        c = dict(cfg)
        c["concurrency"] = cfg["concurrency"] // workers + (1 if i < cfg["concurrency"] % workers else 0)
        if cfg["messages"] is not None:
            c["messages"] = cfg["messages"] // workers + (1 if i < cfg["messages"] % workers else 0)
        if c["concurrency"] == 0:
            continue
        a, b = ctx.Pipe(duplex=False)
        p = ctx.Process(target=worker_main, args=(c, i, b))
        p.start()
        b.close()
        procs.append((p, a))
    results = []
    for p, a in procs:
        try:
            results.append(a.recv())
        except EOFError:
            results.append({"msgs": [], "sessions": [], "failures": {"client worker died": 1},
                            "cpu": 0.0})
        p.join()
    return results


# ---------------------------------------------------------------------------
# One soak run against one helper

def read_record(path):
    """id -> [(bytes, crc, how)]."""
    rec = collections.defaultdict(list)
    bad = 0
    if not os.path.exists(path):
        return rec, bad
    with open(path) as f:
        for line in f:
            m = re.fullmatch(r"id=(\S+) bytes=(\d+) crc32c=([0-9a-f]{8}) how=(\w+) pid=\d+\n",
                             line)
            if not m:
                bad += 1
                continue
            rec[m.group(1)].append((int(m.group(2)), int(m.group(3), 16), m.group(4)))
    return rec, bad


class Run:
    def __init__(self, a, label, helper, tmp, cert, cafile, only=None, concurrency=None,
                 duration=None, messages=None, io_timeout=None, tag=None):
        self.a = a
        self.label = label
        self.helper = helper
        self.tmp = tmp
        self.cert = cert
        self.cafile = cafile
        self.only = only
        self.concurrency = concurrency or a.concurrency
        self.duration = duration if duration is not None else a.duration
        self.messages = messages if messages is not None else a.messages
        self.io_timeout = io_timeout or a.io_timeout
        self.tag = tag or label

    def go(self):
        a = self.a
        record = os.path.join(self.tmp, f"record.{self.tag}")
        run_id = f"{self.tag}-{os.getpid()}-{random.randrange(10**6)}"
        pipe = Pipeline(self.tmp, self.cert, self.helper, a.helper_opts,
                        [a.sink, "--record", record], self.concurrency * 2 + 50,
                        keep_lines=bool(a.dump))
        sampler = MemorySampler(pipe.proc.pid, a.sample_interval)
        cfg = {
            "port": pipe.port, "cafile": self.cafile, "crc_lib": a.crc_lib, "seed": a.seed,
            "run": run_id, "bdat_share": a.bdat_share, "only": self.only,
            "concurrency": self.concurrency, "messages": self.messages,
            "io_timeout": self.io_timeout,
        }
        perf = Perf(os.path.join(self.tmp, f"perf.{self.tag}")) if a.perf else None
        busy0, tot0 = cpu_busy()
        t0 = time.monotonic()
        cfg["deadline"] = t0 + self.duration
        results = run_workers(cfg, min(a.workers, self.concurrency))
        t_end = time.monotonic()
        busy1, tot1 = cpu_busy()
        self.perf = perf.stop() if perf else None
        time.sleep(0.3)
        sampler.stop()
        pipe.stop()
        self.wall = t_end - t0
        self.t0 = t0
        self.deadline = cfg["deadline"]
        self.cpu_machine = (busy1 - busy0) / max(1, tot1 - tot0) * (os.cpu_count() or 1)
        self.cpu_client = sum(r["cpu"] for r in results) / self.wall
        self.sampler = sampler
        self.pipe = pipe
        self.msgs = [m for r in results for m in r["msgs"]]
        self.sessions = [s for r in results for s in r["sessions"]]
        self.failures = collections.Counter()
        self.details = collections.defaultdict(list)
        for r in results:
            self.failures.update(r["failures"])
            for k, v in r.get("details", {}).items():
                self.details[k] += v
        self.record, self.record_bad = read_record(record)
        self.account(run_id)
        return self

    def account(self, run_id):
        ids = {m[0]: m for m in self.msgs}
        self.sent = sum(1 for m in self.msgs if m[4])
        self.accepted = sum(1 for m in self.msgs if m[5])
        self.reply_bad = sum(1 for m in self.msgs if m[5] and not m[7])
        self.stored = 0
        self.stored_ok = 0
        self.duplicated = 0
        self.corrupted = 0
        self.unknown = 0
        self.stored_unacked = 0
        self.lost_ids = []
        for mid, lines in self.record.items():
            m = ids.get(mid)
            if m is None:
                self.unknown += len(lines)
                continue
            self.stored += 1
            self.duplicated += len(lines) - 1
            good = [l for l in lines if l[0] == m[2] and l[1] == m[3]]
            if len(good) != len(lines):
                self.corrupted += 1
            if good:
                self.stored_ok += 1
            if not m[5]:
                self.stored_unacked += 1
        for m in self.msgs:
            if m[5]:
                lines = self.record.get(m[0], [])
                if not any(l[0] == m[2] and l[1] == m[3] for l in lines):
                    self.lost_ids.append(m[0])
        self.lost = len(self.lost_ids)
        self.by_how = {}
        for how in ("data", "bdat"):
            ms = [m for m in self.msgs if m[1] == how]
            self.by_how[how] = (len(ms), sum(1 for m in ms if m[4]), sum(1 for m in ms if m[5]))

    def correct(self):
        return (self.lost == 0 and self.duplicated == 0 and self.corrupted == 0 and
                self.reply_bad == 0 and self.unknown == 0 and self.record_bad == 0)

    def figures(self):
        """The rates over the window: from the start to the deadline (or to the
        last session's end when the run ended earlier, by its message budget),
        counting what completed in it."""
        end = min(self.deadline, max((s[1] for s in self.sessions), default=self.t0))
        win = max(1e-9, end - self.t0)
        sess = [s for s in self.sessions if s[1] <= end]
        acc = [m for m in self.msgs if m[5] and m[6] <= end]
        lat = [s[1] - s[0] for s in self.sessions if s[2]]
        lat_data = [s[1] - s[0] for s in self.sessions
                    if s[2] and all(p[1] == "data" for p in s[5])]
        peak = self.sampler.peak()
        return {
            "window": win,
            "drain": max(0.0, self.t0 + self.wall - end),
            "sessions_ok": sum(1 for s in self.sessions if s[2]),
            "sessions_failed": sum(1 for s in self.sessions if not s[2]),
            "sessions_per_s": sum(1 for s in sess if s[2]) / win,
            "msgs_per_s": len(acc) / win,
            "mib_per_s": sum(m[2] for m in acc) / MIB / win,
            "p50": percentile(lat, 50),
            "p99": percentile(lat, 99),
            "p50_data": percentile(lat_data, 50),
            "p99_data": percentile(lat_data, 99),
            "peak_kb": peak[0] if peak else None,
            "peak_helpers": peak[1] if peak else None,
            "per_session_kb": self.sampler.per_session(),
            "max_one_kb": self.sampler.max_one(),
            "bytes_accepted": sum(m[2] for m in self.msgs if m[5]),
        }


# ---------------------------------------------------------------------------
# Debian's BDAT share, apart

def bdat_probe_main(cfg, conn):
    set_comm("soak-client")
    w = Worker(cfg, 0)
    plan = [(8 * KIB, "bdat", (4 * KIB, False))]
    threads = [threading.Thread(target=w.session, args=(plan,)) for _ in range(cfg["sessions"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conn.send({"msgs": w.msgs, "sessions": w.sessions, "failures": dict(w.failures)})
    conn.close()


def bdat_probe(a, helper, tmp, cert, cafile, sessions, timeout):
    """`sessions` sessions at once, each one 8 KiB message in two BDAT chunks."""
    record = os.path.join(tmp, "record.debian-bdat")
    run_id = f"debian-bdat-{os.getpid()}"
    pipe = Pipeline(tmp, cert, helper, a.helper_opts, [a.sink, "--record", record],
                    sessions + 10)
    cfg = {"port": pipe.port, "cafile": cafile, "crc_lib": a.crc_lib, "seed": a.seed,
           "run": run_id, "io_timeout": timeout, "sessions": sessions}
    ctx = multiprocessing.get_context("fork")
    r, w = ctx.Pipe(duplex=False)
    p = ctx.Process(target=bdat_probe_main, args=(cfg, w))
    t0 = time.monotonic()
    p.start()
    w.close()
    res = r.recv()
    p.join()
    wall = time.monotonic() - t0
    pipe.stop()
    rec, _ = read_record(record)
    accepted = [m for m in res["msgs"] if m[5]]
    stored_ok = sum(1 for m in accepted
                    if any(l[0] == m[2] and l[1] == m[3] for l in rec.get(m[0], [])))
    return {"sessions": sessions, "sent": sum(1 for m in res["msgs"] if m[4]),
            "accepted": len(accepted), "stored_ok": stored_ok,
            "failures": res["failures"], "wall": wall, "timeout": timeout,
            "log": pipe.log_kinds, "log_examples": pipe.log_examples}


# ---------------------------------------------------------------------------
# Reports

def print_header(a, title, workers=None, kind="a thread per session, blocking sockets"):
    load = open("/proc/loadavg").read().split()[:3]
    print()
    print(title)
    print(f"  {os.cpu_count()} CPUs, load average {' '.join(load)} now; "
          f"nice {a.nice}; client: {workers or a.workers} process(es), {kind}, Python "
          f"{sys.version.split()[0]}, {ssl.OPENSSL_VERSION}")


def print_workload(a):
    total = sum(w for w, _, _ in SIZE_MIX)
    mix = ", ".join(f"{w * 100 // total}% {fmt_size(lo)}-{fmt_size(hi)}" for w, lo, hi in SIZE_MIX)
    print(f"  bodies: log-uniform within ranges: {mix} (mean about "
          f"{mean_size() / KIB:.0f} KiB); 76-character base64 lines, a unique X-Soak-Id "
          f"first line and one dot-stuffed line each")
    print(f"  sessions: EHLO, STARTTLS, TLS handshake (certificate verified), EHLO, "
          f"{MESSAGES_PER_SESSION[0]}..{MESSAGES_PER_SESSION[1]} messages "
          f"(MAIL, RCPT, DATA pipelined), QUIT")
    print(f"  BDAT: {a.bdat_share * 100:.0f}% of the messages, chunks of "
          f"{'/'.join(fmt_size(c) for c in BDAT_CHUNKS)} or the whole body (drawn per message), "
          f"pipelined, 10% ending with BDAT 0 LAST")


def mean_size():
    total = sum(w for w, _, _ in SIZE_MIX)
    import math
    return sum(w / total * (hi - lo) / math.log(hi / lo) for w, lo, hi in SIZE_MIX)


def print_run_table(runs):
    figs = [r.figures() for r in runs]
    w = 26

    def row(label, vals):
        print(f"  {label:44}" + "".join(f"{v:>{w}}" for v in vals))

    def f(v, spec="{:.1f}"):
        return "-" if v is None else spec.format(v)

    print()
    row("", [r.label for r in runs])
    row("helper", [os.path.basename(r.helper) + (" (jailed)" if os.geteuid() == 0 else "")
                   for r in runs])
    row("BDAT messages in this run", ["yes" if r.only is None else "no (apart, below)"
                                      for r in runs])
    row("sessions at once (C)", [str(r.concurrency) for r in runs])
    row("window / drain after it, s", [f"{x['window']:.0f} / {x['drain']:.1f}" for x in figs])
    row("sessions/s (completed in the window)", [f(x["sessions_per_s"]) for x in figs])
    row("messages/s (accepted in the window)", [f(x["msgs_per_s"]) for x in figs])
    row("MiB/s (accepted bodies in the window)", [f(x["mib_per_s"]) for x in figs])
    row("session latency p50 / p99, s", [f"{f(x['p50'], '{:.2f}')} / {f(x['p99'], '{:.2f}')}"
                                         for x in figs])
    row("  sessions with DATA only: p50 / p99, s", [f"{f(x['p50_data'], '{:.2f}')} / "
                                                    f"{f(x['p99_data'], '{:.2f}')}" for x in figs])
    row("helpers' Private_Dirty at peak, MiB", [f(x["peak_kb"] and x["peak_kb"] / KIB)
                                                for x in figs])
    row("  helper processes in that sample", [str(x["peak_helpers"]) for x in figs])
    row("  per session (median at load), KiB", [f(x["per_session_kb"], "{:.0f}") for x in figs])
    row("  largest single helper, KiB", [f(x["max_one_kb"], "{:.0f}") for x in figs])
    row("sessions completed / failed", [f"{x['sessions_ok']} / {x['sessions_failed']}"
                                        for x in figs])
    row("messages sent", [str(r.sent) for r in runs])
    row("  of them by DATA / by BDAT", [f"{r.by_how['data'][1]} / {r.by_how['bdat'][1]}"
                                        for r in runs])
    row("accepted (250 seen)", [str(r.accepted) for r in runs])
    row("  GiB accepted", [f"{x['bytes_accepted'] / 1024 / MIB:.2f}" for x in figs])
    row("stored at the sink with the right CRC", [str(r.stored_ok) for r in runs])
    row("lost (accepted, not stored intact)", [str(r.lost) for r in runs])
    row("duplicated (extra stored copies)", [str(r.duplicated) for r in runs])
    row("corrupted (stored with other bytes)", [str(r.corrupted) for r in runs])
    row("250 with a wrong count or CRC", [str(r.reply_bad) for r in runs])
    row("stored, 250 not seen (not a loss)", [str(r.stored_unacked) for r in runs])
    row("client CPU, cores (of the machine's)", [f"{r.cpu_client:.2f} / {r.cpu_machine:.2f}"
                                                 for r in runs])
    for r in runs:
        print()
        print(f"  {r.label}: failures by kind (client side)")
        if not r.failures:
            print("    none")
        for k, n in r.failures.most_common():
            print(f"    {n:7}  {k}")
            ds = r.details.get(k)
            if ds:
                print(f"             e.g. {ds[0]}")
        print(f"  {r.label}: the pipeline's log lines ({r.pipe.log_lines}), by kind")
        if not r.pipe.log_kinds:
            print("    none")
        for k, n in r.pipe.log_kinds.most_common(12):
            print(f"    {n:7}  {r.pipe.log_examples[k][:200]}")
        if r.perf:
            print(f"  {r.label}: the machine's CPU samples by command (perf record -a, "
                  f"{r.cpu_machine:.2f} of {os.cpu_count()} cores busy on average)")
            roles = {"tlswrapper": "TLS (tlswrapper)", "tlswrapper-smtp": "the helper",
                     "sink": "the sink", "soak-client": "the client", "tcpserver": "tcpserver"}
            shown = 0
            for pct, comm in r.perf:
                if shown < 8 or comm in roles:
                    print(f"    {pct:6.1f}%  {comm:18} {roles.get(comm, '')}")
                    shown += 1
            ours = sum(p for p, c in r.perf if c in roles)
            print(f"    {ours:6.1f}%  in all for the pipeline and the client; the rest is "
                  "other work on the machine and the kernel's threads")
        if r.lost_ids:
            print(f"  {r.label}: LOST message ids (first 10): {' '.join(r.lost_ids[:10])}")
        if r.unknown or r.record_bad:
            print(f"  {r.label}: record lines with unknown ids: {r.unknown}, "
                  f"unparsable: {r.record_bad}")


def print_probe(p):
    print()
    print(f"  Debian's BDAT share, apart: {p['sessions']} sessions at once, each one 8 KiB "
          f"message in two 4 KiB BDAT chunks, client timeout {p['timeout']} s")
    print(f"    sent {p['sent']}, accepted {p['accepted']}, stored intact "
          f"{p['stored_ok']}, in {p['wall']:.1f} s")
    for k, n in sorted(p["failures"].items(), key=lambda x: -x[1]):
        print(f"    {n:7}  {k}")
    for k, n in p["log"].most_common(5):
        print(f"    log {n:5}  {p['log_examples'][k][:200]}")


# ---------------------------------------------------------------------------
# Idle flood

async def idle_conn(cfg, i, out):
    r = {"i": i, "t_last": None, "t_421": None, "t_end": None, "got": b"", "error": None,
         "port": None}
    out.append(r)
    writer = None
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", cfg["port"]), cfg["connect_timeout"])
        r["port"] = writer.get_extra_info("sockname")[1]
        greet = await asyncio.wait_for(reader.readline(), cfg["connect_timeout"])
        if not greet.startswith(b"220"):
            raise Fail(f"greeting {greet[:40]!r}")
        while greet[3:4] == b"-":
            greet = await asyncio.wait_for(reader.readline(), cfg["connect_timeout"])
        # The client's last byte: the time is taken just before it is sent,
        # so a delay measured from it is never shorter than the real one.
        r["t_last"] = time.monotonic()
        writer.write(b"EHLO idle.example\r\n")
        await writer.drain()
        while True:
            line = await asyncio.wait_for(reader.readline(), cfg["connect_timeout"])
            if not line:
                raise Fail("closed before the EHLO reply")
            if line[3:4] != b"-":
                break
        try:
            r["got"] = await asyncio.wait_for(reader.readline(), cfg["T"] + 30)
            r["t_421"] = time.monotonic()
            r["got"] += await asyncio.wait_for(reader.read(), cfg["T"] + 30)
        except ConnectionError:
            r["error"] = "reset instead of an orderly close"
        r["t_end"] = time.monotonic()
    except Fail as f:
        r["error"] = f.kind
    except asyncio.TimeoutError:
        r["error"] = "timeout"
    except OSError as e:
        r["error"] = f"{type(e).__name__}: {e.strerror}"
    finally:
        if writer is not None:
            writer.close()


def idle_main(cfg, conn):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_comm("soak-client")

    async def go():
        out = []
        tasks = []
        for i in range(cfg["n"]):
            tasks.append(asyncio.create_task(idle_conn(cfg, i, out)))
            if i % 50 == 49:
                await asyncio.sleep(0)  # let the first ones start
        await asyncio.gather(*tasks)
        return out
    t0 = time.monotonic()
    out = asyncio.run(go())
    ru = resource.getrusage(resource.RUSAGE_SELF)
    conn.send({"conns": out, "t0": t0, "cpu": ru.ru_utime + ru.ru_stime})
    conn.close()


def idle_flood(a, tmp, cert):
    T = a.idle_T
    status = os.path.join(tmp, "status")
    helper_opts = [o for o in a.helper_opts] + ["-T", str(T)]
    pipe = Pipeline(tmp, cert, a.helper, helper_opts, [a.sink], a.idle_sessions + 100,
                    wrap=[a.status_shim, status])
    sampler = MemorySampler(pipe.proc.pid, a.sample_interval / 4)
    cfg = {"port": pipe.port, "n": a.idle_sessions, "T": T, "connect_timeout": 60}
    ctx = multiprocessing.get_context("fork")
    r, w = ctx.Pipe(duplex=False)
    p = ctx.Process(target=idle_main, args=(cfg, w))
    p.start()
    w.close()
    res = r.recv()
    p.join()
    # every helper has ended by now unless one hangs: give stragglers 2 s
    for _ in range(20):
        if sum(1 for _ in open(status)) >= a.idle_sessions if os.path.exists(status) else False:
            break
        time.sleep(0.1)
    time.sleep(a.sample_interval)
    sampler.stop()
    pipe.stop()
    conns = res["conns"]
    want = b"421 4.4.2 Timeout, closing connection\r\n"
    got_421 = [c for c in conns if c["got"] == want and c["error"] is None]
    errors = collections.Counter(c["error"] for c in conns if c["error"])
    other = collections.Counter(c["got"][:60] for c in conns
                                if c["error"] is None and c["got"] != want)
    limit = T + 1
    d421 = [c["t_421"] - c["t_last"] for c in conns if c["t_421"] and c["t_last"]]
    delays = [c["t_end"] - c["t_last"] for c in conns if c["t_end"] and c["t_last"]]
    late = [d for d in delays if d > limit]
    early = [d for d in d421 if d < T]
    statuses = collections.Counter()
    exits = {}  # client port -> the helper's exit time (the shim's record)
    if os.path.exists(status):
        for line in open(status):
            m = re.match(r"pid=\d+ (exit|signal)=(\d+) t=([\d.]+) port=(\S+)", line)
            if m:
                statuses[f"{m.group(1)} {m.group(2)}"] += 1
                if m.group(4).isdigit():
                    exits[int(m.group(4))] = float(m.group(3))
    lasts = sorted(c["t_last"] for c in conns if c["t_last"])
    firsts = lasts[0] if lasts else res["t0"]
    helper_delay = [exits[c["port"]] - c["t_last"] for c in conns
                    if c["t_last"] and c["port"] in exits]
    unpaired = sum(1 for c in conns if c["port"] not in exits)
    helper_late = [d for d in helper_delay if d > limit]
    peak_helpers = max((s[1] for s in sampler.samples), default=0)
    # the plateau: the samples with at least 95% of the most helpers seen
    plateau = [s for s in sampler.samples if s[1] >= 0.95 * peak_helpers and s[1] > 0]
    plateau_kb = statistics.median([s[2] for s in plateau]) if plateau else None
    plateau_per = statistics.median([s[2] / s[1] for s in plateau]) if plateau else None
    plateau_n = statistics.median([s[1] for s in plateau]) if plateau else None
    peak = sampler.peak()
    ok = (len(got_421) == a.idle_sessions and not early and
          not [d for d in d421 if d > limit] and not helper_late and not unpaired and
          statuses.get("exit 111", 0) == a.idle_sessions and len(statuses) == 1)

    print_header(a, "tlswrapper-smtp idle flood", workers=1, kind="asyncio")
    print(f"  {a.idle_sessions} connections: greeting, EHLO in plaintext, then nothing; helper "
          f"{a.helper} {' '.join(helper_opts)} (jailed), tcpserver -c {a.idle_sessions + 100}")
    print(f"  between tlswrapper and the helper: {a.status_shim} (records each helper's exit "
          f"status and time)")
    print(f"  ramp: the client's last bytes spread over {lasts[-1] - firsts:.2f} s"
          if lasts else "  ramp: no connection got as far as EHLO")
    print(f"  helpers alive at once, at most: {peak_helpers}")
    if plateau_kb is not None:
        print(f"  helpers' Private_Dirty at the plateau: {plateau_kb / KIB:.1f} MiB in all for "
              f"{plateau_n:.0f} helpers, {plateau_per:.0f} KiB per session (medians of the "
              f"{len(plateau)} samples, every {a.sample_interval / 4:g} s, with at least 95% "
              f"of the most helpers)")
        print(f"  at the peak: {peak[0] / KIB:.1f} MiB for {peak[1]} helpers")
    print(f"  largest single helper: {sampler.max_one()} KiB")
    print(f"  got exactly '421 4.4.2 Timeout, closing connection' then the close: "
          f"{len(got_421)} of {a.idle_sessions}")
    for k, n in errors.most_common():
        print(f"    error {n:5}  {k}")
    for k, n in other.most_common(5):
        print(f"    other {n:5}  {k!r}")
    def span(xs):
        return (f"min {min(xs):.2f} s, median {statistics.median(xs):.2f} s, max {max(xs):.2f} s"
                if xs else "none")
    print(f"  after the client's last byte (timed just before the EHLO was sent; limit {T} .. "
          f"{limit} s):")
    print(f"    the helper exited:     {span(helper_delay)}; later than {limit} s: "
          f"{len(helper_late)} (its exit time from status_shim, matched by the client's port"
          + (f"; {unpaired} connections without a record" if unpaired else "") + ")")
    print(f"    the 421 reached the client: {span(d421)}; later than {limit} s: "
          f"{sum(1 for d in d421 if d > limit)}, earlier than {T} s: {len(early)}")
    print(f"    the close reached the client: {span(delays)}; later than {limit} s: {len(late)} "
          f"(after the helper: tlswrapper's own exit and the client's loop, {a.idle_sessions} closes "
          "within seconds)")
    print(f"  helper exit statuses: " + ", ".join(f"{k}: {n}" for k, n in statuses.most_common())
          + f" (of {a.idle_sessions})")
    print(f"  client CPU: {res['cpu']:.1f} s")
    print(f"  the pipeline's log lines ({pipe.log_lines}), by kind:")
    for k, n in pipe.log_kinds.most_common(8):
        print(f"    {n:7}  {pipe.log_examples[k][:200]}")
    print()
    print("idle flood: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


# ---------------------------------------------------------------------------

def debian_helper(arg):
    """(path or None, note). Debian's helper is tlswrapper itself called as
    tlswrapper-smtp (a symlink): a file there that is not such a link is
    some other helper (ours, installed by a package) and is not taken."""
    if arg == "none":
        return None, "Debian's helper not run (--debian none)"
    if arg != "auto":
        return (arg, None) if os.path.exists(arg) else (None, f"{arg} does not exist")
    for p in ("/usr/bin/tlswrapper-smtp.distrib", "/usr/bin/tlswrapper-smtp"):
        if os.path.exists(p):
            if os.path.basename(os.path.realpath(p)) == "tlswrapper":
                return p, None
            return None, (f"{p} is not Debian's helper (not a link to tlswrapper): "
                          "its column is missing")
    return None, "Debian's helper not installed: its column is missing"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--helper", required=True, help="our tlswrapper-smtp (build/tlswrapper-smtp)")
    ap.add_argument("--sink", required=True, help="build/bench/sink")
    ap.add_argument("--crc-lib", required=True, help="build/bench/libbench_crc32c.so")
    ap.add_argument("--status-shim", help="build/bench/status_shim (idle flood)")
    ap.add_argument("--debian", default="auto",
                    help="Debian's helper: auto (/usr/bin/tlswrapper-smtp.distrib, else "
                    "/usr/bin/tlswrapper-smtp), a path, or none")
    ap.add_argument("--only", choices=["ours", "debian"], help="run one helper only")
    ap.add_argument("-c", "--concurrency", type=int, default=200)
    ap.add_argument("-d", "--duration", type=float, default=300.0, help="seconds (soak)")
    ap.add_argument("-m", "--messages", type=int, help="stop after M messages (in all)")
    ap.add_argument("--bdat-share", type=float, default=0.25)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="client processes (each with a thread per session)")
    ap.add_argument("--io-timeout", type=float, default=60.0,
                    help="the client's limit on any one wait, seconds")
    ap.add_argument("--debian-bdat-sessions", type=int, default=10)
    ap.add_argument("--debian-bdat-timeout", type=float, default=20.0)
    ap.add_argument("--helper-opt", dest="helper_opts", action="append", default=[],
                    help="an option for both helpers (repeat)")
    ap.add_argument("--sample-interval", type=float, default=1.0)
    ap.add_argument("--seed", default="soak")
    ap.add_argument("--nice", type=int, default=5)
    ap.add_argument("--perf", action=argparse.BooleanOptionalAction, default=True,
                    help="perf record -a during each run, for CPU by command (when perf exists)")
    ap.add_argument("--dump", help="write every session (start, seconds, ok, plan) here")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (records, cert)")
    ap.add_argument("--smoke", action="store_true",
                    help="a few sessions for a few seconds; checks correctness only (ctest)")
    ap.add_argument("--idle-flood", action="store_true")
    ap.add_argument("--idle-sessions", type=int, default=1000)
    ap.add_argument("--idle-T", type=int, default=5)
    a = ap.parse_args()
    if os.geteuid() != 0:
        die("run as root: the helpers jail themselves and tlswrapper loads its key as root")
    for c in ("tcpserver", "tlswrapper", "openssl"):
        if not shutil.which(c, path="/usr/sbin:/usr/bin:/sbin:/bin"):
            die(f"{c} not found (scripts/deps.sh installs ucspi-tcp, tlswrapper, openssl)")
    for name in ("helper", "sink", "crc_lib", "status_shim"):
        v = getattr(a, name)
        if v:
            setattr(a, name, os.path.abspath(v))
            if not os.path.exists(getattr(a, name)):
                die(f"{v} does not exist")
    # the jail directory, as `cmake --install` makes it
    if not os.path.isdir("/var/lib/tlswrapper/empty"):
        os.makedirs("/var/lib/tlswrapper/empty", mode=0o755)
    if a.smoke:
        a.concurrency, a.duration, a.workers = 4, 3.0, 1
        a.debian_bdat_sessions, a.debian_bdat_timeout = 1, 3.0
        a.idle_sessions = min(a.idle_sessions, 20)
        a.perf = False
    if a.nice:
        os.nice(a.nice)
    need = 2 * max(a.concurrency, a.idle_sessions if a.idle_flood else 0) + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(need, soft), hard) if hard !=
                                                     resource.RLIM_INFINITY else need, hard))
    tmp = tempfile.mkdtemp(prefix="tws-soak.")
    os.chmod(tmp, 0o755)
    try:
        cert, cafile = make_cert(tmp)
        if a.idle_flood:
            if not a.status_shim:
                die("--idle-flood needs --status-shim")
            return idle_flood(a, tmp, cert)
        deb, deb_note = debian_helper(a.debian)
        runs = []
        probe = None
        if a.only != "debian":
            print(f"ours: C={a.concurrency}, {a.duration:g} s ...", file=sys.stderr, flush=True)
            runs.append(Run(a, "ours", a.helper, tmp, cert, cafile).go())
        if deb and a.only != "ours":
            print(f"debian: C={a.concurrency}, {a.duration:g} s, DATA only ...", file=sys.stderr,
                  flush=True)
            runs.append(Run(a, "debian", deb, tmp, cert, cafile, only="data").go())
            if a.bdat_share > 0 and a.debian_bdat_sessions > 0:
                print("debian: BDAT apart ...", file=sys.stderr, flush=True)
                probe = bdat_probe(a, deb, tmp, cert, cafile, a.debian_bdat_sessions,
                                   a.debian_bdat_timeout)
        if a.dump:
            with open(a.dump, "w") as f:
                for r in runs:
                    for x in r.sessions:
                        f.write(f"{r.label} {x[0] - r.t0:.3f} {x[1] - x[0]:.3f} {int(x[2])} "
                                f"{x[4]} {x[5]!r} {x[3]!r}\n")
            with open(a.dump + ".msgs", "w") as f:
                for r in runs:
                    for m in r.msgs:
                        t = "-" if m[6] is None else f"{m[6] - r.t0:.3f}"
                        f.write(f"{r.label} {m[0]} {m[1]} {m[2]} {m[3]:08x} sent={int(m[4])} "
                                f"accepted={int(m[5])} t={t}\n")
            with open(a.dump + ".log", "w") as f:
                for r in runs:
                    for t, line in r.pipe.lines:
                        f.write(f"{r.label} {t - r.t0:.3f} {line}\n")
        print_header(a, "tlswrapper-smtp soak" + (" (smoke: correctness only)" if a.smoke else ""))
        print_workload(a)
        if deb_note:
            print(f"  note: {deb_note}")
        print_run_table(runs)
        if probe:
            print_probe(probe)
        bad = [r.label for r in runs if not r.correct()]
        if a.smoke:
            ours = [r for r in runs if r.label == "ours"]
            bad += [f"{r.label}: {sum(r.failures.values())} failure(s)" for r in ours
                    if r.failures or r.accepted != r.sent or r.sent == 0]
            bad += [f"{r.label}: no message went through" for r in runs if r.accepted == 0]
        print()
        if bad:
            print("FAILED: " + "; ".join(bad))
            return 1
        print("every accepted message was stored once, with the right CRC "
              "(lost 0, duplicated 0, corrupted 0)")
        return 0
    finally:
        if a.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
