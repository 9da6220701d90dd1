#!/usr/bin/env python3
"""A UCSPI-TLS server for the tests: it plays s6-networking's
`s6-tcpserver ... s6-ucspitlsd ... prog` or ucspi-ssl's `sslserver -n ...
prog` in front of any program, on a 127.0.0.1 port, and writes one JSON
line per connection saying what happened.  Python 3 standard library only.

    ucspi_tls_server.py --flavour s6|s6-new|sslserver
        [--port P] [--port-file F] --cert CERT.pem [--key KEY.pem]
        [--close-notify] [--env-tcp] [--log FILE] [options] -- prog args...

The behaviours reproduced (the shared notes on the peers, PEERS.md,
section "UCSPI-TLS") are described in tests/ucspi/README.md; the comments
below name the ones each piece of code is for.

Process tree: the listener forks one handler per connection (the TLS
server of that connection); the handler forks and execs the program, so
the handler can wait for it and record its exit status.  Every wait has a
deadline; a per-connection alarm and a whole-server --max-time are the hard
watchdogs.  On SIGTERM the listener stops, terminates its handlers, which
terminate their programs (TERM, then KILL).
"""

import argparse
import fcntl
import hashlib
import json
import os
import select
import signal
import socket
import ssl
import sys
import time
import traceback

PROG = "ucspi_tls_server"

# Descriptor numbers seen by the program: control socket, read pipe, write
# pipe, and the descriptors holding the TCP socket.
FLAVOURS = {
    # s6-networking 2.5.1.3: s6-tcpserver ... s6-ucspitlsd ... prog
    "s6": {"ctl": 3, "read": 7, "write": 6, "sock": (0, 1)},
    # later s6-networking releases
    "s6-new": {"ctl": 7, "read": 4, "write": 5, "sock": (0, 1)},
    # ucspi-ssl 0.95b: sslserver -n; fd 4 is one more copy of the socket
    "sslserver": {"ctl": 9, "read": 3, "write": 7, "sock": (0, 1, 4)},
}

# Variables that describe a connection or configure a TLS server: the
# program's environment never inherits them from ours; each flavour sets
# its own.  (s6-ucspitlsd removes CERTFILE, KEYFILE and the like itself.)
SCRUB_PREFIXES = ("TCP", "SSL", "CERTFILE", "KEYFILE")
SCRUB_NAMES = ("PROTO", "CADIR", "CAFILE", "TLS_UID", "TLS_GID")

QUEUE_LIMIT = 256 * 1024     # bytes buffered per direction before we stop reading

# The TLS library behind each flavour.  s6-networking is built with one of
# two (./configure --enable-ssl=libtls|bearssl); sslserver uses OpenSSL.
# They differ in how they treat the socket's O_NONBLOCK, a flag of the open
# file description that the program's fd 0/1 share with the server:
#   libtls  (s6-tlsd-io, stls_*): the handshake runs on the socket as it
#           finds it (tls_handshake() once, no poll); on a non-blocking
#           socket it returns "want read" and s6-tlsd-io dies ("unable to
#           tls_handshake:" with an empty reason).  ndelay_on after it.
#   bearssl (sbearssl_run): ndelay_on at the command, then its own poll
#           loop runs the handshake; TLS 1.2 at most.
#   openssl (sslserver): ndelay_on at the command, then SSL_accept in a
#           poll loop (ssl_timeoutaccept).
BACKENDS = {"s6": ("libtls", "bearssl"), "s6-new": ("libtls", "bearssl"),
            "sslserver": ("openssl",)}

# File status flags a program could change on the shared socket (F_SETFL).
STATUS_FLAGS = [(getattr(os, n), n) for n in
                ("O_NONBLOCK", "O_APPEND", "O_ASYNC", "O_DIRECT", "O_NOATIME")
                if hasattr(os, n)]


def flag_names(flags):
    return [n for bit, n in STATUS_FLAGS if flags & bit]


class WouldBlock(Exception):
    """libtls's handshake found the shared socket non-blocking."""


class Abort(Exception):
    """Raised from a signal handler: end the connection now."""


def now():
    return time.monotonic()


def warn(msg):
    try:
        os.write(2, ("%s[%d]: %s\n" % (PROG, os.getpid(), msg)).encode("utf-8", "replace"))
    except OSError:
        pass


# ---- certificate facts for sslserver's answer ------------------------------

OID_NAMES = {
    "1.2.840.10045.2.1": "id-ecPublicKey",
    "1.2.840.113549.1.1.1": "rsaEncryption",
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.10": "rsassaPss",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.3.101.112": "ED25519",
    "1.3.101.113": "ED448",
}

DN_SHORT = {
    "countryName": "C", "stateOrProvinceName": "ST", "localityName": "L",
    "organizationName": "O", "organizationalUnitName": "OU", "commonName": "CN",
    "title": "title", "initials": "initials", "givenName": "GN", "surname": "SN",
    "description": "description", "emailAddress": "emailAddress",
}
# sslserver's SSL_SERVER_S_DN_xx suffixes, in its order
DN_ENV = [("countryName", "C"), ("stateOrProvinceName", "ST"), ("localityName", "L"),
          ("organizationName", "O"), ("organizationalUnitName", "OU"),
          ("commonName", "CN"), ("title", "T"), ("initials", "I"), ("givenName", "G"),
          ("surname", "S"), ("description", "D"), ("emailAddress", "Email")]


