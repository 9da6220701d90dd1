// The TLS front's control channel (see control_channel.h).
#include "control_channel.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "constants.h"
#include "decimal.h"
#include "io.h"

namespace tws {

namespace {

bool is_open(int fd) {
  return fd >= 0 && fcntl(fd, F_GETFD) != -1;
}

// A descriptor number from the environment: decimal digits only.
int descriptor(const char* text) {
  long v = 0;
  return text != nullptr && parse_decimal(text, 65535, &v) ? static_cast<int>(v) : -1;
}

Fd take(int fd) {
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  return Fd(fd);
}

}  // namespace

void ControlChannel::detect(const char* ssl_ctl_fd, const char* ssl_read_fd,
                            const char* ssl_write_fd) {
  // Every descriptor here is inherited: how each is used is looked up
  // now, before the jail, and none of their flags is ever changed.
  client_in_ = shared_access(0);
  client_out_ = shared_access(1);
  int ctl = descriptor(ssl_ctl_fd), in = descriptor(ssl_read_fd), out = descriptor(ssl_write_fd);
  if (is_open(ctl) && is_open(in) && is_open(out) && ctl != in && ctl != out && in != out) {
    protocol_ = ControlProtocol::Ucspi;
    signal_ = take(ctl);
    signal_access_ = shared_access(ctl);
    tls_in_ = take(in);
    tls_in_access_ = shared_access(in);
    tls_out_ = take(out);
    tls_out_access_ = shared_access(out);
    return;
  }
  bool five = is_open(kControlSignalFd);
  bool six = is_open(kControlAckFd);
  if (five) {
    signal_ = take(kControlSignalFd);
    signal_access_ = shared_access(kControlSignalFd);
  }
  if (five && six) {
    ack_ = take(kControlAckFd);
    protocol_ = ControlProtocol::Current;
  } else if (five) {
    protocol_ = ControlProtocol::Legacy;
  } else {
    protocol_ = ControlProtocol::None;
  }
}

std::string ControlChannel::describe() const {
  std::string out = "TLS front: " + std::string(front().name);
  if (tls_in_.valid())  // descriptors named by the environment: say which
    out += " (SSLCTLFD " + std::to_string(signal_.get()) + ", SSLREADFD " +
           std::to_string(tls_in_.get()) + ", SSLWRITEFD " + std::to_string(tls_out_.get()) + ")";
  return out;
}

bool ControlChannel::write_signal(std::string_view bytes, int timeout_ms) {
  return signal_.valid() && write_all(signal_.get(), signal_access_, bytes, timeout_ms);
}

ControlChannel::Outcome ControlChannel::read_outcome(std::string* negotiated, std::string* why) {
  switch (front().answer) {
    case FrontAnswer::AckByte:
      return read_ack_byte(why);
    case FrontAnswer::Entries:
      return read_entries(negotiated, why);
    case FrontAnswer::None:
      break;
  }
  *why = "this TLS front sends no answer";
  return Outcome::Failed;
}

// tlswrapper's current protocol: one byte 0x00 on fd 6.
ControlChannel::Outcome ControlChannel::read_ack_byte(std::string* why) {
  unsigned char byte = 1;
  ssize_t r = read_some(ack_.get(), Access::Shared, reinterpret_cast<char*>(&byte), 1);
  if (r < 0 && errno == EAGAIN) return Outcome::Pending;
  ack_.reset();
  if (r == 1 && byte == 0) return Outcome::Ready;
  *why = r == 1 ? "TLS wrapper sent a wrong ack byte" : "TLS wrapper closed the ack channel";
  return Outcome::Failed;
}

// UCSPI-TLS: read to the end of the answer (the double NUL), not to EOF:
// sslserver keeps the socket open.
ControlChannel::Outcome ControlChannel::read_entries(std::string* negotiated, std::string* why) {
  char buf[4096];
  for (;;) {
    ssize_t r = read_some(signal_.get(), signal_access_, buf, sizeof buf);
    if (r < 0 && errno == EAGAIN) return Outcome::Pending;
    if (r <= 0) {
      // s6: a failed handshake closes the socket with nothing written.
      *why = answer_.empty() ? "TLS server closed the control socket: the handshake failed"
                             : "TLS server closed the control socket in the middle of its answer";
      return Outcome::Failed;
    }
    answer_.append(buf, static_cast<std::size_t>(r));
    bool complete = false;
    *negotiated = negotiated_from_answer(answer_, &complete);
    if (complete) return Outcome::Ready;
    if (answer_.size() > kMaxUcspiAnswer) {
      *why = "TLS server's answer is longer than " + std::to_string(kMaxUcspiAnswer) + " bytes";
      return Outcome::Failed;
    }
  }
}

bool ControlChannel::move_client_to_tls() {
  if (!tls_in_.valid() || !tls_out_.valid()) return false;
  if (dup2(tls_in_.get(), 0) < 0 || dup2(tls_out_.get(), 1) < 0) return false;
  client_in_ = tls_in_access_;
  client_out_ = tls_out_access_;
  tls_in_.reset();
  tls_out_.reset();
  return true;
}

std::string negotiated_from_answer(std::string_view answer, bool* complete) {
  std::string_view protocol, cipher;
  *complete = false;
  while (!answer.empty()) {
    std::size_t nul = answer.find('\0');
    if (nul == std::string_view::npos) break;  // an entry still coming
    std::string_view entry = answer.substr(0, nul);
    answer.remove_prefix(nul + 1);
    if (entry.empty()) {  // the extra NUL: the end
      *complete = true;
      break;
    }
    std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;  // a variable unset
    std::string_view name = entry.substr(0, eq), value = entry.substr(eq + 1);
    if (name == "SSL_PROTOCOL") protocol = value;
    if (name == "SSL_CIPHER") cipher = value;
  }
  std::string out(protocol);
  if (!cipher.empty()) {
    if (!out.empty()) out += '/';
    out += cipher;
  }
  return out;
}

}  // namespace tws
