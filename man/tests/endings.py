#!/usr/bin/env python3
"""man.endings: the manual page's ENDINGS section is the table kEndings of
src/session.cc. Every row's log text heads an entry, in the table's order;
the entry names the reply the row sends (its text from src/constants.h)
and its status (111, or prog's own); nothing else is listed.

usage: endings.py SESSION_CC CONSTANTS_H MANPAGE
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from constants import c_string, render  # noqa: E402


def rows(session_cc):
    src = open(session_cc, encoding="utf-8").read()
    table = src[src.index("constexpr EndingRule kEndings[] = {"):]
    table = table[:table.index("};")]
    found = []
    field = lambda name: r"(?:\.%s\s*=\s*)?" % name  # positional or designated
    for m in re.finditer(r"\{" + field("ending") + r"Ending::(\w+),\s*" + field("level") +
                         r"LogLevel::\w+,\s*" + field("log") +
                         r"((?:\"(?:[^\"\\]|\\.)*\"\s*)+),\s*" + field("reply") +
                         r"(reply::\w+|\{\}),\s*" + field("status") + r"(\w+),\s*" +
                         field("drop") + r"(true|false)\}", table):
        found.append({"name": m.group(1), "log": c_string(m.group(2)),
                      "reply": m.group(3), "status": m.group(4)})
    return found


def main():
    session_cc, constants_h, manpage = sys.argv[1:4]
    consts = open(constants_h, encoding="utf-8").read()
    page = render(manpage)
    start, end = page.find(" ENDINGS "), page.find(" THE JAIL ")
    if start < 0 or end < start:
        print("not ok - no ENDINGS section")
        return 1
    section = page[start:end]
    table = rows(session_cc)
    failures = 0
    if len(table) < 10:
        print("not ok - only %d rows read from kEndings" % len(table))
        return 1
    positions = []
    for i, row in enumerate(table):
        entry_at = section.find(" " + row["log"] + " ")
        nxt = section.find(" " + table[i + 1]["log"] + " ") if i + 1 < len(table) else len(section)
        ok = entry_at >= 0 and nxt > entry_at
        entry = section[entry_at:nxt] if ok else ""
        if ok and row["reply"] != "{}":
            m = re.search(r"\b%s\s*=\s*((?:\"(?:[^\"\\]|\\.)*\"\s*)+);" % row["reply"].split("::")[1],
                          consts)
            ok = m is not None and c_string(m.group(1)) in entry
        if ok:
            ok = ("status 111" in entry) if row["status"] == "kExitTemporary" else \
                 ("exit status is prog's own" in entry)
        positions.append(entry_at)
        print("%s - %s: %r" % ("ok" if ok else "not ok", row["name"], row["log"]))
        failures += not ok
    if positions != sorted(positions):
        print("not ok - the entries are not in the table's order")
        failures += 1
    print("man.endings: %s (%d rows)" % ("FAIL" if failures else "PASS", len(table)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
