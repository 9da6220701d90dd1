// The control channel (see control_channel.h).
#include "control_channel.h"

#include <fcntl.h>
#include <unistd.h>

#include "io.h"

namespace tws {

namespace {
bool is_open(int fd) {
  return fcntl(fd, F_GETFD) != -1;
}
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
  return signal_.valid() && write_all(signal_.get(), bytes, timeout_ms);
}

}  // namespace tws
