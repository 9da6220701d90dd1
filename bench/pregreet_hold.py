#!/usr/bin/env python3
"""What the pregreet test (-p) costs: N sessions held in its wait at once.

  client (this script, asyncio: N connections)
    -> tcpserver -HRDl0 -c N+100 127.0.0.1 PORT
    -> tlswrapper -n -f cert.pem            (a fresh self-signed P-256 cert)
    -> status_shim FILE                     (records each helper's exit status)
    -> HELPER -p W                          (jailed: run as root)
    -> sink                                 (bench/sink.cc, a tiny SMTP server;
                                             --child "/usr/sbin/exim4 -bs" for a real one)

Every connection reads the greeting's first line ("220-") and then holds.
Once all N are held, the processes of the pipeline are sampled: by command,
how many and the sum of their Private_Clean + Private_Dirty
(/proc/PID/smaps_rollup), and from that the private memory per held
session of the helper, of the child, and of tlswrapper. Then a share of
the connections (--early, 20%) speak before the last line, as a bot does:
each must get "554 5.7.1 ..." and the close. The others wait for the last
line, which comes W seconds after their first, then EHLO (250) and QUIT
(221). None may be lost: every connection ends as designed, and the shim's
records show one helper exit per connection, 111 for each early talker and
0 (the sink's status after QUIT) for the others.

Exit status: 0 when all N were held at once and every one ended as designed;
1 otherwise; 2 when the benchmark could not run (not root, a missing
program). See README.md here.
"""

import argparse
import asyncio
import collections
import os
import re
import resource
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soak import KIB, Pipeline, die, make_cert, process_table  # noqa: E402

REJECTED = b"554 5.7.1 Protocol error: talking before the greeting\r\n"


def private_kb(pid):
    """Private_Clean + Private_Dirty of one process, KiB (None when gone)."""
    total = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1])
    except OSError:
        return None
    return total


def pipeline_memory(root):
    """{comm: (processes, private KiB in all)} under the tcpserver `root`."""
    table = process_table()
    children = collections.defaultdict(list)
    for pid, (ppid, _) in table.items():
        children[ppid].append(pid)
    out = collections.defaultdict(lambda: [0, 0])
    todo = [root]
    while todo:
        p = todo.pop()
        for c in children.get(p, ()):
            todo.append(c)
            kb = private_kb(c)
            if kb is not None:
                out[table[c][1]][0] += 1
                out[table[c][1]][1] += kb
    return out


async def session(i, port, early, state, timeout):
    rec = {"i": i, "early": early, "outcome": None, "detail": b"", "port": None}
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        rec["port"] = w.get_extra_info("sockname")[1]
        first = await asyncio.wait_for(r.readline(), timeout)
        if not first.startswith(b"220-"):
            rec["outcome"], rec["detail"] = "no 220- first", first
            return rec
        state["held"] += 1
        rec["held"] = True
        settled(state)
        if early:
            await state["speak"].wait()
            w.write(b"EHLO bot.example\r\nMAIL FROM:<bot@example.com>\r\n")
            await w.drain()
            got = await asyncio.wait_for(r.read(), timeout)
            ok = got.endswith(REJECTED) and b"\n220 " not in b"\n" + got
            rec["outcome"], rec["detail"] = ("rejected" if ok else "early, not rejected"), got
        else:
            last = await asyncio.wait_for(r.readline(), timeout)
            state["released"] += 1
            if not last.startswith(b"220 "):
                rec["outcome"], rec["detail"] = "no final 220", last
                return rec
            w.write(b"EHLO client.example\r\n")
            await w.drain()
            while True:
                line = await asyncio.wait_for(r.readline(), timeout)
                if not line.startswith(b"250-"):
                    break
            if not line.startswith(b"250 "):
                rec["outcome"], rec["detail"] = "EHLO not 250", line
                return rec
            w.write(b"QUIT\r\n")
            await w.drain()
            bye = await asyncio.wait_for(r.readline(), timeout)
            rest = await asyncio.wait_for(r.read(), timeout)
            ok = bye.startswith(b"221") and rest == b""
            rec["outcome"], rec["detail"] = ("delivered greeting" if ok else "no 221"), bye
        w.close()
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
        rec["outcome"], rec["detail"] = "error " + type(e).__name__, str(e).encode()
    return rec


