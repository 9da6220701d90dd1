// The control channel to the TLS wrapper in front: how the helper tells it
// to start TLS (../shared/PEERS.md). Chosen by the descriptors the helper
// inherits: fd 5 and fd 6 open, the current protocol (signal byte on fd 5,
// ack on fd 6); fd 5 alone, the legacy one (the 220 line on fd 5, then
// close); otherwise none, and STARTTLS is not offered.
#pragma once

#include <string_view>

#include "action.h"
#include "fd.h"

namespace tws {

inline constexpr int kControlSignalFd = 5;
inline constexpr int kControlAckFd = 6;

class ControlChannel {
 public:
  // Looks at fds 5 and 6 and takes them over (close-on-exec, so the child
  // never gets them). An fd 6 without fd 5 is closed.
  void detect();
  ControlProtocol protocol() const { return protocol_; }
  int signal_fd() const { return signal_.get(); }
  int ack_fd() const { return ack_.get(); }
  // Writes all of `bytes` to fd 5, waiting at most timeout_ms.
  bool write_signal(std::string_view bytes, int timeout_ms);
  void close_signal() { signal_.reset(); }
  void close_ack() { ack_.reset(); }

 private:
  ControlProtocol protocol_ = ControlProtocol::None;
  Fd signal_;
  Fd ack_;
};

}  // namespace tws
