// tws::fuzz::fail: one line on stderr, then abort() (see fuzz_target.h).
#include <cstdio>
#include <cstdlib>

#include "fuzz_target.h"

namespace tws::fuzz {

void fail(std::string_view what) {
  std::fprintf(stderr, "invariant broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace tws::fuzz
