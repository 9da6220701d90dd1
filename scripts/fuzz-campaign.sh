#!/bin/bash
# The fuzzing campaign (issue 6): builds the libFuzzer targets, runs each
# for its share of time on one core (nice 10, the machine stays usable),
# merges what it found into the committed corpus (minimised with
# -merge=1), and optionally runs AFL++ on the Session target and measures
# line coverage of src/ and the grammar from the corpus.
#
# usage: scripts/fuzz-campaign.sh [-a AFL_SECONDS] [-c] SECONDS | TARGET=SECONDS ...
#   scripts/fuzz-campaign.sh 600                  every target for 600 s
#   scripts/fuzz-campaign.sh session=1800 data=600 policy=300
#   -a 600    then afl-fuzz on the session target for 600 s (build-afl/)
#   -c        then llvm-cov line coverage from a replay of the corpus (build-cov/)
# Targets: command reply policy data session. Work and logs go to
# build-fuzz/campaign/<target>/; the figures to build-fuzz/campaign/summary.txt.
# libFuzzer runs in fork mode (-fork=1, one job at a time), so its cov:
# and ft: count the whole run. A crash stops nothing: its input is left
# in the target's work directory
# (crash-*) and named in the summary; put it in fuzz/regressions/<target>/
# once the bug (or the target) is fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
all_targets="command reply policy data session"
afl_seconds=0
coverage=0
while getopts "a:c" opt; do
  case $opt in
    a) afl_seconds=$OPTARG ;;
    c) coverage=1 ;;
    *) sed -n '2,20p' "$0"; exit 100 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { sed -n '2,20p' "$0"; exit 100; }

