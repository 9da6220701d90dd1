// Decimal numbers as the helper reads them (option values, descriptor
// numbers and values from the environment, ports): one or more ASCII
// digits, no sign, no spaces, nothing after them, at most `max`.
#pragma once

#include <string_view>

namespace tws {

inline bool parse_decimal(std::string_view text, long max, long* out) {
  if (text.empty()) return false;
  long v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
    if (v > max) return false;
  }
  *out = v;
  return true;
}

}  // namespace tws
