// Option parsing (see options.h). Values may be attached (-T2) or separate
// (-T 2), flags may be grouped (-vv), and "--" ends the options.
#include "options.h"

#include <cstdlib>
#include <cstring>

#include "constants.h"

namespace tws {

#ifndef TWS_VERSION
#error "TWS_VERSION is defined by the build (CMakeLists.txt, from the VERSION file)"
#endif

const char* const kVersion = TWS_VERSION;
const char* const kUsage =
    "tlswrapper-smtp [options] prog [args ...] (tlswrapper-smtp " TWS_VERSION ")";

namespace {

bool seconds(const char* text, int* out) {
  if (text == nullptr || *text == '\0') return false;
  long v = 0;
  for (const char* p = text; *p; ++p) {
    if (*p < '0' || *p > '9') return false;
    v = v * 10 + (*p - '0');
    if (v > kMaxSeconds) return false;
  }
  if (v < kMinSeconds) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

bool greet_delay_seconds(const char* text, int* out) {
  if (text == nullptr || *text == '\0') return false;
  int v = 0;
  for (const char* p = text; *p; ++p) {
    if (*p < '0' || *p > '9') return false;
    v = v * 10 + (*p - '0');
    if (v > kMaxGreetDelay) return false;
  }
  *out = v;
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
      if (opt == 'q') {
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
