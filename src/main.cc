// tlswrapper-smtp: adds STARTTLS (and greylisting, timeouts, a jail) to an
// inetd-style SMTP server. Reads options, starts the child, and hands the
// session to the poll loop. Exit: 100 usage, 111 temporary failure, the
// child's own status after QUIT.
#include <cstdlib>
#include <string>

#include "child_process.h"
#include "constants.h"
#include "control_channel.h"
#include "logger.h"
#include "options.h"
#include "relay.h"
#include "session.h"

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tws;
  Options opt;
  std::string err;
  Logger log;
  log.configure(1, env("TCPREMOTEIP"), session_id_from_environment());
  if (!parse_options(argc, argv, &opt, &err)) {
    log.write(LogLevel::Error, err);
    log.write(LogLevel::Error, std::string("usage: ") + kUsage);
    return kExitUsage;
  }
  log.configure(opt.verbosity, env("TCPREMOTEIP"), log.id());

  Account account;
  const Account* run_as = nullptr;
  if (!opt.child_user.empty()) {
    if (!lookup_account(opt.child_user, &account, &err)) {
      log.write(LogLevel::Error, "-u: " + err);
      return kExitUsage;
    }
    run_as = &account;
  }

  // fds 5 and 6 are taken (close-on-exec) before the child exists.
  ControlChannel control;
  control.detect();

  ChildProcess child;
  if (!child.start(opt.prog, run_as, &err)) {
    log.write(LogLevel::Error, err);
    return kExitTemporary;
  }
  log.write(LogLevel::Trace, "started '" + opt.prog[0] + "' as pid " + std::to_string(child.pid()));

  SessionConfig config;
  config.control = control.protocol();
  config.log_level = log.level();
  config.client_address = env("TCPREMOTEIP");
  config.client_name = env("TCPREMOTEHOST");
  config.session_id = log.id();
  Session session(std::move(config));

  RelayLimits limits;
  limits.session_timeout_ms = opt.session_timeout * 1000;
  limits.io_timeout_ms = opt.io_timeout * 1000;
  Relay relay(session, child, control, log, limits);
  return relay.run();
}
