#!/bin/sh
# The test command: installs what is missing, builds with warnings as
# errors, and runs every test (ctest), then the same suite under ASan and
# UBSan, then (when clang has libFuzzer) each fuzz target for about a
# minute from its corpus. Usage: scripts/test.sh [build-dir]
# (the sanitizer and fuzz builds go to build-dir-asan and build-dir-fuzz).
# package.deb may not skip itself here (it fails where ctest alone would
# skip it: not root, a tool missing, a tlswrapper-smtp package already
# installed), nor leave out the reverse install order for want of the
# stock tlswrapper .deb, unless TWS_PACKAGE_REVERSE=0 asks for that.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
jobs=$(nproc)
sh scripts/deps.sh
cmake -S . -B "$build" -DTWS_WERROR=ON >/dev/null
cmake --build "$build" -j"$jobs"
(cd "$build" && ctest -N -R '^package\.deb$' | grep -q '^Total Tests: 1$') ||
  { echo "scripts/test.sh: package.deb is not among the tests" >&2; exit 1; }
(cd "$build" && TWS_PACKAGE_REQUIRED=1 ctest --output-on-failure -j"$jobs")

# ---- stage 2: AddressSanitizer + UBSan ---------------------------------------
# The unit tests run with leak checks. The rest run the binary, whose
# seccomp filter kills LeakSanitizer's scan at exit: they go without.
# Left out, because they cannot hold under ASan: the jail cases
# memory_is_capped (a sanitizer build has no memory cap: ASan reserves
# terabytes of address space) and relay_calls_still_work (the filter kills
# the ASan runtime at its sigaltstack call), the other jail cases run;
# binary.helper's jail_shows_in_proc (it wants the memory cap); the
# example examples.tcpserver (its softlimit -m leaves ASan no room for its
# shadow memory); bench.smoke (it measures with valgrind, which cannot run
# an ASan binary); package.deb (it builds the package from the sources
# with Debian's flags, no sanitizer: stage 1 ran it).
echo "== ASan + UBSan"
asan="$build-asan"
units='^(engine\.|shell\.options$|fuzz\.replay\.)'
cmake -S . -B "$asan" -DTWS_SANITIZE=ON -DTWS_WERROR=ON >/dev/null
cmake --build "$asan" -j"$jobs" >/dev/null
(cd "$asan" && ctest --output-on-failure -j"$jobs" -R "$units")
(cd "$asan" && ASAN_OPTIONS=detect_leaks=0 ctest --output-on-failure -j"$jobs" \
  -E "$units|^shell\.jail$|^binary\.helper$|^examples\.tcpserver$|^bench\.|^package\.deb$")
ASAN_OPTIONS=detect_leaks=0 python3 -c '
import sys
sys.path.insert(0, "tests/binary")
import helper_tests
names = [t.__name__ for t in helper_tests.TESTS if t.__name__ != "jail_shows_in_proc"]
helper_tests.run_tests(helper_tests.TESTS, ["helper_tests.py", sys.argv[1]] + names)' "$asan/tlswrapper-smtp"
ASAN_OPTIONS=detect_leaks=0 "$asan/shell_tests" --run_test=jail --run_test='!jail/memory_is_capped' \
  --run_test='!jail/relay_calls_still_work' --report_level=short --color_output=no

# ---- stage 3: each fuzz target for a minute -------------------------------------
fuzzer_works() {
  command -v clang++ >/dev/null 2>&1 || return 1
  printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' |
    clang++ -x c++ -fsanitize=fuzzer - -o /tmp/tws-libfuzzer-probe.$$ >/dev/null 2>&1
  ok=$?
  rm -f /tmp/tws-libfuzzer-probe.$$
  return $ok
}
if fuzzer_works; then
  echo "== libFuzzer: every target for ${TWS_FUZZ_SECONDS:-60} s"
  fuzz="$build-fuzz"
  CXX=clang++ cmake -S . -B "$fuzz" -DTWS_FUZZ=ON -DTWS_WERROR=ON -DTWS_FUZZ_SECONDS="${TWS_FUZZ_SECONDS:-60}" >/dev/null
  cmake --build "$fuzz" -j"$jobs" --target fuzz_command fuzz_reply fuzz_policy fuzz_data fuzz_session >/dev/null
  (cd "$fuzz" && ctest --output-on-failure -j"$jobs" -L fuzz)
else
  echo "== libFuzzer: skipped (no clang++ with -fsanitize=fuzzer; scripts/deps.sh installs it)"
fi
