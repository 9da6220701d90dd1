#!/usr/bin/env python3
"""Makes the seed corpus of the fuzz targets from the conformance vectors
(tests/vectors/*.txt) and a few transcripts of real servers.

usage: fuzz/make_seeds.py [OUTDIR]     (default: fuzz/corpus)

Writes OUTDIR/<target>/seed-<hash>, one input per file:
  session  each vector case as a script of fuzz_session.cc (see its header)
  command  every command line the vectors' clients send
  reply    every reply line the vectors' children send
  data     every client write of the vectors, as a DATA body, whole and cut
  policy   greylist server answers
The committed corpus is this output after a fuzzing campaign, minimised
with libFuzzer's -merge=1 (scripts/fuzz-campaign.sh).
"""
import hashlib
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "tests", "vectors")
SEP = b"\n~"


def unescape(t):
    """The byte escapes of tests/transcript.h."""
    out = bytearray()
    i = 0
    while i < len(t):
        c = t[i]
        if c != "\\":
            out += c.encode("latin-1")
            i += 1
            continue
        i += 1
        e = t[i]
        if e in "rnt0\\s":
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "\\": b"\\", "s": b" "}[e]
            i += 1
        elif e == "x":
            out.append(int(t[i + 1:i + 3], 16))
            i += 3
        elif e == "{":
            colon = t.index(":", i)
            close = t.index("}", i)
            n = int(t[i + 1:colon])
            out += unescape(t[colon + 1:close]) * n
            i = close + 1
        else:
            raise ValueError("unknown escape \\" + e)
    return bytes(out)


def config_byte(value):
    b = 0
    words = dict(w.split("=", 1) for w in value.split())
    b |= {"none": 0, "legacy": 1, "current": 2, "ucspi": 3}[words.get("control", "none")]
    if "greylist" in words:
        b |= 4
        if words["greylist"] == "closed":
            b |= 8
    b |= {"error": 0, "warning": 1, "info": 2, "debug": 3, "trace": 4}[words.get("log", "warning")] << 4
    return b


def policy_byte(value):
    """The TLS policy (auth=tls, tls=required) and the pregreet test
    (pregreet=MS): the payload of the O record that may open a script."""
    words = dict(w.split("=", 1) for w in value.split())
    return ((1 if words.get("auth") == "tls" else 0) | (2 if words.get("tls") == "required" else 0) |
            (4 if int(words.get("pregreet", "0")) > 0 else 0))


TIMERS = {"session": 0, "client": 1, "child": 2, "control": 3, "policy": 4}


def cases():
    for name in sorted(os.listdir(VECTORS)):
        if not name.endswith(".txt"):
            continue
        case = None
        for raw in open(os.path.join(VECTORS, name), encoding="latin-1"):
            line = raw.rstrip("\r\n").strip(" \t")
            if not line or line.startswith("#"):
                continue
            key, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if key == "case":
                if case:
                    yield case
                case = {"config": "control=none", "steps": []}
            elif key == "config":
                case["config"] = value
            else:
                case["steps"].append((key, value))
        if case:
            yield case


def script_of(case):
    cfg = config_byte(case["config"])
    legacy = cfg & 3 == 1
    policy = policy_byte(case["config"])
    records = [b"O" + bytes([policy])] if policy else []
    for key, value in case["steps"]:
        if key == "client":
            records.append(b"C" + unescape(value))
        elif key == "child":
            records.append(b"S" + unescape(value))
        elif key == "event":
            words = value.split(None, 2)
            kind = words[0]
            arg = words[1] if len(words) > 1 else ""
            if kind == "control":
                if legacy and arg == "ready":
                    continue  # the legacy driver reports ready by itself
                records.append({"ready": b"r", "lost": b"l", "failed": b"f"}[arg])
            elif kind == "client-eof":
                records.append(b"E")
            elif kind == "child-eof":
                records.append(b"F")
            elif kind == "timeout" and arg == "greeting":
                records.append(b"G")
            elif kind == "timeout":
                records.append(b"t" + bytes([TIMERS[arg]]))
            elif kind == "policy":
                text = unescape(words[2]) if len(words) > 2 else b""
                text = text.rstrip(b"\r\n")
                if arg == "pass":
                    records.append(b"p")
                elif arg == "defer":
                    records.append(b"dDEFER_IF_PERMIT " + text[4:] if text else b"dDEFER_IF_PERMIT")
                elif arg == "reject":
                    records.append(b"dREJECT " + text[4:] if text else b"dREJECT")
                else:
                    records.append(b"x")
    if any(SEP in r for r in records):
        return None
    return bytes([cfg]) + SEP.join(records)


