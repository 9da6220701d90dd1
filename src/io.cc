// Descriptor chores (see io.h).
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

namespace tws {

std::int64_t now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

bool ready_now(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  return poll(&p, 1, 0) > 0;
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

void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

Access shared_access(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) ? Access::SharedSocket : Access::Shared;
}

ssize_t read_some(int fd, Access access, char* buf, std::size_t size) {
  for (;;) {
    ssize_t r = access == Access::SharedSocket ? ::recv(fd, buf, size, MSG_DONTWAIT)
                                               : ::read(fd, buf, size);
    if (r >= 0 || errno != EINTR) return r;
  }
}

ssize_t write_some(int fd, Access access, std::string_view bytes) {
  if (access == Access::Shared) {
    struct pollfd p = {fd, POLLOUT, 0};
    if (poll(&p, 1, 0) == 0) return 0;
    if (bytes.size() > PIPE_BUF) bytes = bytes.substr(0, PIPE_BUF);
  }
  for (;;) {
    ssize_t w = access == Access::SharedSocket
                    ? ::send(fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL)
                    : ::write(fd, bytes.data(), bytes.size());
    if (w >= 0) return w;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return 0;
    return -1;
  }
}

bool write_all(int fd, Access access, std::string_view bytes, int timeout_ms) {
  const std::int64_t until = now_ms() + timeout_ms;
  while (!bytes.empty()) {
    ssize_t w = write_some(fd, access, bytes);
    if (w < 0) return false;
    if (w == 0 && !wait_for(fd, POLLOUT, until)) return false;
    bytes.remove_prefix(static_cast<std::size_t>(w));
  }
  return true;
}

namespace {

volatile sig_atomic_t g_stop_signal = 0;
sigset_t g_wait_mask;  // the mask while waiting: the stop signals let through

void note_stop_signal(int sig) {
  g_stop_signal = sig;
}

}  // namespace

void catch_stop_signals() {
  struct sigaction sa = {};
  sa.sa_handler = note_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigset_t stops;
  sigemptyset(&stops);
  for (int sig : {SIGTERM, SIGHUP}) {
    sigaction(sig, &sa, nullptr);
    sigaddset(&stops, sig);
  }
  sigprocmask(SIG_BLOCK, &stops, &g_wait_mask);
  for (int sig : {SIGTERM, SIGHUP}) sigdelset(&g_wait_mask, sig);
}

const char* take_stop_signal() {
  int sig = g_stop_signal;
  g_stop_signal = 0;
  switch (sig) {
    case 0:
      return nullptr;
    case SIGHUP:
      return "SIGHUP";
    default:
      return "SIGTERM";
  }
}

int wait_events(struct pollfd* fds, nfds_t n, int timeout_ms) {
  struct timespec ts = {timeout_ms / 1000, static_cast<long>(timeout_ms % 1000) * 1000000};
  return ppoll(fds, n, &ts, &g_wait_mask);
}

}  // namespace tws
