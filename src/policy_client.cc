// The greylist server connection (see policy_client.h).
#include "policy_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>

#include "io.h"
#include "policy.h"

namespace tws {

bool parse_host_port(std::string_view text, std::string* host, std::string* port) {
  std::size_t colon;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return false;
    *host = std::string(text.substr(1, close - 1));
    colon = close + 1;
  } else {
    colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    *host = std::string(text.substr(0, colon));
    if (host->find(':') != std::string::npos) return false;  // bare IPv6 needs brackets
  }
  *port = std::string(text.substr(colon + 1));
  if (host->empty() || port->empty() || port->size() > 5) return false;
  long n = 0;
  for (char c : *port) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  return n >= 1 && n <= 65535;
}

bool PolicyClient::resolve(const std::string& host, const std::string& port, std::string* err) {
  struct addrinfo hints {};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  struct addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    *err = "cannot resolve greylist server '" + host + "': " + gai_strerror(rc);
    return false;
  }
  std::memcpy(&addr_, res->ai_addr, res->ai_addrlen);
  addr_len_ = res->ai_addrlen;
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  freeaddrinfo(res);
  if (fd < 0) {
    *err = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  sock_.reset(fd);
  return true;
}

// Connects (again) the one socket; true when connected or under way
// (state_ Connecting).
bool PolicyClient::begin_connect(std::string* why) {
  // Dissolve any earlier association; the same descriptor connects again.
  struct sockaddr unspec {};
  unspec.sa_family = AF_UNSPEC;
  ::connect(sock_.get(), &unspec, sizeof unspec);
  connected_ = false;
  if (::connect(sock_.get(), reinterpret_cast<const sockaddr*>(&addr_), addr_len_) == 0) {
    connected_ = true;
    return true;
  }
  if (errno == EINPROGRESS) {
    state_ = State::Connecting;
    return true;
  }
  *why = std::string("cannot connect to the greylist server: ") + std::strerror(errno);
  return false;
}

bool PolicyClient::connect_now(std::string* err) {
  return begin_connect(err);
}

short PolicyClient::events() const {
  switch (state_) {
    case State::Connecting:
    case State::Sending:
      return POLLOUT;
    case State::Reading:
      return POLLIN;
    case State::Idle:
      break;
  }
  return 0;
}

bool PolicyClient::start(std::string_view request, PolicyVerdict* v, std::string* why) {
  if (!sock_.valid() || given_up_) {
    *why = given_up_ ? "greylist server given up for this session" : "no greylist server";
    return fail(v);
  }
  asking_ = true;
  request_.assign(request);
  sent_ = 0;
  got_bytes_ = false;
  reader_.reset();
  reused_ = connected_;
  if (state_ == State::Connecting) {
    // The connection begun at start-up: a failed one is made again now.
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(sock_.get(), SOL_SOCKET, SO_ERROR, &e, &len) != 0 || e != 0)
      state_ = State::Idle;
  }
  if (state_ != State::Connecting) {
    if (!connected_ && !begin_connect(why)) return fail(v);
    if (connected_) state_ = State::Sending;
  }
  return step(v, why);
}

bool PolicyClient::on_ready(PolicyVerdict* v, std::string* why) {
  return step(v, why);
}

void PolicyClient::give_up() {
  given_up_ = true;
  connected_ = false;
  asking_ = false;
  state_ = State::Idle;
}

bool PolicyClient::fail(PolicyVerdict* v) {
  return done(v, PolicyVerdict{});
}

bool PolicyClient::done(PolicyVerdict* v, PolicyVerdict verdict) {
  state_ = State::Idle;
  asking_ = false;
  request_.clear();
  *v = std::move(verdict);
  return true;
}

bool PolicyClient::lost(PolicyVerdict* v, std::string* why) {
  connected_ = false;  // spent: the next lookup connects afresh
  if (reused_ && !got_bytes_) {
    reused_ = false;
    sent_ = 0;
    why->clear();
    if (!begin_connect(why)) return fail(v);
    if (connected_) state_ = State::Sending;
    return step(v, why);
  }
  return fail(v);
}

bool PolicyClient::step(PolicyVerdict* v, std::string* why) {
  for (;;) {
    switch (state_) {
      case State::Idle:
        return true;
      case State::Connecting: {
        int e = 0;
        socklen_t len = sizeof e;
        if (getsockopt(sock_.get(), SOL_SOCKET, SO_ERROR, &e, &len) != 0) e = errno;
        if (e == 0) {
          // Still under way, or done: a second connect() tells which.
          if (::connect(sock_.get(), reinterpret_cast<const sockaddr*>(&addr_), addr_len_) != 0 &&
              errno != EISCONN) {
            if (errno == EALREADY || errno == EINPROGRESS) return false;
            e = errno;
          }
        }
        if (e != 0) {
          *why = std::string("cannot connect to the greylist server: ") + std::strerror(e);
          state_ = State::Idle;
          return fail(v);
        }
        connected_ = true;
        state_ = State::Sending;
        continue;
      }
      case State::Sending: {
        ssize_t w =
            write_some(sock_.get(), Access::NonBlocking, std::string_view(request_).substr(sent_));
        if (w < 0) {
          *why = "cannot send to the greylist server";
          return lost(v, why);
        }
        sent_ += static_cast<std::size_t>(w);
        if (sent_ < request_.size()) return false;
        state_ = State::Reading;
        continue;
      }
      case State::Reading: {
        char buf[1024];
        ssize_t r = read_some(sock_.get(), Access::NonBlocking, buf, sizeof buf);
        if (r < 0 && errno == EAGAIN) return false;
        if (r <= 0) {
          *why = r == 0 ? "greylist server closed the connection"
                        : std::string("greylist server: ") + std::strerror(errno);
          return lost(v, why);
        }
        got_bytes_ = true;
        std::size_t used = 0;
        auto status = reader_.feed(std::string_view(buf, static_cast<std::size_t>(r)), &used);
        if (status == PolicyAnswerReader::Status::NeedMore) continue;
        if (status == PolicyAnswerReader::Status::Invalid) {
          *why = "greylist answer too large";
          connected_ = false;
          return fail(v);
        }
        if (used != static_cast<std::size_t>(r)) {
          *why = "greylist server sent more than one answer";
          connected_ = false;  // out of step: this connection is not trusted again
          return fail(v);
        }
        PolicyVerdict verdict = reader_.verdict();
        if (verdict.kind == PolicyVerdict::Kind::Failure)
          *why = "unreadable answer from the greylist server";
        return done(v, std::move(verdict));
      }
    }
  }
}

}  // namespace tws
