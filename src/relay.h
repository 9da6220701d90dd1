// The poll(2) core: moves bytes between the client (stdin/stdout), the
// child and the control channel, turns what it reads into Session events
// and carries out the Session's actions. It never looks inside SMTP.
//
// Buffers are bounded: the client is read only while the child keeps up,
// the child only while the client keeps up. Body bytes go to the child
// straight from the read buffer; they are copied only when the child's
// pipe is full.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
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

  void perform();
  void perform_one(const Action& a);
  void feed_client();
  void start_tls_input(std::string_view negotiated);
  // Reads at most `most` client bytes into in_; returns how many.
  std::size_t read_client(std::size_t most);
  void read_child();
  void read_ack();
  void write_child(std::string_view bytes);
  // Writes a backlog: 1 all written, 0 the descriptor is full, -1 the
  // reader is gone (the backlog is dropped). Progress moves *since.
  static int drain(int fd, Backlog& b, std::int64_t* since);
  bool flush_child();
  bool flush_client();
  bool flush_client_blocking(int timeout_ms);
  Deadline next_deadline() const;
  int finish();

  Session& session_;
  ChildProcess& child_;
  ControlChannel& control_;
  const Logger& log_;
  RelayLimits limits_;
  PolicyClient* policy_;

  // Client bytes read and not yet taken by the Session.
  std::unique_ptr<char[]> in_;  // kReadSize bytes, not zero-filled: a session is short
  std::size_t in_begin_ = 0, in_end_ = 0;
  bool client_eof_ = false;
  bool client_eof_told_ = false;
  bool client_gone_ = false;  // stdout is broken: nothing more reaches the client

  Backlog to_child_;  // what the child's pipe did not take yet
  bool child_in_broken_ = false;
  bool child_eof_ = false;

  Backlog to_client_;

  bool awaiting_ack_ = false;
  bool tls_point_reached_ = false;  // legacy: fd 5 closed, TLS starts at the next turn
  bool control_watch_ = true;       // fd 5 is watched for the wrapper going away
  std::vector<ControlEvent> deferred_control_;
  bool policy_answer_ = false;  // a verdict waits to be told to the Session
  PolicyVerdict policy_verdict_;

  std::vector<Action> batch_;  // the actions being carried out
  bool exit_requested_ = false;
  int exit_status_ = 0;
  bool abort_child_ = false;

  std::int64_t session_deadline_ = 0;
  std::int64_t client_since_ = 0, child_since_ = 0, ack_since_ = 0;
  // The pregreet test's wait (Timer::Greeting), while it runs.
  bool greeting_timer_ = false;
  std::int64_t greeting_since_ = 0, greeting_due_ = 0;
};

}  // namespace tws
