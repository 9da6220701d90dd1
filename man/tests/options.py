#!/usr/bin/env python3
"""man.options: the options the program accepts are the options the manual
page documents, with the same arity, in OPTIONS and in SYNOPSIS.

The program's side is asked of the binary itself: `HELPER -X` alone, for
every letter and digit X, makes the real parser answer "unknown option -X",
"option -X needs a value" (an option with a value) or "no program to run"
(a flag), always with exit status 100 and before anything is started; -h
alone prints the usage on stdout and exits 0. Every option the help lists
is one the parser accepts.

usage: options.py HELPER MANPAGE
"""
import re
import string
import subprocess
import sys


def probe(helper):
    """{letter: 'flag' | 'value'} for every option the parser accepts."""
    accepted, problems = {}, []
    for c in string.ascii_letters + string.digits:
        r = subprocess.run([helper, "-" + c], stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, errors="replace", timeout=20, env={"PATH": "/usr/bin:/bin"})
        err = r.stderr
        if c == "h":
            # -h alone: the usage with every option on stdout, exit 0.
            if r.returncode == 0 and r.stdout.startswith("usage: ") and not err:
                accepted[c] = "flag"
            else:
                problems.append(f"-h: exit status {r.returncode}, stdout {r.stdout[:80]!r}, "
                                f"stderr {err.strip()!r}; expected the usage on stdout, exit 0")
            continue
        if r.returncode != 100:
            problems.append(f"-{c}: exit status {r.returncode}, expected 100: {err.strip()!r}")
        elif f"unknown option -{c}" in err:
            continue
        elif f"option -{c} needs a value" in err:
            accepted[c] = "value"
        elif "no program to run" in err:
            accepted[c] = "flag"
        else:
            problems.append(f"-{c}: unexpected answer {err.strip()!r}")
    return accepted, problems


def sections(page):
    out, name = {}, None
    for line in page.splitlines():
        m = re.match(r'\.SH\s+"?([^"]*)"?\s*$', line)
        if m:
            name = m.group(1).strip()
            out[name] = []
        elif name:
            out[name].append(line)
    return out


def documented_options(lines):
    """OPTIONS: a .TP tag `.B \\-x` is a flag, `.BI \\-x " value"` takes one."""
    found = {}
    for prev, line in zip(lines, lines[1:]):
        if prev.strip() != ".TP":
            continue
        m = re.match(r'\.B\s+\\-([A-Za-z0-9])\s*$', line)
        if m:
            found[m.group(1)] = "flag"
            continue
        m = re.match(r'\.BI\s+\\-([A-Za-z0-9])\s+"\s*\S', line)
        if m:
            found[m.group(1)] = "value"
            continue
        if re.match(r'\.\w+\s+\\-', line):
            raise SystemExit(f"OPTIONS: cannot read the tag {line!r}")
    return found


def synopsis_options(lines):
    """SYNOPSIS (up to the first .PP): `.RB [ \\-qv ]` are flags,
    `.RB [ \\-t` followed by `.IR value ]` takes a value."""
    found = {}
    for line in lines:
        if line.strip() == ".PP":
            break
        m = re.match(r'\.RB\s+\[\s*\\-([A-Za-z0-9]+)\s*\]\s*$', line)
        if m:
            for c in m.group(1):
                found[c] = "flag"
            continue
        m = re.match(r'\.RB\s+\[\s*\\-([A-Za-z0-9])\s*$', line)
        if m:
            found[m.group(1)] = "value"
    return found


def compare(where, program, page):
    bad = []
    for c in sorted(set(program) | set(page)):
        p, d = program.get(c), page.get(c)
        if p and not d:
            bad.append(f"-{c} ({p}) is accepted by the program but missing from {where}")
        elif d and not p:
            bad.append(f"-{c} ({d}) is in {where} but the program answers 'unknown option -{c}'")
        elif p != d:
            bad.append(f"-{c}: the program treats it as a {p}, {where} as a {d}")
    return bad


def main():
    helper, manpage = sys.argv[1], sys.argv[2]
    program, problems = probe(helper)
    page = sections(open(manpage, encoding="utf-8").read())
    print("program accepts:", " ".join(f"-{c}{'' if k == 'flag' else ' VALUE'}"
                                       for c, k in sorted(program.items())))
    failures = list(problems)
    help_text = subprocess.run([helper, "-h"], capture_output=True, text=True, timeout=20).stdout
    listed = set(re.findall(r"^  -([A-Za-z0-9]) ", help_text, re.M))
    if listed != set(program):
        failures.append(f"-h lists {sorted(listed)}, the parser accepts {sorted(program)}")
    if "q" not in program or "v" not in program:
        failures.append("the probe did not recognise -q and -v: it cannot be trusted")
    for name, reader in (("OPTIONS", documented_options), ("SYNOPSIS", synopsis_options)):
        if name not in page:
            failures.append(f"no {name} section in {manpage}")
            continue
        documented = reader(page[name])
        print(f"{name} documents:", " ".join(f"-{c}{'' if k == 'flag' else ' VALUE'}"
                                             for c, k in sorted(documented.items())))
        failures += compare(f"the manual page's {name}", program, documented)
    for f in failures:
        print("not ok -", f)
    print("man.options:", "FAIL" if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
