// The DATA body rule spelled out byte by byte: the oracle the DataScanner
// is checked against (unit tests, fuzz targets). A dot right after a line
// break (or at the start) and right before a CR or LF ends the body when it
// is CRLF . CRLF, and otherwise gets a second dot; every other byte passes.
// An undecided dot at the end of the input (and a CR after it) is held
// back, as the scanner holds it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tws::test {

struct Scanned {
  std::string out;
  std::size_t consumed = 0;  // with finished: bytes up to the end of the body
  bool finished = false;
};

// The rule over a body that grows: each feed() gives the body so far (a
// longer prefix of the same body each time) and only the new bytes are
// scanned, so a long body streamed in pieces costs one pass. result() is
// what reference_body() gives for the prefix fed last.
class GrowingBody {
 public:
  const Scanned& feed(std::string_view in) {
    for (; i_ < in.size() && !r_.finished; ++i_) {
      char c = in[i_];
      if (c == '.') {
        bool at_start = i_ == 0;
        char p1 = at_start ? '\n' : in[i_ - 1];
        bool proper = at_start || (p1 == '\n' && i_ >= 2 && in[i_ - 2] == '\r');
        if (p1 == '\r' || p1 == '\n') {
          if (i_ + 1 >= in.size()) break;  // undecided: held back
          char n1 = in[i_ + 1];
          if (n1 == '\r' || n1 == '\n') {
            if (proper && n1 == '\r') {
              if (i_ + 2 >= in.size()) break;
              if (in[i_ + 2] == '\n') {
                r_.out += ".\r\n";
                r_.consumed = i_ + 3;
                r_.finished = true;
                break;
              }
            }
            r_.out += "..";
            continue;
          }
        }
      }
      r_.out += c;
    }
    return r_;
  }
  const Scanned& result() const { return r_; }

 private:
  std::size_t i_ = 0;  // the first byte not decided yet
  Scanned r_;
};

inline Scanned reference_body(std::string_view in) {
  GrowingBody body;
  return body.feed(in);
}

}  // namespace tws::test
