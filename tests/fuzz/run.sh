#!/bin/sh
# run.sh: runs the libFuzzer targets that `make fuzz-build` made, each over
# a scratch copy of its committed corpus (build/fuzz/work/), so the corpus
# grows only when asked (-m). Prints the executions of each target and the
# total; exits 1 when any target found a crash, leak, timeout or OOM.
#
#   run.sh [-t seconds] [-m] [-j] [-a crash-dir] target...
#     -t  seconds per target (default 20)
#     -m  afterwards, merge inputs with new coverage into the corpus
#     -j  run the targets at once instead of one after another
#     -a  where reproducers go (default build/fuzz/crashes)
#
# A reproducer replays with: build/fuzz/fuzz_TARGET FILE
set -u
cd "$(dirname "$0")/../.." || exit 2

secs=20 merge=0 parallel=0 crashes=build/fuzz/crashes
while getopts t:mja: opt; do
    case $opt in
    t) secs=$OPTARG ;;
    m) merge=1 ;;
    j) parallel=1 ;;
    a) crashes=$OPTARG ;;
    *) echo "usage: $0 [-t seconds] [-m] [-j] [-a dir] target..." >&2
       exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- html urllist name robots sitemap

logs=build/fuzz/logs
mkdir -p "$logs" "$crashes"

# Runs one target; leaves its log and a one-line summary "rc execs" in $logs.
run_one() {
    t=$1 bin=build/fuzz/fuzz_$1 corpus=tests/fuzz/corpus/$1
    work=build/fuzz/work/$1 log=$logs/$1.log
    if [ ! -x "$bin" ]; then
        echo "$bin is missing: run make fuzz-build" >"$log"
        echo "2 0" >"$logs/$t.sum"
        return
    fi
    rm -rf "$work"
    mkdir -p "$work"
    [ -d "$corpus" ] && cp -R "$corpus/." "$work/"
    case $t in
    html) dict=-dict=tests/fuzz/html.dict ;;
    robots) dict=-dict=tests/fuzz/robots.dict ;;
    sitemap) dict=-dict=tests/fuzz/sitemap.dict ;;
    *) dict=-dict=tests/fuzz/url.dict ;;
    esac
    # ASan's leak check stays on: a leak fails the run like a crash.
    "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$crashes/$t-" $dict \
        "$work" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    echo "$rc ${execs:-0}" >"$logs/$t.sum"
    if [ $rc -eq 0 ] && [ $merge -eq 1 ]; then
        "$bin" -merge=1 -rss_limit_mb=2048 -timeout=10 $dict \
            -artifact_prefix="$crashes/$t-merge-" \
            "$corpus" "$work" >>"$log" 2>&1 || echo "$t: merge failed" >&2
    fi
}

for t; do
    rm -f "$logs/$t.sum"
    if [ $parallel -eq 1 ]; then
        run_one "$t" &
    else
        echo "== fuzz_$t: ${secs}s"
        run_one "$t"
    fi
done
wait

total=0 failed=0
report='^(==[0-9]+==|SUMMARY|.*runtime error|fuzz_[a-z]+:|artifact_prefix)'
for t; do
    rc=2 execs=0
    [ -f "$logs/$t.sum" ] && read -r rc execs <"$logs/$t.sum"
    total=$((total + execs))
    if [ "$rc" -eq 0 ]; then
        printf 'fuzz_%-8s %12s execs  ok\n' "$t" "$execs"
    else
        failed=1
        printf 'fuzz_%-8s %12s execs  FAILED (exit %s), log %s\n' \
            "$t" "$execs" "$rc" "$logs/$t.log"
        # The sanitizer report and the reproducer's name.
        grep -aE "$report" "$logs/$t.log" | head -20 | sed 's/^/    /'
    fi
done
printf 'fuzz total    %12s execs\n' "$total"
exit $failed
