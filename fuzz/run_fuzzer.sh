#!/bin/sh
# One short libFuzzer run from the committed corpus, for ctest (fuzz.run.*)
# and scripts/fuzz-campaign.sh.
#   run_fuzzer.sh BINARY FUZZDIR TARGET WORKDIR SECONDS [extra libFuzzer flags]
# New inputs go to WORKDIR/corpus (the committed corpus is only read);
# a crash leaves WORKDIR/crash-* and fails the run.
set -eu
bin=$1 fuzzdir=$2 target=$3 work=$4 seconds=$5
shift 5
mkdir -p "$work/corpus"
dict="$work/dict"
cat "$fuzzdir/smtp.dict" > "$dict"
[ "$target" = session ] && cat "$fuzzdir/session.dict" >> "$dict"
# The session target's body oracle is quadratic in the length of a body
# that arrives in many pieces: some inputs take tens of seconds under ASan
# without anything being wrong, so its per-input limit is wider.
case $target in
  session) maxlen=16384 unit_timeout=300 ;;
  *) maxlen=8192 unit_timeout=20 ;;
esac
exec "$bin" -max_total_time="$seconds" -max_len="$maxlen" -timeout="$unit_timeout" -rss_limit_mb=2048 \
  -dict="$dict" -artifact_prefix="$work/" -print_final_stats=1 "$@" \
  "$work/corpus" "$fuzzdir/corpus/$target"
