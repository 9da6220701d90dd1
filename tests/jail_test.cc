// The jail, tried in forked processes (it cannot be undone): what a jailed
// process can no longer do, and that the syscall filter kills. Needs root,
// as the helper does; CI runs as root.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "jail.h"

using namespace tws;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/tws-jail-XXXXXX";
    path = mkdtemp(t);
    chmod(path.c_str(), 0755);
  }
  ~TempDir() { rmdir(path.c_str()); }
};

// Runs `body` jailed in a child process; returns its wait status.
template <typename F>
int in_jail(const JailSettings& s, F body) {
  pid_t pid = fork();
  if (pid == 0) {
    std::string err;
    if (!enter_jail(s, &err)) _exit(100);
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(jail)

BOOST_AUTO_TEST_CASE(needs_root_and_a_directory) {
  BOOST_REQUIRE_MESSAGE(geteuid() == 0, "the jail tests need root");
  JailSettings s;
  std::string err;
  s.dir = "/nonexistent/jail";
  BOOST_TEST(!jail_possible(s, &err));
  BOOST_TEST(err.find("not a directory") != std::string::npos);
  TempDir d;
  s.dir = d.path;
  BOOST_TEST(jail_possible(s, &err));
}

BOOST_AUTO_TEST_CASE(ids_are_per_session) {
  BOOST_TEST(jail_id_for(100) != jail_id_for(101));
  BOOST_TEST(jail_id_for(1) > 65535u);
}

BOOST_AUTO_TEST_CASE(no_files_no_sockets_no_forks_no_root) {
  BOOST_REQUIRE(geteuid() == 0);
  TempDir d;
  JailSettings s;
  s.dir = d.path;
  s.syscall_filter = false;  // the limits alone must hold
  int status = in_jail(s, [] {
    int failures = 0;
    if (getuid() == 0 || getgid() == 0) failures |= 1;
    if (open("/etc/passwd", O_RDONLY) >= 0) failures |= 2;  // chroot
    if (open("/new-file", O_WRONLY | O_CREAT, 0600) >= 0) failures |= 4;
    if (socket(AF_INET, SOCK_STREAM, 0) >= 0 || errno != EMFILE) failures |= 8;
    int p[2];
    if (pipe(p) == 0) failures |= 16;
    pid_t child = fork();
    if (child == 0) _exit(0);
    if (child > 0) failures |= 32;
    if (setuid(0) == 0) failures |= 64;
    return failures;
  });
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0, "failed checks, bit mask: " << WEXITSTATUS(status));
}

// Descriptors open at 40 and 50 with free slots between: jailed, every
// slot below the limit is taken (the free ones by copies of stderr), the
// limit is one past the highest, and the open ones are untouched.
BOOST_AUTO_TEST_CASE(free_slots_are_filled_up_to_the_highest_descriptor) {
  BOOST_REQUIRE(geteuid() == 0);
  TempDir d;
  JailSettings s;
  s.dir = d.path;
  s.syscall_filter = false;
  int p[2];
  BOOST_REQUIRE(pipe(p) == 0);
  BOOST_REQUIRE(dup2(p[0], 40) == 40);
  BOOST_REQUIRE(dup2(p[1], 50) == 50);
  close(p[0]);
  close(p[1]);
  for (int fd = 41; fd < 50; ++fd) close(fd);
  int status = in_jail(s, [] {
    struct rlimit r = {};
    if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur < 51) return 1;
    for (int fd = 3; fd < static_cast<int>(r.rlim_cur); ++fd)
      if (fcntl(fd, F_GETFD) == -1) return 2;  // a free slot left
    if (write(50, "y", 1) != 1) return 3;      // still the pipe, both ends
    char c = 0;
    if (read(40, &c, 1) != 1 || c != 'y') return 4;
    if (socket(AF_INET, SOCK_STREAM, 0) >= 0 || errno != EMFILE) return 5;
    return 0;
  });
  close(40);
  close(50);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0, "failed check " << WEXITSTATUS(status));
}

BOOST_AUTO_TEST_CASE(relay_calls_still_work) {
  BOOST_REQUIRE(geteuid() == 0);
  TempDir d;
  JailSettings s;
  s.dir = d.path;
  int fds[2];
  BOOST_REQUIRE(pipe(fds) == 0);
  int status = in_jail(s, [&] {
    if (write(fds[1], "x", 1) != 1) return 1;
    char c;
    int waiting = 0;  // how the relay counts plaintext when TLS starts
    if (ioctl(fds[0], FIONREAD, &waiting) != 0 || waiting != 1) return 4;
    if (read(fds[0], &c, 1) != 1 || c != 'x') return 2;
    void* p = malloc(1 << 20);  // memory still comes
    if (p == nullptr) return 3;
    free(p);
    return 0;
  });
  close(fds[0]);
  close(fds[1]);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
}

BOOST_AUTO_TEST_CASE(other_system_calls_kill) {
  BOOST_REQUIRE(geteuid() == 0);
  TempDir d;
  JailSettings s;
  s.dir = d.path;
  int status = in_jail(s, [] {
    socket(AF_INET, SOCK_STREAM, 0);
    return 0;
  });
  BOOST_TEST(WIFSIGNALED(status));
  BOOST_TEST(WTERMSIG(status) == SIGSYS);
  status = in_jail(s, [] { return getuid() == 12345 ? 1 : 0; });
  BOOST_TEST(WIFSIGNALED(status));
  BOOST_TEST(WTERMSIG(status) == SIGSYS);
  status = in_jail(s, [] {  // ioctl only for FIONREAD
    int flag = 1;
    ioctl(0, FIONBIO, &flag);
    return 0;
  });
  BOOST_TEST(WIFSIGNALED(status));
  BOOST_TEST(WTERMSIG(status) == SIGSYS);
}

BOOST_AUTO_TEST_CASE(memory_is_capped) {
  BOOST_REQUIRE(geteuid() == 0);
  TempDir d;
  JailSettings s;
  s.dir = d.path;
  int status = in_jail(s, [] {
    void* p = malloc(512ul << 20);
    return p == nullptr ? 0 : 1;
  });
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
