#!/bin/bash
# The fuzzing campaign (issue 6), in three steps that can run apart:
#
#   scripts/fuzz-campaign.sh run [-e libfuzzer|afl] TARGET=SECONDS ...
#       fuzzes each TARGET in turn for SECONDS on one core (nice 10, so
#       two queues, one per core, can run side by side), starting from
#       fuzz/corpus/TARGET, and appends a line of figures per run to the
#       summary: wall and CPU seconds, executions, coverage, crashes.
#       libFuzzer (build-fuzz/, ASan+UBSan) runs in fork mode (-fork=1)
#       so a crash is saved and the run goes on; AFL++ (build-afl/, no
#       sanitizer) runs afl-fuzz -V SECONDS.
#   scripts/fuzz-campaign.sh merge [TARGET ...]
#       minimises the committed corpus plus everything both engines found
#       (libFuzzer -merge=1) into fuzz/corpus/TARGET.
#   scripts/fuzz-campaign.sh coverage
#       line coverage of the engine (src/ and the grammar) from a replay
#       of fuzz/corpus and fuzz/regressions (clang, llvm-cov; build-cov/).
#
# Targets: command reply policy data session. Work and logs go to
# build-fuzz/campaign/ENGINE/TARGET/, figures to build-fuzz/campaign/summary.txt.
# A crash input stays in the work directory (libFuzzer: crash-*, AFL++:
# out/default/crashes/id*) and is named in the summary; once the bug (or
# the target) is fixed it goes to fuzz/regressions/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
all_targets="command reply policy data session"
campaign=$root/build-fuzz/campaign
summary=$campaign/summary.txt
mkdir -p "$campaign"

usage() {
  sed -n '2,22p' "$0"
  exit 100
}

build_libfuzzer() {
  CXX=clang++ cmake -S . -B build-fuzz -DTWS_FUZZ=ON -DTWS_WERROR=ON >/dev/null
  nice -n 10 cmake --build build-fuzz -j1 --target fuzz_command fuzz_reply fuzz_policy fuzz_data \
    fuzz_session >/dev/null
}

build_afl() {
  CXX=afl-clang-fast++ cmake -S . -B build-afl -DTWS_AFL=ON -DTWS_TESTS=OFF >/dev/null
  AFL_QUIET=1 nice -n 10 cmake --build build-afl -j1 --target afl_command afl_reply afl_policy afl_data \
    afl_session >/dev/null
}

dict_for() {  # target output-file
  cat fuzz/smtp.dict >"$2"
  if [ "$1" = session ]; then cat fuzz/session.dict >>"$2"; fi
}

# Runs "$@" and leaves the CPU seconds it took in $cpu: perf's task-clock
# over every process it started (AFL++'s persistent target is killed, never
# reaped, so the kernel's child times would miss it); without perf, the
# reaped children's user+system times.
timed() {
  local t0 t1 out
  if perf stat -x, -e task-clock -- true >/dev/null 2>&1; then
    out=$(mktemp)
    perf stat -x, -o "$out" -e task-clock -- "$@" || true
    cpu=$(awk -F, '$3 == "task-clock" { printf "%d", $1 / 1000 }' "$out")
    rm -f "$out"
    return
  fi
  t0=$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)
  "$@" || true
  t1=$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)
  cpu=$(((t1 - t0) / $(getconf CLK_TCK)))
}

run_libfuzzer() {  # target seconds
  local t=$1 secs=$2 work=$campaign/libfuzzer/$1 last execs cov ft crashes
  mkdir -p "$work"
  timed nice -n 10 fuzz/run_fuzzer.sh "$root/build-fuzz/fuzz/fuzz_$t" "$root/fuzz" "$t" "$work" "$secs" \
    -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 >>"$work/log" 2>&1
  last=$(grep -E '^#[0-9]+' "$work/log" | tail -1 || true)
  execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  crashes=$( (ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null || true) | wc -l)
  printf '%s libfuzzer %-8s wall %6ss cpu %6ss  execs %-10s cov %-5s ft %-6s crashes %s\n' \
    "$(date -u +%FT%TZ)" "$t" "$secs" "$cpu" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$crashes" | tee -a "$summary"
  for c in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
    if [ -e "$c" ]; then echo "    crash input: $c" | tee -a "$summary"; fi
  done
}

