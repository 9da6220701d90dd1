#!/usr/bin/env python3
"""man.environment: the per-client variables the program reads (the rows of
kVariables in src/client_policy.cc) are those the manual page's
ENVIRONMENT section lists under "Per-client policy" and those -h prints.

usage: environment.py CLIENT_POLICY_CC HELPER MANPAGE
"""
import re
import subprocess
import sys


def main():
    source, helper, manpage = sys.argv[1:4]
    code = open(source, encoding="utf-8").read()
    table = code[code.index("kVariables[] = {"):]
    table = table[:table.index("\n};")]
    rows = re.findall(r'^    \{"([A-Z_]+)",', table, re.M)
    page = open(manpage, encoding="utf-8").read()
    env = page[page.index(".SH ENVIRONMENT"):]
    env = env[:env.index("\n.SH ", 1)]
    per_client = env[env.index(".SS Per-client policy"):]
    listed = re.findall(r"^\.TP\n\.B ([A-Z_]+)$", per_client, re.M)
    helped = re.findall(r"^  ([A-Z_]+) +\S", subprocess.run(
        [helper, "-h"], capture_output=True, text=True, timeout=20).stdout, re.M)
    print("program reads:", " ".join(rows))
    print("manual lists: ", " ".join(listed))
    print("-h prints:    ", " ".join(helped))
    failures = []
    if not rows:
        failures.append("no rows found in " + source)
    if rows != listed:
        failures.append("ENVIRONMENT's per-client list differs from the program's table")
    if rows != helped:
        failures.append("-h differs from the program's table")
    for f in failures:
        print("not ok -", f)
    print("man.environment:", "FAIL" if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
