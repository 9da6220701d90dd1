// The TLS front's control channel: how the helper tells the TLS server in
// front to start TLS, learns the outcome, and where the client's bytes
// flow once TLS is up (../shared/PEERS.md). Chosen from what the process
// is given, with no option:
//   SSLCTLFD, SSLREADFD, SSLWRITEFD naming open descriptors: UCSPI-TLS
//     (s6-ucspitlsd, sslserver -n); fds 5 and 6 then mean nothing. 'Y' on
//     the control socket, the answer (NAME=value entries) read to its end;
//     after TLS the client is SSLREADFD/SSLWRITEFD;
//   fd 5 and fd 6 open: tlswrapper's current protocol (signal byte on fd 5,
//     ack on fd 6);
//   fd 5 alone: tlswrapper's legacy protocol (the 220 line on fd 5, close);
//   nothing: no STARTTLS.
// What differs between the fronts is one row of kTlsFronts (tls_front.h),
// which this class reads; the relay asks it and never names a front.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "action.h"
#include "fd.h"
#include "io.h"
#include "tls_front.h"

namespace tws {

inline constexpr int kControlSignalFd = 5;
inline constexpr int kControlAckFd = 6;

// A descriptor of the client's and how it may be used (io.h: inherited
// descriptors are shared, never changed).
struct Endpoint {
  int fd;
  Access access;
};

class ControlChannel {
 public:
  // Looks at the UCSPI-TLS variables (null when unset) and at fds 5 and 6,
  // and takes the descriptors of the front found over (close-on-exec, so
  // the child never gets them). Descriptors of no front are left alone.
  void detect(const char* ssl_ctl_fd, const char* ssl_read_fd, const char* ssl_write_fd);
  ControlProtocol protocol() const { return protocol_; }
  const TlsFront& front() const { return tls_front(protocol_); }
  // One line for the log: the front and its descriptors.
  std::string describe() const;
  // The front's descriptors, -1 where it has none (at most four): kept
  // when stray descriptors go.
  std::array<int, 4> descriptors() const {
    return {signal_.get(), ack_.get(), tls_in_.get(), tls_out_.get()};
  }

  // Reports the front going away before STARTTLS (poll for no events).
  int signal_fd() const { return signal_.get(); }
  // Whether the front answers a start; if not, closing the signal
  // descriptor is the point where TLS starts.
  bool answers_start() const { return front().answer != FrontAnswer::None; }
  // Readable when the front answers a start: fd 6, or the control socket.
  int answer_fd() const { return ack_.valid() ? ack_.get() : signal_.get(); }
  // Writes all of `bytes` to fd 5 (or the control socket), waiting at most timeout_ms.
  bool write_signal(std::string_view bytes, int timeout_ms);
  void close_signal() { signal_.reset(); }

  // Reads what the front answered to a start.
  enum class Outcome { Pending, Ready, Failed };
  Outcome read_outcome(std::string* negotiated, std::string* why);

  // The handshake runs on the client's own descriptors: after STARTTLS
  // they must not be read, and once TLS is up the client is SSLREADFD and
  // SSLWRITEFD.
  bool handshake_on_client_fds() const { return front().handshake_on_client_fds; }
  // Moves SSLREADFD and SSLWRITEFD onto fds 0 and 1: the socket's copies
  // go, so nothing can bypass TLS, and the relay reads and writes 0 and 1
  // as before. False where there is nothing to move.
  bool move_client_to_tls();
  // Where the client's bytes come from and go to now (fd 0 and fd 1).
  Endpoint client_input() const { return {0, client_in_}; }
  Endpoint client_output() const { return {1, client_out_}; }

 private:
  Outcome read_ack_byte(std::string* why);
  Outcome read_entries(std::string* negotiated, std::string* why);

  ControlProtocol protocol_ = ControlProtocol::None;
  Fd signal_;            // fd 5, or the UCSPI-TLS control socket (never closed before the end)
  Fd ack_;               // fd 6
  Fd tls_in_, tls_out_;  // SSLREADFD, SSLWRITEFD
  std::string answer_;   // the UCSPI-TLS answer so far
  // How each is used: all are inherited, so shared with the front.
  Access signal_access_ = Access::Shared;
  Access client_in_ = Access::Shared, client_out_ = Access::Shared;
  Access tls_in_access_ = Access::Shared, tls_out_access_ = Access::Shared;
};

// "TLSv1.3/TLS_AES_256_GCM_SHA384" from a UCSPI-TLS answer (entries
// NAME=value each ended by NUL, then one more NUL): SSL_PROTOCOL and
// SSL_CIPHER, whichever are there. *complete says whether the answer
// has ended.
std::string negotiated_from_answer(std::string_view answer, bool* complete);

}  // namespace tws
