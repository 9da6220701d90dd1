// Descriptor chores (see io.h).
#include "io.h"

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

namespace tws {

std::int64_t now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

bool wait_for(int fd, short events, std::int64_t until) {
  for (;;) {
    std::int64_t left = until - now_ms();
    if (left <= 0) return false;
    struct pollfd p = {fd, events, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

ssize_t write_some(int fd, std::string_view bytes) {
  for (;;) {
    ssize_t w = ::write(fd, bytes.data(), bytes.size());
    if (w >= 0) return w;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return 0;
    return -1;
  }
}

bool write_all(int fd, std::string_view bytes, int timeout_ms) {
  const std::int64_t until = now_ms() + timeout_ms;
  while (!bytes.empty()) {
    ssize_t w = write_some(fd, bytes);
    if (w < 0) return false;
    if (w == 0 && !wait_for(fd, POLLOUT, until)) return false;
    bytes.remove_prefix(static_cast<std::size_t>(w));
  }
  return true;
}

}  // namespace tws
