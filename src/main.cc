// tlswrapper-smtp: adds STARTTLS (and greylisting, timeouts, a jail) to an
// inetd-style SMTP server. Reads options, starts the child, and hands the
// session to the poll loop. Exit: 100 usage, 111 temporary failure, the
// child's own status after QUIT.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "child_process.h"
#include "client_policy.h"
#include "constants.h"
#include "control_channel.h"
#include "io.h"
#include "jail.h"
#include "log_text.h"
#include "logger.h"
#include "options.h"
#include "policy_client.h"
#include "relay.h"
#include "session.h"

namespace {

// The variables the helper reads, found in one pass over the environment:
// getenv(3) walks all of it (dozens of entries when a session starts) for
// each of the twenty names. An entry is compared only with the names that
// start with its first byte.
class Environment {
 public:
  explicit Environment(char* const* entries) {
    for (std::string_view n : kConnection) add(n);
    for (const tws::ClientVariable& v : tws::kClientVariables) add(v.name);
    for (char* const* e = entries; *e != nullptr; ++e) {
      for (std::uint32_t m = starting_[static_cast<unsigned char>(**e)]; m != 0; m &= m - 1) {
        const std::size_t i = static_cast<std::size_t>(__builtin_ctz(m));
        const std::string_view name = names_[i];
        std::size_t k = 0;
        while (k < name.size() && (*e)[k] == name[k]) ++k;
        if (k == name.size() && (*e)[k] == '=') values_[i] = *e + k + 1;
      }
    }
  }
  // The value, or null when unset.
  const char* get(std::string_view name) const {
    for (std::size_t i = 0; i < count_; ++i)
      if (names_[i] == name) return values_[i];
    return nullptr;
  }
  std::string text(std::string_view name) const {
    const char* v = get(name);
    return v ? v : "";
  }

 private:
  // The connection (tcpserver, sslserver, tlswrapper), the UCSPI-TLS
  // front's descriptors and key paths; then client_policy.cc's table.
  static constexpr std::string_view kConnection[] = {"TCPREMOTEIP", "SSLREMOTEIP", "TCPREMOTEHOST",
                                                     "LOG_ID",      "SSLCTLFD",    "SSLREADFD",
                                                     "SSLWRITEFD",  "CERTFILE",    "KEYFILE"};
  static constexpr std::size_t kMost = 32;  // the bits of starting_'s masks
  void add(std::string_view name) {
    if (count_ == kMost || name.empty()) return;
    starting_[static_cast<unsigned char>(name[0])] |= std::uint32_t{1} << count_;
    names_[count_++] = name;
  }
  std::string_view names_[kMost];
  const char* values_[kMost] = {};
  std::size_t count_ = 0;
  std::uint32_t starting_[256] = {};  // by first byte: a bit per name in names_
};

// Invoked under this name the helper runs without the jail: for tests,
// benchmarks under valgrind, and users who cannot run it as root.
constexpr const char* kNoJailName = "tlswrapper-smtp-nojail";

bool invoked_as_nojail(const char* argv0) {
  const char* slash = std::strrchr(argv0, '/');
  return std::strcmp(slash ? slash + 1 : argv0, kNoJailName) == 0;
}

// Closes [from, to], in one call where the kernel has close_range.
void close_descriptors(int from, unsigned to) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, from, to, 0) == 0) return;
#endif
  for (int fd = from; fd < 1024 && static_cast<unsigned>(fd) <= to; ++fd) close(fd);
}

// Descriptors inherited by accident would outlive the jail: only 0, 1, 2
// and the TLS front's are kept.
void close_inherited_descriptors(const tws::ControlChannel& front) {
  std::array<int, 4> keep = front.descriptors();
  std::sort(keep.begin(), keep.end());
  int from = 3;
  for (int fd : keep) {
    if (fd < from || fd >= 1024) continue;  // none, 0-2, twice, or past the old bound
    if (from < fd) close_descriptors(from, fd - 1);
    from = fd + 1;
  }
  close_descriptors(from, ~0U);
}

// The client's address: tcpserver's, else sslserver's (PROTO=SSL).
std::string client_address(const Environment& env) {
  std::string ip = env.text("TCPREMOTEIP");
  return ip.empty() ? env.text("SSLREMOTEIP") : ip;
}

