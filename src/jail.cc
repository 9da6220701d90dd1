// The jail (see jail.h).
#include "jail.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <iterator>

#include "constants.h"
#include "fd.h"
#include "syscall_filter_program.h"  // generated at build time

namespace tws {

namespace {

std::string failed(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

bool limit(int resource, rlim_t value) {
  struct rlimit r = {value, value};
  return setrlimit(resource, &r) == 0;
}

// Every slot below the highest open descriptor is filled, so the lowest
// free slot is the limit itself and no call can get a new descriptor.
// One poll with no events tells which slots are open (POLLNVAL: not open),
// where one fcntl per slot took 61 system calls; ppoll is the call the
// relay waits with anyway, so no other library function is bound.
int fill_descriptor_slots() {
  constexpr int kFirst = 3;
  struct pollfd slots[kJailMaxDescriptor - kFirst];
  for (int fd = kFirst; fd < kJailMaxDescriptor; ++fd) slots[fd - kFirst] = {fd, 0, 0};
  const struct timespec now = {0, 0};
  const bool known = ppoll(slots, std::size(slots), &now, nullptr) >= 0;
  auto open = [&](int fd) {
    return known ? (slots[fd - kFirst].revents & POLLNVAL) == 0 : fcntl(fd, F_GETFD) != -1;
  };
  int highest = kFirst - 1;
  for (int fd = kFirst; fd < kJailMaxDescriptor; ++fd)
    if (open(fd)) highest = fd;
  for (int fd = kFirst; fd < highest; ++fd)
    if (!open(fd)) dup2(2, fd);
  return highest + 1;
}

bool install_filter(std::string* err) {
  struct sock_fprog prog;
  prog.len = static_cast<unsigned short>(sizeof kSyscallFilter / sizeof kSyscallFilter[0]);
  prog.filter = const_cast<struct sock_filter*>(kSyscallFilter);
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
    *err = failed("unable to create jail: seccomp");
    return false;
  }
  return true;
}

}  // namespace

uid_t jail_id_for(pid_t pid) {
  return kJailIdBase + static_cast<uid_t>(pid);
}

bool jail_possible(const JailSettings& s, std::string* err) {
  if (geteuid() != 0) {
    *err = "unable to create jail: not running as root (run as root, or as tlswrapper-smtp-nojail)";
    return false;
  }
  struct stat st;
  if (stat(s.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    *err = "unable to create jail: '" + s.dir + "' is not a directory";
    return false;
  }
  return true;
}

bool stderr_is_a_file() {
  struct stat st;
  return fstat(2, &st) == 0 && S_ISREG(st.st_mode);
}

bool enter_jail(const JailSettings& s, std::string* err) {
  uid_t uid = s.have_account ? s.uid : jail_id_for(getpid());
  gid_t gid = s.have_account ? s.gid : static_cast<gid_t>(uid);
  if (uid == 0 || gid == 0) {
    *err = "unable to create jail: uid or gid 0";
    return false;
  }
  if (chdir(s.dir.c_str()) != 0 || chroot(".") != 0 || chdir("/") != 0) {
    *err = failed(("unable to create jail: chroot " + s.dir).c_str());
    return false;
  }
  std::vector<gid_t> groups = s.have_account ? s.groups : std::vector<gid_t>{gid};
  if (setgroups(groups.size(), groups.data()) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
    *err = failed("unable to create jail: dropping privileges");
    return false;
  }
  // Real, effective and saved ids: a saved uid 0 could take root back.
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0 || ruid == 0 ||
      euid == 0 || suid == 0 || rgid == 0 || egid == 0 || sgid == 0) {
    *err = "unable to create jail: still root";
    return false;
  }
  // With RLIMIT_FSIZE 0 a write to a regular file raises SIGXFSZ; a log
  // on stderr redirected to a file must fail, not kill the session.
  signal(SIGXFSZ, SIG_IGN);
  int descriptors = fill_descriptor_slots();
  Fd::keep_descriptor_slots();
  bool ok = limit(RLIMIT_NPROC, 0) && limit(RLIMIT_CORE, 0) && limit(RLIMIT_FSIZE, 0) &&
            limit(RLIMIT_NOFILE, static_cast<rlim_t>(descriptors));
#if !defined(__SANITIZE_ADDRESS__) && !defined(TWS_SANITIZE)
  ok = ok && limit(RLIMIT_DATA, kJailMemory);
#endif
  if (!ok) {
    *err = failed("unable to create jail: setrlimit");
    return false;
  }
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    *err = failed("unable to create jail: prctl");
    return false;
  }
  return !s.syscall_filter || install_filter(err);
}

}  // namespace tws
