// Option parsing (see options.h). Values may be attached (-T2) or separate
// (-T 2), flags may be grouped (-vv), and "--" ends the options.
#include "options.h"

#include <cstdlib>
#include <cstring>

#include "constants.h"
#include "decimal.h"

namespace tws {

#ifndef TWS_VERSION
#error "TWS_VERSION is defined by the build (CMakeLists.txt, from the VERSION file)"
#endif

const char* const kVersion = TWS_VERSION;
const char* const kUsage =
    "tlswrapper-smtp [-hqvcCas] [-t seconds] [-T seconds] [-u user] [-g host:port] "
    "[-J jaildir] [-j jailuser] prog [args ...] (tlswrapper-smtp " TWS_VERSION ")";

namespace {

bool seconds(const char* text, int* out) {
  long v = 0;
  if (text == nullptr || !parse_decimal(text, kMaxSeconds, &v) || v < kMinSeconds) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

std::string help_text() {
  using std::to_string;
  return std::string("usage: ") + kUsage +
         "\n"
         "  -h            this help\n"
         "  -q            quiet: no log lines\n"
         "  -v            more log lines: -v a line per transaction, -vv every command and\n"
         "                reply, -vvv tracing\n"
         "  -t seconds    whole-session limit, " +
         to_string(kMinSeconds) + ".." + to_string(kMaxSeconds) + " (default " +
         to_string(kDefaultSessionTimeout) +
         ")\n"
         "  -T seconds    limit on each wait: the client, the child, a write, the TLS ack\n"
         "                (default " +
         to_string(kDefaultIoTimeout) +
         ")\n"
         "  -u user       run prog as user\n"
         "  -g host:port  greylist through a postgrey (Postfix policy protocol) server\n"
         "  -C            greylist lookups fail open (default)\n"
         "  -c            greylist lookups fail closed: 421 and exit 111\n"
         "  -a            AUTH only inside TLS\n"
         "  -s            TLS required before mail (implies -a)\n"
         "  -p seconds    the pregreet test: the greeting's last line after this wait,\n"
         "                0.." +
         to_string(kMaxGreetDelay) +
         " (default 0: off); a client that speaks first gets 554\n"
         "  -J dir        jail directory (default " +
         kDefaultJailDir +
         ")\n"
         "  -j user       jail uid/gid (default: an id of the session's own)\n";
}

bool greet_delay_seconds(const char* text, int* out) {
  long v = 0;
  if (text == nullptr || !parse_decimal(text, kMaxGreetDelay, &v)) return false;
  *out = static_cast<int>(v);
  return true;
}

bool parse_options(int argc, char** argv, Options* out, std::string* err) {
  int i = 1;
  for (; i < argc; ++i) {
    const char* arg = argv[i];
    if (std::strcmp(arg, "--") == 0) {
      ++i;
      break;
    }
    if (arg[0] != '-' || arg[1] == '\0') break;
    bool value_taken = false;
    for (const char* p = arg + 1; *p && !value_taken; ++p) {
      const char opt = *p;
      if (opt == 'h') {
        out->help = true;
        return true;
      } else if (opt == 'q') {
        out->verbosity = 0;
      } else if (opt == 'v') {
        if (out->verbosity < 4) ++out->verbosity;
      } else if (opt == 'c' || opt == 'C') {
        out->greylist_fail_closed = opt == 'c';
      } else if (opt == 'a') {
        out->auth_needs_tls = true;
      } else if (opt == 's') {
        out->tls_required = true;
        out->auth_needs_tls = true;
      } else if (std::strchr("tTuJjgp", opt) != nullptr) {
        // The value is the rest of this word, or the next word.
        const char* value = p[1] ? p + 1 : (i + 1 < argc ? argv[++i] : nullptr);
        value_taken = true;
        if (value == nullptr || *value == '\0') {
          *err = std::string("option -") + opt + " needs a value";
          return false;
        }
        if (opt == 'u') {
          out->child_user = value;
        } else if (opt == 'J') {
          out->jail_dir = value;
        } else if (opt == 'j') {
          out->jail_user = value;
        } else if (opt == 'g') {
          out->greylist = value;
        } else if (opt == 'p') {
          if (!greet_delay_seconds(value, &out->greet_delay)) {
            *err = std::string("option -p: '") + value + "' is not a number of seconds from 0 to " +
                   std::to_string(kMaxGreetDelay);
            return false;
          }
        } else if (!seconds(value, opt == 't' ? &out->session_timeout : &out->io_timeout)) {
          *err = std::string("option -") + opt + ": '" + value +
                 "' is not a number of seconds from " + std::to_string(kMinSeconds) + " to " +
                 std::to_string(kMaxSeconds);
          return false;
        }
      } else {
        *err = std::string("unknown option -") + opt;
        return false;
      }
    }
  }
  if (i >= argc) {
    *err = "no program to run";
    return false;
  }
  for (; i < argc; ++i) out->prog.emplace_back(argv[i]);
  return true;
}

}  // namespace tws