def settled(state):
    """Every connection is held, or ended before it could be: sample now."""
    if state["held"] + state["lost_early"] >= state["n"]:
        state["all_held"].set()


async def drive(a, pipe):
    n = a.sessions
    state = {"n": n, "held": 0, "released": 0, "lost_early": 0, "all_held": asyncio.Event(),
             "speak": asyncio.Event()}
    early_every = round(1 / a.early) if a.early > 0 else 0
    t0 = time.monotonic()
    async def counted(i):
        rec = await session(i, pipe.port, early_every and i % early_every == 0, state, a.wait + 60)
        if not rec.get("held"):  # it ended before its first line: never held
            state["lost_early"] += 1
            settled(state)
        return rec

    tasks = [asyncio.create_task(counted(i)) for i in range(n)]
    sample = None
    try:
        await asyncio.wait_for(state["all_held"].wait(), a.wait + 60)
        ramp = time.monotonic() - t0
        await asyncio.sleep(0.5)  # the last ones' helper and child settle
        held_at_sample = state["held"] - state["released"]
        sample = pipeline_memory(pipe.proc.pid)
        held_after = state["held"] - state["released"]
    except asyncio.TimeoutError:
        ramp = held_at_sample = held_after = None
    state["speak"].set()
    recs = await asyncio.gather(*tasks)
    return recs, sample, ramp, held_at_sample, held_after, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--helper", required=True, help="our tlswrapper-smtp (build/tlswrapper-smtp)")
    ap.add_argument("--sink", required=True, help="build/bench/sink")
    ap.add_argument("--status-shim", required=True, help="build/bench/status_shim")
    ap.add_argument("-n", "--sessions", type=int, default=500)
    ap.add_argument("-w", "--wait", type=int, default=50,
                    help="the helper's -p, seconds: under tlswrapper's -t (60)")
    ap.add_argument("--early", type=float, default=0.2, help="share of early talkers")
    ap.add_argument("--child", help='the SMTP server instead of the sink, e.g. "/usr/sbin/exim4 -bs"')
    ap.add_argument("--smoke", action="store_true", help="20 sessions, -p 5 (ctest)")
    a = ap.parse_args()
    if a.smoke:
        a.sessions, a.wait = 20, 5
    if os.geteuid() != 0:
        die("run as root: the helper jails itself and tlswrapper loads its key as root")
    for c in ("tcpserver", "tlswrapper", "openssl"):
        if not shutil.which(c, path="/usr/sbin:/usr/bin:/sbin:/bin"):
            die(f"{c} not found (scripts/deps.sh installs ucspi-tcp, tlswrapper, openssl)")
    for name in ("helper", "sink", "status_shim"):
        setattr(a, name, os.path.abspath(getattr(a, name)))
        if not os.path.exists(getattr(a, name)):
            die(f"{getattr(a, name)} does not exist")
    if not os.path.isdir("/var/lib/tlswrapper/empty"):
        os.makedirs("/var/lib/tlswrapper/empty", mode=0o755)
    need = 2 * a.sessions + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need if hard == resource.RLIM_INFINITY
                                                    else min(need, hard), hard))
    tmp = tempfile.mkdtemp(prefix="tws-pregreet.")
    os.chmod(tmp, 0o755)
    status = os.path.join(tmp, "status")
    try:
        cert, _ = make_cert(tmp)
        child = a.child.split() if a.child else [a.sink]
        pipe = Pipeline(tmp, cert, a.helper, ["-p", str(a.wait)], child, a.sessions + 100,
                        wrap=[a.status_shim, status])
        try:
            recs, sample, ramp, held, held_after, took = asyncio.run(drive(a, pipe))
            # the helpers' exits reach the shim's file just after the closes
            for _ in range(50):
                if os.path.exists(status) and sum(1 for _ in open(status)) >= a.sessions:
                    break
                time.sleep(0.1)
        finally:
            pipe.stop()
        return report(a, pipe, recs, sample, ramp, held, held_after, took, status)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(a, pipe, recs, sample, ramp, held, held_after, took, status):
    n = a.sessions
    early = [r for r in recs if r["early"]]
    waiting = [r for r in recs if not r["early"]]
    outcomes = collections.Counter(r["outcome"] for r in recs)
    exits = {}
    if os.path.exists(status):
        for line in open(status):
            m = re.match(r"pid=\d+ (exit|signal)=(\d+) t=[\d.]+ port=(\S+)", line)
            if m and m.group(3).isdigit():
                exits[int(m.group(3))] = f"{m.group(1)} {m.group(2)}"
    want = {r["port"]: ("exit 111" if r["early"] else "exit 0") for r in recs}
    wrong_exit = sum(1 for p, s in want.items() if exits.get(p) != s)
    child = a.child or a.sink
    child_comm = os.path.basename(child.split()[0])[:15]
    print(f"tlswrapper-smtp pregreet hold: {n} sessions, {a.helper} -p {a.wait} (jailed), "
          f"child {child}")
    print(f"  pipeline: tcpserver -c {n + 100} -> tlswrapper -n -> status_shim -> helper -> "
          f"{child_comm}")
    if sample is None:
        print(f"  NOT all {n} sessions got their first greeting line within {a.wait + 60} s")
    else:
        print(f"  all {n} connected and held within {ramp:.1f} s; held in the wait when sampled: "
              f"{held} (still {held_after} after the sample)")
        print("  the pipeline's processes then (Private_Clean + Private_Dirty, "
              "/proc/PID/smaps_rollup):")
        for comm, (count, kb) in sorted(sample.items(), key=lambda x: -x[1][1]):
            per = kb / count if count else 0
            print(f"    {comm:18} {count:5} processes  {kb / KIB:8.1f} MiB  {per:7.0f} KiB each")
        h, c, t = (sample.get(k, (0, 0)) for k in ("tlswrapper-smtp", child_comm, "tlswrapper"))
        per_h = h[1] / max(held or 1, 1)
        per_c = c[1] / max(held or 1, 1)
        per_t = t[1] / max(held or 1, 1)
        print(f"  private memory per held session: helper {per_h:.0f} KiB, child ({child_comm}) "
              f"{per_c:.0f} KiB, tlswrapper {per_t:.0f} KiB; helper and child "
              f"{per_h + per_c:.0f} KiB, with the TLS front {per_h + per_c + per_t:.0f} KiB "
              f"(the status_shim rows are the benchmark's own)")
    print(f"  early talkers (EHLO and MAIL after the 220- line): {len(early)}, rejected with 554 "
          f"and closed: {sum(1 for r in early if r['outcome'] == 'rejected')}")
    print(f"  clients that waited: {len(waiting)}, got the final 220, EHLO 250, QUIT 221: "
          f"{sum(1 for r in waiting if r['outcome'] == 'delivered greeting')}")
    for k, v in outcomes.most_common():
        if k not in ("rejected", "delivered greeting"):
            ex = next(r["detail"] for r in recs if r["outcome"] == k)
            print(f"    {v:5}  {k}  e.g. {ex[:80]!r}")
    print(f"  helper exits recorded: {len(exits)} of {n}; not as designed (111 early, 0 after "
          f"QUIT): {wrong_exit}")
    print(f"  whole run: {took:.1f} s; the pipeline's log lines: {pipe.log_lines}")
    for k, v in pipe.log_kinds.most_common(4):
        print(f"    {v:6}  {pipe.log_examples[k][:160]}")
    ok = (sample is not None and held == n and
          outcomes.get("rejected", 0) == len(early) and
          outcomes.get("delivered greeting", 0) == len(waiting) and wrong_exit == 0)
    print("pregreet hold: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
