// The control channel (see control_channel.h).
#include "control_channel.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace tws {

namespace {
bool is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }
}  // namespace

void ControlChannel::detect() {
  bool five = is_open(kControlSignalFd);
  bool six = is_open(kControlAckFd);
  if (five) {
    fcntl(kControlSignalFd, F_SETFD, FD_CLOEXEC);
    signal_.reset(kControlSignalFd);
  }
  if (six) {
    fcntl(kControlAckFd, F_SETFD, FD_CLOEXEC);
    ack_.reset(kControlAckFd);
  }
  if (five && six) {
    protocol_ = ControlProtocol::Current;
  } else if (five) {
    protocol_ = ControlProtocol::Legacy;
  } else {
    protocol_ = ControlProtocol::None;
    ack_.reset();
  }
}

bool ControlChannel::write_signal(std::string_view bytes, int timeout_ms) {
  if (!signal_.valid()) return false;
  while (!bytes.empty()) {
    ssize_t w = ::write(signal_.get(), bytes.data(), bytes.size());
    if (w > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(w));
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      struct pollfd p = {signal_.get(), POLLOUT, 0};
      if (poll(&p, 1, timeout_ms) > 0) continue;
    }
    return false;
  }
  return true;
}

}  // namespace tws
