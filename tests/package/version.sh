#!/bin/sh
# package.version: the project has one version number, the VERSION file at
# the top (CMake reads it into project()). debian/changelog's first entry,
# the manual page's .TH line and the built binary (its usage line and its
# -vvv start line) all carry that number.
# Usage: version.sh SOURCE-DIR HELPER
src=${1:?usage: version.sh SOURCE-DIR HELPER} helper=${2:?usage: version.sh SOURCE-DIR HELPER}
failed=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; failed=1; }
check() { what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }

version=$(cat "$src/VERSION")
check "VERSION is one line MAJOR.MINOR.PATCH ('$version')" \
  sh -c 'printf "%s\n" "$1" | grep -qxE "[0-9]+\.[0-9]+\.[0-9]+"' _ "$version"

first=$(head -n 1 "$src/debian/changelog")
echo "# debian/changelog: $first"
check "debian/changelog's first entry is tlswrapper-smtp ($version)" \
  sh -c 'printf "%s\n" "$1" | grep -qE "^tlswrapper-smtp \($2\) [a-z-]+; urgency="' _ "$first" "$version"
check "debian/control names the source and the binary package tlswrapper-smtp" \
  sh -c 'grep -qx "Source: tlswrapper-smtp" "$1" && grep -qx "Package: tlswrapper-smtp" "$1"' _ "$src/debian/control"

th=$(grep -m 1 '^\.TH ' "$src/man/tlswrapper-smtp.1")
echo "# man page: $th"
check "the manual page's .TH line says tlswrapper-smtp $version" \
  sh -c 'printf "%s\n" "$1" | grep -qF "\"tlswrapper-smtp $2\""' _ "$th" "$version"

nojail=$(dirname "$helper")/tlswrapper-smtp-nojail
out=$(mktemp "${TMPDIR:-/tmp}/tws-version.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT
"$nojail" -Z >"$out" 2>&1
rc=$?
usage=$(grep usage: "$out")
echo "# usage: $usage"
check "the usage line (exit $rc) names tlswrapper-smtp $version" \
  sh -c '[ "$1" -eq 100 ] && printf "%s\n" "$2" | grep -qF "(tlswrapper-smtp $3)"' _ $rc "$usage" "$version"
"$nojail" -vvv /bin/true </dev/null >"$out" 2>&1
start=$(grep -F "started '/bin/true'" "$out")
echo "# start: $start"
check "the -vvv start line begins 'tlswrapper-smtp $version started'" \
  sh -c 'printf "%s\n" "$1" | grep -qF ": tlswrapper-smtp $2 started '"'"'/bin/true'"'"' as pid "' _ "$start" "$version"

[ $failed -eq 0 ] && echo "package.version: PASS" || echo "package.version: FAIL"
exit $failed
