#!/bin/sh
# The test command: installs what is missing, builds with warnings as
# errors, and runs every test (ctest). Usage: scripts/test.sh [build-dir]
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
sh scripts/deps.sh
cmake -S . -B "$build" -DTWS_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure -j"$(nproc)"