# Transcripts of real servers (exim4 -bs and a postfix-like one), as the
# helper sees them: a whole mail over STARTTLS, BDAT, AUTH, greylisting.
EXIM_EHLO = (b"250-mx.example Hello client.example [192.0.2.1]\r\n250-SIZE 52428800\r\n"
             b"250-8BITMIME\r\n250-PIPELINING\r\n250-PIPE_CONNECT\r\n250-CHUNKING\r\n"
             b"250-STARTTLS\r\n250-PRDR\r\n250 HELP\r\n")
EXIM_AUTH_EHLO = EXIM_EHLO.replace(b"250-CHUNKING\r\n",
                                  b"250-AUTH PLAIN LOGIN\r\n250-CHUNKING\r\n")
REAL = [
    bytes([2]) + SEP.join([
        b"S220 mx.example ESMTP Exim 4.96 Mon, 24 Nov 2025 10:00:00 +0000\r\n",
        b"CEHLO client.example\r\n", b"S" + EXIM_EHLO,
        b"CSTARTTLS\r\n", b"r", b"S250 Reset OK\r\n",
        b"CEHLO client.example\r\n", b"S" + EXIM_EHLO.replace(b"250-STARTTLS\r\n", b""),
        b"CMAIL FROM:<sender@example.com> SIZE=312\r\nRCPT TO:<rcpt@example.org>\r\nDATA\r\n",
        b"S250 OK\r\n250 Accepted\r\n354 Enter message, ending with \".\" on a line by itself\r\n",
        b"CSubject: test\r\n\r\nHello.\r\n..stuffed\r\n.\r\n",
        b"S250 OK id=1xVnEV-00022S-1O\r\n", b"CQUIT\r\n",
        b"S221 mx.example closing connection\r\n", b"F"]),
    bytes([1 | 0x20]) + SEP.join([
        b"S220 mx.example ESMTP Exim 4.96\r\n", b"CEHLO c\r\n", b"L" + EXIM_EHLO,
        b"CMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nBDAT 12\r\nHello world.BDAT 2 LAST\r\n\r\n",
        b"S250 OK\r\n250 Accepted\r\n250- 12 byte chunk, total 12\r\n250 OK\r\n",
        b"S250 OK id=1xVnEV-00022S-1P\r\n", b"CSTARTTLS\r\nEHLO evil\r\n", b"S250 Reset OK\r\n",
        b"CQUIT\r\n", b"S221 bye\r\n"]),
    bytes([2 | 0x30]) + SEP.join([
        b"S220 mx.example ESMTP Postfix\r\n", b"CEHLO c\r\n",
        b"S250-mx.example\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250-STARTTLS\r\n250 SMTPUTF8\r\n",
        b"CAUTH LOGIN\r\n", b"S334 VXNlcm5hbWU6\r\n", b"Cc2VjcmV0LXVzZXItbmFtZQ==\r\n",
        b"S334 UGFzc3dvcmQ6\r\n", b"Cc2VjcmV0LXBhc3N3b3JkLXZhbHVl\r\n",
        b"S235 2.7.0 Authentication successful\r\n", b"CAUTH PLAIN AGFsaWNlAHNlY3JldC1wYXNzd29yZA==\r\n",
        b"S503 5.5.1 Error: already authenticated\r\n", b"CQUIT\r\n", b"S221 2.0.0 Bye\r\n"]),
    bytes([4 | 0x20]) + SEP.join([
        b"S220 mx.example ESMTP\r\n", b"CEHLO c\r\n", b"S250 mx.example\r\n",
        b"CMAIL FROM:<a@b.example>\r\nRCPT TO:<x@d.example>\r\nRCPT TO:<y@d.example>\r\nDATA\r\n",
        b"S250 OK\r\n",
        b"aaction=DEFER_IF_PERMIT Greylisted, see http://postgrey.example/\n\n",
        b"aaction=PREPEND X-Greylist: delayed 301 seconds\n\n", b"S250 Accepted\r\n",
        b"S354 go ahead\r\n", b"Cbody\n.\nmore\r\n.\r\n", b"S250 OK\r\n", b"E"]),
    # Submission with -s (the O record): exim offering AUTH, which waits for
    # TLS; MAIL and AUTH in plaintext refused, then both inside TLS.
    bytes([2 | 0x20]) + SEP.join([
        b"O\x02",
        b"S220 mx.example ESMTP Exim 4.96\r\n", b"CEHLO client.example\r\n",
        b"S" + EXIM_AUTH_EHLO,
        b"CMAIL FROM:<a@b.example>\r\nAUTH PLAIN AGFsaWNlAHNlY3JldC1wYXNzd29yZA==\r\nSTARTTLS\r\n",
        b"r", b"S250 Reset OK\r\n", b"CEHLO client.example\r\n",
        b"S" + EXIM_AUTH_EHLO.replace(b"250-STARTTLS\r\n", b""),
        b"CAUTH PLAIN AGFsaWNlAHNlY3JldC1wYXNzd29yZA==\r\n", b"S235 Authentication succeeded\r\n",
        b"CMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nBDAT 6 LAST\r\nHello.",
        b"S250 OK\r\n250 Accepted\r\n250 OK id=1xVnEV-00022S-1Q\r\n",
        b"CQUIT\r\n", b"S221 mx.example closing connection\r\n"]),
    # -a (the O record) with the legacy protocol: AUTH LOGIN refused in
    # plaintext, then passed inside TLS with its two challenges.
    bytes([1 | 0x30]) + SEP.join([
        b"O\x01",
        b"S220 mx.example ESMTP Exim 4.96\r\n", b"CEHLO c\r\n", b"L" + EXIM_AUTH_EHLO,
        b"CAUTH LOGIN\r\nNOOP\r\n", b"S250 OK\r\n", b"CSTARTTLS\r\n", b"S250 Reset OK\r\n",
        b"CEHLO c\r\n", b"S" + EXIM_AUTH_EHLO.replace(b"250-STARTTLS\r\n", b""),
        b"CAUTH LOGIN\r\n", b"S334 VXNlcm5hbWU6\r\n", b"Cc2VjcmV0LXVzZXItbmFtZQ==\r\n",
        b"S334 UGFzc3dvcmQ6\r\n", b"Cc2VjcmV0LXBhc3N3b3JkLXZhbHVl\r\n",
        b"S235 Authentication succeeded\r\n", b"CQUIT\r\n", b"S221 bye\r\n"]),
    # Greylisting with the current protocol (G1, G2): a failed AUTH and a
    # RCPT that waits for its verdict; an AUTH answered 235 before
    # STARTTLS, forgotten inside TLS (a request again); AUTH LOGIN inside
    # TLS answered 235 after its challenges, then RCPTs with no request.
    bytes([2 | 4 | 0x20]) + SEP.join([
        b"S220 mx.example ESMTP Exim 4.96\r\n", b"CEHLO c\r\n", b"S" + EXIM_AUTH_EHLO,
        b"CAUTH PLAIN AGFsaWNlAHdyb25n\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n",
        b"S535 Incorrect authentication data\r\n", b"S250 OK\r\n",
        b"aaction=DEFER_IF_PERMIT Greylisted\n\n", b"CAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n",
        b"S235 Authentication succeeded\r\n", b"CRSET\r\nSTARTTLS\r\n", b"S250 Reset OK\r\n",
        b"r", b"S250 Reset OK\r\n", b"CEHLO c\r\n",
        b"S" + EXIM_AUTH_EHLO.replace(b"250-STARTTLS\r\n", b""),
        b"CMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n", b"S250 OK\r\n",
        b"aaction=DUNNO\n\n", b"S250 Accepted\r\n", b"CRSET\r\nAUTH LOGIN\r\n",
        b"S250 Reset OK\r\n334 VXNlcm5hbWU6\r\n", b"Cc2VjcmV0LXVzZXItbmFtZQ==\r\n",
        b"S334 UGFzc3dvcmQ6\r\n", b"Cc2VjcmV0LXBhc3N3b3JkLXZhbHVl\r\n",
        b"S235 Authentication succeeded\r\n",
        b"CMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nRCPT TO:<e@d.example>\r\nDATA\r\n",
        b"S250 OK\r\n250 Accepted\r\n250 Accepted\r\n354 go ahead\r\n", b"Chi\r\n.\r\n",
        b"S250 OK id=1xVnEV-00022S-1R\r\n", b"CQUIT\r\n", b"S221 bye\r\n"]),
    # -p (the O record): a client that waits, exim's multi-line greeting
    # held at its last line, then a message; and a bot that pipelines
    # after the first line of exim's one-line greeting.
    bytes([2 | 0x20]) + SEP.join([
        b"O\x04",
        b"S220-mx.example ESMTP Exim 4.96\r\n220-No UCE\r\n220 hello\r\n", b"G",
        b"CEHLO client.example\r\n", b"S" + EXIM_EHLO,
        b"CMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nBDAT 6 LAST\r\nHello.",
        b"S250 OK\r\n250 Accepted\r\n250 OK id=1xVnEV-00022S-1R\r\n",
        b"CQUIT\r\n", b"S221 mx.example closing connection\r\n"]),
    bytes([2 | 0x20]) + SEP.join([
        b"O\x07",
        b"S220 mx.example ESMTP Exim 4.96\r\n",
        b"CEHLO bot\r\nMAIL FROM:<spam@example.com>\r\nRCPT TO:<victim@example.org>\r\n",
        b"G", b"S250 too late\r\n"]),
]

