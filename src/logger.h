// Log lines on stderr in the style of the tlswrapper family:
//   tlswrapper-smtp: LEVEL: CLIENTIP: message [ID]
// ID is LOG_ID from the environment (tlswrapper exports it, so both
// programs' lines of one session carry the same id) or a random one.
#pragma once

#include <string>
#include <string_view>

#include "action.h"

namespace tws {

class Logger {
 public:
  // verbosity: 0 quiet, 1 warnings and errors, 2 info (-v), 3 debug (-vv), 4 tracing (-vvv)
  void configure(int verbosity, std::string client_ip, std::string id);
  bool enabled(LogLevel level) const {
    return verbosity_ > 0 && static_cast<int>(level) <= verbosity_;
  }
  void write(LogLevel level, std::string_view message) const;
  const std::string& id() const { return id_; }
  // The Session's own filter: the most verbose level that is written.
  LogLevel level() const;

 private:
  int verbosity_ = 1;
  std::string client_ip_ = "unknown";
  std::string id_;
};

// LOG_ID's value if set and sane, else a fresh random id.
std::string session_id_from(const char* log_id);

}  // namespace tws
