// Log quoting (see log_text.h).
#include "log_text.h"

namespace tws {

std::string printable(std::string_view bytes, std::size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() < max ? bytes.size() : max);
  for (char c : bytes) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && u != '\\') {
      out += c;
    } else {
      out += '\\';
      out += 'x';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::string loggable_command(std::string_view line, bool is_auth, std::size_t max) {
  if (!is_auth) return printable(line, max);
  // "AUTH" SP mechanism [SP initial-response]
  std::size_t verb_end = line.find_first_of(" \t");
  if (verb_end == std::string_view::npos) return printable(line, max);
  std::size_t mech = line.find_first_not_of(" \t", verb_end);
  std::size_t mech_end =
      mech == std::string_view::npos ? line.size() : line.find_first_of(" \t", mech);
  if (mech_end == std::string_view::npos) mech_end = line.size();
  std::string out = printable(line.substr(0, mech_end), max);
  if (mech_end < line.size()) out += " [redacted]";
  return out;
}

}  // namespace tws
