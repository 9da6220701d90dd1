// Preloaded (LD_PRELOAD) into a self-jailing helper run under valgrind, so
// its jailed start-up can be counted too. The jail stays what it is (chroot
// into a writable directory given with -J, its own uid and gid, no forks,
// no core, no new privileges) except for what valgrind itself cannot live
// with:
//
//   setrlimit(RLIMIT_NOFILE)  valgrind refuses any change of it, and at 0 it
//                             could not write its own output file;
//   setrlimit(RLIMIT_FSIZE)   at 0 valgrind's output file stays empty;
//   setrlimit(RLIMIT_DATA)    valgrind's own memory counts against it;
//   seccomp_load()            the filter would forbid valgrind's system calls
//                             (the filter is still built, just not loaded);
//   prctl(PR_SET_SECCOMP)     the same, for a filter compiled ahead of time;
//   syscall(SYS_seccomp)      valgrind does not know the call, so the
//                             library's probes of what the kernel supports
//                             get the answers a current kernel gives.
//
// These succeed without effect; every other call goes to the kernel or the
// library. The shim's own cost (one more preloaded object) is measured by
// the benchmark and reported next to the counts it affects.
#include <dlfcn.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdarg>

namespace {

using RealSyscall = long (*)(long, ...);
RealSyscall real_syscall = nullptr;
using RealPrctl = int (*)(int, ...);
RealPrctl real_prctl = nullptr;

bool skipped(int resource) {
  return resource == RLIMIT_NOFILE || resource == RLIMIT_FSIZE || resource == RLIMIT_DATA;
}

int set_limit(int resource, const struct rlimit* r) {
  if (skipped(resource)) return 0;
  return static_cast<int>(syscall(SYS_prlimit64, 0, resource, r, nullptr));
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) int setrlimit(__rlimit_resource_t resource,
                                                     const struct rlimit* r) noexcept {
  return set_limit(static_cast<int>(resource), r);
}

__attribute__((visibility("default"))) int setrlimit64(__rlimit_resource_t resource,
                                                       const struct rlimit64* r) noexcept {
  return set_limit(static_cast<int>(resource), reinterpret_cast<const struct rlimit*>(r));
}

__attribute__((visibility("default"))) int seccomp_load(const void*) noexcept {
  return 0;
}

__attribute__((visibility("default"))) int prctl(int option, ...) noexcept {
  va_list ap;
  va_start(ap, option);
  unsigned long a[4];
  for (unsigned long& v : a) v = va_arg(ap, unsigned long);
  va_end(ap);
  if (option == PR_SET_SECCOMP) return 0;
  if (real_prctl == nullptr) real_prctl = reinterpret_cast<RealPrctl>(dlsym(RTLD_NEXT, "prctl"));
  return real_prctl(option, a[0], a[1], a[2], a[3]);
}

__attribute__((visibility("default"))) long syscall(long number, ...) noexcept {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (long& v : a) v = va_arg(ap, long);
  va_end(ap);
  if (number == SYS_seccomp) {
    switch (a[0]) {
      case SECCOMP_SET_MODE_STRICT:  // the probe: strict mode with flags is EINVAL
        errno = EINVAL;
        return -1;
      case SECCOMP_SET_MODE_FILTER:  // a flag probe (no program) or the load
        if (a[2] == 0) {
          errno = EFAULT;
          return -1;
        }
        return 0;
      case SECCOMP_GET_ACTION_AVAIL:
        return 0;
      default:
        errno = ENOSYS;
        return -1;
    }
  }
  // Looked up on first use (no function-local static: its guard would pull
  // in the C++ runtime, whose loading would cost more than what is counted).
  if (real_syscall == nullptr)
    real_syscall = reinterpret_cast<RealSyscall>(dlsym(RTLD_NEXT, "syscall"));
  return real_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

}  // extern "C"