run_afl() {  # target seconds
  local t=$1 secs=$2 work=$campaign/afl/$1 stats
  mkdir -p "$work"
  dict_for "$t" "$work/dict"
  # A second run of the same target resumes its queue.
  local in="-i $root/fuzz/corpus/$t"
  if [ -d "$work/out/default/queue" ]; then in="-i -"; fi
  # shellcheck disable=SC2086
  timed env AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
    AFL_SKIP_CRASHES=1 nice -n 10 afl-fuzz -V "$secs" $in -o "$work/out" -x "$work/dict" -m none -t 5000 \
    -- "$root/build-afl/fuzz/afl_$t" >>"$work/log" 2>&1
  stats=$work/out/default/fuzzer_stats
  if [ ! -f "$stats" ]; then
    echo "$(date -u +%FT%TZ) afl       $t: afl-fuzz did not start, see $work/log" | tee -a "$summary"
    return
  fi
  get() { sed -n "s/^$1 *: *//p" "$stats"; }
  printf '%s afl       %-8s wall %6ss cpu %6ss  execs %-10s edges %s (bitmap %s) corpus %s crashes %s hangs %s\n' \
    "$(date -u +%FT%TZ)" "$t" "$secs" "$cpu" "$(get execs_done)" "$(get edges_found)" "$(get bitmap_cvg)" \
    "$(get corpus_count)" "$(get saved_crashes)" "$(get saved_hangs)" | tee -a "$summary"
  for c in "$work"/out/default/crashes/id* "$work"/out/default/hangs/id*; do
    if [ -e "$c" ]; then echo "    crash input: $c" | tee -a "$summary"; fi
  done
}

merge() {
  local t work found targets=("$@")
  # shellcheck disable=SC2206
  if [ $# -eq 0 ]; then targets=($all_targets); fi
  build_libfuzzer
  for t in "${targets[@]}"; do
    work=$campaign/merge/$t
      rm -rf "$work" && mkdir -p "$work/merged"
      found=()
      for d in "$campaign/libfuzzer/$t/corpus" "$campaign/afl/$t/out/default/queue"; do
        if [ -d "$d" ]; then found+=("$d"); fi
      done
      nice -n 10 build-fuzz/fuzz/fuzz_"$t" -merge=1 -max_len=16384 -rss_limit_mb=2048 -timeout=60 \
        "$work/merged" "fuzz/corpus/$t" "${found[@]}" >"$work/log" 2>&1
      if [ -n "$(ls "$work/merged")" ]; then
        find "fuzz/corpus/$t" -type f -delete
        cp "$work/merged"/* "fuzz/corpus/$t/"
      fi
      printf '%s merge     %-8s corpus %s files / %s bytes\n' "$(date -u +%FT%TZ)" "$t" \
        "$(ls "fuzz/corpus/$t" | wc -l)" "$(cat "fuzz/corpus/$t"/* | wc -c)" | tee -a "$summary"
  done
}

coverage() {
  local flags="-fprofile-instr-generate -fcoverage-mapping" t
  CXX=clang++ cmake -S . -B build-cov -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
    -DCMAKE_BUILD_TYPE=Debug >/dev/null
  nice -n 10 cmake --build build-cov -j1 --target fuzz_replay >/dev/null
  rm -f build-cov/*.profraw
  for t in $all_targets; do
    LLVM_PROFILE_FILE=build-cov/$t.profraw build-cov/fuzz/fuzz_replay "$t" "fuzz/corpus/$t" \
      "fuzz/regressions/$t" >/dev/null
  done
  llvm-profdata merge -o build-cov/all.profdata build-cov/*.profraw
  local files="src/session.cc src/policy.cc src/log_text.cc src/smtp_grammar.h grammar/smtp.rl generated/smtp_grammar.cc"
  {
    echo "line coverage of the engine, every target's corpus replayed:"
    # shellcheck disable=SC2086
    llvm-cov report build-cov/fuzz/fuzz_replay -instr-profile=build-cov/all.profdata $files
    for t in $all_targets; do
      llvm-profdata merge -o "build-cov/$t.profdata" "build-cov/$t.profraw"
      echo "-- $t alone:"
      # shellcheck disable=SC2086
      llvm-cov report build-cov/fuzz/fuzz_replay -instr-profile="build-cov/$t.profdata" $files | tail -1
    done
  } | tee -a "$summary"
}

[ $# -ge 1 ] || usage
step=$1
shift
case $step in
  run)
    engine=libfuzzer
    while getopts "e:" opt; do
      case $opt in
        e) engine=$OPTARG ;;
        *) usage ;;
      esac
    done
    shift $((OPTIND - 1))
    [ $# -ge 1 ] || usage
    case $engine in
      libfuzzer) build_libfuzzer ;;
      afl) build_afl ;;
      *) usage ;;
    esac
    for item in "$@"; do
      t=${item%%=*}
      secs=${item#*=}
      case " $all_targets " in *" $t "*) ;; *) usage ;; esac
      [[ $secs =~ ^[0-9]+$ ]] || usage
      "run_$engine" "$t" "$secs"
    done
    ;;
  merge) merge "$@" ;;
  coverage) coverage ;;
  *) usage ;;
esac
echo "summary: $summary"
