// Log quoting (see log_text.h).
#include "log_text.h"

namespace tws {

namespace {
constexpr std::size_t kMaxMechanismName = 20;
}  // namespace

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
  // "AUTH", white space as the command machine takes it (SP, TAB, CR), a
  // SASL mechanism name (RFC 4422: at most 20 of A-Z 0-9 - _), and then
  // perhaps an initial response, which is never shown.
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  auto mech_char = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  };
  std::size_t end = 4;
  while (end < line.size() && space(line[end])) ++end;
  std::size_t mech = end;
  while (end < line.size() && end - mech < kMaxMechanismName && mech_char(line[end])) ++end;
  std::string out = printable(line.substr(0, end), max);
  if (end < line.size()) out += " [redacted]";
  return out;
}

}  // namespace tws
