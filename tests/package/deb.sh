#!/bin/bash
# package.deb: the Debian package, built and tried on this machine.
#
#  1. A copy of the source tree (the working tree as it is, build
#     directories left out) is built with `dpkg-buildpackage -us -uc -b` in
#     a temp dir (its outputs go to the parent of the tree); lintian on the
#     .changes and the .deb reports no error and no warning.
#  2. With Debian's tlswrapper installed, the package is installed: both
#     diversions are in place, the stock helper and page are at their
#     .distrib names (checked against tlswrapper's md5sums),
#     /usr/bin/tlswrapper-smtp is ours, and a mail sent with swaks --tls
#     through tcpserver -> tlswrapper -n -> /usr/bin/tlswrapper-smtp ->
#     exim4 -bs is delivered and logged by our helper.
#  3. dpkg --purge: the diversions are gone, the stock helper is back and
#     delivers a mail through the same pipeline.
#  4. The reverse order: tlswrapper's files unpacked after ours (from its
#     .deb in apt's cache, no network) land at the diverted names; ours
#     purged, the stock ones are back. By default tlswrapper is reinstalled
#     over ours; TWS_PACKAGE_REVERSE=full removes it first, installs ours,
#     then installs it again (tlswrapper and the jail directory are missing
#     for a few seconds: not while anything else on the machine uses them).
#     Without the installed tlswrapper's .deb in apt's cache (scripts/deps.sh
#     puts it there) this part fails, unless TWS_PACKAGE_REVERSE=0 asks to
#     leave it out.
#
# The machine is left as found: a trap purges our package, removes a
# diversion left behind and reinstalls tlswrapper on any exit, and the
# stock files are compared with their first state at the end.
#
# It changes system files for the time it runs: ctest gives it the
# system-helper lock (every test that runs /usr/bin/tlswrapper-smtp or the
# jailed helper in /var/lib/tlswrapper/empty holds it) and the exim lock.
# Exit 77 (skipped) when it cannot run here: not root, no
# dpkg-buildpackage/debhelper/lintian (scripts/deps.sh installs them), no
# tlswrapper installed, or tlswrapper-smtp already installed (an admin's
# install is not touched). With TWS_PACKAGE_REQUIRED=1 (scripts/test.sh
# sets it) that is a failure instead: exit 1.
# Usage: deb.sh SOURCE-DIR
src=${1:?usage: deb.sh SOURCE-DIR}
src=$(cd "$src" && pwd) || exit 2

skip() {
  if [ "${TWS_PACKAGE_REQUIRED:-0}" = 1 ]; then
    echo "not ok - package.deb cannot run here (TWS_PACKAGE_REQUIRED=1): $*"
    echo "package.deb: FAIL"
    exit 1
  fi
  echo "package.deb: SKIP: $*"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "not root (it installs and removes packages)"
for c in dpkg-buildpackage dh lintian dpkg-divert; do
  command -v "$c" >/dev/null 2>&1 || skip "no $c (scripts/deps.sh installs debhelper, dpkg-dev, lintian)"
done
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q ' installed$'; }
known() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -qv 'not-installed$'; }
installed tlswrapper || skip "Debian's tlswrapper is not installed (scripts/deps.sh installs it)"
known tlswrapper-smtp && skip "a tlswrapper-smtp package is already on this machine: left alone"

PKG=tlswrapper-smtp
BIN=/usr/bin/tlswrapper-smtp
MAN=/usr/share/man/man1/tlswrapper-smtp.1.gz
BIN_DIVERTED=/usr/bin/tlswrapper-smtp.distrib
MAN_DIVERTED=/usr/share/man/man1/tlswrapper-smtp.distrib.1.gz
for f in "$BIN" "$MAN"; do
  owner=$(dpkg-divert --listpackage "$f")
  [ -z "$owner" ] || skip "$f is already diverted by $owner: left alone"
done

