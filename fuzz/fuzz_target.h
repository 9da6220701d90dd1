// What every fuzz target shares: how its entry point is declared, and how
// it reports a broken invariant.
//
// Built for libFuzzer or AFL++, each target file defines the usual
// LLVMFuzzerTestOneInput. Built into fuzz_replay (TWS_FUZZ_REPLAY), all the
// targets live in one program, so each entry point gets its own name and
// registers itself under it; fuzz_replay then runs files through the one
// named on its command line. Same code, same checks, any compiler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tws::fuzz {

using Entry = int (*)(const std::uint8_t* data, std::size_t size);

// A broken invariant: says which and aborts, so every engine (and ctest)
// records the input as a crash.
[[noreturn]] void fail(std::string_view what);

inline void check(bool ok, std::string_view what) {
  if (!ok) fail(what);
}

#ifdef TWS_FUZZ_REPLAY
bool register_target(const char* name, Entry entry);
#endif

}  // namespace tws::fuzz

#ifdef TWS_FUZZ_REPLAY
#define TWS_FUZZ_TARGET(name)                                             \
  static int tws_fuzz_##name(const std::uint8_t* data, std::size_t size); \
  [[maybe_unused]] static const bool tws_fuzz_registered_##name =         \
      ::tws::fuzz::register_target(#name, tws_fuzz_##name);               \
  static int tws_fuzz_##name(const std::uint8_t* data, std::size_t size)
#else
#define TWS_FUZZ_TARGET(name) \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
#endif
