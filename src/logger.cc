// Logging (see logger.h).
#include "logger.h"

#include <sys/random.h>
#include <unistd.h>

#include <cstdlib>

#include "log_text.h"

namespace tws {

namespace {

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::Error:
      return "error";
    case LogLevel::Warning:
      return "warning";
    case LogLevel::Info:
      return "info";
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Trace:
      return "tracing";
  }
  return "?";
}

}  // namespace

void Logger::configure(int verbosity, std::string client_ip, std::string id) {
  verbosity_ = verbosity;
  client_ip_ = client_ip.empty() ? "unknown" : std::move(client_ip);
  id_ = std::move(id);
}

LogLevel Logger::level() const {
  if (verbosity_ <= 1) return LogLevel::Warning;
  if (verbosity_ >= 4) return LogLevel::Trace;
  return static_cast<LogLevel>(verbosity_);
}

void Logger::write(LogLevel level, std::string_view message) const {
  if (!enabled(level)) return;
  std::string line = "tlswrapper-smtp: ";
  line += level_name(level);
  line += ": ";
  line += client_ip_;
  line += ": ";
  line += message;
  line += " [";
  line += id_;
  line += "]\n";
  // One write per line, so lines of concurrent sessions never interleave.
  [[maybe_unused]] ssize_t r = ::write(2, line.data(), line.size());
}

std::string session_id_from(const char* log_id) {
  if (log_id != nullptr && *log_id != '\0') {
    std::string id = printable(log_id, 32);
    if (id.find(' ') == std::string::npos) return id;
  }
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  unsigned char random[8] = {};
  if (getrandom(random, sizeof random, 0) != static_cast<ssize_t>(sizeof random)) {
    unsigned long seed = static_cast<unsigned long>(getpid());
    for (auto& b : random) b = static_cast<unsigned char>(seed = seed * 6364136223846793005UL + 1);
  }
  std::string id;
  for (unsigned char b : random) id += kAlphabet[b % (sizeof kAlphabet - 1)];
  return id;
}

}  // namespace tws
