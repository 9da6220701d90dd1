#!/bin/sh
# Installs what tlswrapper-smtp needs to build and test, from Debian's
# packages. Safe to run again: it installs only what is missing.
set -eu
packages="cmake g++ make python3 ragel libboost-test-dev libseccomp-dev pkg-config
  tlswrapper exim4-daemon-light ucspi-tcp swaks openssl postgrey groff-base daemontools
  clang libclang-rt-14-dev llvm afl++"
# clang with libclang-rt-14-dev: libFuzzer and the sanitizer runtimes (the
# fuzz targets); llvm: llvm-cov and llvm-profdata (fuzz coverage); afl++.
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing packages:$missing (run as root to install them)" >&2
  exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
