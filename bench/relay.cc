// The benchmark's floor: a relay that knows nothing about SMTP.
//
//   relay prog [args]
//
// Starts prog on two pipes (its stdin and stdout) and copies bytes both
// ways, our stdin to its stdin and its stdout to our stdout, with 64 KiB
// reads and writes, until prog closes its output. Exits with prog's status.
// Whatever a relay that understands SMTP costs beyond this is the price of
// understanding it.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>

#include "io.h"

namespace {

constexpr std::size_t kBuf = 64 * 1024;

// One direction: a buffer between a source and a sink descriptor.
struct Pipe {
  int from = -1;
  int to = -1;
  char buf[kBuf];
  std::size_t begin = 0;
  std::size_t end = 0;
  bool eof = false;

  bool empty() const { return begin == end; }
  // Reads once into an empty buffer; false on EOF or error.
  bool fill() {
    ssize_t r;
    do r = ::read(from, buf, kBuf);
    while (r < 0 && errno == EINTR);
    if (r < 0 && errno == EAGAIN) return true;
    if (r <= 0) {
      eof = true;
      return false;
    }
    begin = 0;
    end = static_cast<std::size_t>(r);
    return true;
  }
  // Writes what it can; false when the reader is gone.
  bool drain() {
    while (begin < end) {
      ssize_t w = ::write(to, buf + begin, end - begin);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return true;
        return false;
      }
      begin += static_cast<std::size_t>(w);
    }
    return true;
  }
};

Pipe up;    // our stdin -> the child's stdin
Pipe down;  // the child's stdout -> our stdout

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: relay prog [args]\n");
    return 100;
  }
  signal(SIGPIPE, SIG_IGN);
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return 111;
  pid_t pid = fork();
  if (pid < 0) return 111;
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[1], argv + 1);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  up.from = 0;
  up.to = in[1];
  down.from = out[0];
  down.to = 1;
  for (int fd : {0, 1, in[1], out[0]}) tws::set_nonblocking(fd);

  bool up_open = true;  // the child's stdin is still open
  while (!down.eof || !down.empty()) {
    struct pollfd p[4];
    int n = 0, i_in = -1, i_cin = -1, i_cout = -1, i_out = -1;
    if (up_open && up.empty() && !up.eof) {
      i_in = n;
      p[n++] = {0, POLLIN, 0};
    }
    if (up_open && !up.empty()) {
      i_cin = n;
      p[n++] = {in[1], POLLOUT, 0};
    }
    if (down.empty() && !down.eof) {
      i_cout = n;
      p[n++] = {out[0], POLLIN, 0};
    }
    if (!down.empty()) {
      i_out = n;
      p[n++] = {1, POLLOUT, 0};
    }
    if (n == 0) break;
    if (poll(p, static_cast<nfds_t>(n), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (i_in >= 0 && p[i_in].revents) {
      up.fill();
      if (!up.empty() && !up.drain()) up_open = false;
    }
    if (i_cin >= 0 && p[i_cin].revents && !up.drain()) up_open = false;
    if (up_open && up.eof && up.empty()) {
      close(in[1]);
      up_open = false;
    }
    if (!up_open) up.begin = up.end = 0;
    if (i_cout >= 0 && p[i_cout].revents) {
      down.fill();
      if (!down.empty() && !down.drain()) break;  // our reader is gone
    }
    if (i_out >= 0 && p[i_out].revents && !down.drain()) break;
  }
  if (up_open) close(in[1]);
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 111;
}
