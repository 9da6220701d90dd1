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
case $target in
  session) maxlen=16384 ;;
  *) maxlen=8192 ;;
esac
exec "$bin" -max_total_time="$seconds" -max_len="$maxlen" -timeout=20 -rss_limit_mb=2048 \
  -dict="$dict" -artifact_prefix="$work/" -print_final_stats=1 "$@" \
  "$work/corpus" "$fuzzdir/corpus/$target"
