// Transcript vectors (see transcript.h).
#include "transcript.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "constants.h"

namespace tws::test {

namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  throw std::runtime_error("bad hex digit");
}

bool is_byte_key(const std::string& k) {
  return k == "client" || k == "child" || k == "to-child" || k == "to-client" ||
         k == "to-control" || k == "to-policy";
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  std::size_t b = s.find_first_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b);
}

void configure(SessionConfig& cfg, const std::string& value) {
  std::istringstream in(value);
  std::string word;
  while (in >> word) {
    std::size_t eq = word.find('=');
    if (eq == std::string::npos) throw std::runtime_error("config wants key=value: " + word);
    std::string k = word.substr(0, eq), v = word.substr(eq + 1);
    if (k == "control") {
      cfg.control = v == "legacy"    ? ControlProtocol::Legacy
                    : v == "current" ? ControlProtocol::Current
                    : v == "ucspi"   ? ControlProtocol::Ucspi
                    : v == "none"    ? ControlProtocol::None
                                     : throw std::runtime_error("control=" + v);
    } else if (k == "greylist") {
      cfg.greylist = true;
      cfg.greylist_fail_closed = v == "closed";
    } else if (k == "addr") {
      cfg.client_address = v;
    } else if (k == "name") {
      cfg.client_name = v;
    } else if (k == "id") {
      cfg.session_id = v;
    } else if (k == "auth") {
      cfg.auth_needs_tls = v == "tls"   ? true
                           : v == "any" ? false
                                        : throw std::runtime_error("auth=" + v);
    } else if (k == "tls") {
      cfg.tls_required = v == "required"   ? true
                         : v == "optional" ? false
                                           : throw std::runtime_error("tls=" + v);
    } else if (k == "pregreet") {
      cfg.greet_delay_ms = std::stoi(v);
    } else if (k == "log") {
      cfg.log_level = v == "error"     ? LogLevel::Error
                      : v == "warning" ? LogLevel::Warning
                      : v == "info"    ? LogLevel::Info
                      : v == "debug"   ? LogLevel::Debug
                      : v == "trace"   ? LogLevel::Trace
                                       : throw std::runtime_error("log=" + v);
    } else {
      throw std::runtime_error("unknown config key " + k);
    }
  }
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << c.file << ":" << c.line << " " << c.name;
}

std::string unescape(std::string_view t) {
  std::string out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= t.size()) throw std::runtime_error("dangling backslash");
    switch (t[i]) {
      case 'r':
        out += '\r';
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case '0':
        out += '\0';
        break;
      case '\\':
        out += '\\';
        break;
      case 's':
        out += ' ';
        break;
      case 'x': {
        if (i + 2 >= t.size()) throw std::runtime_error("short \\x");
        out += static_cast<char>(hex(t[i + 1]) * 16 + hex(t[i + 2]));
        i += 2;
        break;
      }
      case '{': {
        std::size_t colon = t.find(':', i);
        std::size_t close = t.find('}', i);
        if (colon == std::string_view::npos || close == std::string_view::npos || colon > close)
          throw std::runtime_error("bad \\{N:text}");
        std::size_t n = std::stoul(std::string(t.substr(i + 1, colon - i - 1)));
        std::string unit = unescape(t.substr(colon + 1, close - colon - 1));
        for (std::size_t k = 0; k < n; ++k) out += unit;
        i = close;
        break;
      }
      default:
        throw std::runtime_error(std::string("unknown escape \\") + t[i]);
    }
  }
  return out;
}

