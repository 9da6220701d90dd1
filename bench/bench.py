#!/usr/bin/env python3
"""The tlswrapper-smtp benchmark: one command, one table.

Runs every target in the same run, interleaved (round 1: A B C D, round 2:
A B C D, ...), and prints medians over the rounds:

  * DATA and BDAT throughput (MiB/s) of a large body of 76-character lines
    through each target to the project's sink, which checks every byte;
  * short sessions per second (EHLO, MAIL, RCPT, 2 KiB DATA, QUIT), a new
    helper process each;
  * the helper's peak RSS (VmHWM from /proc, read while it waits for QUIT);
  * user-space instructions per short session and per body byte, counted
    by valgrind --tool=callgrind (repeatable where times are not);

then the ratios against the targets of issue 7. The timing and the SMTP
dialogue are done by the C++ client (bench/client.cc); this script only
starts it, so Python's own speed never enters a figure.

Usage (normally through `cmake --build BUILD --target bench`):

  bench.py --client C --sink S --relay R --helper H [--shim SO] [options]

Exit status 0 when every message that should have arrived was verified.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MIB = 1024 * 1024
# Issue 21: instructions of one short session, the jailed helper's whole
# process under callgrind with the shim preloaded (it was 236 k at e912a61).
SHORT_SESSION_GOAL = 240_000
# --baseline-helper: at most this ratio to the baseline counted in the run.
BASELINE_SLACK = 1.02


def parse_size(text):
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", text)
    if not m:
        raise argparse.ArgumentTypeError("size: a number with an optional k, M or G")
    return int(m.group(1)) << {"": 0, "k": 10, "m": 20, "g": 30}[m.group(2).lower()]


def source_version():
    """The commit the sources are at, and whether the engine's files differ."""
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "-C", top, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", top, "status", "--porcelain", "--", "src",
                                "grammar", "generated"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + (" with local changes to src/" if dirty else "")


def parse_line(line):
    """key=value pairs of the client's result line."""
    out = {}
    for field in line.split():
        if "=" in field:
            k, v = field.split("=", 1)
            out[k] = v
    return out


