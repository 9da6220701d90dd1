// The poll(2) core: moves bytes between the client (stdin/stdout), the
// child and the control channel, drives greylist lookups, keeps every
// deadline (-t, each -T, the pregreet wait), turns what it reads into
// Session events and carries out the Session's actions. Every wait is this
// one poll, so a stop signal is heard wherever the session stands. It never
// looks inside SMTP.
//
// Buffers are bounded: the client is read only while the child keeps up,
// the child only while the client keeps up. Body bytes go to the child
// straight from the read buffer; they are copied only when the child's
// pipe is full.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "child_process.h"
#include "control_channel.h"
#include "logger.h"
#include "policy_client.h"
#include "session.h"

namespace tws {

// Bytes a descriptor has not taken yet.
struct Backlog {
  std::string bytes;
  std::size_t sent = 0;
  bool empty() const { return sent == bytes.size(); }
  std::size_t size() const { return bytes.size() - sent; }
  std::string_view rest() const { return std::string_view(bytes).substr(sent); }
  void clear() {
    bytes.clear();
    sent = 0;
  }
};

struct RelayLimits {
  int session_timeout_ms = 600000;  // -t
  int io_timeout_ms = 15000;        // -T
};

class Relay {
 public:
  Relay(Session& session, ChildProcess& child, ControlChannel& control, const Logger& log,
        RelayLimits limits, PolicyClient* policy);
  // Runs the session to its end; returns the exit status. SIGPIPE must
  // be ignored (write errors are handled where they happen).
  int run();

 private:
  struct Deadline {
    std::int64_t at;
    Timer timer;
  };

  // The state kept for each peer. `since` is when it last made progress:
  // its -T clock.
  struct ClientSide {
    std::unique_ptr<char[]> in;      // kReadSize bytes, not zero-filled: a session is short
    std::size_t begin = 0, end = 0;  // bytes read and not yet taken by the Session
    Backlog out;
    bool eof = false;       // nothing more comes from the client
    bool eof_told = false;  // ... and the Session knows
    bool gone = false;      // its output is broken: nothing more reaches it
    std::int64_t since = 0;
    std::string_view unread() const { return {in.get() + begin, end - begin}; }
  };
  struct ChildSide {
    Backlog in;  // what its pipe did not take yet
    bool in_broken = false;
    bool eof = false;
    std::int64_t since = 0;
  };
  struct FrontSide {
    bool awaiting_answer = false;  // the signal was given: the answer decides
    bool start_reached = false;    // no answer from this front: TLS starts at the next turn
    bool watched = true;           // the signal descriptor is watched for the front going away
    bool lost = false;             // it went away: the Session is told after the batch
    std::int64_t since = 0;
  };
  struct PolicySide {
    std::optional<PolicyVerdict> verdict;  // to be told to the Session after the batch
    std::int64_t since = 0;
  };

  // Tells the Session one event and carries out what it answers.
  template <class Event>
  void tell(Event&& event) {
    event(session_);
    perform();
  }
  void perform();
  void perform_one(const Action& a);
  void ask_policy(std::string_view request);
  void policy_ended(bool ended, const PolicyVerdict& verdict, const std::string& why);
  void feed_client();
  void start_tls_input(std::string_view negotiated);
  // Reads at most `most` client bytes; returns how many.
  std::size_t read_client(std::size_t most);
  void read_child();
  void read_answer();
  void write_child(std::string_view bytes);
  // Writes a backlog: 1 all written, 0 the descriptor is full, -1 the
  // reader is gone (the backlog is dropped). Progress moves *since.
  static int drain(Endpoint to, Backlog& b, std::int64_t* since);
  bool flush_child();
  bool flush_client();
  void flush_client_blocking(int timeout_ms);
  Deadline next_deadline() const;
  int finish();

  Session& session_;
  ChildProcess& child_;
  ControlChannel& control_;
  const Logger& log_;
  RelayLimits limits_;
  PolicyClient* policy_;

  ClientSide client_;
  ChildSide child_side_;
  FrontSide front_;
  PolicySide policy_side_;

  std::vector<Action> batch_;  // the actions being carried out
  bool exit_requested_ = false;
  int exit_status_ = 0;
  bool abort_child_ = false;
  std::int64_t session_deadline_ = 0;
  // The pregreet test's wait (Timer::Greeting), while it runs.
  struct GreetingWait {
    bool running = false;
    std::int64_t since = 0, due = 0;
  };
  GreetingWait greeting_;
};

}  // namespace tws
