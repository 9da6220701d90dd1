// Fuzz target: the reply machine (parse_reply) and the EHLO keyword
// machine (parse_ehlo_keyword) on one line of any bytes, each checked
// against a plain reading of RFC 5321 4.2 as the helper applies it.
//
// Invariants:
// - ok exactly when the line is three digits then the end, '-' or ' ';
// - code, separator and text (what follows the separator) read right;
// - the text view lies inside the line;
// - a keyword is STARTTLS, CHUNKING or AUTH (any case) exactly when the
//   text starts with it and then ends or has SP, TAB or CR; AUTH also when
//   the text starts with "AUTH=" (the old form).
#include <string_view>

#include "fuzz_target.h"
#include "smtp_grammar.h"

namespace {

using tws::EhloKeyword;
using tws::ReplySeparator;
using tws::fuzz::check;

bool digit(char c) {
  return c >= '0' && c <= '9';
}

char upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

bool keyword_is(std::string_view text, std::string_view word) {
  if (text.size() < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (upper(text[i]) != word[i]) return false;
  if (text.size() == word.size()) return true;
  char next = text[word.size()];
  return next == ' ' || next == '\t' || next == '\r' || (word == "AUTH" && next == '=');
}

EhloKeyword plain_keyword(std::string_view text) {
  return keyword_is(text, "STARTTLS")   ? EhloKeyword::StartTls
         : keyword_is(text, "CHUNKING") ? EhloKeyword::Chunking
         : keyword_is(text, "AUTH")     ? EhloKeyword::Auth
                                        : EhloKeyword::Other;
}

}  // namespace

TWS_FUZZ_TARGET(reply) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  tws::ReplyLine r = tws::parse_reply(line);
  bool want = line.size() >= 3 && digit(line[0]) && digit(line[1]) && digit(line[2]) &&
              (line.size() == 3 || line[3] == '-' || line[3] == ' ');
  check(r.ok == want, "reply: accepted differently from the plain reading");
  if (r.ok) {
    check(r.code == (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'), "reply: code");
    ReplySeparator sep = line.size() == 3 ? ReplySeparator::End
                         : line[3] == '-' ? ReplySeparator::Continue
                                          : ReplySeparator::Last;
    check(r.separator == sep, "reply: separator");
    check(r.last() == (sep != ReplySeparator::Continue), "reply: last()");
    check(r.text == (line.size() > 4 ? line.substr(4) : std::string_view{}), "reply: text");
    if (!r.text.empty())
      check(r.text.data() >= line.data() &&
                r.text.data() + r.text.size() <= line.data() + line.size(),
            "reply: text outside the line");
  }

  check(tws::parse_ehlo_keyword(line) == plain_keyword(line),
        "reply: EHLO keyword differs from the plain reading");
  if (r.ok)
    check(tws::parse_ehlo_keyword(r.text) == plain_keyword(r.text),
          "reply: EHLO keyword of the text differs");
  return 0;
}