POLICY = [
    b"action=DUNNO\n\n", b"action=OK\n\n", b"action=PREPEND X-Greylist: delayed 301 seconds\n\n",
    b"action=DEFER_IF_PERMIT Greylisted, see http://postgrey.example/\n\n",
    b"action=DEFER_IF_PERMIT 4.7.1 Greylisted\n\n", b"action=DEFER\n\n", b"action=REJECT\n\n",
    b"action=REJECT spam\n\n", b"action=450 try later\n\n", b"action=554 5.7.1 no\n\n",
    b"action=451\n\n", b"action=dunno\n\n", b"action=DUNNO\naction=REJECT\n\n", b"hello\n\n",
    b"\n", b"action=DEFER_IF_PERMIT Greylisted\n\nnext", b"action=WARN text\n\n",
    b"action=" + b"x" * 500 + b"\n\n", b"action=FILTER smtp:[127.0.0.1]:10025\n\n",
]


def write(outdir, target, data, written):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    path = os.path.join(d, name)
    if path in written:
        return
    written.add(path)
    with open(path, "wb") as f:
        f.write(data)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
    written = set()
    commands, replies, bodies = set(), set(), set()
    for case in cases():
        s = script_of(case)
        if s is not None:
            write(outdir, "session", s, written)
        for key, value in case["steps"]:
            if key == "client":
                b = unescape(value)
                bodies.add(b)
                for line in re.split(rb"\n", b):
                    commands.add(line.rstrip(b"\r")[:8192])
            elif key == "child":
                for line in unescape(value).split(b"\n"):
                    replies.add(line.rstrip(b"\r"))
    for s in REAL:
        write(outdir, "session", s, written)
    for c in sorted(commands):
        if c:
            write(outdir, "command", c, written)
    for r in sorted(replies):
        if r:
            write(outdir, "reply", r, written)
    for b in sorted(bodies):
        b = b[:8192]
        write(outdir, "data", b"\0" + b, written)
        if len(b) > 4:
            cuts = [1, max(1, len(b) // 3) % 256, 2]
            write(outdir, "data", bytes([len(cuts)] + cuts) + b, written)
    for p in POLICY:
        write(outdir, "policy", b"\x05" + p, written)
    for t in ("session", "command", "reply", "data", "policy"):
        print("%s: %d files" % (t, len(os.listdir(os.path.join(outdir, t)))))


if __name__ == "__main__":
    main()