// What the child must not inherit from the TLS front: its descriptors'
// numbers and its key material's paths.
void forget_front_environment(const Environment& env) {
  // unsetenv walks the whole environment even for a name that is not
  // there, and most of these are not there.
  for (const char* name : {"SSLCTLFD", "SSLREADFD", "SSLWRITEFD", "CERTFILE", "KEYFILE"})
    if (env.get(name) != nullptr) unsetenv(name);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tws;
  Options opt;
  std::string err;
  Logger log;
  const Environment env(environ);
  const std::string address = client_address(env);
  log.configure(1, address, session_id_from(env.get("LOG_ID")));
  if (!parse_options(argc, argv, &opt, &err)) {
    // A usage error is the caller's, not a session's: one plain line.
    write_all(2, shared_access(2), "tlswrapper-smtp: " + err + "; usage: " + kUsage + "\n", 1000);
    return kExitUsage;
  }
  if (opt.help) {
    std::string help = help_text() +
                       "per-client variables (tcprules; man tlswrapper-smtp, "
                       "ENVIRONMENT):\n";
    for (const ClientVariable& v : kClientVariables)
      help += "  " + std::string(v.name) +
              std::string(v.name.size() < 14 ? 14 - v.name.size() : 1, ' ') + std::string(v.what) +
              "; " + std::string(v.values) + "\n";
    return write_all(1, shared_access(1), help, 1000) ? 0 : kExitTemporary;
  }
  log.configure(opt.verbosity, address, log.id());

  // The TLS front's descriptors are taken (close-on-exec) before anything
  // else, and before the child exists.
  ControlChannel control;
  control.detect(env.get("SSLCTLFD"), env.get("SSLREADFD"), env.get("SSLWRITEFD"));
  close_inherited_descriptors(control);
  forget_front_environment(env);
  if (log.enabled(LogLevel::Trace)) log.write(LogLevel::Trace, control.describe());

  // The TLS policy needs a TLS front: without one, -s could never accept
  // mail, and -a refuses AUTH in every session.
  if (control.protocol() == ControlProtocol::None) {
    if (opt.tls_required) {
      log.write(LogLevel::Error,
                "-s: no TLS front (neither fd 5 nor SSLCTLFD), so no mail could ever be accepted");
      return kExitUsage;
    }
    if (opt.auth_needs_tls)
      log.write(LogLevel::Warning, "-a: no TLS front (neither fd 5 nor SSLCTLFD): AUTH is refused");
  }

  // This client's policy (tcprules and the like): read once, before the
  // greylist server is connected (a client not greylisted needs none).
  // Malformed values and conflicts are said; the session takes the
  // stricter reading.
  std::vector<std::string> notes;
  ClientPolicy client = read_client_policy({[](const void* e, const char* name) {
                                              return static_cast<const Environment*>(e)->get(name);
                                            },
                                            &env},
                                           &notes);
  SessionPolicy from_options;
  from_options.starttls = control.protocol() != ControlProtocol::None;
  from_options.tls_required = opt.tls_required;
  from_options.auth_needs_tls = opt.auth_needs_tls;
  from_options.greylist = !opt.greylist.empty();
  from_options.greet_delay = opt.greet_delay;
  const SessionPolicy policy_of_client = apply_client_policy(from_options, client, &notes);
  for (const std::string& note : notes) log.write(LogLevel::Warning, note);

  // A vanished reader is a write error to handle, not a signal.
  signal(SIGPIPE, SIG_IGN);

  const bool jailed = !invoked_as_nojail(argv[0]);
  JailSettings jail;
  if (jailed) {
    jail.dir = opt.jail_dir;
    if (!opt.jail_user.empty()) {
      Account a;
      if (!lookup_account(opt.jail_user, &a, &err)) {
        log.write(LogLevel::Error, "-j: " + err);
        return kExitUsage;
      }
      jail.have_account = true;
      jail.uid = a.uid;
      jail.gid = a.gid;
      jail.groups = a.groups;
    }
    if (!jail_possible(jail, &err)) {
      log.write(LogLevel::Error, err);
      return kExitTemporary;
    }
  }

  // The greylist server is resolved and connected before the jail: a
  // jailed process can neither resolve names nor make a socket.
  PolicyClient policy;
  if (!opt.greylist.empty()) {
    std::string host, port;
    if (!parse_host_port(opt.greylist, &host, &port)) {
      log.write(LogLevel::Error, "-g: '" + opt.greylist + "' is not host:port");
      return kExitUsage;
    }
    if (!policy_of_client.greylist) {
      log.write(LogLevel::Debug, "this client is not greylisted: no greylist server");
    } else if (!policy.resolve(host, port, &err)) {
      log.write(LogLevel::Warning, err);
    } else if (!policy.connect_now(&err)) {
      log.write(LogLevel::Warning, err + " (tried again at the first recipient)");
    }
  }

  Account account;
  const Account* run_as = nullptr;
  if (!opt.child_user.empty()) {
    if (!lookup_account(opt.child_user, &account, &err)) {
      log.write(LogLevel::Error, "-u: " + err);
      return kExitUsage;
    }
    run_as = &account;
  }

  ChildProcess child;
  if (!child.start(opt.prog, run_as, &err)) {
    log.write(LogLevel::Error, err);
    return kExitTemporary;
  }
  if (log.enabled(LogLevel::Trace))
    log.write(LogLevel::Trace, std::string("tlswrapper-smtp ") + kVersion + " started '" +
                                   opt.prog[0] + "' as pid " + std::to_string(child.pid()));
  // From here a SIGTERM or SIGHUP ends the session in order (relay.cc).
  catch_stop_signals();

  // Jailed before a byte is read from the client or relayed from the child.
  if (jailed) {
    if (stderr_is_a_file())
      log.write(LogLevel::Warning,
                "stderr is a regular file: jailed, no further log lines can be written to it "
                "(log through a pipe, e.g. multilog or the journal)");
    if (!enter_jail(jail, &err)) {
      log.write(LogLevel::Error, err);
      child.signal(SIGKILL);
      return kExitTemporary;
    }
    if (log.enabled(LogLevel::Trace)) log.write(LogLevel::Trace, "jailed in " + jail.dir);
  }

  SessionConfig config;
  // NOTLS: the session runs as if no front offered STARTTLS; the front's
  // descriptors stay open and unused (closing them would end the session
  // under some fronts).
  config.control = policy_of_client.starttls ? control.protocol() : ControlProtocol::None;
  config.log_level = log.level();
  config.client_address = address;
  config.client_name = env.text("TCPREMOTEHOST");
  config.session_id = log.id();
  config.greylist = policy_of_client.greylist;
  config.greylist_fail_closed = opt.greylist_fail_closed;
  config.auth_needs_tls = policy_of_client.auth_needs_tls;
  config.tls_required = policy_of_client.tls_required;
  config.greet_delay_ms = policy_of_client.greet_delay * 1000;
  Session session(std::move(config));

  RelayLimits limits;
  limits.session_timeout_ms = opt.session_timeout * 1000;
  limits.io_timeout_ms = opt.io_timeout * 1000;
  Relay relay(session, child, control, log, limits, &policy);
  return relay.run();
}
