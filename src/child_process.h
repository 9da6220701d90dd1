// The SMTP server the helper fronts: prog and its arguments, run on two
// pipes (its stdin and stdout), stderr shared, the environment inherited,
// and no other descriptor: never the control channel's fd 5 or fd 6.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "fd.h"

namespace tws {

// The account prog runs under (-u). Accounts with uid 0 or gid 0 are refused.
struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

bool lookup_account(const std::string& name, Account* out, std::string* err);

class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Forks and execs; false (with *err) if prog could not be started.
  bool start(const std::vector<std::string>& argv, const Account* account, std::string* err);

  int input() const { return to_child_.get(); }     // the child's stdin, our write end
  int output() const { return from_child_.get(); }  // the child's stdout, our read end
  void close_input() { to_child_.reset(); }
  void close_output() { from_child_.reset(); }

  // Waits up to timeout_ms for the child to end; true with its status.
  bool wait(int timeout_ms, int* status);
  // False when the signal could not be sent (jailed: the child is another uid).
  bool signal(int sig) const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  Fd pidfd_;  // readable when the child ends: waiting costs no polling
  bool reaped_ = false;
  int status_ = 0;
  Fd to_child_;
  Fd from_child_;
};

}  // namespace tws
