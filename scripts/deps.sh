#!/bin/sh
# Installs what tlswrapper-smtp needs to build and test, from Debian's
# packages. Safe to run again: it installs only what is missing.
set -eu
packages="cmake g++ make python3 ragel libboost-test-dev libseccomp-dev pkg-config
  tlswrapper exim4-daemon-light ucspi-tcp swaks openssl postgrey groff-base daemontools
  msmtp curl libio-socket-ssl-perl
  clang libclang-rt-14-dev llvm afl++ debhelper dpkg-dev lintian"
# clang with libclang-rt-14-dev: libFuzzer and the sanitizer runtimes (the
# fuzz targets); llvm: llvm-cov and llvm-profdata (fuzz coverage); afl++;
# debhelper, dpkg-dev and lintian: the Debian package (ctest package.deb).
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# package.deb reinstalls tlswrapper after our package from the .deb apt
# installed it from: it must still be in apt's cache. Without it that part
# of the test is left out, so a failed download is only a warning.
stock_deb_cached() {
  v=$(dpkg-query -W -f='${Version}' tlswrapper 2>/dev/null) || return 1
  [ -f "/var/cache/apt/archives/tlswrapper_$(echo "$v" | sed 's/:/%3a/')_$(dpkg --print-architecture).deb" ]
}
cache_stock_deb() {
  stock_deb_cached && return 0
  [ "$(id -u)" -eq 0 ] || return 0
  echo "downloading tlswrapper's .deb into apt's cache (package.deb reinstalls it)"
  apt-get install -y -qq --reinstall --download-only tlswrapper >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --reinstall --download-only tlswrapper >/dev/null; } ||
    echo "warning: could not download tlswrapper's .deb: package.deb leaves out the reverse order" >&2
}
if [ -z "$missing" ]; then
  cache_stock_deb
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing packages:$missing (run as root to install them)" >&2
  exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
cache_stock_deb
