#!/usr/bin/env bash
# Fuzzes each libFuzzer target of the asan build for a bounded time, two at a time.
#   packaging/fuzz.sh [SECONDS]   (default 60 per target; the asan build must exist:
#                                   packaging/setup.sh sanitize builds it)
# A crash is kept under tests/fuzz/regressions/TARGET/ as crash-*: commit it with the fix, and
# the test fuzz_TARGET_regressions replays it from then on.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-60}
# libFuzzer reads -max_total_time=0 as "no limit": a bound is always a positive number.
case "$seconds" in
  '' | *[!0-9]* | 0) echo "fuzz: SECONDS must be a positive number of seconds, not '$seconds'" >&2; exit 1 ;;
esac
build="$here/build/asan/tests/fuzz"
[ -d "$build" ] || { echo "fuzz: no asan build in $build (run packaging/setup.sh sanitize)" >&2; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/tests/sanitizers/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

fuzz_one() {
    local target=$1 seconds=$2 here=$3 build=$4
    local work
    work=$(mktemp -d) # what the fuzzer finds goes here, not into the checked-in seeds
    local seeds=("$here/tests/fuzz/corpus/$target")
    case "$target" in
      flowfile | jsonpositions) seeds+=("$here/resources/examples" "$here/resources/demo") ;;
    esac
    local log="$work.log"
    if "$build/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$here/tests/fuzz/regressions/$target/" \
        "$work" "${seeds[@]}" >"$log" 2>&1; then
        echo "fuzz: $target: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') inputs in ${seconds} s, no crash"
        rm -rf "$work" "$log"
    else
        echo "fuzz: $target FAILED; the input is kept in tests/fuzz/regressions/$target/:" >&2
        tail -40 "$log" >&2
        rm -rf "$work"
        return 1
    fi
}
export -f fuzz_one

targets=()
for binary in "$build"/fuzz_*; do
    if [ -f "$binary" ] && [ -x "$binary" ]; then
        targets+=("$(basename "$binary" | sed 's/^fuzz_//')")
    fi
done
printf '%s\n' "${targets[@]}" | xargs -P 2 -I{} bash -c 'fuzz_one "$@"' _ {} "$seconds" "$here" "$build"
