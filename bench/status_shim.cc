// Records how the program it starts ends, for the soak benchmark's idle
// flood (soak.py --idle-flood), where the helper's exit status is otherwise
// lost: tlswrapper exits with its own status.
//
//   status_shim FILE prog [args]
//
// It forks, the child execs prog with every descriptor as it was, and the
// parent closes all of its own descriptors (so the pipes to tlswrapper and
// the control descriptors 5 and 6 belong to prog alone, and close when prog
// ends), waits, appends one line to FILE with a single O_APPEND write:
//
//   pid=PID exit=STATUS t=MONOTONIC_SECONDS port=TCPREMOTEPORT
//
// (signal=N instead of exit= when prog was killed; port is what tcpserver
// put in the environment, the client's own port, "-" when unset, so a
// client can find the line of each of its connections).
// and exits as prog did. t is CLOCK_MONOTONIC when the wait returned, the
// clock Python's time.monotonic() reads, so the driver can compare it with
// its own times. No exec of its own, no shell, no C++ runtime at run time.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: status_shim FILE prog [args]\n");
    return 100;
  }
  const char* port = std::getenv("TCPREMOTEPORT");
  if (port == nullptr || *port == '\0' || std::strlen(port) > 8) port = "-";
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("status_shim: fork");
    return 111;
  }
  if (pid == 0) {
    execv(argv[2], argv + 2);
    std::perror("status_shim: exec");
    _exit(127);
  }
  for (int fd = 0; fd < 1024; ++fd) close(fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 111;
  }
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  char line[128];
  int n;
  if (WIFEXITED(status)) {
    n = std::snprintf(line, sizeof line, "pid=%ld exit=%d t=%ld.%06ld port=%s\n",
                      static_cast<long>(pid), WEXITSTATUS(status), static_cast<long>(ts.tv_sec),
                      ts.tv_nsec / 1000, port);
  } else {
    n = std::snprintf(line, sizeof line, "pid=%ld signal=%d t=%ld.%06ld port=%s\n",
                      static_cast<long>(pid), WTERMSIG(status), static_cast<long>(ts.tv_sec),
                      ts.tv_nsec / 1000, port);
  }
  int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0 && n > 0) {
    ssize_t w = write(fd, line, static_cast<size_t>(n));
    (void)w;
    close(fd);
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}
