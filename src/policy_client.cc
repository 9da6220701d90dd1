// The greylist server connection (see policy_client.h).
#include "policy_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <time.h>
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

bool PolicyClient::resolve(const std::string& host, const std::string& port, int timeout_ms,
                           std::string* err) {
  timeout_ms_ = timeout_ms;
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

bool PolicyClient::connect_socket(std::string* err) {
  // Dissolve any earlier association; the same descriptor connects again.
  struct sockaddr unspec {};
  unspec.sa_family = AF_UNSPEC;
  ::connect(sock_.get(), &unspec, sizeof unspec);
  connected_ = false;
  int rc = ::connect(sock_.get(), reinterpret_cast<const sockaddr*>(&addr_), addr_len_);
  if (rc != 0 && errno == EINPROGRESS) {
    if (!wait_for(sock_.get(), POLLOUT, now_ms() + timeout_ms_)) {
      given_up_ = true;
      *err = "connecting to the greylist server timed out: not tried again in this session";
      return false;
    }
    int e = 0;
    socklen_t len = sizeof e;
    getsockopt(sock_.get(), SOL_SOCKET, SO_ERROR, &e, &len);
    errno = e;
    rc = e == 0 ? 0 : -1;
  }
  if (rc != 0) {
    *err = std::string("cannot connect to the greylist server: ") + std::strerror(errno);
    return false;
  }
  connected_ = true;
  return true;
}

bool PolicyClient::connect_now(std::string* err) {
  return connect_socket(err);
}

PolicyClient::Read PolicyClient::read_answer(PolicyVerdict* v, bool* got_bytes, std::string* why) {
  PolicyAnswerReader reader;
  std::int64_t until = now_ms() + timeout_ms_;
  char buf[1024];
  *got_bytes = false;
  for (;;) {
    ssize_t r = ::read(sock_.get(), buf, sizeof buf);
    if (r > 0) {
      *got_bytes = true;
      std::size_t used = 0;
      auto status = reader.feed(std::string_view(buf, static_cast<std::size_t>(r)), &used);
      if (status == PolicyAnswerReader::Status::Done) {
        *v = reader.verdict();
        if (v->kind == PolicyVerdict::Kind::Failure)
          *why = "unreadable answer from the greylist server";
        if (used != static_cast<std::size_t>(r)) {
          *why = "greylist server sent more than one answer";
          v->kind = PolicyVerdict::Kind::Failure;
          return Read::Failed;  // out of step: this connection is not trusted again
        }
        return Read::Done;
      }
      if (status == PolicyAnswerReader::Status::Invalid) {
        *why = "greylist answer too large";
        return Read::Failed;
      }
      continue;
    }
    if (r == 0) {
      *why = "greylist server closed the connection";
      return Read::Closed;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (wait_for(sock_.get(), POLLIN, until)) continue;
      given_up_ = true;
      *why = "greylist server did not answer in time: not asked again in this session";
      return Read::Failed;
    }
    *why = std::string("greylist server: ") + std::strerror(errno);
    return Read::Closed;
  }
}

PolicyVerdict PolicyClient::ask(std::string_view request, std::string* why) {
  if (!sock_.valid() || given_up_) {
    *why = given_up_ ? "greylist server given up for this session" : "no greylist server";
    return PolicyVerdict{};
  }
  // A kept connection may have been closed by the server since the last
  // request (idle close, restart): then connect again and ask once more.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = connected_;
    if (!connected_ && !connect_socket(why)) return PolicyVerdict{};
    PolicyVerdict v;
    bool got_bytes = false;
    Read r = write_all(sock_.get(), Access::NonBlocking, request, timeout_ms_)
                 ? read_answer(&v, &got_bytes, why)
                 : Read::Closed;
    if (r == Read::Done) return v;
    connected_ = false;  // spent: the next lookup connects afresh
    if (r == Read::Closed && reused && !got_bytes && !given_up_) continue;
    if (r == Read::Closed && why->empty()) *why = "cannot send to the greylist server";
    return PolicyVerdict{};
  }
  return PolicyVerdict{};
}

}  // namespace tws
