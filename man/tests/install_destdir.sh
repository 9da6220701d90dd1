#!/bin/sh
# install.destdir: `cmake --install BUILD --prefix /usr/local` into a
# DESTDIR temp dir, twice (the second run must keep what the first made),
# and checks what lands: bin/tlswrapper-smtp (runs), bin/tlswrapper-smtp-nojail
# (a link to it), share/man/man1/tlswrapper-smtp.1 (the page),
# DESTDIR/var/lib/tlswrapper/empty (a directory, empty, owned by root, not
# writable by group or others). Ownership needs root: not root, every other
# check runs and the test reports itself skipped (77).
# Usage: install_destdir.sh CMAKE BUILD-DIR MANPAGE
cmake=$1 build=$2 page=$3
jail=$(sed -n 's/.*kDefaultJailDir *= *"\([^"]*\)".*/\1/p' "$(dirname "$0")/../../src/constants.h")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tws-install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; failed=1; }
check() { what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }

for run in 1 2; do
  if DESTDIR=$tmp/root "$cmake" --install "$build" --prefix /usr/local >"$tmp/install$run.log" 2>&1; then
    ok "cmake --install (run $run) into DESTDIR"
  else
    notok "cmake --install (run $run) into DESTDIR"
  fi
  sed 's/^/    /' "$tmp/install$run.log"
done
grep -q "Creating: $tmp/root$jail" "$tmp/install1.log"; check "first run creates the jail directory" [ $? -eq 0 ]
grep -q "Up-to-date: $tmp/root$jail" "$tmp/install2.log"; check "second run finds it in place" [ $? -eq 0 ]
check "no warning in either run" sh -c '! grep -qi "warning" "$1"/install1.log "$1"/install2.log' _ "$tmp"

p=$tmp/root/usr/local
check "bin/tlswrapper-smtp is an executable file" [ -f "$p/bin/tlswrapper-smtp" -a -x "$p/bin/tlswrapper-smtp" ]
check "bin/tlswrapper-smtp-nojail is a link to tlswrapper-smtp" \
  [ -L "$p/bin/tlswrapper-smtp-nojail" -a "$(readlink "$p/bin/tlswrapper-smtp-nojail")" = tlswrapper-smtp ]
"$p/bin/tlswrapper-smtp-nojail" -Z >"$tmp/run.txt" 2>&1
rc=$?
check "the installed binary runs (an unknown option: exit 100, 'unknown option -Z')" \
  [ $rc -eq 100 ] && grep -q "unknown option -Z" "$tmp/run.txt"
check "share/man/man1/tlswrapper-smtp.1 is the page" cmp -s "$page" "$p/share/man/man1/tlswrapper-smtp.1"
if command -v man >/dev/null 2>&1; then
  check "man -l renders the installed page" \
    sh -c 'MANWIDTH=80 man -l "$1" 2>/dev/null | grep -q "^NAME"' _ "$p/share/man/man1/tlswrapper-smtp.1"
else
  echo "# man is not installed: the installed page is not rendered (man.groff checks the source)"
fi

j=$tmp/root$jail
check "DESTDIR$jail is a directory" [ -d "$j" -a ! -L "$j" ]
check "it is empty" [ -z "$(ls -A "$j" 2>/dev/null)" ]
mode=$(stat -c %a "$j")
check "mode $mode: not writable by group or others" sh -c 'case $1 in *[2367][0-7]|*[2367]) exit 1;; esac' _ "$mode"
check "mode $mode: 0555 as made" [ "$mode" = 555 ]
parent=$(dirname "$j")
check "its parent $(stat -c %a "$parent") not writable by group or others" \
  sh -c 'case $(stat -c %a "$1") in *[2367][0-7]|*[2367]) exit 1;; esac' _ "$parent"
if [ "$(id -u)" -eq 0 ]; then
  check "owned by root ($(stat -c %U:%G "$j"))" [ "$(stat -c %u:%g "$j")" = 0:0 ]
  status=$failed
else
  echo "# not root: ownership not checked (a real install runs as root); skipped"
  status=$failed
  [ $failed -eq 0 ] && status=77
fi
[ $failed -eq 0 ] && echo "install.destdir: PASS" || echo "install.destdir: FAIL"
exit $status