plan=()
if [ $# -eq 1 ] && [[ $1 =~ ^[0-9]+$ ]]; then
  for t in $all_targets; do plan+=("$t=$1"); done
else
  plan=("$@")
fi

build=build-fuzz
campaign=$build/campaign
mkdir -p "$campaign"
summary=$campaign/summary.txt
CXX=clang++ cmake -S . -B $build -DTWS_FUZZ=ON -DTWS_WERROR=ON >/dev/null
nice -n 10 cmake --build $build -j1 --target fuzz_command fuzz_reply fuzz_policy fuzz_data fuzz_session >/dev/null

echo "campaign $(date -u +%FT%TZ) on $(nproc) cores, one used" | tee "$summary"
for item in "${plan[@]}"; do
  t=${item%%=*}
  secs=${item#*=}
  bin=$root/$build/fuzz/fuzz_$t
  work=$root/$campaign/$t
  mkdir -p "$work"
  echo "== $t: $secs s"
  set +e
  # Fork mode: a crash is saved and the run goes on (one job at a time).
  nice -n 10 fuzz/run_fuzzer.sh "$bin" "$root/fuzz" "$t" "$work" "$secs" -fork=1 -ignore_crashes=1 \
    >"$work/log" 2>&1
  rc=$?
  set -e
  last=$(grep -E '^#[0-9]+' "$work/log" | tail -1 || true)
  execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  crashes=$( (ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null || true) | wc -l)
  # Minimise: the committed corpus plus what this run found.
  rm -rf "$work/merged" && mkdir -p "$work/merged"
  nice -n 10 "$bin" -merge=1 -max_len=16384 -rss_limit_mb=2048 "$work/merged" \
    "$root/fuzz/corpus/$t" "$work/corpus" >"$work/merge.log" 2>&1 || true
  if [ -n "$(ls "$work/merged")" ]; then
    mkdir -p "fuzz/corpus/$t"
    find "fuzz/corpus/$t" -type f -delete
    cp "$work/merged"/* "fuzz/corpus/$t/"
  fi
  files=$(ls "fuzz/corpus/$t" | wc -l)
  bytes=$(cat "fuzz/corpus/$t"/* | wc -c)
  printf '%-8s %6ss  execs %-10s cov %-5s ft %-6s corpus %s files / %s bytes  crashes %s (exit %s)\n' \
    "$t" "$secs" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$files" "$bytes" "$crashes" "$rc" | tee -a "$summary"
  for c in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
    [ -e "$c" ] && echo "    crash input: $c" | tee -a "$summary"
  done
done

if [ "$afl_seconds" -gt 0 ]; then
  echo "== AFL++ on session: $afl_seconds s"
  CXX=afl-clang-fast++ cmake -S . -B build-afl -DTWS_AFL=ON -DTWS_TESTS=OFF >/dev/null
  AFL_QUIET=1 nice -n 10 cmake --build build-afl -j1 --target afl_session >/dev/null
  out=$root/build-afl/out
  rm -rf "$out"
  cat fuzz/smtp.dict fuzz/session.dict >build-afl/session.dict
  set +e
  AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
    nice -n 10 afl-fuzz -V "$afl_seconds" -i fuzz/corpus/session -o "$out" -x build-afl/session.dict \
    -m none -t 2000 -- build-afl/fuzz/afl_session >build-afl/afl.log 2>&1
  set -e
  stats=$out/default/fuzzer_stats
  if [ -f "$stats" ]; then
    get() { sed -n "s/^$1 *: *//p" "$stats"; }
    printf 'afl/session %6ss  execs %-10s edges %s (bitmap %s)  corpus %s  crashes %s  hangs %s\n' \
      "$afl_seconds" "$(get execs_done)" "$(get edges_found)" "$(get bitmap_cvg)" "$(get corpus_count)" \
      "$(get saved_crashes)" "$(get saved_hangs)" | tee -a "$summary"
    # What AFL++ found joins the corpus through the same minimisation.
    work=$root/$campaign/session
    rm -rf "$work/merged" && mkdir -p "$work/merged"
    nice -n 10 "$root/$build/fuzz/fuzz_session" -merge=1 -max_len=16384 "$work/merged" \
      "$root/fuzz/corpus/session" "$out/default/queue" >"$work/merge-afl.log" 2>&1 || true
    if [ -n "$(ls "$work/merged")" ]; then
      find fuzz/corpus/session -type f -delete
      cp "$work/merged"/* fuzz/corpus/session/
    fi
    for c in "$out"/default/crashes/id*; do
      [ -e "$c" ] && echo "    afl crash input: $c" | tee -a "$summary"
    done
  else
    echo "afl/session: afl-fuzz did not start, see build-afl/afl.log" | tee -a "$summary"
  fi
fi

if [ "$coverage" -eq 1 ]; then
  echo "== line coverage from a replay of the corpus"
  flags="-fprofile-instr-generate -fcoverage-mapping"
  CXX=clang++ cmake -S . -B build-cov -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
    -DCMAKE_BUILD_TYPE=Debug >/dev/null
  nice -n 10 cmake --build build-cov -j1 --target fuzz_replay >/dev/null
  rm -f build-cov/*.profraw
  for t in $all_targets; do
    LLVM_PROFILE_FILE=build-cov/$t.profraw build-cov/fuzz/fuzz_replay "$t" fuzz/corpus/$t fuzz/regressions/$t >/dev/null
  done
  llvm-profdata merge -o build-cov/all.profdata build-cov/*.profraw
  {
    echo "line coverage of the engine, all targets' corpora replayed:"
    llvm-cov report build-cov/fuzz/fuzz_replay -instr-profile=build-cov/all.profdata \
      src/session.cc src/policy.cc src/log_text.cc grammar/smtp.rl generated/smtp_grammar.cc
    for t in $all_targets; do
      llvm-profdata merge -o build-cov/$t.profdata build-cov/$t.profraw
      echo "-- $t alone:"
      llvm-cov report build-cov/fuzz/fuzz_replay -instr-profile=build-cov/$t.profdata \
        src/session.cc src/policy.cc grammar/smtp.rl generated/smtp_grammar.cc | tail -1
    done
  } | tee -a "$summary"
fi
echo "summary: $summary"
