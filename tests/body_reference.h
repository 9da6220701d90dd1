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

inline Scanned reference_body(std::string_view in) {
  Scanned r;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '.') {
      bool at_start = i == 0;
      char p1 = at_start ? '\n' : in[i - 1];
      bool proper = at_start || (p1 == '\n' && i >= 2 && in[i - 2] == '\r');
      if (p1 == '\r' || p1 == '\n') {
        if (i + 1 >= in.size()) return r;  // undecided: held back
        char n1 = in[i + 1];
        if (n1 == '\r' || n1 == '\n') {
          if (proper && n1 == '\r') {
            if (i + 2 >= in.size()) return r;
            if (in[i + 2] == '\n') {
              r.out += ".\r\n";
              r.consumed = i + 3;
              r.finished = true;
              return r;
            }
          }
          r.out += "..";
          continue;
        }
      }
    }
    r.out += c;
  }
  return r;
}

}  // namespace tws::test
