// Running prog (see child_process.h).
#include "child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "io.h"

namespace tws {

namespace {

void close_from(int first) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, first, ~0U, 0) == 0) return;
#endif
  long max = sysconf(_SC_OPEN_MAX);
  for (int fd = first; fd < (max > 0 ? max : 1024); ++fd) close(fd);
}

}  // namespace

bool lookup_account(const std::string& name, Account* out, std::string* err) {
  errno = 0;
  struct passwd* pw = getpwnam(name.c_str());
  if (pw == nullptr) {
    *err = "unknown user '" + name + "'";
    return false;
  }
  if (pw->pw_uid == 0 || pw->pw_gid == 0) {
    *err = "user '" + name + "' has uid 0 or gid 0: refused";
    return false;
  }
  out->name = name;
  out->uid = pw->pw_uid;
  out->gid = pw->pw_gid;
  int n = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(n));
  if (getgrouplist(name.c_str(), pw->pw_gid, groups.data(), &n) < 0) {
    groups.resize(static_cast<std::size_t>(n));
    getgrouplist(name.c_str(), pw->pw_gid, groups.data(), &n);
  }
  groups.resize(static_cast<std::size_t>(n));
  for (gid_t g : groups)
    if (g == 0) {
      *err = "user '" + name + "' is in group 0: refused";
      return false;
    }
  out->groups = std::move(groups);
  return true;
}

bool ChildProcess::start(const std::vector<std::string>& argv, const Account* account,
                         std::string* err) {
  int in[2], out[2], report[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0) {
    *err = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  // vfork: the child borrows our memory until it execs, so starting it
  // costs no page-table copy (a short session is mostly process start-up).
  pid_ = vfork();
  if (pid_ < 0) {
    *err = std::string("vfork: ") + std::strerror(errno);
    return false;
  }
  if (pid_ == 0) {
    // In the child, on our memory: system calls only, no allocation, and
    // nothing written that we read afterwards but the report pipe.
    int e = 0;
    if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0) e = errno;
    if (e == 0) {
      if (report[1] != 3 && dup2(report[1], 3) < 0) e = errno;
      fcntl(3, F_SETFD, FD_CLOEXEC);
    }
    if (e == 0) close_from(4);
    if (e == 0 && account != nullptr) {
      if (setgroups(account->groups.size(), account->groups.data()) != 0 ||
          setgid(account->gid) != 0 || setuid(account->uid) != 0)
        e = errno;
    }
    ::signal(SIGPIPE, SIG_DFL);
    if (e == 0) {
      execvp(args[0], args.data());
      e = errno;
    }
    [[maybe_unused]] ssize_t w = write(3, &e, sizeof e);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(report[1]);
  to_child_.reset(in[1]);
  from_child_.reset(out[0]);
  int e = 0;
  ssize_t r;
  do r = read(report[0], &e, sizeof e);
  while (r < 0 && errno == EINTR);
  close(report[0]);
  if (r == static_cast<ssize_t>(sizeof e)) {
    *err = "unable to run '" + argv[0] + "': " + std::strerror(e);
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    return false;
  }
#ifdef SYS_pidfd_open
  pidfd_.reset(static_cast<int>(syscall(SYS_pidfd_open, pid_, 0)));
#endif
  set_nonblocking(to_child_.get());
  set_nonblocking(from_child_.get());
  return true;
}

bool ChildProcess::signal(int sig) const {
  return pid_ > 0 && !reaped_ && kill(pid_, sig) == 0;
}

bool ChildProcess::wait(int timeout_ms, int* status) {
  if (pid_ <= 0) return false;
  int waited = 0;
  int step = 1;
  while (!reaped_) {
    pid_t r = waitpid(pid_, &status_, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      reaped_ = true;
      break;
    }
    if (waited >= timeout_ms) return false;
    if (pidfd_.valid()) {
      // Wakes the moment the child ends.
      struct pollfd p = {pidfd_.get(), POLLIN, 0};
      if (poll(&p, 1, timeout_ms - waited) == 0) waited = timeout_ms;
      continue;
    }
    poll(nullptr, 0, step);
    waited += step;
    if (step < 64) step *= 2;
  }
  *status = status_;
  return true;
}

}  // namespace tws
