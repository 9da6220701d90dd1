// A file descriptor with one owner: closed when the owner goes.
//
// Inside the jail a closed descriptor would leave a free slot below
// RLIMIT_NOFILE that open() or socket() could take; there, "closing"
// points the slot at stderr instead (keep_descriptor_slots()).
#pragma once

#include <unistd.h>

#include <utility>

namespace tws {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) retire(fd_);
    fd_ = fd;
  }

  // From now on closing keeps the slot taken (the jail calls this).
  static void keep_descriptor_slots() { keep_slots_ = true; }
  static void retire(int fd) {
    if (keep_slots_ && fd > 2)
      ::dup2(2, fd);
    else
      ::close(fd);
  }

 private:
  static inline bool keep_slots_ = false;
  int fd_ = -1;
};

}  // namespace tws
