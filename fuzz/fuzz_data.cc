// Fuzz target: the DATA body scanner, over a body cut into spans at
// places the input chooses, against the rule spelled out byte by byte (the
// same reference as tests/data_scanner_test.cc).
//
// Input: byte 0 is the number of cuts n (mod 32); the next n bytes each
// move the cut forward by 0..255 bytes; the rest is the body.
//
// Invariants:
// - the pieces handed out, joined, are exactly the reference output: every
//   byte as it came, but a lone "." between line breaks where one break is
//   a bare CR or LF gets a second dot; the body ends at CRLF . CRLF (the
//   DATA line's CRLF counting for the first line);
// - the body ends at the same byte whatever the cuts, nothing after it is
//   taken, and an unfinished body holds back exactly the undecided dot
//   (and CR);
// - no empty piece; every piece lies in the span or in static storage;
// - a finished scanner takes nothing more; reset() starts afresh.
#include <string>
#include <string_view>
#include <vector>

#include "body_reference.h"
#include "fuzz_target.h"
#include "smtp_grammar.h"

namespace {

using tws::fuzz::check;

using tws::test::Scanned;

}  // namespace

TWS_FUZZ_TARGET(data) {
  if (size == 0) return 0;
  std::size_t ncuts = data[0] % 32;
  if (size < 1 + ncuts) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1 + ncuts, size - 1 - ncuts);
  std::vector<std::size_t> cuts;
  std::size_t at = 0;
  for (std::size_t i = 0; i < ncuts; ++i) {
    at += data[1 + i];
    cuts.push_back(at < body.size() ? at : body.size());
  }

  // The body in separate buffers, so a piece pointing past its span shows
  // up under ASan, and a piece in static storage is told apart.
  tws::DataScanner s;
  std::string out;
  std::size_t consumed = 0;
  std::vector<std::string_view> pieces;
  std::size_t from = 0;
  for (std::size_t k = 0; k <= cuts.size() && !s.finished(); ++k) {
    std::size_t to = k < cuts.size() ? cuts[k] : body.size();
    if (to < from) continue;
    std::string span(body.substr(from, to - from));
    pieces.clear();
    std::size_t n = s.scan(span, pieces);
    check(n <= span.size(), "data: took more than the span");
    check(n == span.size() || s.finished(), "data: left bytes without finishing");
    for (std::string_view p : pieces) {
      check(!p.empty(), "data: an empty piece");
      bool in_span = p.data() >= span.data() && p.data() + p.size() <= span.data() + span.size();
      check(in_span || p.size() <= 3, "data: a long piece outside the span");
      out += p;
    }
    consumed += n;
    from = to;
  }

  Scanned want = tws::test::reference_body(body);
  check(s.finished() == want.finished, "data: ends differently from the reference");
  check(out == want.out, "data: output differs from the reference");
  check(consumed == (want.finished ? want.consumed : body.size()), "data: consumed differs");
  if (s.finished()) {
    pieces.clear();
    check(s.scan("more\r\n.\r\n", pieces) == 0 && pieces.empty(), "data: took bytes after the end");
  }

  // Again, whole, after reset().
  s.reset();
  pieces.clear();
  std::string whole(body);
  std::size_t n = s.scan(whole, pieces);
  std::string again;
  for (std::string_view p : pieces) again += p;
  check(s.finished() == want.finished && again == want.out &&
            n == (want.finished ? want.consumed : body.size()),
        "data: a whole scan after reset() differs");
  return 0;
}
