// Fuzz target: the command machine (parse_command) on one line of any
// bytes, checked against a plain reading of the same rules.
//
// Invariants:
// - every view in the Command (args, address, params) lies inside the line;
// - the verb is recognised exactly when the line starts with a known verb
//   (any case) followed by the end or SP, TAB or CR;
// - args is what follows the verb, with SP, TAB and CR trimmed both ends;
// - BDAT: chunk_ok exactly when args is digits [ws LAST] ws* and the size
//   fits 64 bits, with the size and LAST read right;
// - MAIL/RCPT: path_ok only after FROM: or TO:, a bracketed address is
//   closed by '>' right after it;
// - the same bytes parse the same way again (no hidden state).
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_target.h"
#include "smtp_grammar.h"

namespace {

using tws::Command;
using tws::Verb;
using tws::fuzz::check;

char upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

bool istarts(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (upper(s[i]) != prefix[i]) return false;
  return true;
}

bool space(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

bool inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

struct Known {
  std::string_view name;
  Verb verb;
};
constexpr Known kVerbs[] = {
    {"EHLO", Verb::Ehlo}, {"HELO", Verb::Helo}, {"MAIL", Verb::Mail},         {"RCPT", Verb::Rcpt},
    {"DATA", Verb::Data}, {"BDAT", Verb::Bdat}, {"STARTTLS", Verb::StartTls}, {"RSET", Verb::Rset},
    {"NOOP", Verb::Noop}, {"QUIT", Verb::Quit}, {"AUTH", Verb::Auth},
};

// BDAT's arguments by hand: digits, optional LAST, trailing blanks.
bool reference_bdat(std::string_view a, std::uint64_t* size, bool* last) {
  std::size_t i = 0;
  std::uint64_t v = 0;
  while (i < a.size() && a[i] >= '0' && a[i] <= '9') {
    std::uint64_t d = static_cast<std::uint64_t>(a[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
    ++i;
  }
  if (i == 0) return false;
  *size = v;
  *last = false;
  std::size_t blanks = i;
  while (i < a.size() && (a[i] == ' ' || a[i] == '\t')) ++i;
  if (i < a.size() && i > blanks && istarts(a.substr(i), "LAST")) {
    *last = true;
    i += 4;
  }
  while (i < a.size() && (a[i] == ' ' || a[i] == '\t')) ++i;
  return i == a.size();
}

}  // namespace

TWS_FUZZ_TARGET(command) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  Command c = tws::parse_command(line);
  check(inside(c.args, line) && inside(c.address, line) && inside(c.params, line),
        "command: a view outside the line");

  Verb want = Verb::Other;
  std::size_t verb_length = 0;
  for (const Known& k : kVerbs)
    if (istarts(line, k.name) && (line.size() == k.name.size() || space(line[k.name.size()]))) {
      want = k.verb;
      verb_length = k.name.size();
    }
  check(c.verb == want, "command: verb differs from the plain reading");
  if (want == Verb::Other) {
    check(c.args.empty() && !c.path_ok && !c.chunk_ok, "command: Other with arguments");
  } else {
    check(c.args == trim(line.substr(verb_length)), "command: args are not the trimmed rest");
  }

  if (c.verb == Verb::Bdat) {
    std::uint64_t size_ = 0;
    bool last = false;
    bool ok = reference_bdat(c.args, &size_, &last);
    check(c.chunk_ok == ok, "command: BDAT size accepted differently");
    if (ok)
      check(c.chunk_size == size_ && c.chunk_last == last, "command: BDAT size or LAST misread");
  } else {
    check(!c.chunk_ok, "command: chunk size outside BDAT");
  }

  if (c.path_ok) {
    check(c.verb == Verb::Mail || c.verb == Verb::Rcpt, "command: path outside MAIL/RCPT");
    // Either keyword for either verb, as tests/command_test.cc wants
    // ("MAIL TO:<a@b>" reads a@b): the child judges the keyword.
    check(istarts(c.args, "FROM:") || istarts(c.args, "TO:"), "command: path without FROM:/TO:");
    const char* end = c.address.data() + c.address.size();
    bool bracketed = c.address.data() > c.args.data() && c.address.data()[-1] == '<';
    if (bracketed)
      check(end < c.args.data() + c.args.size() && *end == '>', "command: '<' not closed");
    check(c.params == trim(c.params), "command: params not trimmed");
  } else {
    check(c.address.empty() && c.params.empty(), "command: address without a path");
  }

  std::string copy(line);
  Command again = tws::parse_command(copy);
  check(again.verb == c.verb && again.args == c.args && again.path_ok == c.path_ok &&
            again.address == c.address && again.params == c.params &&
            again.chunk_ok == c.chunk_ok && again.chunk_size == c.chunk_size &&
            again.chunk_last == c.chunk_last,
        "command: a second parse differs");
  return 0;
}
