// Transcript vectors: SMTP sessions written down as the bytes each side
// sends and must receive, replayed against the Session with no process.
//
// A vector file holds cases. Each line is `key: value`; values take C
// escapes (\r \n \t \0 \\ \xNN) and \{N:text} for text repeated N times.
//
//   case: name                       starts a case
//   config: control=none|legacy|current|ucspi greylist=open|closed addr=IP
//           name=HOST id=ID log=error|warning|info|debug|trace
//           auth=tls|any tls=required|optional pregreet=MS
//                                    (auth=tls is -a: AUTH only inside TLS;
//                                    tls=required is -s: it implies -a;
//                                    pregreet=MS is -p, its wait in ms)
//   client: BYTES                    the client sends
//   child: BYTES                     the child (SMTP server) sends
//   event: control ready [NEGOTIATED]|lost|failed | client-eof | child-eof | stop [SIGNAL] |
//          timeout session|client|child|control|policy|greeting |
//          waited MS (the greeting timer has run MS: given with later client bytes) |
//          policy pass|fail | policy defer|reject [TEXT]
//   to-child: BYTES                  exactly what the child got since the last to-child
//   to-client: BYTES                 likewise for the client
//   to-control: BYTES                likewise for fd 5 (closing it shows as [close])
//   to-policy: BYTES                 likewise for the greylist server
//   timer: greeting MS               the Session started the greeting timer (since the last check)
//   exit: STATUS | child             the session asked to exit so
//   log: TEXT                        a log line since the last log check holds TEXT
//   no-log: TEXT                     no log line since the last log check holds TEXT
//
// When a case ends, nothing may be left unchecked: every byte written and
// an exit, if any, must have been expected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "session.h"

namespace tws::test {

struct Step {
  std::string key;
  std::string value;  // escapes already resolved for byte values
  int line = 0;
};

struct Case {
  std::string file;
  int line = 0;
  std::string name;
  SessionConfig config;
  std::vector<Step> steps;
};

std::ostream& operator<<(std::ostream& os, const Case& c);

std::string unescape(std::string_view text);
std::string escape(std::string_view bytes);

// Every case of every *.txt file in `dir`, sorted by file name.
std::vector<Case> load_cases(const std::string& dir);

// Drives a Session as the poll loop would, with every client and child
// write cut into pieces of `split` bytes (0: as written).
class Harness {
 public:
  Harness(const SessionConfig& config, std::size_t split);

  void client(std::string_view bytes);
  void child(std::string_view bytes);
  void event(std::string_view what);  // the `event:` syntax above
  void perform();                     // carries out (records) the Session's actions

  Session& session() { return session_; }
  std::string to_child, to_client, to_control, to_policy;
  std::string timers;  // "greeting MS" per StartTimer
  std::vector<std::string> logs;
  bool exited = false;
  int exit_status = 0;
  bool abort_child = false;
  bool awaiting_tls = false;

 private:
  void feed_client();
  Session session_;
  std::size_t split_;
  std::string client_buffer_;
  std::int64_t greeting_ms_ = 0;
};

// Replays a case; returns the failures (empty when it passes).
std::vector<std::string> run_case(const Case& c, std::size_t split);

}  // namespace tws::test