export E2E_TIMEOUT=${E2E_TIMEOUT:-540}
. "$src/tests/e2e/lib.sh"
e2e_init "$BIN"
e2e_setup
version=$(head -n 1 "$src/VERSION")
t0=$SECONDS
stage() { e2e_log "[$((SECONDS - t0)) s] $*"; }

# ---- the stock state, and how to get it back -----------------------------------

stock_version=$(dpkg-query -W -f='${Version}' tlswrapper)
stock_auto=$(apt-mark showauto tlswrapper 2>/dev/null)
# One line per path of the tlswrapper package, wherever a diversion put it:
# a link and its target, a file and its md5, a directory, or missing.
stock_state() {
  local p t
  dpkg-query -L tlswrapper | while IFS= read -r p; do
    [ "$p" = /. ] && continue
    t=$(dpkg-divert --truename "$p")
    if [ -L "$t" ]; then
      echo "$p link $(readlink "$t")"
    elif [ -f "$t" ]; then
      echo "$p file $(md5sum <"$t" | cut -d' ' -f1)"
    elif [ -d "$t" ]; then
      echo "$p dir"
    else
      echo "$p missing"
    fi
  done | sort
}
# Every file of tlswrapper (followed through its diversion) has the md5 dpkg
# recorded when it was installed.
stock_md5sums_hold() {
  local sum path t ok=0
  while read -r sum path; do
    t=$(dpkg-divert --truename "/$path")
    [ "$(md5sum <"$t" 2>/dev/null | cut -d' ' -f1)" = "$sum" ] || { echo "    /$path ($t): md5 differs"; ok=1; }
  done </var/lib/dpkg/info/tlswrapper.md5sums
  return $ok
}
stock_before=$(stock_state)
check "tlswrapper $stock_version: its files match its md5sums before anything" stock_md5sums_hold
check "the stock $BIN is a link to tlswrapper" [ "$(readlink "$BIN")" = tlswrapper ]