def _der_tlv(der, pos):
    tag = der[pos]
    n = der[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(der[pos:pos + k], "big")
        pos += k
    return tag, pos, pos + n


def _der_children(der, start, end):
    out = []
    while start < end:
        tag, s, e = _der_tlv(der, start)
        out.append((tag, s, e))
        start = e
    return out


def _oid(der, s, e):
    b = der[s:e]
    parts = [b[0] // 40, b[0] % 40]
    v = 0
    for c in b[1:]:
        v = (v << 7) | (c & 0x7F)
        if not c & 0x80:
            parts.append(v)
            v = 0
    return ".".join(map(str, parts))


def _alg_name(der, seq):
    tag, s, e = seq
    oid_tag, os_, oe = _der_children(der, s, e)[0]
    oid = _oid(der, os_, oe)
    return OID_NAMES.get(oid, oid)


class CertFacts:
    """What sslserver reports about its own certificate (mod_ssl names)."""

    def __init__(self, path):
        with open(path, "r", encoding="ascii", errors="replace") as f:
            text = f.read()
        begin = text.find("-----BEGIN CERTIFICATE-----")
        end = text.find("-----END CERTIFICATE-----", begin)
        if begin < 0 or end < 0:
            raise ValueError("no certificate in %s" % path)
        block = text[begin:end + len("-----END CERTIFICATE-----")] + "\n"
        self.der = ssl.PEM_cert_to_DER_cert(block)
        self.pem = ssl.DER_cert_to_PEM_cert(self.der)
        try:
            dec = ssl._ssl._test_decode_cert(path)   # the first certificate in the file
        except Exception:                            # pylint: disable=broad-except
            dec = {}
        self.version = str(dec.get("version", 3))
        serial = dec.get("serialNumber")
        self.serial = str(int(serial, 16)) if serial else "0"
        self.subject = dec.get("subject", ())
        self.issuer = dec.get("issuer", ())
        self.not_before = dec.get("notBefore", "")
        self.not_after = dec.get("notAfter", "")
        try:
            top = _der_children(self.der, *_der_tlv(self.der, 0)[1:])
            tbs = _der_children(self.der, top[0][1], top[0][2])
            i = 1 if tbs[0][0] == 0xA0 else 0        # [0] version present?
            self.sig_alg = _alg_name(self.der, top[1])
            spki = tbs[i + 5]
            self.key_alg = _alg_name(self.der, _der_children(self.der, spki[1], spki[2])[0])
        except Exception:                            # pylint: disable=broad-except
            self.sig_alg = self.key_alg = "UNKNOWN"

    @staticmethod
    def oneline(name):
        return "".join("/%s=%s" % (DN_SHORT.get(k, k), v) for rdn in name for k, v in rdn)

    @staticmethod
    def parts(name, prefix):
        out = []
        for long_name, suffix in DN_ENV:
            for rdn in name:
                for k, v in rdn:
                    if k == long_name:
                        out.append((prefix + suffix, v))
        return out


# ---- the answer to `Y` ---------------------------------------------------------

def encode_entries(entries):
    """NAME=value NUL ... NUL; value None: the entry `NAME` alone (unset)."""
    out = b""
    for name, value in entries:
        out += name.encode() + (b"" if value is None else b"=" + value.encode("utf-8", "replace")) + b"\0"
    return out + b"\0"


def answer_entries(opts, tls, sni, sockfd, cert):
    proto = tls.version() or ""
    cipher = tls.cipher() or ("", "", 0)
    if opts.flavour.startswith("s6"):
        # s6-ucspitlsd: five entries, the peer-certificate ones unset (no
        # client certificate is asked for); the SNI one unset without SNI.
        entries = [("SSL_PROTOCOL", proto), ("SSL_CIPHER", cipher[0]),
                   ("SSL_TLS_SNI_SERVERNAME", sni), ("SSL_PEER_CERT_HASH", None),
                   ("SSL_PEER_CERT_SUBJECT", None)]
    else:
        # sslserver: ucspi-ssl's ssl_server_env(): session, then the
        # server certificate (PEM, with newlines), mod_ssl names.
        sess = None
        try:
            sess = tls.session
        except Exception:                            # pylint: disable=broad-except
            pass
        sid = sess.id.hex() if sess is not None and sess.id else os.urandom(32).hex()
        entries = [("SSL_PROTOCOL", proto),
                   ("SSL_VERIFY_STRING", "FAIL"), ("SSL_VERIFY_STATUS", "NOCERT"),
                   ("SSL_SESSION_ID", sid),
                   ("SSL_CIPHER", cipher[0]),
                   ("SSL_CIPHER_EXPORT", "true" if (cipher[2] or 0) < 56 else "false"),
                   ("SSL_CIPHER_USEKEYSIZE", str(cipher[2] or 0)),
                   ("SSL_CIPHER_ALGKEYSIZE", str(cipher[2] or 0)),
                   ("SSL_RFD", str(sockfd)), ("SSL_WFD", str(sockfd)),
                   ("SSL_VERSION_INTERFACE", "ucspi-ssl"),
                   ("SSL_VERSION_LIBRARY", ssl.OPENSSL_VERSION),
                   ("SSL_SERVER_M_VERSION", cert.version),
                   ("SSL_SERVER_M_SERIAL", cert.serial),
                   ("SSL_SERVER_S_DN", cert.oneline(cert.subject))]
        entries += cert.parts(cert.subject, "SSL_SERVER_S_DN_")
        entries += [("SSL_SERVER_I_DN", cert.oneline(cert.issuer))]
        entries += cert.parts(cert.issuer, "SSL_SERVER_I_DN_")
        entries += [("SSL_SERVER_A_SIG", cert.sig_alg), ("SSL_SERVER_A_KEY", cert.key_alg),
                    ("SSL_SERVER_DIGEST_SHA1", hashlib.sha1(cert.der).hexdigest()),
                    ("SSL_SERVER_DIGEST_SHA256", hashlib.sha256(cert.der).hexdigest()),
                    ("SSL_SERVER_V_START", cert.not_before),
                    ("SSL_SERVER_V_END", cert.not_after),
                    ("SSL_SERVER_CERT", cert.pem)]
    for extra in opts.answer_extra:
        name, eq, value = extra.partition("=")
        entries.append((name, value if eq else None))
    if opts.answer_pad:
        entries.append(("SSL_TEST_PAD", "x" * opts.answer_pad))
    return entries


# ---- one connection ----------------------------------------------------------------

class Connection:
    def __init__(self, opts, ctx, cert, conn, num):
        self.opts = opts
        self.ctx = ctx
        self.cert = cert
        self.conn = conn
        self.fl = dict(FLAVOURS[opts.flavour])
        if opts.fds:
            c, r, w = (int(x) for x in opts.fds.split(","))
            self.fl.update(ctl=c, read=r, write=w)
        self.t0 = now()
        self.deadline = self.t0 + opts.conn_timeout
        self.pid = None
        self.pidfd = None
        self.status = None          # raw wait status once reaped
        self.ctl = None             # our end of the control socket
        self.rp_w = None            # we write decrypted client bytes here (program's SSLREADFD)
        self.wp_r = None            # we read the program's cleartext here (its SSLWRITEFD)
        self.tls = None
        self.inc = self.out = None
        self.to_sock = bytearray()
        self.sock_reset = False
        self.sni = None
        # The socket's status flags as the server itself last left them:
        # anything else found there was changed by the program.
        self.sock_flags = fcntl.fcntl(conn.fileno(), fcntl.F_GETFL)
        # A copy of the socket (the same open file description) to read the
        # flags through until the program is reaped, even once the TLS
        # engine is done with the connection: the program holds it open
        # until then anyway.
        self.flags_fd = os.dup(conn.fileno())
        self.rec = {
            "conn": num, "flavour": opts.flavour, "peer_pid": os.getpid(),
            "fds": {"ctl": self.fl["ctl"], "read": self.fl["read"], "write": self.fl["write"],
                    "sock": list(self.fl["sock"])},
            "close_notify_option": bool(opts.close_notify), "env_tcp": bool(opts.env_tcp),
            "backend": opts.backend,
            "sock_nonblock_at_command": None, "sock_nonblock_at_exit": None,
            "sock_flags_changed": [],
            "command": None, "ctl": None, "handshake": None, "handshake_error": None,
            "protocol": None, "cipher": None, "sni": None,
            "answer_bytes": 0, "answer_names": [], "answer_unset": [],
            "ctl_after_answer": None,
            "client_to_prog_bytes": 0, "prog_to_client_bytes": 0, "client_bytes_dropped": 0,
            "client_end": None, "prog_end": None, "tls_end": None, "shutdown": None,
            "sigterm": [], "killed": None, "aborted": None,
            "exit_code": None, "exit_signal": None, "events": [],
        }

    # -- bookkeeping --
    def ev(self, what):
        self.rec["events"].append("%.3f %s" % (now() - self.t0, what))
        if self.opts.verbose:
            warn("conn %d: %s" % (self.rec["conn"], what))

    def check_sock_flags(self, when):
        """Compares the shared socket's status flags with what the server
        set; a difference is the program's doing.  Returns O_NONBLOCK
        (None once the program is reaped)."""
        if self.flags_fd is None:
            return None
        try:
            found = fcntl.fcntl(self.flags_fd, fcntl.F_GETFL)
        except OSError:
            return None
        mask = 0
        for bit, _ in STATUS_FLAGS:
            mask |= bit
        if (found ^ self.sock_flags) & mask:
            added = flag_names(found & ~self.sock_flags)
            removed = flag_names(self.sock_flags & ~found)
            what = "%s: %s" % (when, ", ".join(["+" + n for n in added] + ["-" + n for n in removed]))
            self.rec["sock_flags_changed"].append(what)
            self.ev("the program changed the shared socket's flags (%s)" % what)
        return bool(found & os.O_NONBLOCK)

    def server_ndelay_on(self, why):
        """The server's own ndelay_on(socket): fcntl(F_GETFL) | O_NONBLOCK."""
        fd = self.conn.fileno()
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        self.sock_flags |= os.O_NONBLOCK
        self.ev("server: O_NONBLOCK on the socket (%s)" % why)

    def left(self, deadline=None):
        d = self.deadline if deadline is None else min(deadline, self.deadline)
        return max(0.0, d - now())

    @staticmethod
    def close_fd(fd):
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    # -- the program --
    def spawn(self):
        fl = self.fl
        ctl_srv, ctl_prog = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        rp_r, rp_w = os.pipe()
        wp_r, wp_w = os.pipe()
        sockfd = self.conn.fileno()
        mapping = {t: sockfd for t in fl["sock"]}
        mapping.update({fl["ctl"]: ctl_prog.fileno(), fl["read"]: rp_r, fl["write"]: wp_w})
        if len(mapping) != len(fl["sock"]) + 3:
            raise ValueError("descriptor numbers collide: %r" % fl)
        env = self.program_env()
        pid = os.fork()
        if pid == 0:                                  # the program
            try:
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM,
                            signal.SIGCHLD, signal.SIGPIPE, signal.SIGXFSZ, signal.SIGQUIT):
                    signal.signal(sig, signal.SIG_DFL)
                signal.alarm(0)
                signal.pthread_sigmask(signal.SIG_SETMASK, [])
                # Targets collide with sources: copy every source above all
                # targets first, then place the copies, then close the rest.
                high = {}
                for src in set(mapping.values()):
                    high[src] = fcntl.fcntl(src, fcntl.F_DUPFD_CLOEXEC, 100)
                for target, src in mapping.items():
                    os.dup2(high[src], target, inheritable=True)
                keep = sorted(set(mapping) | {2})
                lo = 3
                for k in keep:
                    if k >= lo:
                        os.closerange(lo, k)
                        lo = k + 1
                os.closerange(lo, 1 << 20)
                os.execvpe(self.opts.prog[0], self.opts.prog, env)
            except BaseException as e:                # pylint: disable=broad-except
                try:
                    os.write(2, ("%s: cannot run %s: %s\n" % (PROG, self.opts.prog[0], e)).encode())
                finally:
                    os._exit(127)
        self.pid = pid
        self.rec["program_pid"] = pid
        ctl_prog.close()
        os.close(rp_r)
        os.close(wp_w)
        self.ctl = ctl_srv
        self.rp_w = rp_w
        self.wp_r = wp_r
        try:
            self.pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self.pidfd = None
        self.ev("program %d started: %s" % (pid, " ".join(self.opts.prog)))

    def program_env(self):
        o, fl = self.opts, self.fl
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(SCRUB_PREFIXES) and k not in SCRUB_NAMES}
        lip, lport = self.conn.getsockname()[:2]
        rip, rport = self.conn.getpeername()[:2]
        tcp = {"TCPLOCALIP": lip, "TCPLOCALPORT": str(lport),
               "TCPREMOTEIP": rip, "TCPREMOTEPORT": str(rport)}
        if o.flavour.startswith("s6"):
            env["PROTO"] = "TCP"
            env.update(tcp)
        else:
            env["PROTO"] = "SSL"
            env.update({"SSLLOCALIP": lip, "SSLLOCALPORT": str(lport),
                        "SSLREMOTEIP": rip, "SSLREMOTEPORT": str(rport)})
            if o.env_tcp:
                env["PROTO"] = "TCP"          # sslserver -e sets PROTO=TCP (IPv4)
                env.update(tcp)
            env["CERTFILE"] = os.path.abspath(o.cert)
            env["KEYFILE"] = os.path.abspath(o.key or o.cert)
        env["SSLCTLFD"] = str(fl["ctl"])
        env["SSLREADFD"] = str(fl["read"])
        env["SSLWRITEFD"] = str(fl["write"])
        for kv in o.setenv:
            k, _, v = kv.partition("=")
            env[k] = v
        for k in o.unsetenv:
            env.pop(k, None)
        return env

    def reap(self, block_for=0.0):
        """Reap the program if it has exited (waiting up to block_for s)."""
        if self.status is not None:
            return True
        end = now() + block_for
        while True:
            try:
                pid, st = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                pid, st = self.pid, 0
            if pid == self.pid:
                self.status = st
                # What the program left on the socket the server goes on using.
                self.rec["sock_nonblock_at_exit"] = self.check_sock_flags("exit")
                self.close_fd(self.flags_fd)
                self.flags_fd = None
                if os.WIFEXITED(st):
                    self.rec["exit_code"] = os.WEXITSTATUS(st)
                    self.ev("program exited %d" % self.rec["exit_code"])
                elif os.WIFSIGNALED(st):
                    self.rec["exit_signal"] = os.WTERMSIG(st)
                    self.ev("program killed by signal %d" % self.rec["exit_signal"])
                if self.pidfd is not None:
                    self.close_fd(self.pidfd)
                    self.pidfd = None
                return True
            t = end - now()
            if t <= 0:
                return False
            if self.pidfd is not None:
                select.select([self.pidfd], [], [], min(t, 1.0))
            else:
                time.sleep(min(t, 0.02))

    def signal_program(self, sig, reason):
        """Signal the program, never a reaped (maybe reused) pid.  For
        SIGTERM the program gets a short grace first when it is already
        on its way out, so that the record says whether it was running."""
        if self.reap(self.opts.term_grace if sig == signal.SIGTERM else 0.0):
            self.ev("%s (%s): program already exited" % (signal.Signals(sig).name, reason))
            return False
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            return False
        self.ev("sent %s to the program (%s)" % (signal.Signals(sig).name, reason))
        if sig == signal.SIGTERM:
            self.rec["sigterm"].append(reason)
        return True

    def stop_program(self, reason, grace=1.0):
        if self.reap(0):
            return
        self.rec["killed"] = reason
        self.signal_program(signal.SIGTERM, reason)
        if not self.reap(grace):
            try:
                os.kill(self.pid, signal.SIGKILL)
                self.ev("sent SIGKILL to the program (%s)" % reason)
            except ProcessLookupError:
                pass
            self.reap(2.0)

    # -- the control socket --
    def wait_command(self):
        """The first byte on the control socket, or None at EOF."""
        while True:
            r, _, _ = select.select([self.ctl], [], [], self.left())
            if not r:
                raise Abort("conn-timeout")
            try:
                b = self.ctl.recv(1)
            except (ConnectionResetError, OSError) as e:
                self.ev("control socket error: %s" % e)
                return None
            return b if b else None

    def close_ctl(self, why):
        if self.ctl is not None:
            self.ctl.close()
            self.ctl = None
            self.ev("control socket closed (%s)" % why)

    def send_answer(self, data):
        self.ctl.settimeout(max(0.1, min(5.0, self.left())))
        try:
            self.ctl.sendall(data)
            return True
        except OSError as e:
            self.ev("writing the answer failed: %s" % e)
            return False
        finally:
            try:
                self.ctl.settimeout(None)
            except OSError:
                pass

    # -- TLS plumbing (memory BIOs; every socket call is MSG_DONTWAIT, so
    # the model works whatever the socket's O_NONBLOCK, which it sets and
    # reads only to play the real servers) --
    def pump_out(self):
        data = self.out.read()
        if data:
            self.to_sock += data

    def flush_sock(self, deadline):
        while self.to_sock:
            _, w, _ = select.select([], [self.conn], [], self.left(deadline))
            if not w:
                raise TimeoutError("socket not writable")
            try:
                n = self.conn.send(self.to_sock, socket.MSG_DONTWAIT)
            except BlockingIOError:
                continue
            del self.to_sock[:n]

    def sock_recv(self):
        """Bytes from the socket into the TLS engine; False at EOF/reset."""
        try:
            data = self.conn.recv(65536, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return True
        except (ConnectionResetError, OSError) as e:
            self.ev("socket read error: %s" % e)
            self.sock_reset = True
            self.inc.write_eof()
            return False
        if not data:
            self.inc.write_eof()
            return False
        self.inc.write(data)
        return True

    def handshake(self):
        opts = self.opts
        conn_ctx = self.ctx

        def sni_cb(_obj, name, _ctx):
            self.sni = name
        conn_ctx.sni_callback = sni_cb
        self.inc = ssl.MemoryBIO()
        self.out = ssl.MemoryBIO()
        libtls = opts.backend == "libtls"
        if not libtls:
            # BearSSL's s6-tlsd-io and sslserver put the socket in
            # non-blocking mode before the handshake (ndelay_on); the flag
            # belongs to the open file, so the program's fd 0 and 1 are
            # non-blocking from now on too.
            self.server_ndelay_on("before the handshake")
        self.tls = conn_ctx.wrap_bio(self.inc, self.out, server_side=True)
        deadline = now() + opts.handshake_timeout
        eof = False
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.pump_out()
                wrote = bool(self.to_sock)
                self.flush_sock(deadline)
                if eof:
                    raise ssl.SSLEOFError("client closed during the handshake")
                if libtls and fcntl.fcntl(self.conn.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK \
                        and (wrote or not self.sock_readable_now()):
                    # libtls reads the socket as it is: non-blocking (the
                    # program set it: the flag is shared) and nothing there
                    # yet, tls_handshake() says "want read", which
                    # s6-tlsd-io takes for a fatal error.  Right after its
                    # own flight nothing can be there (the client's answer
                    # is a round trip away; C reads at once, this model is
                    # slower), so that read fails always.
                    raise WouldBlock("tls_handshake: want read (the shared socket is non-blocking)")
                r, _, _ = select.select([self.conn], [], [], self.left(deadline))
                if not r:
                    raise TimeoutError("handshake not finished within %g s" % opts.handshake_timeout)
                eof = not self.sock_recv()
            except ssl.SSLError:
                self.pump_out()           # the alert, if any
                try:
                    self.flush_sock(now() + 1.0)
                except (OSError, TimeoutError):
                    pass
                raise
        self.pump_out()
        self.flush_sock(deadline + 5.0)
        if libtls:
            self.server_ndelay_on("after the handshake, stls_run")

    def sock_readable_now(self):
        r, _, _ = select.select([self.conn], [], [], 0)
        return bool(r)

    # -- the whole connection --
    def run(self):
        try:
            self.spawn()
            self.serve()
        except Abort as e:
            self.rec["aborted"] = str(e)
            self.ev("aborted: %s" % e)
        except Exception as e:                        # pylint: disable=broad-except
            self.rec["aborted"] = "error"
            self.rec["error"] = "%s: %s" % (type(e).__name__, e)
            self.ev("internal error: %s" % traceback.format_exc(limit=4).replace("\n", " | "))
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(sig, signal.SIG_IGN)
            signal.alarm(0)
            self.finish()

    def serve(self):
        o = self.opts
        s6 = o.flavour.startswith("s6")
        cmd = self.wait_command()
        if cmd is None:
            # Declined: no command before EOF on the control socket.
            self.rec["ctl"] = "eof-before-command"
            self.rec["tls_end"] = "no-tls"
            self.ev("control socket EOF without a command")
            self.close_ctl("EOF before a command")
            self.close_pipes()
            if s6:
                # s6: "no TLS"; the program goes on in plaintext.
                self.wait_program()
            else:
                # sslserver: SIGTERM as soon as the control socket closes.
                self.signal_program(signal.SIGTERM, "ctl-eof-before-command")
                self.wait_program()
            return
        c = cmd.decode("latin-1")
        self.rec["command"] = c
        self.ev("command %r" % c)
        if c not in ("Y", "y"):
            # Neither server knows other commands: s6-ucspitlsd's TLS
            # engine dies (exit 100); sslserver treats it as no TLS.
            self.rec["tls_end"] = "bad-command"
            self.close_ctl("unknown command")
            self.close_pipes()
            if not s6:
                self.signal_program(signal.SIGTERM, "bad-command")
            self.wait_program()
            return
        if s6 and c == "y":
            self.close_ctl("'y': nothing will be sent")   # s6-ucspitlsd closes it at once
        elif s6:
            try:
                self.ctl.shutdown(socket.SHUT_RD)          # s6-ucspitlsd: fd_shutdown(ctl, 0)
            except OSError:
                pass
        # The handshake, on the socket itself.  What did the program leave
        # on the socket we share?  (libtls fails on O_NONBLOCK.)
        self.rec["sock_nonblock_at_command"] = self.check_sock_flags("command")
        try:
            self.handshake()
        except (ssl.SSLError, OSError, TimeoutError, WouldBlock) as e:
            self.rec["handshake"] = "failed"
            self.rec["handshake_error"] = "%s: %s" % (type(e).__name__, e)
            self.rec["tls_end"] = "handshake-failed"
            self.ev("handshake failed: %s" % e)
            if s6:
                # s6: the control socket closes with nothing written.
                self.close_ctl("handshake failed, nothing written")
                self.close_pipes()
                self.close_sock()
            else:
                # sslserver: SIGTERM to the program.
                self.signal_program(signal.SIGTERM, "handshake-failed")
                self.close_pipes()
                self.close_ctl("sslserver exits")
                self.close_sock()
            self.wait_program()
            return
        self.rec["handshake"] = "ok"
        self.rec["protocol"] = self.tls.version()
        self.rec["cipher"] = (self.tls.cipher() or ("",))[0]
        self.rec["sni"] = self.sni
        self.ev("handshake done: %s %s sni=%s" % (self.rec["protocol"], self.rec["cipher"], self.sni))
        if c == "Y":
            entries = answer_entries(o, self.tls, self.sni, self.conn.fileno(), self.cert)
            data = encode_entries(entries)
            self.rec["answer_names"] = [n for n, _ in entries]
            self.rec["answer_unset"] = [n for n, v in entries if v is None]
            if self.send_answer(data):
                self.rec["answer_bytes"] = len(data)
                self.ev("answer sent: %d bytes, %d entries" % (len(data), len(entries)))
            if s6:
                self.close_ctl("s6: after the answer")
                self.rec["ctl_after_answer"] = "closed"
            else:
                self.rec["ctl_after_answer"] = "open"     # sslserver keeps it open
        elif not s6:
            self.rec["ctl_after_answer"] = "open"
        else:
            self.rec["ctl_after_answer"] = "closed"
        if o.flavour == "s6" and c == "y" and not o.no_y_bug:
            # s6-networking up to 2.5.1.3: the TLS engine dies right
            # after the handshake on 'y'.  Its descriptors close; nothing
            # is sent (no close_notify, no shutdown).
            self.rec["tls_end"] = "engine-killed"
            self.rec["shutdown"] = "none"
            self.ev("s6 'y': TLS engine killed after the handshake")
            self.close_pipes()
            self.close_sock()
            self.wait_program()
            return
        self.relay()
        if not s6:
            # sslserver: SIGTERM again when its TLS session ends.
            self.signal_program(signal.SIGTERM, "tls-ended")
        self.close_ctl("connection done")
        self.wait_program()

    def close_pipes(self):
        self.close_fd(self.rp_w)
        self.close_fd(self.wp_r)
        self.rp_w = self.wp_r = None

    def close_sock(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
            self.conn = None

    def wait_program(self):
        if not self.reap(self.left()):
            raise Abort("conn-timeout")

    # -- after the handshake: relay both ways --
    def relay(self):
        """TLS socket -> read pipe, write pipe -> TLS socket, until each
        side is done.  The program closing SSLWRITEFD (or exiting) ends
        the TLS session the flavour's way:
          s6:        TCP half-close (shutdown SHUT_WR), no close_notify;
          s6 -S:     close_notify, then the half-close;
          sslserver: close_notify, then (client closed, or --linger
                     passed) a full shutdown (SHUT_RDWR).
        The client ending (close_notify or TCP EOF) closes the read pipe
        once its bytes are delivered: the program reads EOF."""
        o = self.opts
        s6 = o.flavour.startswith("s6")
        rec = self.rec
        c2p = bytearray()
        st = {"client_open": True, "prog_open": True, "ending": None,
              "shut": False, "done": False, "linger": None}
        os.set_blocking(self.rp_w, False)
        os.set_blocking(self.wp_r, False)

        def first_end(what):
            if rec["tls_end"] is None:
                rec["tls_end"] = what

        def client_ended(how):
            if st["client_open"]:
                st["client_open"] = False
                rec["client_end"] = how
                self.ev("client ended: %s" % how)
                if how in ("close_notify", "eof"):
                    first_end("client-closed")
                elif how.startswith("alert"):
                    first_end("client-alert")
                    st["done"] = True             # a fatal alert ends the session
                    c2p.clear()
                else:
                    first_end("client-error")
                    st["done"] = True             # both servers stop on a TLS error
                    c2p.clear()

        def decrypt():
            while st["client_open"]:
                try:
                    data = self.tls.read(65536)
                except ssl.SSLWantReadError:
                    break
                except ssl.SSLZeroReturnError:
                    client_ended("close_notify")
                    break
                except ssl.SSLEOFError:
                    # TCP EOF without close_notify
                    client_ended("reset" if self.sock_reset else "eof")
                    break
                except ssl.SSLError as e:
                    reason = e.reason or str(e)
                    if reason == "UNEXPECTED_EOF_WHILE_READING":
                        # (OpenSSL 3's name for a TCP EOF without close_notify)
                        client_ended("reset" if self.sock_reset else "eof")
                    elif "ALERT_" in reason:
                        # e.g. an OpenSSL client's decode_error after our bare EOF
                        client_ended("alert: %s" % reason.split("ALERT_", 1)[1].lower())
                    else:
                        client_ended("error: %s" % reason)
                    break
                if not data:
                    client_ended("close_notify")
                    break
                if self.rp_w is not None:
                    c2p.extend(data)
                else:
                    rec["client_bytes_dropped"] += len(data)
            self.pump_out()

        def end_tls():
            if s6 and not o.close_notify:
                st["ending"] = "half-close"
            else:
                self.send_close_notify()
                st["ending"] = "close_notify+half-close" if s6 else "close_notify+shutdown"
            self.ev("program done: ending TLS with %s" % st["ending"])
            if not s6 and st["client_open"]:
                st["linger"] = now() + o.linger

        decrypt()
        idle_deadline = now() + o.idle_timeout
        while True:
            if not st["client_open"] and not c2p and self.rp_w is not None:
                self.close_fd(self.rp_w)
                self.rp_w = None
                self.ev("read pipe closed: the program reads EOF")
            if s6 and st["ending"] and not st["shut"] and not self.to_sock:
                self.shutdown_sock(socket.SHUT_WR)
                st["shut"] = True
                rec["shutdown"] = st["ending"]
            if not s6 and not st["prog_open"] and not st["client_open"]:
                st["done"] = True
            if s6 and not st["client_open"] and not st["prog_open"] and st["shut"] \
                    and self.rp_w is None:
                break
            if st["done"]:
                break
            rl, wl = [], []
            if st["client_open"] and len(c2p) < QUEUE_LIMIT:
                rl.append(self.conn)
            if self.to_sock:
                wl.append(self.conn)
            if c2p and self.rp_w is not None:
                wl.append(self.rp_w)
            if st["prog_open"] and len(self.to_sock) < QUEUE_LIMIT:
                rl.append(self.wp_r)
            deadline = idle_deadline if st["linger"] is None else min(idle_deadline, st["linger"])
            r, w, _ = select.select(rl, wl, [], self.left(deadline))
            if not r and not w:
                if self.left() <= 0:
                    raise Abort("conn-timeout")
                if st["linger"] is not None and now() >= st["linger"]:
                    self.ev("client did not close within %g s of the close_notify" % o.linger)
                    st["client_open"] = False
                    rec["client_end"] = rec["client_end"] or "linger-timeout"
                    st["done"] = True
                    continue
                self.ev("relay idle for %g s" % o.idle_timeout)
                first_end("idle-timeout")
                rec["client_end"] = rec["client_end"] or "idle-timeout"
                st["client_open"] = False
                st["done"] = True
                continue
            idle_deadline = now() + o.idle_timeout
            if self.conn in w:
                try:
                    n = self.conn.send(self.to_sock, socket.MSG_DONTWAIT)
                    del self.to_sock[:n]
                except BlockingIOError:
                    pass
                except OSError as e:
                    self.ev("socket write error: %s" % e)
                    self.to_sock.clear()
                    client_ended("reset")
            if self.rp_w is not None and self.rp_w in w:
                try:
                    n = os.write(self.rp_w, c2p)
                    rec["client_to_prog_bytes"] += n
                    del c2p[:n]
                except BlockingIOError:
                    pass
                except OSError as e:
                    # The program closed SSLREADFD: what the client sends is dropped.
                    self.ev("read pipe: %s" % e)
                    rec["client_bytes_dropped"] += len(c2p)
                    c2p.clear()
                    self.close_fd(self.rp_w)
                    self.rp_w = None
            if st["prog_open"] and self.wp_r in r:
                try:
                    data = os.read(self.wp_r, 65536)
                except BlockingIOError:
                    data = None
                except OSError as e:
                    self.ev("write pipe: %s" % e)
                    data = b""
                if data:
                    rec["prog_to_client_bytes"] += len(data)
                    try:
                        self.tls.write(data)
                    except ssl.SSLError as e:
                        self.ev("TLS write: %s" % e)
                    self.pump_out()
                elif data is not None:
                    st["prog_open"] = False
                    rec["prog_end"] = "eof"
                    first_end("program-closed")
                    self.close_fd(self.wp_r)
                    self.wp_r = None
                    end_tls()
            if self.conn in r and st["client_open"]:
                self.sock_recv()
                decrypt()
        # Done (or given up): what is left for the socket, then the end.
        try:
            self.flush_sock(now() + 2.0)
        except (OSError, TimeoutError):
            self.to_sock.clear()
        if st["prog_open"]:
            rec["prog_end"] = "open"
        if s6:
            if st["ending"] and not st["shut"]:
                self.shutdown_sock(socket.SHUT_WR)
                rec["shutdown"] = st["ending"]
            elif not st["shut"]:
                # Error or timeout before the program was done: s6's
                # engine just exits.
                rec["shutdown"] = "none"
        else:
            # sslserver's DONE/BOMB: close_notify if not sent yet, then a
            # full shutdown.
            if st["ending"] is None:
                self.send_close_notify()
                try:
                    self.flush_sock(now() + 1.0)
                except (OSError, TimeoutError):
                    pass
            self.shutdown_sock(socket.SHUT_RDWR)
            rec["shutdown"] = "close_notify+shutdown"
        self.close_pipes()
        self.close_sock()

    def send_close_notify(self):
        try:
            self.tls.unwrap()
        except ssl.SSLWantReadError:
            pass                    # sent; the client's close_notify is not there yet
        except (ssl.SSLError, OSError, ValueError) as e:
            self.ev("close_notify: %s" % e)
        self.pump_out()
        self.ev("close_notify queued")

    def shutdown_sock(self, how):
        try:
            self.conn.shutdown(how)
            self.ev("socket shutdown(%s)" % ("SHUT_WR" if how == socket.SHUT_WR else "SHUT_RDWR"))
        except OSError as e:
            self.ev("shutdown: %s" % e)

    def finish(self):
        try:
            self.close_pipes()
            self.close_fd(self.flags_fd)
            self.flags_fd = None
            self.close_sock()
            self.close_ctl("connection done")
            if self.pid is not None and self.status is None:
                self.stop_program(self.rec["aborted"] or "end", grace=1.0)
        except Exception as e:                        # pylint: disable=broad-except
            self.ev("cleanup: %s" % e)
        self.rec["duration"] = round(now() - self.t0, 3)
        if self.opts.log:
            line = (json.dumps(self.rec, sort_keys=False) + "\n").encode()
            fd = os.open(self.opts.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                os.write(fd, line)
            finally:
                os.close(fd)
        if self.opts.verbose:
            warn("conn %d done: command=%s handshake=%s tls_end=%s exit=%s/%s sigterm=%s" % (
                self.rec["conn"], self.rec["command"], self.rec["handshake"], self.rec["tls_end"],
                self.rec["exit_code"], self.rec["exit_signal"], self.rec["sigterm"]))


def handle(opts, ctx, cert, conn, num):
    """The handler process of one connection."""
    def on_term(signum, _frame):
        raise Abort("peer-terminated" if signum != signal.SIGALRM else "conn-timeout")
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
        signal.signal(sig, on_term)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    # The hard watchdog: a little after the soft deadline.
    signal.alarm(int(opts.conn_timeout) + 3)
    c = Connection(opts, ctx, cert, conn, num)
    c.run()


# ---- the listener ----------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="ucspi_tls_server.py",
        description="UCSPI-TLS server (s6-ucspitlsd / sslserver -n behaviour) on 127.0.0.1 for tests.")
    p.add_argument("--flavour", required=True, choices=sorted(FLAVOURS))
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one; default)")
    p.add_argument("--port-file", help="write the port here (atomically) once listening")
    p.add_argument("--cert", required=True, help="PEM certificate (may also hold the key)")
    p.add_argument("--key", help="PEM key (default: in --cert)")
    p.add_argument("--close-notify", action="store_true",
                   help="s6: end TLS with close_notify (s6-ucspitlsd -S) instead of a bare TCP half-close")
    p.add_argument("--env-tcp", action="store_true", help="sslserver: TCP* variables too (sslserver -e)")
    p.add_argument("--backend", choices=("libtls", "bearssl", "openssl"),
                   help="the TLS library: s6 libtls (default) or bearssl; sslserver openssl")
    p.add_argument("--tls-version", choices=("any", "1.2", "1.3"), default="any",
                   help="limit TLS to one version (1.2: what the BearSSL backend gives)")
    p.add_argument("--fds", help="CTL,READ,WRITE: other descriptor numbers than the flavour's")
    p.add_argument("--setenv", action="append", default=[], metavar="NAME=VALUE",
                   help="set in the program's environment (last; may override SSL*FD)")
    p.add_argument("--unsetenv", action="append", default=[], metavar="NAME")
    p.add_argument("--answer-extra", action="append", default=[], metavar="NAME[=VALUE]",
                   help="one more entry in the answer to Y (no '=': an unset entry)")
    p.add_argument("--answer-pad", type=int, default=0, metavar="BYTES",
                   help="one more entry SSL_TEST_PAD=x... of BYTES bytes in the answer")
    p.add_argument("--no-y-bug", action="store_true", help="s6: do not kill the TLS engine after 'y'")
    p.add_argument("--log", help="append one JSON line per connection here")
    p.add_argument("--once", action="store_true", help="serve one connection, then exit")
    p.add_argument("--connections", type=int, default=0, help="exit after this many (0: no limit)")
    p.add_argument("--max-conns", type=int, default=8, help="connections served at once")
    p.add_argument("--handshake-timeout", type=float, default=10.0)
    p.add_argument("--idle-timeout", type=float, default=30.0, help="relay idle limit, seconds")
    p.add_argument("--linger", type=float, default=2.0,
                   help="sslserver: wait this long for the client's close after our close_notify")
    p.add_argument("--term-grace", type=float, default=0.1,
                   help="before a SIGTERM, wait this long for a program already exiting")
    p.add_argument("--conn-timeout", type=float, default=60.0,
                   help="hard limit for one connection, seconds (then the program is killed)")
    p.add_argument("--max-time", type=float, default=600.0,
                   help="hard limit for the whole server, seconds")
    p.add_argument("--setsid", action="store_true", help="start a new session (process group = our pid)")
    p.add_argument("-v", "--verbose", action="store_true", help="log events to stderr")
    p.add_argument("prog", nargs=argparse.REMAINDER)
    opts = p.parse_args(argv)
    if opts.prog and opts.prog[0] == "--":
        opts.prog = opts.prog[1:]
    if not opts.prog:
        p.error("no program given (after --)")
    if opts.once:
        opts.connections = 1
    if opts.backend is None:
        opts.backend = BACKENDS[opts.flavour][0]
    elif opts.backend not in BACKENDS[opts.flavour]:
        p.error("--backend %s: %s has %s" % (opts.backend, opts.flavour, ", ".join(BACKENDS[opts.flavour])))
    if opts.fds:
        try:
            c, r, w = (int(x) for x in opts.fds.split(","))
        except ValueError:
            p.error("--fds wants CTL,READ,WRITE")
        socks = FLAVOURS[opts.flavour]["sock"]
        if len({c, r, w}) != 3 or min(c, r, w) < 3 or {c, r, w} & set(socks):
            p.error("--fds: three distinct numbers, 3 or more, not the socket's %r" % (socks,))
    return opts


def make_context(opts):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(opts.cert, opts.key)
    # Python sets this by default: it would report a client's TCP EOF
    # without close_notify as a close_notify.
    ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    if opts.backend == "bearssl" and opts.tls_version == "any":
        # BearSSL has no TLS 1.3; s6's BearSSL build negotiated
        # ECDHE-ECDSA-CHACHA20-POLY1305 with OpenSSL clients.
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE+CHACHA20:ECDHE+AESGCM")
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    if opts.tls_version == "1.2":
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif opts.tls_version == "1.3":
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def main(argv):
    opts = parse_args(argv)
    # Nothing inherited past stderr stays open here: a test runner's pipe
    # held by a leftover server would keep the runner waiting.
    os.closerange(3, 1 << 20)
    for fd in (0, 1, 2):                  # sockets and pipes must not land on 0-2
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)
    if opts.setsid:
        try:
            os.setsid()
        except OSError:
            pass
    try:
        ctx = make_context(opts)
        cert = CertFacts(opts.cert)
    except (OSError, ssl.SSLError, ValueError) as e:
        warn("cannot load the certificate: %s" % e)
        return 100
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        lsock.bind(("127.0.0.1", opts.port))     # loopback only, always
    except OSError as e:
        warn("cannot listen on 127.0.0.1:%d: %s" % (opts.port, e))
        return 111
    lsock.listen(16)
    lsock.setblocking(False)
    port = lsock.getsockname()[1]
    if opts.port_file:
        tmp = "%s.%d.tmp" % (opts.port_file, os.getpid())
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, opts.port_file)
    if opts.verbose:
        warn("%s listening on 127.0.0.1:%d -> %s" % (opts.flavour, port, " ".join(opts.prog)))

    stop = []

    def on_stop(signum, _frame):
        stop.append(signum)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_stop)
    deadline = now() + opts.max_time
    children = set()
    accepted = 0

    def reap_children():
        while children:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                children.clear()
                return
            if pid == 0:
                return
            children.discard(pid)

    while not stop:
        reap_children()
        if now() >= deadline:
            warn("--max-time %g s reached: stopping" % opts.max_time)
            break
        if opts.connections and accepted >= opts.connections:
            if not children:
                break
            time.sleep(0.05)
            continue
        rl = [lsock] if len(children) < opts.max_conns else []
        try:
            r, _, _ = select.select(rl, [], [], 0.2)
        except InterruptedError:
            continue
        if not r:
            continue
        try:
            conn, _addr = lsock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            continue
        accepted += 1
        conn.setblocking(True)
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        pid = os.fork()
        if pid == 0:
            status = 0
            try:
                lsock.close()
                handle(opts, ctx, cert, conn, accepted)
            except BaseException:                    # pylint: disable=broad-except
                traceback.print_exc()
                status = 111
            finally:
                os._exit(status)
        children.add(pid)
        conn.close()

    lsock.close()
    # Stop the handlers: TERM (they terminate their programs), then KILL.
    for pid in list(children):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    end = now() + 4.0
    while children and now() < end:
        reap_children()
        time.sleep(0.02)
    for pid in list(children):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    end = now() + 2.0
    while children and now() < end:
        reap_children()
        time.sleep(0.02)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