class Bench:
    def __init__(self, a):
        self.a = a
        self.failures = []  # verification failures that should not happen
        self.notes = []
        self.root = os.geteuid() == 0
        self.nojail = os.path.join(os.path.dirname(a.helper), "tlswrapper-smtp-nojail")
        self.baseline_nojail = (os.path.join(os.path.dirname(a.baseline_helper),
                                             "tlswrapper-smtp-nojail")
                                if a.baseline_helper else None)
        self.tmp = tempfile.mkdtemp(prefix="tws-bench.")
        os.chmod(self.tmp, 0o755)
        self.env = dict(os.environ, TCPREMOTEIP="127.0.0.1")

        # The targets: name -> argv before the sink's own arguments.
        self.targets = {}
        self.targets["relay"] = [a.relay]
        self.targets["ours"] = [self.nojail]
        jail_dir = "/var/lib/tlswrapper/empty"
        if self.root and os.path.isdir(jail_dir):
            self.targets["ours-jailed"] = [a.helper]
        elif not self.root:
            self.notes.append("not root: the jailed runs (ours-jailed, debian) are skipped")
        else:
            self.notes.append(f"{jail_dir} missing: ours-jailed skipped")
        if a.debian and os.path.exists(a.debian):
            if self.root:
                a.debian = self.named_helper(a.debian)
                self.targets["debian"] = [a.debian]
        else:
            self.notes.append("Debian's helper not installed: its columns are empty")
        self.labels = {
            "relay": "relay (floor)",
            "ours": "ours, nojail",
            "ours-jailed": "ours, jailed",
            "debian": "debian",
        }

    def named_helper(self, path):
        """Debian's tlswrapper-smtp is a link to the multi-call tlswrapper,
        which picks what it does from the name it is run under: run as
        tlswrapper-smtp.distrib (diverted) it would be tlswrapper itself. A
        link named tlswrapper-smtp in the temp dir runs it under its name."""
        if os.path.basename(path) == "tlswrapper-smtp":
            return path
        link = os.path.join(self.tmp, "debian", "tlswrapper-smtp")
        os.makedirs(os.path.dirname(link), mode=0o755, exist_ok=True)
        os.symlink(os.path.realpath(path), link)
        return link

    # ---- running the client

    def client(self, mode, target_argv, extra, timeout, preload=None):
        argv = [self.a.client, "--mode", mode, "--timeout", str(timeout)] + extra
        argv += ["--"] + target_argv + [self.a.sink, "{expect}"]
        env = dict(self.env)
        if preload:
            env["LD_PRELOAD"] = preload
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=env, timeout=timeout + 60, cwd=self.tmp)
        lines = [l for l in p.stdout.splitlines() if l.startswith("mode=")]
        if not lines:
            return {"ok": "0", "verified": "0", "error": (p.stderr.strip() or "no output")[-300:]}
        return parse_line(lines[-1])

    def check(self, what, r):
        if r.get("ok") != "1" or r.get("verified") != "1":
            self.failures.append(f"{what}: {r}")
            return False
        return True

    # ---- timed runs

    def run_timed(self):
        a = self.a
        names = list(self.targets)
        self.data = {n: [] for n in names}
        self.bdat = {n: [] for n in names}
        self.short = {n: [] for n in names}
        self.rss_data = {n: [] for n in names}
        self.rss_short = {}
        self.debian_bdat = None
        for rnd in range(a.rounds):
            print(f"round {rnd + 1}/{a.rounds} ...", file=sys.stderr, flush=True)
            for n in names:  # DATA, interleaved
                r = self.client("data", self.targets[n], ["--bytes", str(a.bytes)], a.timeout)
                if self.check(f"DATA {n}", r):
                    self.data[n].append(float(r["mibps"]))
                    self.rss_data[n].append(int(r["rss_kb"]))
            for n in names:  # BDAT, interleaved
                extra = ["--bytes", str(a.bytes), "--chunk", str(a.chunk)]
                if n == "debian":
                    # It cannot do BDAT: the chunk is read as command lines, the
                    # replies fill the pipe back and both sides block. Tried once,
                    # with a short timeout, to record that it never finishes.
                    if rnd == 0:
                        self.debian_bdat = self.client("bdat", self.targets[n], extra,
                                                       a.bdat_timeout)
                    continue
                r = self.client("bdat", self.targets[n], extra, a.timeout)
                if self.check(f"BDAT {n}", r):
                    self.bdat[n].append(float(r["mibps"]))
            for n in names:  # short sessions, interleaved
                r = self.client("short", self.targets[n], ["--sessions", str(a.sessions)],
                                a.timeout)
                if self.check(f"short {n}", r):
                    self.short[n].append(float(r["per_second"]))
        for n in names:  # peak RSS of a short session (untimed)
            r = self.client("short", self.targets[n], ["--sessions", "3", "--rss"], a.timeout)
            if self.check(f"short RSS {n}", r):
                self.rss_short[n] = int(r["rss_kb"])

    # ---- callgrind

    def callgrind(self, mode, target_argv, extra, jail=None, preload=None):
        """Instructions (Ir) of the helper process for one client run."""
        # valgrind creates its output file at start (outside the jail) and
        # writes it at exit (inside): a jailed helper is given a path that
        # exists both ways, the jail directory itself, which inside the jail
        # is the copy of that path made under it.
        prefix = f"cg.{mode}.{time.monotonic_ns()}"
        if jail:
            out_arg = os.path.join(jail, prefix + ".%p")
            out_dir = os.path.join(jail, jail.lstrip("/"))
        else:
            out_arg = os.path.join(self.tmp, prefix + ".%p")
            out_dir = self.tmp
        vg = [self.a.valgrind, "-q", "--vgdb=no", "--tool=callgrind",
              f"--callgrind-out-file={out_arg}"]
        argv = vg + target_argv + (["-J", jail] if jail else [])
        r = self.client(mode, argv, extra, self.a.cg_timeout, preload)
        if not self.check(f"callgrind {mode} {target_argv[0]}", r):
            return None, None
        files = [f for f in os.listdir(out_dir) if f.startswith(prefix + ".")]
        if len(files) != 1:
            self.failures.append(f"callgrind {mode}: expected one output file, got {files}")
            return None, None
        path = os.path.join(out_dir, files[0])
        with open(path, errors="replace") as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    ir = int(line.split()[1])
                    break
            else:
                ir = None
        keep = os.path.join(self.a.profile_dir or self.tmp, f"callgrind.{mode}.{files[0]}")
        shutil.move(path, keep)
        return ir, keep

    def run_callgrind(self):
        a = self.a
        self.cg = {}
        self.cg_files = {}
        if not a.valgrind:
            self.notes.append("valgrind not found: no instruction counts")
            return
        jail = None
        if self.root and ("ours-jailed" in self.targets or "debian" in self.targets):
            jail = tempfile.mkdtemp(prefix="tws-bench-jail.")
            os.chmod(jail, 0o755)
            inner = os.path.join(jail, jail.lstrip("/"))
            os.makedirs(inner)
            os.chmod(inner, 0o1777)  # the jailed helper runs as a uid of its own
        shim = a.shim if a.shim and os.path.exists(a.shim) else None
        print("callgrind ...", file=sys.stderr, flush=True)

        def median_ir(mode, argv, extra, jail_dir=None, preload=None, runs=3, key=None):
            vals = []
            for _ in range(runs):
                ir, path = self.callgrind(mode, argv, extra, jail_dir, preload)
                if ir is None:
                    return None
                vals.append(ir)
                if key:
                    self.cg_files[key] = path
            return statistics.median(vals)

        short = ["--sessions", "1"]
        self.cg["ours.short"] = median_ir("short", [self.nojail], short, key="ours.short")
        if self.baseline_nojail:
            self.cg["baseline.short"] = median_ir("short", [self.baseline_nojail], short)
        if shim:
            self.cg["shim"] = None
            with_shim = median_ir("short", [self.nojail], short, preload=shim)
            if with_shim is not None and self.cg["ours.short"] is not None:
                self.cg["shim"] = with_shim - self.cg["ours.short"]
            if jail and "ours-jailed" in self.targets:
                self.cg["ours-jailed.short"] = median_ir("short", [a.helper], short, jail, shim,
                                                         key="ours-jailed.short")
            if jail and a.baseline_helper:
                self.cg["baseline-jailed.short"] = median_ir("short", [a.baseline_helper], short,
                                                             jail, shim)
            if jail and "debian" in self.targets:
                self.cg["debian.short"] = median_ir("short", [a.debian], short, jail, shim,
                                                    key="debian.short")
        elif jail:
            self.notes.append("no shim: the jailed helpers cannot be counted under valgrind")

        def per_byte(mode, argv, small, big, jail_dir=None, preload=None, dots=False, key=None):
            extra = ["--dots"] if dots else []
            lo = median_ir(mode, argv, ["--bytes", str(small)] + extra, jail_dir, preload, 1)
            hi = median_ir(mode, argv, ["--bytes", str(big)] + extra, jail_dir, preload, 1,
                           key=key)
            if lo is None or hi is None:
                return None
            # whole 78-byte lines, as the client makes them
            size = lambda n: (n + 77) // 78 * 78
            return (hi - lo) / (size(big) - size(small))

        s, b = a.cg_bytes
        self.cg["ours.data"] = per_byte("data", [self.nojail], s, b, key="ours.data")
        self.cg["ours.bdat"] = per_byte("bdat", [self.nojail], s, b, key="ours.bdat")
        self.cg["ours.data.dots"] = per_byte("data", [self.nojail], s, b, dots=True)
        self.cg["relay.data"] = per_byte("data", [a.relay], s, b)
        if shim and jail and "debian" in self.targets:
            ds, db = a.cg_debian_bytes
            self.cg["debian.data"] = per_byte("data", [a.debian], ds, db, jail, shim,
                                              key="debian.data")
        if jail:
            shutil.rmtree(jail, ignore_errors=True)

    # ---- the table

    def report(self):
        a = self.a
        names = list(self.targets)
        med = lambda xs: statistics.median(xs) if xs else None

        def fmt(v, spec="{:.0f}"):
            return "-" if v is None else spec.format(v)

        def spread(xs):
            return f"[{min(xs):.0f}-{max(xs):.0f}]" if len(xs) > 1 else ""

        try:
            load = open("/proc/loadavg").read().split()[:3]
        except OSError:
            load = ["?"] * 3
        lines = (a.bytes + 77) // 78
        print()
        print("tlswrapper-smtp benchmark")
        print(f"  {os.cpu_count()} CPUs, load average {' '.join(load)} at the end, "
              f"nice {a.nice}; {a.rounds} round(s), targets interleaved, medians [min-max]")
        print(f"  helper: {a.helper} (source {source_version()})")
        if a.baseline_helper:
            print(f"  baseline: {a.baseline_helper} (counted in the same run)")
        print(f"  environment: {len(self.env)} variables (the dynamic loader reads each at "
              f"start-up: instruction counts grow with it)")
        print(f"  body: {lines * 78} bytes ({lines} lines of 76 characters + CRLF), "
              f"BDAT in {a.chunk // 1024} KiB chunks, {a.sessions} short sessions a round")
        for n in self.notes:
            print(f"  note: {n}")
        print()
        w = 16
        print(f"{'':24}{'DATA MiB/s':>{w}}{'':14}{'BDAT MiB/s':>{w}}{'':14}"
              f"{'short sess/s':>{w}}{'':14}")
        for n in names:
            row = f"{self.labels[n]:24}"
            for table in (self.data, self.bdat, self.short):
                xs = table[n]
                if table is self.bdat and n == "debian":
                    r = self.debian_bdat or {}
                    cell = ("times out" if r.get("timeout") == "1" else
                            "fails" if r.get("ok") != "1" else "?")
                    row += f"{cell:>{w}}{(' (' + str(a.bdat_timeout) + ' s)'):14}"
                    continue
                row += f"{fmt(med(xs)):>{w}}{spread(xs):14}"
            print(row)
        print()
        print(f"{'peak RSS (VmHWM, KiB)':24}{'big DATA':>{w}}{'':14}{'short':>{w}}")
        for n in names:
            print(f"{self.labels[n]:24}{fmt(max(self.rss_data[n]) if self.rss_data[n] else None):>{w}}"
                  f"{'':14}{fmt(self.rss_short.get(n)):>{w}}")
        cg = getattr(self, "cg", {})
        if cg:
            shim = cg.get("shim")
            print()
            print("user-space instructions (callgrind)   per short session   per DATA byte"
                  "   per BDAT byte")
            print(f"  ours, nojail{'':27}{fmt(cg.get('ours.short')):>14}"
                  f"{fmt(cg.get('ours.data'), '{:.3f}'):>16}{fmt(cg.get('ours.bdat'), '{:.3f}'):>16}")
            print(f"  ours, nojail, '.' in every line{'':8}{'':>14}"
                  f"{fmt(cg.get('ours.data.dots'), '{:.3f}'):>16}")
            if cg.get("ours-jailed.short") is not None:
                corr = cg["ours-jailed.short"] - (shim or 0)
                print(f"  ours, jailed (shim subtracted){'':9}{fmt(corr):>14}")
                print(f"  ours, jailed (whole process, shim in){'':2}"
                      f"{fmt(cg['ours-jailed.short']):>14}")
            if cg.get("baseline.short") is not None:
                print(f"  baseline, nojail{'':23}{fmt(cg['baseline.short']):>14}")
            if cg.get("baseline-jailed.short") is not None:
                print(f"  baseline, jailed (whole process){'':7}"
                      f"{fmt(cg['baseline-jailed.short']):>14}")
            if cg.get("debian.short") is not None or cg.get("debian.data") is not None:
                corr = cg["debian.short"] - (shim or 0) if cg.get("debian.short") else None
                print(f"  debian, jailed (shim subtracted){'':7}{fmt(corr):>14}"
                      f"{fmt(cg.get('debian.data'), '{:.2f}'):>16}{'cannot':>16}")
            print(f"  relay (floor){'':26}{'':>14}{fmt(cg.get('relay.data'), '{:.3f}'):>16}")
            if shim is not None and (cg.get("ours-jailed.short") or cg.get("debian.short")):
                print(f"  (jailed helpers run with bench/valgrind_shim.so preloaded; its own "
                      f"cost, {shim:.0f}, is subtracted)")
        self.print_targets()
        if a.profile_dir or a.top:
            self.print_profiles()

    def print_targets(self):
        med = lambda xs: statistics.median(xs) if xs else None
        cg = getattr(self, "cg", {})
        shim = cg.get("shim") or 0
        rows = []

        def ratio(label, num, den, op, goal):
            if num is None or den is None or den == 0:
                rows.append((label, None, op, goal, None))
                return
            v = num / den
            ok = v >= goal if op == ">=" else v <= goal
            rows.append((label, v, op, goal, ok))

        for n in ("ours", "ours-jailed"):
            if n not in self.targets:
                continue
            tag = self.labels[n]
            for mode, table in (("DATA", self.data), ("BDAT", self.bdat)):
                ratio(f"{mode} {tag} / relay", med(table[n]), med(table["relay"]), ">=", 0.85)
                if "debian" in self.targets and mode == "DATA":
                    ratio(f"{mode} {tag} / debian", med(table[n]), med(table["debian"]), ">=", 5)
            if "debian" in self.targets:
                ratio(f"sessions/s {tag} / debian", med(self.short[n]), med(self.short["debian"]),
                      ">=", 1.0)
                ratio(f"peak RSS {tag} / debian (short)", self.rss_short.get(n),
                      self.rss_short.get("debian"), "<=", 1.0)
                if self.rss_data[n] and self.rss_data["debian"]:
                    ratio(f"peak RSS {tag} / debian (big DATA)", max(self.rss_data[n]),
                          max(self.rss_data["debian"]), "<=", 1.0)
        if cg.get("debian.short"):
            deb = cg["debian.short"] - shim
            ratio("instr/session ours, nojail / debian", cg.get("ours.short"), deb, "<=", 0.75)
            if cg.get("ours-jailed.short"):
                ratio("instr/session ours, jailed / debian", cg["ours-jailed.short"] - shim, deb,
                      "<=", 0.75)
        # Issue 21: a short session back to what it cost before the round
        # that added the TLS policy and UCSPI-TLS (236 k at e912a61), counted
        # as the issue counted it: the jailed helper's whole process.
        v = cg.get("ours-jailed.short")
        if v is not None:
            rows.append(("instr/session ours, jailed, shim in (absolute)", v, "<=",
                         SHORT_SESSION_GOAL, v <= SHORT_SESSION_GOAL))
        for mine, base, tag in (("ours.short", "baseline.short", "nojail"),
                                ("ours-jailed.short", "baseline-jailed.short", "jailed")):
            if cg.get(base):
                ratio(f"instr/session ours, {tag} / baseline", cg.get(mine), cg[base], "<=",
                      BASELINE_SLACK)
        for key, label in (("ours.data", "DATA"), ("ours.bdat", "BDAT")):
            v = cg.get(key)
            if v is not None:
                rows.append((f"instr/byte ours {label} (absolute)", v, "<=", 2, v <= 2))
        if "debian" in self.targets:
            r = self.debian_bdat or {}
            rows.append(("BDAT debian / relay (x5 target)", None, "", "",
                         None if r.get("ok") == "1" else "n/a: Debian cannot do BDAT"))
        print()
        print("targets (issue 7; the instructions of a short session: issue 21)")
        for label, v, op, goal, ok in rows:
            verdict = ok if isinstance(ok, str) else ("-" if ok is None else
                                                      ("MET" if ok else "MISSED"))
            vs = "-" if v is None else f"{v:.0f}" if v >= 1000 else f"{v:.2f}"
            print(f"  {label:44}{vs:>10}  {op} {goal!s:5}  {verdict}")

    def print_profiles(self):
        tool = shutil.which("callgrind_annotate")
        if not tool:
            return
        for key, path in sorted(getattr(self, "cg_files", {}).items()):
            print()
            print(f"hot spots: {key} ({path})")
            p = subprocess.run([tool, "--inclusive=no", "--threshold=99", path],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            rows = [l for l in p.stdout.splitlines() if re.match(r"\s*[\d,]+ \(", l)]
            for l in rows[1:1 + self.a.top]:  # the first row is the total
                l = re.sub(r"\s+\[[^\]]*\]$", "", l)  # the object file
                print("  " + l[:140])


def default_debian():
    """Debian's helper. With the tlswrapper-smtp package installed, ours is
    /usr/bin/tlswrapper-smtp and Debian's is diverted to .distrib."""
    diverted = "/usr/bin/tlswrapper-smtp.distrib"
    return diverted if os.path.lexists(diverted) else "/usr/bin/tlswrapper-smtp"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--client", required=True)
    ap.add_argument("--sink", required=True)
    ap.add_argument("--relay", required=True)
    ap.add_argument("--helper", required=True, help="our tlswrapper-smtp (the -nojail link "
                    "next to it is used too)")
    ap.add_argument("--shim", help="bench/valgrind_shim.so, to count the jailed helpers")
    ap.add_argument("--baseline-helper", help="another build of our tlswrapper-smtp (an "
                    "earlier commit's, say) whose short session is counted in the same run, "
                    "nojail and jailed, and compared")
    ap.add_argument("--debian", default=default_debian(),
                    help="Debian's helper (default: %(default)s)")
    ap.add_argument("--valgrind", default="valgrind")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--bytes", type=parse_size, default=256 * MIB)
    ap.add_argument("--chunk", type=parse_size, default=MIB)
    ap.add_argument("--sessions", type=int, default=500)
    ap.add_argument("--timeout", type=int, default=120, help="seconds for one client run")
    ap.add_argument("--bdat-timeout", type=int, default=10,
                    help="seconds before Debian's BDAT run is declared stuck")
    ap.add_argument("--cg-timeout", type=int, default=900)
    ap.add_argument("--cg-bytes", type=parse_size, nargs=2, default=[4 * MIB, 20 * MIB],
                    metavar=("SMALL", "BIG"), help="body sizes whose difference gives "
                    "instructions per byte (ours, relay)")
    ap.add_argument("--cg-debian-bytes", type=parse_size, nargs=2, default=[2 * MIB, 6 * MIB],
                    metavar=("SMALL", "BIG"))
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--top", type=int, default=12, help="hot functions shown per profile")
    ap.add_argument("--profile-dir", help="keep the callgrind files here")
    ap.add_argument("--nice", type=int, default=5, help="run at this niceness (shared machine)")
    ap.add_argument("--smoke", action="store_true",
                    help="a quick run that proves the benchmark works (ctest bench.smoke)")
    a = ap.parse_args()
    if a.smoke:
        a.rounds, a.bytes, a.sessions = 1, 4 * MIB, 5
        a.bdat_timeout, a.timeout = 3, 60
        a.cg_bytes, a.cg_debian_bytes = [256 * 1024, MIB], [64 * 1024, 256 * 1024]
        a.top = 0
    if a.valgrind:
        a.valgrind = shutil.which(a.valgrind)  # the client runs paths, it does not search
    if a.nice:
        os.nice(a.nice)
    if a.profile_dir:
        os.makedirs(a.profile_dir, exist_ok=True)
    for name in ("client", "sink", "relay", "helper", "shim", "baseline_helper"):
        path = getattr(a, name)
        if path:
            setattr(a, name, os.path.abspath(path))
        elif name == "baseline_helper":
            continue
        if name != "shim" and not os.access(getattr(a, name), os.X_OK):
            sys.exit(f"bench.py: {path} is not an executable")
    b = Bench(a)
    try:
        b.run_timed()
        if not a.no_callgrind:
            b.run_callgrind()
        b.report()
    finally:
        shutil.rmtree(b.tmp, ignore_errors=True) if not a.profile_dir else None
    if b.failures:
        print("\nFAILED (a body was not verified, or a run did not finish):")
        for f in b.failures:
            print("  " + f)
        return 1
    print("\nevery message body was verified byte for byte by the sink")
    return 0


if __name__ == "__main__":
    sys.exit(main())
