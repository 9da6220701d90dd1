#!/usr/bin/env python3
"""man.constants: what src/constants.h says is what the manual page says.
Every reply text the helper writes itself, the limits, the defaults and
ranges of -t/-T, the jail's directory, ids and memory, and the exit
statuses must appear in the rendered page (groff -man -Tascii, whitespace
collapsed). A constant this script does not know fails the test: document
it, or list it below as internal.

usage: constants.py CONSTANTS_H MANPAGE
"""
import re
import subprocess
import sys

# Constants that are not part of what the admin sees, and why.
INTERNAL = {
    "kExitChildStatus": "a marker, not a status",
    "kMaxClientOutput": "buffer of replies waiting for a slow client",
    "kChildGraceMillis": "SIGTERM to SIGKILL delay for a child that will not stop",
    "kJailMaxDescriptor": "descriptors looked at when filling the slots",
    "kControlSignal": "documented as the byte 0x00",
}


def render(manpage):
    out = subprocess.run(["groff", "-man", "-Tascii", "-P-cbou", "-rLL=250n", manpage],
                         capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin",
                                                                         "LC_ALL": "C"}).stdout
    # Undo hyphenation at line ends, then collapse whitespace.
    out = re.sub(r"(\w)-\n\s*(\w)", r"\1\2", out)
    return " ".join(out.split())


def c_string(literals):
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', literals)
    text = "".join(parts)
    text = text.replace("\\r", "\r").replace("\\n", "\n").replace('\\"', '"').replace("\\0", "\0")
    return text.rstrip("\r\n")


def number(expr):
    expr = re.sub(r"(?<=\d)(?:ul|UL|u|U|l|L)\b", "", expr)
    if not re.fullmatch(r"[\d\s*+]+", expr):
        raise ValueError(expr)
    return eval(expr)  # digits, + and * only


def main():
    header, manpage = sys.argv[1], sys.argv[2]
    src = open(header, encoding="utf-8").read()
    src = re.sub(r"//[^\n]*", "", src)
    consts = {}
    for m in re.finditer(r"constexpr\s+[\w:<>\s\*]+?\s(k\w+)\s*(?:\{([^}]*)\}|=\s*([^;]+));", src):
        consts[m.group(1)] = (m.group(2) if m.group(2) is not None else m.group(3)).strip()
    text = render(manpage)
    failures, checked = [], 0

    def need(name, phrase):
        nonlocal checked
        checked += 1
        ok = phrase in text
        print(("ok - " if ok else "not ok - ") + f"{name}: {phrase!r}")
        if not ok:
            failures.append(name)

    def size_forms(n):
        forms = [str(n)]
        if n % (1024 * 1024) == 0:
            forms.append(f"{n // (1024 * 1024)} MiB")
        elif n % 1024 == 0:
            forms.append(f"{n // 1024} KiB")
        return forms

    def need_any(name, phrases):
        nonlocal checked
        checked += 1
        hit = [p for p in phrases if p in text]
        print(("ok - " if hit else "not ok - ") + f"{name}: one of {phrases!r}")
        if not hit:
            failures.append(name)

    n = {}
    for name, value in consts.items():
        try:
            n[name] = number(value)
        except ValueError:
            pass
    handled = set(INTERNAL)
    for name, value in consts.items():
        if value.startswith('"') and name not in INTERNAL:
            if name == "kStartTlsKeyword":
                need(name, "250 " + c_string(value))
            elif name == "kDefaultJailDir":
                need(name, "default " + c_string(value))
            else:
                need(name, c_string(value))
            handled.add(name)
    seconds = f"from {n['kMinSeconds']} to {n['kMaxSeconds']} seconds"
    need("kMinSeconds/kMaxSeconds (-t, -T)", seconds)
    need("kDefaultSessionTimeout (-t)", f"{seconds} (default {n['kDefaultSessionTimeout']})")
    need("kDefaultIoTimeout (-T)", f"{seconds} (default {n['kDefaultIoTimeout']})")
    need("kMaxCommandLine", f"Command lines: {n['kMaxCommandLine']} bytes")
    need("kMaxCommandLine (reply 500)", f"a command line over {n['kMaxCommandLine']} bytes")
    need_any("kMaxReplyLine", [f"Reply lines from prog: {f}" for f in size_forms(n['kMaxReplyLine'])])
    need("kMaxPendingCommands", f"Pending commands: {n['kMaxPendingCommands']}")
    need("kMaxLoggedRecipients", f"names the first {n['kMaxLoggedRecipients']}")
    need("kMaxPolicyAnswer", f"at most {n['kMaxPolicyAnswer']} bytes")
    need("kMaxUcspiAnswer", f"at most {n['kMaxUcspiAnswer']} bytes and -T seconds")
    need("kMaxPolicyReplyText", f"at most {n['kMaxPolicyReplyText']} characters")
    need("kMaxLoggedText", f"cut at {n['kMaxLoggedText']} bytes")
    need_any("kReadSize", [f"reads of {f}" for f in size_forms(n['kReadSize'])])
    need("kJailIdBase", f"{n['kJailIdBase']} plus")
    need_any("kJailMemory", [f"RLIMIT_DATA to {f}" for f in size_forms(n['kJailMemory'])])
    need("kMaxGreetDelay (-p)", f"from 0 to {n['kMaxGreetDelay']} seconds; 0, the default, is off")
    need("kMaxGreetDelay (GREETDELAY)", f"from 0 (off) to {n['kMaxGreetDelay']}, in place of -p")
    need("kDefaultGreetDelay", f"or {n['kDefaultGreetDelay']} seconds when -p is off")
    need("kExitUsage", f"exit status {n['kExitUsage']}")
    need("kExitTemporary", f"status {n['kExitTemporary']}")
    handled |= {"kMinSeconds", "kMaxSeconds", "kDefaultSessionTimeout", "kDefaultIoTimeout",
                "kMaxCommandLine", "kMaxReplyLine", "kMaxPendingCommands", "kMaxLoggedRecipients",
                "kMaxPolicyAnswer", "kMaxUcspiAnswer", "kMaxPolicyReplyText", "kMaxLoggedText", "kReadSize",
                "kJailIdBase", "kJailMemory", "kExitUsage", "kExitTemporary", "kMaxGreetDelay",
                "kDefaultGreetDelay"}
    for name in sorted(set(consts) - handled):
        print(f"not ok - {name} = {consts[name]} is new: document it in the manual page and check it "
              f"here, or list it as internal in {sys.argv[0]}")
        failures.append(name)
    print(f"man.constants: {'FAIL' if failures else 'PASS'} ({checked} checks, {len(consts)} constants)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
