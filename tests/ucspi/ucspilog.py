"""Reading what the UCSPI-TLS test peer (ucspi_tls_server.py --log) and
the self-test program (ucspi_selftest_smtpd.py --record) wrote: one JSON
object per line.  Used by lib.sh and the tests' python snippets."""

import json
import os
import sys
import time


def lines(path):
    out = []
    try:
        with open(path, "r", encoding="utf-8") as f:
            for ln in f:
                ln = ln.strip()
                if ln:
                    out.append(json.loads(ln))
    except FileNotFoundError:
        pass
    return out


def peer_records(path=None):
    """Every connection record of the peer's log ($UCSPI_LOG by default),
    in connection order."""
    return sorted(lines(path or os.environ["UCSPI_LOG"]), key=lambda r: r.get("conn", 0))


def peer_record(conn=None, path=None):
    """The record of connection number `conn` (1 = the first accepted by
    this peer), or of the last connection when conn is None."""
    recs = peer_records(path)
    if not recs:
        return None
    if conn is None:
        return recs[-1]
    for r in recs:
        if r.get("conn") == conn:
            return r
    return None


def wait_records(n, timeout=15.0, path=None):
    """Wait until the log holds at least n records; returns them."""
    end = time.monotonic() + timeout
    while True:
        recs = peer_records(path)
        if len(recs) >= n or time.monotonic() >= end:
            return recs
        time.sleep(0.05)


def prog_events(path, pid=None, event=None):
    """Events of the self-test program's record file, of one pid, of one kind."""
    return [e for e in lines(path)
            if (pid is None or e.get("pid") == pid) and (event is None or e.get("event") == event)]


def parse_answer(data):
    """b'NAME=value\\0...\\0\\0' -> {NAME: value or None (unset)}."""
    out = {}
    body = data[:-1] if data.endswith(b"\0\0") else data
    for item in body.split(b"\0"):
        if not item:
            continue
        name, eq, value = item.partition(b"=")
        out[name.decode("latin-1")] = value.decode("latin-1") if eq else None
    return out


def check_main(argv):
    """python3 ucspilog.py check WHAT EXPR [CONN]: prints ok/not ok for
    EXPR evaluated with r = the record (conn CONN, or the last one)."""
    expr = argv[1]            # argv[0], what is checked, is printed by the caller
    conn = int(argv[2]) if len(argv) > 2 and argv[2] not in ("", "last") else None
    r = peer_record(conn)
    if r is None:
        print("    no record for connection %s in %s" % (conn or "last", os.environ.get("UCSPI_LOG")))
        return 1
    try:
        ok = bool(eval(expr, {"r": r, "json": json}))   # pylint: disable=eval-used
    except Exception as e:                              # pylint: disable=broad-except
        print("    %s: %s: %s" % (expr, type(e).__name__, e))
        ok = False
    if not ok:
        brief = {k: v for k, v in r.items() if k not in ("events", "answer_names")}
        print("    false: %s" % expr)
        print("    record: %s" % json.dumps(brief))
        print("    events: %s" % " | ".join(r.get("events", [])))
    return 0 if ok else 1


def get_main(argv):
    """python3 ucspilog.py get FIELD [CONN]: the field as JSON."""
    conn = int(argv[1]) if len(argv) > 1 and argv[1] not in ("", "last") else None
    r = peer_record(conn)
    if r is None:
        return 1
    print(json.dumps(r.get(argv[0])))
    return 0


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "check":
        sys.exit(check_main(sys.argv[2:]))
    if cmd == "get":
        sys.exit(get_main(sys.argv[2:]))
    print("usage: ucspilog.py check WHAT EXPR [CONN] | get FIELD [CONN]", file=sys.stderr)
    sys.exit(2)