# The stock package as a .deb, for the reverse-order check and to put it
# back after a failure there: the one apt installed it from, in apt's cache
# (scripts/deps.sh makes sure it is there), if it is the installed one (the
# same md5sums). A repacked one (dpkg-repack) would not leave the dpkg
# database as it was.
stockdeb=/var/cache/apt/archives/tlswrapper_${stock_version//:/%3a}_$(dpkg --print-architecture).deb
if [ ! -f "$stockdeb" ] ||
   ! dpkg-deb --info "$stockdeb" md5sums 2>/dev/null | cmp -s - /var/lib/dpkg/info/tlswrapper.md5sums; then
  stockdeb=
fi

ours_gone() { ! known "$PKG"; }
restore_system() {
  [ -n "${restored:-}" ] && return 0
  restored=1
  stop_pipeline
  if known "$PKG"; then
    e2e_log "restoring: dpkg --purge $PKG"
    dpkg --purge "$PKG" >>"$E2E_TMP/restore.log" 2>&1 || echo "ERROR: dpkg --purge $PKG failed" >&2
  fi
  local f to
  for f in "$BIN" "$MAN"; do
    if [ "$(dpkg-divert --listpackage "$f")" = "$PKG" ]; then
      to=$(dpkg-divert --truename "$f")
      e2e_log "restoring: removing the diversion of $f to $to"
      dpkg-divert --package "$PKG" --remove --rename --divert "$to" "$f" >>"$E2E_TMP/restore.log" 2>&1
    fi
  done
  if ! installed tlswrapper; then
    if [ -n "$stockdeb" ]; then
      e2e_log "restoring: dpkg -i $(basename "$stockdeb")"
      dpkg -i "$stockdeb" >>"$E2E_TMP/restore.log" 2>&1 || echo "ERROR: reinstalling tlswrapper failed" >&2
    else
      echo "ERROR: tlswrapper is not installed any more and there is no .deb to put it back" >&2
    fi
  fi
  if [ -n "$stock_auto" ]; then apt-mark auto tlswrapper >/dev/null 2>&1; fi
  [ -s "$E2E_TMP/restore.log" ] && sed 's/^/    restore: /' "$E2E_TMP/restore.log"
  return 0
}
trap 'rc=$?; restore_system; (exit $rc); e2e_cleanup' EXIT

# ---- 1. build and lintian ------------------------------------------------------

stage "copying the source tree"
tree=$E2E_TMP/build/$PKG-$version
mkdir -p "$tree"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Tracked and untracked files, what .gitignore names (build dirs) left out.
  (cd "$src" && git ls-files -z --cached --others --exclude-standard |
    tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$tree"
else
  tar -C "$src" --exclude='./build*' --exclude='./obj-*' --exclude=./.git -cf - . | tar -xf - -C "$tree"
fi
check "source copied (debian/ and CMakeLists.txt there)" [ -f "$tree/debian/control" -a -f "$tree/CMakeLists.txt" ]

stage "dpkg-buildpackage -us -uc -b"
b0=$SECONDS
(cd "$tree" && DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" \
  timeout 400 dpkg-buildpackage -us -uc -b) >"$E2E_TMP/build.log" 2>&1
rc=$?
build_s=$((SECONDS - b0))
if [ $rc -ne 0 ]; then
  tail -n 40 "$E2E_TMP/build.log" | sed 's/^/    build: /'
fi
check "dpkg-buildpackage -us -uc -b exits 0 (${build_s} s)" [ $rc -eq 0 ]
arch=$(dpkg --print-architecture)
deb=$E2E_TMP/build/${PKG}_${version}_$arch.deb
changes=$E2E_TMP/build/${PKG}_${version}_$arch.changes
check "it made $(basename "$deb") and $(basename "$changes")" [ -f "$deb" -a -f "$changes" ]
[ -f "$deb" ] || e2e_finish

stage "lintian"
l0=$SECONDS
lintian --pedantic --display-info --show-overrides "$changes" "$deb" >"$E2E_TMP/lintian.txt" 2>"$E2E_TMP/lintian.err"
lrc=$?
sed 's/^/    lintian: /' "$E2E_TMP/lintian.txt"
grep -v 'running with root privileges' "$E2E_TMP/lintian.err" | sed 's/^/    lintian (stderr): /'
# 0: nothing at the fail-on level (errors), 1: something, 2: lintian itself failed
check "lintian ran (exit $lrc, $((SECONDS - l0)) s)" [ $lrc -ne 2 ]
check "lintian: no error and no warning" sh -c '! grep -qE "^[EW]: " "$1"' _ "$E2E_TMP/lintian.txt"
check "the package's version is VERSION ($version)" [ "$(dpkg-deb -f "$deb" Version)" = "$version" ]
check "Depends is libc6 alone (shlibs)" sh -c 'dpkg-deb -f "$1" Depends | grep -qE "^libc6 \("' _ "$deb"

# ---- 2. installed over Debian's tlswrapper ------------------------------------

ours_in_place() {
  check "$BIN is ours (in dpkg -L $PKG)" sh -c 'dpkg-query -L "$1" | grep -qxF "$2"' _ "$PKG" "$BIN"
  check "$BIN is a regular file matching our md5sums" sh -c \
    '[ ! -L "$1" ] && [ "$(md5sum <"$1" | cut -d" " -f1)" = "$(sed -n "s|  usr/bin/tlswrapper-smtp\$||p" /var/lib/dpkg/info/tlswrapper-smtp.md5sums)" ]' _ "$BIN"
  "$BIN" -Z >"$E2E_TMP/usage.txt" 2>&1
  local rc=$?
  check "$BIN -Z: exit 100, the usage line names version $version" \
    sh -c '[ $1 -eq 100 ] && grep -qF "(tlswrapper-smtp $2)" "$3"' _ $rc "$version" "$E2E_TMP/usage.txt"
  check "tlswrapper-smtp-nojail is a link to it" [ "$(readlink /usr/bin/tlswrapper-smtp-nojail)" = tlswrapper-smtp ]
  check "$MAN is our page" sh -c 'zcat "$1" | cmp -s - "$2"' _ "$MAN" "$src/man/tlswrapper-smtp.1"
  check "tlswrapper-smtp-nojail.1.gz is a link to it" \
    [ "$(readlink /usr/share/man/man1/tlswrapper-smtp-nojail.1.gz)" = tlswrapper-smtp.1.gz ]
  check "the examples are in /usr/share/doc/$PKG/examples" \
    [ -x "/usr/share/doc/$PKG/examples/tcpserver/run" -a -f "/usr/share/doc/$PKG/examples/systemd/tlswrapper-smtp@.service" ]
  check "the jail directory /var/lib/tlswrapper/empty is there, empty" \
    sh -c '[ -d "$1" ] && [ -z "$(ls -A "$1")" ]' _ /var/lib/tlswrapper/empty
}
diversions_in_place() {
  local list
  list=$(dpkg-divert --list "$PKG")
  printf '%s\n' "$list" | sed 's/^/    /'
  check "diversion: $BIN -> $BIN_DIVERTED by $PKG" \
    grep -qxF "diversion of $BIN to $BIN_DIVERTED by $PKG" <<<"$list"
  check "diversion: $MAN -> $MAN_DIVERTED by $PKG" \
    grep -qxF "diversion of $MAN to $MAN_DIVERTED by $PKG" <<<"$list"
}
stock_diverted() {
  check "$BIN_DIVERTED is the stock link to tlswrapper" [ "$(readlink "$BIN_DIVERTED")" = tlswrapper ]
  check "$BIN_DIVERTED is the stock program (md5 of usr/bin/tlswrapper in tlswrapper.md5sums)" \
    [ "$(md5sum <"$BIN_DIVERTED" | cut -d' ' -f1)" = "$(sed -n 's|  usr/bin/tlswrapper$||p' /var/lib/dpkg/info/tlswrapper.md5sums)" ]
  check "$MAN_DIVERTED is the stock page (tlswrapper.md5sums)" \
    [ "$(md5sum <"$MAN_DIVERTED" | cut -d' ' -f1)" = "$(sed -n 's|  usr/share/man/man1/tlswrapper-smtp.1.gz$||p' /var/lib/dpkg/info/tlswrapper.md5sums)" ]
  check "every file of tlswrapper matches its md5sums, through the diversions" stock_md5sums_hold
  # The multi-call tlswrapper acts on the name it is run under.
  mkdir -p "$E2E_TMP/named"
  ln -sf "$BIN_DIVERTED" "$E2E_TMP/named/tlswrapper-smtp"
  "$E2E_TMP/named/tlswrapper-smtp" >"$E2E_TMP/stock-usage.txt" 2>&1
  check "the diverted stock helper runs under its own name (usage 'tlswrapper-smtp [options] child')" \
    grep -qF "tlswrapper-smtp [options] child" "$E2E_TMP/stock-usage.txt"
}
stock_in_place() {
  check "no diversion by $PKG is left" [ -z "$(dpkg-divert --list "$PKG")" ]
  check "$BIN is the stock link to tlswrapper again" [ "$(readlink "$BIN")" = tlswrapper ]
  check "$BIN_DIVERTED and $MAN_DIVERTED are gone" [ ! -e "$BIN_DIVERTED" -a ! -L "$BIN_DIVERTED" -a ! -e "$MAN_DIVERTED" ]
  check "our files are gone (tlswrapper-smtp-nojail, its page, the examples)" \
    [ ! -L /usr/bin/tlswrapper-smtp-nojail -a ! -L /usr/share/man/man1/tlswrapper-smtp-nojail.1.gz -a ! -d "/usr/share/doc/$PKG" ]
  check "tlswrapper's files are as they were at the start" [ "$(stock_state)" = "$stock_before" ]
  check "every file of tlswrapper matches its md5sums" stock_md5sums_hold
  check "the jail directory (tlswrapper's too) is still there" [ -d /var/lib/tlswrapper/empty ]
}
dpkg_step() { # what dpkg-args...: runs dpkg, output indented, one check
  local what=$1; shift
  local d0=$SECONDS
  dpkg "$@" >"$E2E_TMP/dpkg.log" 2>&1
  local rc=$?
  sed 's/^/    dpkg: /' "$E2E_TMP/dpkg.log"
  check "$what (exit $rc, $((SECONDS - d0)) s)" [ $rc -eq 0 ]
}

stage "dpkg -i, tlswrapper installed"
dpkg_step "dpkg -i $(basename "$deb") over tlswrapper" -i "$deb"
diversions_in_place
stock_diverted
ours_in_place

stage "a mail through our /usr/bin/tlswrapper-smtp"
start_pipeline "$BIN" || e2e_finish
example_mail deb-ours
line=$(grep -F "mail from=<sender-$token@example.com>" "$E2E_TMP/pipeline.log")
printf '    helper: %s\n' "$line"
check "the log line is ours: info, to=<$E2E_RCPT>, reply=250, tls=yes, [ID]" \
  grep -qE "^tlswrapper-smtp: info: 127\.0\.0\.1: mail from=<sender-$token@example\.com> to=<$E2E_RCPT> reply=250 .* tls=yes \[[^] ]+\]$" <<<"$line"
stop_pipeline

# ---- 3. purged: the stock helper is back -----------------------------------------

stage "dpkg --purge"
dpkg_step "dpkg --purge $PKG" --purge "$PKG"
stock_in_place

stage "a mail through the stock /usr/bin/tlswrapper-smtp"
start_pipeline "$BIN" || e2e_finish
example_mail deb-stock
check "no log line of ours for it (the stock helper answered)" \
  sh -c '! grep -qF "mail from=<sender-$1@example.com>" "$2"' _ "$token" "$E2E_TMP/pipeline.log"
stop_pipeline

# ---- 4. the reverse order: tlswrapper unpacked after ours ------------------------

reverse=${TWS_PACKAGE_REVERSE:-reinstall}
if [ "$reverse" = 0 ]; then
  e2e_log "reverse order left out (TWS_PACKAGE_REVERSE=0)"
elif [ -z "$stockdeb" ]; then
  fail "reverse order: the installed tlswrapper's .deb is not in apt's cache" \
    "(apt-get install --reinstall --download-only tlswrapper, or scripts/deps.sh, puts it there;" \
    "TWS_PACKAGE_REVERSE=0 leaves this part out)"
else
  if [ "$reverse" = full ]; then
    # tlswrapper absent for a few seconds, and with it the jail directory:
    # whatever else runs tlswrapper or a jailed helper on the machine then
    # fails. Asked for by name only.
    stage "reverse order: tlswrapper removed, ours installed, tlswrapper installed again ($(basename "$stockdeb"))"
    dpkg_step "dpkg -r tlswrapper" -r tlswrapper
    dpkg_step "dpkg -i $(basename "$deb") without tlswrapper" -i "$deb"
    diversions_in_place
    check "nothing at $BIN_DIVERTED yet" [ ! -e "$BIN_DIVERTED" -a ! -L "$BIN_DIVERTED" ]
    ours_in_place
  else
    # The same unpacking of tlswrapper's files while ours is installed,
    # without a moment where tlswrapper is missing.
    stage "reverse order: ours installed, tlswrapper reinstalled after it ($(basename "$stockdeb"))"
    dpkg_step "dpkg -i $(basename "$deb") over tlswrapper" -i "$deb"
  fi
  dpkg_step "dpkg -i $(basename "$stockdeb") after ours" -i "$stockdeb"
  diversions_in_place
  stock_diverted
  ours_in_place
  dpkg_step "dpkg --purge $PKG" --purge "$PKG"
  stock_in_place
fi

stage "done"
restore_system
check "tlswrapper installed, version $stock_version, as at the start" \
  [ "$(dpkg-query -W -f='${Status} ${Version}' tlswrapper 2>/dev/null)" = "install ok installed $stock_version" ]
check "$PKG not on the machine" ours_gone
check "tlswrapper's files are as at the start" [ "$(stock_state)" = "$stock_before" ]
e2e_log "build ${build_s} s, whole test $((SECONDS - t0)) s"
e2e_finish
