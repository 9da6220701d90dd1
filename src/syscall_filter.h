// The system calls the relay makes once jailed: the seccomp allowlist.
// glibc picks among equivalents (poll or ppoll, dup2 or dup3), so both are
// listed. The filter itself is compiled at build time (syscall_filter_gen)
// into a BPF program the jail loads with one prctl: no filter is built,
// and no library loaded, at the start of every session.
#pragma once

// clang-format off
#define TWS_ALLOWED_SYSCALLS(X)                                         \
  X(read) X(write) X(close) X(dup2) X(dup3) X(poll) X(ppoll) X(fcntl)   \
  X(clock_gettime) X(clock_nanosleep) X(nanosleep) X(wait4) X(waitid)   \
  X(kill) X(brk) X(mmap) X(munmap) X(mremap) X(madvise) X(futex)        \
  X(rt_sigreturn) X(rt_sigprocmask) X(getpid) X(gettid) X(tgkill)       \
  X(restart_syscall) X(exit) X(exit_group)                              \
  /* shared client sockets (UCSPI-TLS), used with MSG_DONTWAIT */       \
  X(sendto) X(recvfrom)                                                 \
  /* the greylist socket, made before the jail, reconnected in place */ \
  X(connect) X(getsockopt)

// ioctl(2) only with these requests: FIONREAD, how many client bytes are
// waiting when TLS starts (relay.cc, start_tls_input).
#define TWS_ALLOWED_IOCTLS(X) X(FIONREAD)
// clang-format on
