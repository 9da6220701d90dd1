#!/usr/bin/env python3
"""man.endings: the manual page's ENDINGS section is the table kEndings of
src/session.cc, and that table is the enum Ending of src/session.h.

- kEndings has one row per Ending value, in the enum's order (read from
  session.h, so adding an Ending without a row fails);
- ENDINGS lists one entry per row, in that order, headed by the row's log
  text, and no other entry;
- each entry opens with the row's level ("(warning)", "(info, with -v)",
  ...), names the reply the row sends (its text from src/constants.h),
  says "dropped" exactly when the row drops the child, and gives the
  status (111, or prog's own).

The rows may be written positionally ({Ending::Quit, LogLevel::Debug, ...})
or with designated initializers ({.ending = Ending::Quit, ...}); a member
a row leaves out takes its default from struct EndingRule.

usage: endings.py SESSION_CC CONSTANTS_H MANPAGE [SESSION_H]
(SESSION_H defaults to session.h beside SESSION_CC)
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from constants import c_string, render  # noqa: E402

# What each level's entry opens with (the LOGGING section's names).
LEVEL_PHRASE = {
    "Error": "(error)",
    "Warning": "(warning)",
    "Info": "(info, with -v)",
    "Debug": "(debug, with -vv)",
    "Trace": "(tracing, with -vvv)",
}
MEMBERS = ("ending", "level", "log", "reply", "status", "drop")


class ParseError(Exception):
    pass


def strip_comments(src):
    """C++ source without // and /* */ comments (string literals kept)."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(src[i:j + 1])
            i = j + 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            out.append(" ")
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def split_top(text, sep=","):
    """`text` split at `sep` outside braces, parentheses and strings."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        if c == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c in "{(":
            depth += 1
        elif c in "})":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def braced(text, open_at):
    """The text inside the brace at `open_at` and the index after its close."""
    depth, i = 0, open_at
    while i < len(text):
        c = text[i]
        if c == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[open_at + 1:i], i + 1
        i += 1
    raise ParseError("unbalanced braces")


def enum_values(session_h):
    src = strip_comments(open(session_h, encoding="utf-8").read())
    m = re.search(r"enum\s+class\s+Ending\s*(?::\s*[\w:]+\s*)?\{", src)
    if not m:
        raise ParseError("no enum class Ending in %s" % session_h)
    body, _ = braced(src, m.end() - 1)
    names = []
    for item in split_top(body):
        n = re.fullmatch(r"(\w+)(?:\s*=\s*.+)?", item, re.S)
        if not n:
            raise ParseError("enum Ending: cannot read %r" % item)
        names.append(n.group(1))
    return names


def value(expr):
    """A member's value as the tests compare it."""
    expr = " ".join(expr.split())
    if expr.startswith('"'):
        return c_string(expr)
    if expr in ("{}", "std::string_view{}", "std::string_view()", '""'):
        return ""
    return expr


def rule_members(src):
    """EndingRule's members in order, each with its default value."""
    m = re.search(r"struct\s+EndingRule\s*\{", src)
    if not m:
        raise ParseError("no struct EndingRule")
    body, _ = braced(src, m.end() - 1)
    members = []
    for decl in split_top(body, ";"):
        d = re.fullmatch(r"(.+?)\s+(\w+)\s*(?:=\s*(.+)|\{(.*)\})?", decl, re.S)
        if not d:
            raise ParseError("EndingRule: cannot read %r" % decl)
        kind, name = d.group(1), d.group(2)
        default = d.group(3) if d.group(3) is not None else d.group(4)
        if default is None or not default.strip():
            default = {"bool": "false", "int": "0"}.get(kind.strip(), "")
        members.append((name, value(default)))
    missing = [n for n in MEMBERS if n not in dict(members)]
    if missing:
        raise ParseError("EndingRule has no member %s (update man/tests/endings.py)"
                         % ", ".join(missing))
    return members


def rows(session_cc):
    src = strip_comments(open(session_cc, encoding="utf-8").read())
    members = rule_members(src)
    m = re.search(r"EndingRule\s+kEndings\s*\[\s*\w*\s*\]\s*=\s*\{", src)
    if not m:
        raise ParseError("no kEndings table")
    table, _ = braced(src, m.end() - 1)
    found = []
    for item in split_top(table):
        if not item.startswith("{"):
            raise ParseError("kEndings: not a braced row: %r" % item[:60])
        inner, end = braced(item, 0)
        if item[end:].strip():
            raise ParseError("kEndings: cannot read %r" % item[:60])
        fields = split_top(inner)
        row = dict(members)
        if fields and all(f.startswith(".") for f in fields):
            for f in fields:
                d = re.fullmatch(r"\.(\w+)\s*=\s*(.+)", f, re.S) or \
                    re.fullmatch(r"\.(\w+)\s*(\{.*\})", f, re.S)
                if not d or d.group(1) not in row:
                    raise ParseError("kEndings: unknown member in %r" % f)
                row[d.group(1)] = value(d.group(2))
        elif any(f.startswith(".") for f in fields) or len(fields) > len(members):
            raise ParseError("kEndings: cannot read row %r" % inner[:60])
        else:
            for (name, _), f in zip(members, fields):
                row[name] = value(f)
        e = re.fullmatch(r"(?:Ending::)(\w+)", row["ending"])
        lv = re.fullmatch(r"(?:LogLevel::)(\w+)", row["level"])
        if not e or not lv or row["drop"] not in ("true", "false"):
            raise ParseError("kEndings: cannot read row %r" % inner[:60])
        found.append({"name": e.group(1), "level": lv.group(1), "log": row["log"],
                      "reply": row["reply"], "status": row["status"],
                      "drop": row["drop"] == "true"})
    return found


