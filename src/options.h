// The command line: tlswrapper-smtp [options] prog [args...]
// Parsed before anything runs; a bad option is exit 100 (kExitUsage).
#pragma once

#include <string>
#include <vector>

#include "constants.h"

namespace tws {

struct Options {
  int verbosity = 1;                             // 0 with -q; +1 per -v, at most 4 (-vvv)
  int session_timeout = kDefaultSessionTimeout;  // -t seconds
  int io_timeout = kDefaultIoTimeout;            // -T seconds
  std::string child_user;                        // -u user
  std::string jail_dir = kDefaultJailDir;        // -J dir
  std::string jail_user;                         // -j user (empty: an id of the session's own)
  std::string greylist;                          // -g host:port (empty: no greylisting)
  bool greylist_fail_closed = false;             // -c (fail-closed) / -C (fail-open, default)
  bool auth_needs_tls = false;                   // -a: AUTH only inside TLS
  bool tls_required = false;                     // -s: no mail before TLS (implies -a)
  bool help = false;                             // -h: the usage to stdout, exit 0
  int greet_delay = 0;                           // -p seconds: the pregreet test (0: off)
  std::vector<std::string> prog;                 // prog and its arguments
};

// A pregreet wait (-p, GREETDELAY): 0 to kMaxGreetDelay seconds, digits
// only; false for anything else.
bool greet_delay_seconds(const char* text, int* out);

// Fills *out, or returns false with a message in *err. -h stops the
// parse: out->help is set and no prog is needed.
bool parse_options(int argc, char** argv, Options* out, std::string* err);

// The one-line synopsis (with the version), and the help -h prints: the
// synopsis and a line for every option.
extern const char* const kUsage;
std::string help_text();
// The project's version (the top-level VERSION file, through CMake).
extern const char* const kVersion;

}  // namespace tws
