// The greylist policy codec (see policy.h).
#include "policy.h"

#include <cstring>

#include "constants.h"

namespace tws {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

char upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (upper(a[i]) != upper(b[i])) return false;
  return true;
}

bool valid_address(std::string_view a) {
  if (a.empty() || a.size() > 64) return false;
  for (char c : a)
    if (!(is_digit(c) || (upper(c) >= 'A' && upper(c) <= 'F') || c == '.' || c == ':'))
      return false;
  return true;
}

void attribute(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += '=';
  for (char c : value)
    if (c != '\r' && c != '\n' && c != '\0') out += c;
  out += '\n';
}

// The text a reply carries after its code: one line, printable, bounded.
std::string reply_text(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() >= kMaxPolicyReplyText) break;
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  return out;
}

bool has_enhanced_code(std::string_view text) {
  // "4.7.1 ..." : digit '.' digits '.' digits
  return text.size() >= 5 && is_digit(text[0]) && text[1] == '.';
}

std::string make_reply(std::string_view code, std::string_view enhanced, std::string_view text,
                       std::string_view fallback) {
  if (text.empty()) return std::string(fallback);
  std::string out(code);
  out += ' ';
  if (!has_enhanced_code(text)) {
    out += enhanced;
    out += ' ';
  }
  out += reply_text(text);
  out += "\r\n";
  return out;
}

}  // namespace

std::string policy_request(const PolicyQuery& q) {
  if (!valid_address(q.client_address)) return {};
  std::string out;
  out.reserve(256);
  attribute(out, "request", "smtpd_access_policy");
  attribute(out, "protocol_state", "RCPT");
  attribute(out, "protocol_name", q.esmtp ? "ESMTP" : "SMTP");
  attribute(out, "client_address", q.client_address);
  attribute(out, "client_name", q.client_name.empty() ? "unknown" : q.client_name);
  attribute(out, "helo_name", q.helo_name);
  attribute(out, "sender", q.sender);
  attribute(out, "recipient", q.recipient);
  attribute(out, "instance", q.instance);
  if (!q.size.empty()) attribute(out, "size", q.size);
  out += '\n';
  return out;
}

std::string_view size_parameter(std::string_view params) {
  while (!params.empty()) {
    std::size_t end = params.find_first_of(" \t");
    std::string_view word = params.substr(0, end);
    if (word.size() > 5 && iequals(word.substr(0, 5), "SIZE=")) {
      std::string_view value = word.substr(5);
      for (char c : value)
        if (!is_digit(c)) return {};
      return value;
    }
    if (end == std::string_view::npos) break;
    params.remove_prefix(end + 1);
  }
  return {};
}

PolicyAnswerReader::Status PolicyAnswerReader::feed(std::string_view in, std::size_t* used) {
  *used = 0;
  while (*used < in.size()) {
    char c = in[(*used)++];
    text_ += c;
    if (text_.size() > kMaxPolicyAnswer) return Status::Invalid;
    // The answer ends with an empty line: "\n\n" (or the answer is that line alone).
    if (c == '\n' && (text_.size() == 1 || text_[text_.size() - 2] == '\n')) return Status::Done;
  }
  return Status::NeedMore;
}

PolicyVerdict PolicyAnswerReader::verdict() const {
  std::string_view rest(text_);
  PolicyVerdict v;  // Failure unless an action= line says otherwise
  bool seen = false;
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (line.substr(0, 7) == "action=") {
      if (seen) return PolicyVerdict{};  // two verdicts: garbage
      v = decode_policy_action(line.substr(7));
      seen = true;
    }
  }
  return v;
}

PolicyVerdict decode_policy_action(std::string_view action) {
  std::size_t sp = action.find(' ');
  std::string_view word = action.substr(0, sp);
  std::string_view text = sp == std::string_view::npos ? std::string_view{} : action.substr(sp + 1);
  PolicyVerdict v;
  static constexpr std::string_view kPass[] = {"DUNNO", "OK",      "PREPEND",        "WARN",
                                               "INFO",  "FILTER",  "REDIRECT",       "BCC",
                                               "HOLD",  "DISCARD", "DEFER_IF_REJECT"};
  for (std::string_view p : kPass)
    if (iequals(word, p)) {
      v.kind = PolicyVerdict::Kind::Pass;
      return v;
    }
  if (iequals(word, "DEFER_IF_PERMIT") || iequals(word, "DEFER")) {
    v.kind = PolicyVerdict::Kind::Defer;
    v.reply = make_reply("450", "4.7.1", text, reply::kGreylisted);
    return v;
  }
  if (iequals(word, "REJECT")) {
    v.kind = PolicyVerdict::Kind::Reject;
    v.reply = make_reply("550", "5.7.1", text, reply::kPolicyRejected);
    return v;
  }
  if (word.size() == 3 && (word[0] == '4' || word[0] == '5') && is_digit(word[1]) &&
      is_digit(word[2])) {
    bool defer = word[0] == '4';
    v.kind = defer ? PolicyVerdict::Kind::Defer : PolicyVerdict::Kind::Reject;
    v.reply = make_reply(word, defer ? "4.7.1" : "5.7.1", text,
                         defer ? reply::kGreylisted : reply::kPolicyRejected);
    if (text.empty()) {
      // A bare code: keep the server's code with the default text.
      std::string_view fallback = defer ? reply::kGreylisted : reply::kPolicyRejected;
      v.reply = std::string(word) + std::string(fallback.substr(3));
    }
    return v;
  }
  return v;  // anything else: a lookup failure
}

}  // namespace tws
