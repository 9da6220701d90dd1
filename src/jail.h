// The jail: what the helper gives up before it reads a byte from the
// client, so that a flaw in the code that parses hostile SMTP reaches
// nothing worth having. In order: chroot into an empty directory, a uid and
// gid of its own (or -j's), limits (no forks, no core, no file writes, no
// new descriptors, bounded memory), no new privileges, and a seccomp filter
// that kills the process on any system call the relay does not make.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace tws {

struct JailSettings {
  std::string dir;            // -J
  bool have_account = false;  // -j given
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  bool syscall_filter = true;  // off only in the jail's own tests
};

// The uid and gid a session gets without -j: unique among concurrent
// sessions (derived from the pid), in a range no real account uses.
uid_t jail_id_for(pid_t pid);

// Checks, before anything runs, that the jail can be made (root, an
// existing directory).
bool jail_possible(const JailSettings& s, std::string* err);

// True when stderr is a regular file: jailed (RLIMIT_FSIZE 0), the helper
// can no longer write log lines there.
bool stderr_is_a_file();

// Jails the calling process; false with *err if any step failed (the
// caller then exits 111: a half-made jail is no jail).
bool enter_jail(const JailSettings& s, std::string* err);

}  // namespace tws
