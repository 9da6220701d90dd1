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
# A session input may carry 16 MiB of DATA body in which every other byte
# is a dot to escape: the Session answers with one action per byte or two
# and the target checks each, some seconds under ASan; so its per-input
# limit is wider.
case $target in
  session) maxlen=16384 unit_timeout=60 ;;
  *) maxlen=8192 unit_timeout=20 ;;
esac
exec "$bin" -max_total_time="$seconds" -max_len="$maxlen" -timeout="$unit_timeout" -rss_limit_mb=2048 \
  -dict="$dict" -artifact_prefix="$work/" -print_final_stats=1 "$@" \
  "$work/corpus" "$fuzzdir/corpus/$target"
