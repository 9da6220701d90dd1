#!/bin/sh
# Fails when generated/ differs from what grammar/smtp.rl produces now.
# Ragel writes both the input and the output path into #line directives, so
# it runs in a scratch copy of the tree with the same relative paths as the
# `regenerate` target. Exit 77 (ctest: skipped) where ragel is not installed.
set -eu
command -v ragel >/dev/null 2>&1 || { echo "ragel not installed: check skipped"; exit 77; }
root=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/grammar" "$tmp/generated"
cp grammar/smtp.rl "$tmp/grammar/"
(cd "$tmp" && ragel "$@" -o generated/smtp_grammar.cc grammar/smtp.rl)
if ! diff -u "$root/generated/smtp_grammar.cc" "$tmp/generated/smtp_grammar.cc" > "$tmp/diff"; then
  head -40 "$tmp/diff"
  echo "generated/smtp_grammar.cc is stale: run 'cmake --build BUILD --target regenerate' and commit it"
  exit 1
fi
echo "generated/smtp_grammar.cc matches grammar/smtp.rl"