std::string escape(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\r')
      out += "\\r";
    else if (c == '\n')
      out += "\\n";
    else if (c == '\\')
      out += "\\\\";
    else if (u >= 0x20 && u < 0x7f)
      out += c;
    else {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::vector<Case> load_cases(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".txt") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<Case> cases;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::string raw;
    int number = 0;
    while (std::getline(in, raw)) {
      ++number;
      std::string line = trim(raw);
      if (line.empty() || line[0] == '#') continue;
      std::size_t colon = line.find(':');
      if (colon == std::string::npos)
        throw std::runtime_error(path.string() + ":" + std::to_string(number) + ": no key");
      std::string key = line.substr(0, colon);
      // One space after the colon separates; the value keeps the rest.
      std::string value = line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
      try {
        if (key == "case") {
          Case c;
          c.file = path.filename().string();
          c.line = number;
          c.name = value;
          c.config.session_id = "test";
          c.config.client_address = "192.0.2.1";
          cases.push_back(std::move(c));
          continue;
        }
        if (cases.empty()) throw std::runtime_error("step before the first case");
        if (key == "config") {
          configure(cases.back().config, value);
          continue;
        }
        Step s{key, is_byte_key(key) ? unescape(value) : value, number};
        cases.back().steps.push_back(std::move(s));
      } catch (const std::exception& e) {
        throw std::runtime_error(path.string() + ":" + std::to_string(number) + ": " + e.what());
      }
    }
  }
  return cases;
}

Harness::Harness(const SessionConfig& config, std::size_t split)
    : session_(config), split_(split) {}

void Harness::perform() {
  for (const Action& a : session_.actions()) {
    if (exited) throw std::runtime_error("action after exit");
    switch (a.kind) {
      case Action::Kind::ToChild:
        to_child += a.bytes();
        break;
      case Action::Kind::ToClient:
        to_client += a.bytes();
        break;
      case Action::Kind::ToControl:
        to_control += a.bytes();
        break;
      case Action::Kind::CloseControl:
        to_control += "[close]";
        break;
      case Action::Kind::AwaitTls:
        awaiting_tls = true;
        break;
      case Action::Kind::AskPolicy:
        to_policy += a.bytes();
        break;
      case Action::Kind::StartTimer:
        timers += (a.timer == Timer::Greeting ? "greeting " : "other ") + std::to_string(a.millis);
        break;
      case Action::Kind::Log:
        logs.emplace_back(a.bytes());
        break;
      case Action::Kind::Exit:
        exited = true;
        exit_status = a.status;
        abort_child = a.abort_child;
        break;
    }
  }
  session_.actions().clear();
}

void Harness::feed_client() {
  while (!client_buffer_.empty() && session_.wants_client()) {
    std::size_t n = split_ == 0 ? client_buffer_.size() : std::min(split_, client_buffer_.size());
    std::size_t used =
        session_.on_client(std::string_view(client_buffer_).substr(0, n), greeting_ms_);
    perform();  // before the buffer changes: actions may point into it
    client_buffer_.erase(0, used);
    if (used == 0) break;
  }
}

void Harness::client(std::string_view bytes) {
  client_buffer_.append(bytes);
  feed_client();
}

void Harness::child(std::string_view bytes) {
  std::size_t step = split_ == 0 ? bytes.size() : split_;
  for (std::size_t i = 0; i < bytes.size(); i += step) {
    session_.on_child(bytes.substr(i, step));
    perform();
    feed_client();
  }
}

void Harness::event(std::string_view what) {
  std::istringstream in{std::string(what)};
  std::string kind, arg;
  in >> kind >> arg;
  std::string rest;
  std::getline(in, rest);
  rest = trim(rest);
  if (kind == "control") {
    awaiting_tls = false;
    session_.on_control(arg == "ready"  ? ControlEvent::Ready
                        : arg == "lost" ? ControlEvent::Lost
                                        : ControlEvent::Failed,
                        rest);
  } else if (kind == "client-eof") {
    session_.on_client_eof();
  } else if (kind == "child-eof") {
    session_.on_child_eof();
  } else if (kind == "stop") {
    session_.on_stop(arg.empty() ? "SIGTERM" : arg);
  } else if (kind == "wait-failed") {
    session_.on_wait_failed(arg);
  } else if (kind == "timeout") {
    session_.on_timeout(arg == "session"    ? Timer::Session
                        : arg == "client"   ? Timer::Client
                        : arg == "child"    ? Timer::Child
                        : arg == "control"  ? Timer::Control
                        : arg == "greeting" ? Timer::Greeting
                                            : Timer::Policy);
  } else if (kind == "waited") {
    greeting_ms_ = std::stoll(arg);
  } else if (kind == "policy") {
    PolicyVerdict v;
    v.kind = arg == "pass"     ? PolicyVerdict::Kind::Pass
             : arg == "defer"  ? PolicyVerdict::Kind::Defer
             : arg == "reject" ? PolicyVerdict::Kind::Reject
                               : PolicyVerdict::Kind::Failure;
    if (!rest.empty()) v.reply = unescape(rest);
    session_.on_policy(v);
  } else {
    throw std::runtime_error("unknown event " + std::string(what));
  }
  perform();
  feed_client();
}