def roff_tags(manpage):
    """The tags of the .TP entries of the ENDINGS section, as plain text."""
    lines = open(manpage, encoding="utf-8").read().split("\n")
    try:
        start = lines.index(".SH ENDINGS")
    except ValueError:
        return None
    tags = []
    for i in range(start + 1, len(lines)):
        if lines[i].startswith(".SH"):
            break
        if lines[i].startswith(".TP") and i + 1 < len(lines):
            tag = re.sub(r"^\.[A-Z]+\s*", "", lines[i + 1])
            tag = tag.replace('"', "").replace("\\-", "-").replace("\\(aq", "'")
            tags.append(re.sub(r"\\f[BIRP]", "", tag).strip())
    return tags


def main():
    session_cc, constants_h, manpage = sys.argv[1:4]
    session_h = sys.argv[4] if len(sys.argv) > 4 else \
        os.path.join(os.path.dirname(session_cc), "session.h")
    consts = open(constants_h, encoding="utf-8").read()
    try:
        names = enum_values(session_h)
        table = rows(session_cc)
    except ParseError as e:
        print("not ok - %s" % e)
        print("man.endings: FAIL")
        return 1
    failures = 0

    def report(ok, what):
        nonlocal failures
        print("%s - %s" % ("ok" if ok else "not ok", what))
        failures += not ok
        return ok

    report([r["name"] for r in table] == names,
           "kEndings has one row per Ending, in the enum's order: enum %s, rows %s"
           % (names, [r["name"] for r in table]))
    tags = roff_tags(manpage)
    if not report(tags is not None, "the page has an ENDINGS section"):
        print("man.endings: FAIL")
        return 1
    report(tags == [r["log"] for r in table],
           "ENDINGS lists exactly the rows' log texts, in order; extra: %s, missing: %s"
           % ([t for t in tags if t not in [r["log"] for r in table]],
              [r["log"] for r in table if r["log"] not in tags]))

    page = render(manpage)
    start, end = page.find(" ENDINGS "), page.find(" THE JAIL ")
    section = page[start:end] if 0 <= start < end else ""
    at = 0
    for i, row in enumerate(table):
        head = " " + row["log"] + " "
        entry_at = section.find(head, at)
        nxt = section.find(" " + table[i + 1]["log"] + " ", entry_at + len(head)) \
            if i + 1 < len(table) else -1
        if nxt < 0:
            nxt = len(section)
        what = "%s: %r" % (row["name"], row["log"])
        if entry_at < 0:
            report(False, what + ": no entry")
            continue
        entry = section[entry_at + len(head):nxt]
        at = entry_at + len(head)
        problems = []
        phrase = LEVEL_PHRASE.get(row["level"])
        if phrase is None or not entry.startswith(phrase):
            problems.append("does not open with %s (level %s)" % (phrase, row["level"]))
        if row["reply"]:
            m = re.search(r"\b%s\s*=\s*((?:\"(?:[^\"\\]|\\.)*\"\s*)+);"
                          % row["reply"].split("::")[-1], consts)
            if m is None or c_string(m.group(1)) not in entry:
                problems.append("does not name the reply %s" % row["reply"])
        elif re.search(r"\b[45]\d\d \d\.\d+\.\d+ ", entry):
            problems.append("names a reply the row does not send")
        if row["status"] == "kExitTemporary":
            if "status 111" not in entry:
                problems.append("does not say status 111")
        elif row["status"] == "kExitChildStatus":
            if "exit status is prog's own" not in entry:
                problems.append("does not say the status is prog's own")
        else:
            problems.append("status %s unknown to this test" % row["status"])
        if bool(re.search(r"\bdropped\b", entry)) != row["drop"]:
            problems.append("says dropped" if not row["drop"] else "does not say dropped")
        report(not problems, what + (": " + "; ".join(problems) if problems else ""))
    print("man.endings: %s (%d rows)" % ("FAIL" if failures else "PASS", len(table)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
