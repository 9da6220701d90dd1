// The connection to the greylist policy server (-g host:port). Resolved
// and connected before the jail; the one socket is kept for the whole
// session and reconnected in place (connect to AF_UNSPEC, then again),
// because a jailed process cannot make a new one. A lookup never blocks:
// it is a small state machine (connect, send, read) that the relay's poll
// loop drives, with its deadline among the loop's others, so a stop or a
// timeout is heard while the server thinks. A server that does not answer
// within -T is given up for the rest of the session, so a hung server
// costs one -T, not one per recipient.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "action.h"
#include "fd.h"
#include "policy.h"

namespace tws {

// Splits "host:port", "1.2.3.4:port" or "[::1]:port".
bool parse_host_port(std::string_view text, std::string* host, std::string* port);

class PolicyClient {
 public:
  // Resolves host:port and makes the socket (before the jail).
  bool resolve(const std::string& host, const std::string& port, std::string* err);
  // Starts connecting now, without waiting; a failure is not fatal (the
  // next lookup tries again).
  bool connect_now(std::string* err);

  // A lookup: start() sends the request (connecting first if need be);
  // while busy(), poll fd() for events() and call on_ready() when it
  // reports them. Either returns true once the lookup has ended, with its
  // verdict in *v (Kind::Failure with *why set when it failed).
  bool start(std::string_view request, PolicyVerdict* v, std::string* why);
  bool on_ready(PolicyVerdict* v, std::string* why);
  bool busy() const { return asking_; }
  int fd() const { return sock_.get(); }
  short events() const;
  // The lookup took longer than -T: it is dropped, and the server is not
  // asked again in this session.
  void give_up();

 private:
  enum class State { Idle, Connecting, Sending, Reading };
  bool begin_connect(std::string* why);
  // Goes as far as it can without waiting; true once the lookup ended.
  bool step(PolicyVerdict* v, std::string* why);
  bool fail(PolicyVerdict* v);
  bool done(PolicyVerdict* v, PolicyVerdict verdict);
  // The connection was lost: once for a reused connection that the server
  // closed before answering (an idle close), connect again and resend.
  bool lost(PolicyVerdict* v, std::string* why);

  Fd sock_;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  bool connected_ = false;
  bool given_up_ = false;

  State state_ = State::Idle;
  bool asking_ = false;
  std::string request_;
  std::size_t sent_ = 0;
  bool reused_ = false;     // this lookup started on a kept connection
  bool got_bytes_ = false;  // the server said something to this request
  PolicyAnswerReader reader_;
};

}  // namespace tws
