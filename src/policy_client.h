// The connection to the greylist policy server (-g host:port). Resolved
// and connected before the jail; the one socket is kept for the whole
// session and reconnected in place (connect to AF_UNSPEC, then again),
// because a jailed process cannot make a new one. A server that does not
// answer within -T is given up for the rest of the session, so a hung
// server costs one -T, not one per recipient.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "action.h"
#include "fd.h"

namespace tws {

// Splits "host:port", "1.2.3.4:port" or "[::1]:port".
bool parse_host_port(std::string_view text, std::string* host, std::string* port);

class PolicyClient {
 public:
  // Resolves host:port and makes the socket (before the jail).
  bool resolve(const std::string& host, const std::string& port, int timeout_ms, std::string* err);
  // Connects now; a failure is not fatal (the next lookup tries again).
  bool connect_now(std::string* err);
  // One lookup: sends the request, reads the answer through its empty
  // line. Every failure is PolicyVerdict::Kind::Failure with *why set.
  PolicyVerdict ask(std::string_view request, std::string* why);
  bool configured() const { return sock_.valid(); }

 private:
  bool connect_socket(std::string* err);
  enum class Read { Done, Closed, Failed };
  Read read_answer(PolicyVerdict* v, bool* got_bytes, std::string* why);

  Fd sock_;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  int timeout_ms_ = 15000;
  bool connected_ = false;
  bool given_up_ = false;
};

}  // namespace tws