std::vector<std::string> run_case(const Case& c, std::size_t split) {
  std::vector<std::string> failures;
  Harness h(c.config, split);
  std::size_t log_mark = 0;
  auto fail = [&](const Step& s, const std::string& what) {
    failures.push_back(c.file + ":" + std::to_string(s.line) + ": " + what);
  };
  auto check = [&](const Step& s, std::string& got, const char* side) {
    if (got != s.value)
      fail(s, std::string(side) + " got \"" + escape(got) + "\"\n    expected \"" +
                  escape(s.value) + "\"");
    got.clear();
  };
  try {
    h.perform();  // actions the constructor may have queued
    for (const Step& s : c.steps) {
      if (s.key == "client")
        h.client(s.value);
      else if (s.key == "child")
        h.child(s.value);
      else if (s.key == "event")
        h.event(s.value);
      else if (s.key == "to-child")
        check(s, h.to_child, "child");
      else if (s.key == "to-client")
        check(s, h.to_client, "client");
      else if (s.key == "to-control")
        check(s, h.to_control, "control");
      else if (s.key == "to-policy")
        check(s, h.to_policy, "policy server");
      else if (s.key == "timer")
        check(s, h.timers, "timers");
      else if (s.key == "exit") {
        std::string want = s.value;
        std::string got = !h.exited                           ? "none"
                          : h.exit_status == kExitChildStatus ? "child"
                                                              : std::to_string(h.exit_status);
        if (h.abort_child) got += " abort";
        if (got != want) fail(s, "exit " + got + ", expected " + want);
        h.exited = false;  // checked
        h.exit_status = 0;
      } else if (s.key == "log" || s.key == "no-log") {
        bool found = false;
        for (std::size_t i = log_mark; i < h.logs.size(); ++i)
          if (h.logs[i].find(s.value) != std::string::npos) found = true;
        if (found != (s.key == "log")) {
          std::string seen;
          for (std::size_t i = log_mark; i < h.logs.size(); ++i) seen += "\n    | " + h.logs[i];
          fail(s, (found ? "unwanted log line \"" : "no log line \"") + s.value + "\"" + seen);
        }
        if (s.key == "log") log_mark = h.logs.size();
      } else {
        fail(s, "unknown step " + s.key);
      }
    }
  } catch (const std::exception& e) {
    failures.push_back(c.file + ":" + std::to_string(c.line) + ": " + e.what());
  }
  Step end{"end", "", c.line};
  if (!h.to_child.empty()) fail(end, "child got unchecked \"" + escape(h.to_child) + "\"");
  if (!h.to_client.empty()) fail(end, "client got unchecked \"" + escape(h.to_client) + "\"");
  if (!h.to_control.empty()) fail(end, "control got unchecked \"" + escape(h.to_control) + "\"");
  if (!h.to_policy.empty()) fail(end, "policy got unchecked \"" + escape(h.to_policy) + "\"");
  if (!h.timers.empty()) fail(end, "timer started unchecked: " + h.timers);
  if (h.exited) fail(end, "unchecked exit " + std::to_string(h.exit_status));
  return failures;
}

}  // namespace tws::test
