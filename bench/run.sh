#!/usr/bin/env bash
# bench/run.sh - gather against curl -Z, wget2 and aria2c on a local nginx.
# Each workload fetches the same URL list with every tool into a fresh output
# dir, warms up once, then takes the median of BENCH_REPEAT interleaved runs
# (wall time and peak RSS from /usr/bin/time) and checks every file arrived.
#
#   bench/run.sh [latency] [concurrency]      (no argument: all workloads)
#
# Environment:
#   BENCH_DIR            work dir, output dirs, results.jsonl (/tmp/gather-bench)
#   BENCH_REPEAT         measured runs per tool (3)
#   GATHER               the binary (./gather)
#   GATHER_MODES         gather modes to run ("async"); a mode gather rejects
#                        with exit status 2 is skipped
#   BENCH_TOOLS          other tools to run ("curl wget2 aria2c")
#   BENCH_TIMEOUT        seconds before one run is killed and FAILED (120)
#   BENCH_NGINX_WORKERS  nginx worker processes (1: the other core is the client's)
#   BENCH_KEEP           1: keep the downloaded files after the run
#
# Prints one table per workload and its targets (PASS/MISS); raw results go
# to $BENCH_DIR/results.jsonl. A missed target still exits 0; only harness
# errors (no server, no tools, bad arguments) exit non-zero.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

BENCH_DIR=${BENCH_DIR:-/tmp/gather-bench}
BENCH_REPEAT=${BENCH_REPEAT:-3}
GATHER=${GATHER:-./gather}
GATHER_MODES=${GATHER_MODES:-async}
BENCH_TOOLS=${BENCH_TOOLS:-curl wget2 aria2c}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-120}
BENCH_NGINX_WORKERS=${BENCH_NGINX_WORKERS:-1}
BENCH_KEEP=${BENCH_KEEP:-0}
CURL_PARALLEL_CAP=300 # curl -Z refuses --parallel-max above this

# Every workload serves pages of the one generated site.
SITE_PAGES=10000
SITE_KB=10
ALL_WORKLOADS=(latency concurrency)

die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
note() { printf 'bench: %s\n' "$*" >&2; }

# --- workloads ------------------------------------------------------------
# Each sets: WL_N (URLs), WL_DELAY (ms per request), WL_JOBS (concurrency),
# WL_IDEAL (seconds), WL_TARGET_IDEAL (max gather wall / ideal), WL_VS
# ("wall" or "rss": what gather must beat wget2 on), WL_NOTE.

latency() {
    WL_N=2000 WL_DELAY=50 WL_JOBS=100
    WL_TARGET_IDEAL=1.10 WL_VS=wall
    WL_NOTE="2,000 x ${SITE_KB} KB pages, ?delay=50, -j 100"
    run_workload latency
}

concurrency() {
    WL_N=10000 WL_DELAY=200 WL_JOBS=1000
    WL_TARGET_IDEAL=1.15 WL_VS=rss
    WL_NOTE="10,000 x ${SITE_KB} KB pages, ?delay=200, -j 1000"
    run_workload concurrency
}

# --- setup ------------------------------------------------------------------

NGINX_DIR=""
CHILD="" # the running measurement: timeout leads its own process group
cleanup() {
    local rc=$?
    if [[ -n $CHILD ]]; then
        kill -TERM -- "-$CHILD" "$CHILD" 2>/dev/null || true
        CHILD=""
    fi
    if [[ -n $NGINX_DIR ]]; then
        samples/serve stop "$NGINX_DIR" >/dev/null 2>&1 || true
        NGINX_DIR=""
    fi
    return $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

check_env() {
    [[ $BENCH_REPEAT =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEAT must be >= 1: $BENCH_REPEAT"
    [[ $BENCH_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "BENCH_TIMEOUT must be >= 1: $BENCH_TIMEOUT"
    [[ -x $GATHER ]] || die "$GATHER not found; run 'make gather' (or make bench)"
    if ! { [[ -x /usr/bin/time ]] && /usr/bin/time -f '%e' true 2>/dev/null; }; then
        die "GNU time (/usr/bin/time) is needed: apt-get install time"
    fi
    local t
    for t in jq timeout awk find; do
        command -v "$t" >/dev/null || die "$t not found"
    done
    local kept=()
    for t in $BENCH_TOOLS; do
        case $t in
            curl|wget2|aria2c) ;;
            *) die "unknown tool in BENCH_TOOLS: $t" ;;
        esac
        if command -v "$t" >/dev/null; then
            kept+=("$t")
        else
            note "$t not installed; skipped"
        fi
    done
    BENCH_TOOLS="${kept[*]}"
    # 1000 sockets plus 1000 output files at once; the hard limit may be lower.
    if ! ulimit -n 65536 2>/dev/null; then
        ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
        note "open-file limit is $(ulimit -n) (hard limit; wanted 65536)"
    fi
}

# Generates the site once; gen-site output is deterministic, so a site with
# the same parameters is reused (regenerating would also delete 10,000 files;
# see main on why deletes are kept away from the measurements).
make_site() {
    local site=$BENCH_DIR/site stamp="$SITE_PAGES $SITE_KB"
    if [[ -f $site/.bench-stamp && $(<"$site/.bench-stamp") == "$stamp" &&
          -f $site/urls.txt ]]; then
        return 0
    fi
    note "generating $SITE_PAGES pages of $SITE_KB KB in $site"
    mkdir -p "$site"
    samples/gen-site "$site" "$SITE_PAGES" "$SITE_KB" >/dev/null ||
        die "gen-site failed"
    printf '%s\n' "$stamp" > "$site/.bench-stamp"
}

# start_server [PORT]: a fixed port keeps the URL lists valid on a restart.
start_server() {
    local out port_opt=()
    [[ -n ${1:-} ]] && port_opt=(--port "$1")
    out=$(samples/serve start --site "$BENCH_DIR/site" --no-access-log \
          --workers "$BENCH_NGINX_WORKERS" "${port_opt[@]}") || die "could not start nginx"
    eval "$out"
    NGINX_DIR=$GATHER_NGINX_DIR
    BASE=$GATHER_BASE
    PORT=$GATHER_PORT
}

server_up() {
    curl -fsS --noproxy '*' -o /dev/null --max-time 2 "$BASE/__gather/health" 2>/dev/null
}

# The server must not vanish under a run (other jobs on a shared machine
# have killed it); if it did, keep its error log and bring it back.
ensure_server() {
    server_up && return 0
    local keep
    keep=$BENCH_DIR/nginx-error.$(date +%H%M%S).log
    cp -f "$NGINX_DIR/error.log" "$keep" 2>/dev/null || true
    note "nginx on port $PORT is gone; restarting it (its error log: $keep)"
    samples/serve stop "$NGINX_DIR" >/dev/null 2>&1 || true
    NGINX_DIR=""
    start_server "$PORT"
    RESTARTS=$(( RESTARTS + 1 ))
}

# Waits until the server holds no client connection but ours, so one run's
# closing connections are not charged to the next.
server_idle() {
    local i s
    for (( i = 0; i < 100; i++ )); do
        s=$(curl -s --noproxy '*' --max-time 1 "$BASE/__gather/nginx_status" 2>/dev/null) || s=""
        [[ $s == "Active connections: 1 "* ]] && return 0
        sleep 0.05
    done
    note "server still has open connections after 5 s"
}

# --- tools ------------------------------------------------------------------
# A row is one line of the table: gather:MODE, gather:MODE:noparse, or a tool.

row_label() {
    case $1 in
        gather:*:noparse) local m=${1#gather:}; echo "gather ${m%:noparse} --no-parse" ;;
        gather:*) echo "gather ${1#gather:}" ;;
        curl) echo "curl -Z" ;;
        *) echo "$1" ;;
    esac
}

# Sets CMD to the command line of row $1 writing into dir $2 (which must not
# exist yet); $3 is the run's own dir for side files.
build_cmd() {
    local row=$1 out=$2 rundir=$3 jobs=$WL_JOBS
    case $row in
        gather:*)
            local mode=${row#gather:}
            mode=${mode%:noparse}
            CMD=("$GATHER" get -i "$LIST" -j "$jobs" -m "$mode" -o "$out"
                 --jsonl "$rundir/records.jsonl" --stats "$rundir/stats.json"
                 --no-progress --no-summary)
            [[ $row == *:noparse ]] && CMD+=(--no-parse)
            ;;
        curl)
            (( jobs > CURL_PARALLEL_CAP )) && jobs=$CURL_PARALLEL_CAP
            CMD=(curl -sS --no-progress-meter --noproxy '*' --fail
                 -Z --parallel-max "$jobs" --parallel-immediate
                 --create-dirs --output-dir "$out" -K "$CURL_CFG")
            ;;
        wget2)
            # No config file, no HSTS/HPKP/OCSP/netrc state, no xattrs; without
            # -r/-p wget2 neither parses nor follows links.
            CMD=(wget2 --no-config -q --max-threads="$jobs" -i "$LIST" -P "$out"
                 --no-robots --no-hsts --no-hpkp --no-ocsp --no-netrc
                 --no-xattr --no-metalink)
            ;;
        aria2c)
            CMD=(aria2c --no-conf -j "$jobs" -i "$LIST" -d "$out"
                 --max-concurrent-downloads="$jobs" --max-connection-per-server=16
                 --split=1 --file-allocation=none --console-log-level=error
                 --summary-interval=0 --download-result=hide
                 --auto-file-renaming=false --allow-overwrite=true)
            ;;
    esac
}

# --- one run ----------------------------------------------------------------

# run_one WORKLOAD ROW REP: REP 0 is the warm-up. Records wall, RSS, CPU and
# the number of complete files in R_* and appends a line to results.jsonl.
# Returns 2 when gather rejected the mode (usage error), else 0.
run_one() {
    local wl=$1 row=$2 rep=$3
    local rundir=$BENCH_DIR/run/$wl/${row//:/-}-$rep
    local out=$rundir/out tf=$rundir/time.txt rc=0
    mkdir -p "$rundir"
    build_cmd "$row" "$out" "$rundir"
    printf '%s\n' "${CMD[*]}" > "$rundir/cmd.txt"
    ensure_server
    local load
    load=$(cut -d ' ' -f 1 /proc/loadavg)
    # timeout signals its whole process group, so /usr/bin/time and the tool
    # both go; time measures the tool itself.
    timeout -k 5 "$BENCH_TIMEOUT" /usr/bin/time -f '%e %M %U %S' -o "$tf" \
        "${CMD[@]}" >"$rundir/log.txt" 2>&1 </dev/null &
    CHILD=$!
    wait "$CHILD" || rc=$?
    CHILD=""
    local server_died=false
    server_up || server_died=true

    local line wall=$BENCH_TIMEOUT rss=0 user=0 sys=0
    line=$(tail -n 1 "$tf" 2>/dev/null) || line=""
    if [[ $line =~ ^([0-9.]+)\ ([0-9]+)\ ([0-9.]+)\ ([0-9.]+)$ ]]; then
        wall=${BASH_REMATCH[1]} rss=${BASH_REMATCH[2]}
        user=${BASH_REMATCH[3]} sys=${BASH_REMATCH[4]}
    fi
    # A file counts only if it has the page's full size; aria2c's control
    # files and gather's .part files do not have it.
    local files=0 size=$(( SITE_KB * 1024 ))
    [[ -d $out ]] && files=$(find "$out" -type f -size "${size}c" | wc -l)
    local stats_ok=null
    if [[ $row == gather:* && -s $rundir/stats.json ]]; then
        stats_ok=$(jq '.ok // null' "$rundir/stats.json" 2>/dev/null) || stats_ok=null
    fi
    local ok=true
    (( files == WL_N )) || ok=false
    [[ $stats_ok == null || $stats_ok == "$WL_N" ]] || ok=false

    jq -nc --arg workload "$wl" --arg tool "$row" --argjson rep "$rep" \
        --argjson warmup "$([[ $rep == 0 ]] && echo true || echo false)" \
        --argjson n "$WL_N" --argjson jobs "$WL_JOBS" \
        --argjson delay_ms "$WL_DELAY" --argjson ideal_s "$WL_IDEAL" \
        --argjson exit "$rc" --argjson wall_s "$wall" --argjson max_rss_kb "$rss" \
        --argjson user_s "$user" --argjson sys_s "$sys" --argjson files "$files" \
        --argjson stats_ok "$stats_ok" --argjson ok "$ok" \
        --argjson gather_stats "$( [[ $row == gather:* && -s $rundir/stats.json ]] &&
                                   jq -c . "$rundir/stats.json" 2>/dev/null || echo null)" \
        --arg cmd "${CMD[*]}" --arg time "$(date -u +%FT%TZ)" \
        --argjson load1 "$load" --argjson server_died "$server_died" \
        '{time: $time, workload: $workload, tool: $tool, rep: $rep,
          warmup: $warmup, n: $n, jobs: $jobs, delay_ms: $delay_ms,
          ideal_s: $ideal_s, exit: $exit, wall_s: $wall_s,
          max_rss_kb: $max_rss_kb, user_s: $user_s, sys_s: $sys_s,
          files_ok: $files, stats_ok: $stats_ok, ok: $ok,
          gather_stats: $gather_stats, load1_before: $load1,
          server_died: $server_died, cmd: $cmd}' >> "$RESULTS"

    R_WALL=$wall R_RSS=$rss R_CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    R_FILES=$files R_OK=$ok
    if (( rc == 124 || rc == 137 )); then
        note "$wl: $(row_label "$row") run $rep timed out after ${BENCH_TIMEOUT}s"
    elif [[ $ok == false ]] && ! [[ $row == gather:* && $rc == 2 ]]; then
        note "$wl: $(row_label "$row") run $rep: $files/$WL_N files, exit $rc (log: $rundir/log.txt)"
    fi
    if [[ $server_died == true ]]; then
        note "$wl: the server died during $(row_label "$row") run $rep"
    else
        server_idle
    fi
    [[ $row == gather:* ]] && (( rc == 2 )) && return 2
    return 0
}

# --- one workload -------------------------------------------------------------

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

run_workload() {
    local wl=$1 row rep
    WL_IDEAL=$(awk -v n="$WL_N" -v j="$WL_JOBS" -v d="$WL_DELAY" \
               'BEGIN { printf "%.3f", n / j * d / 1000 }')
    LIST=$BENCH_DIR/lists/$wl.txt
    CURL_CFG=$BENCH_DIR/lists/$wl.curl
    mkdir -p "$BENCH_DIR/lists"
    samples/serve urls --strip "$BASE" "$BENCH_DIR/site/urls.txt" |
        awk -v n="$WL_N" -v d="$WL_DELAY" \
            '/\/page-/ && c < n { print $0 "?delay=" d; c++ }' > "$LIST"
    (( $(wc -l < "$LIST") == WL_N )) || die "$wl: could not build a list of $WL_N URLs"
    awk '{ name = $0; sub(/[?#].*/, "", name); sub(/.*\//, "", name)
           printf "url = \"%s\"\noutput = \"%s\"\n", $0, name }' "$LIST" > "$CURL_CFG"

    local rows=() m t
    for m in $GATHER_MODES; do rows+=("gather:$m" "gather:$m:noparse"); done
    for t in $BENCH_TOOLS; do rows+=("$t"); done

    printf '\n== %s: %s (ideal %.2f s), %d measured runs\n' \
        "$wl" "$WL_NOTE" "$WL_IDEAL" "$BENCH_REPEAT"

    declare -A WALLS=() RSSS=() CPUS=() MINFILES=() FAILED=() SKIP=()
    for (( rep = 0; rep <= BENCH_REPEAT; rep++ )); do
        for row in "${rows[@]}"; do
            [[ -n ${SKIP[$row]:-} ]] && continue
            local src=0
            run_one "$wl" "$row" "$rep" || src=$?
            if (( src == 2 )); then
                note "gather rejected mode in '$(row_label "$row")' (exit 2); skipped"
                SKIP[$row]=1
                continue
            fi
            (( rep == 0 )) && continue
            WALLS[$row]+=" $R_WALL"
            RSSS[$row]+=" $R_RSS"
            CPUS[$row]+=" $R_CPU"
            [[ $R_OK == true ]] || FAILED[$row]=1
            if [[ -z ${MINFILES[$row]:-} ]] || (( R_FILES < ${MINFILES[$row]} )); then
                MINFILES[$row]=$R_FILES
            fi
        done
        (( rep == 0 )) && printf 'warm-up done\n' || printf 'run %d/%d done\n' "$rep" "$BENCH_REPEAT"
    done

    # Medians; the reference row is the first gather mode with parsing.
    declare -A MW=() MR=() MC=()
    local ref=""
    for row in "${rows[@]}"; do
        [[ -n ${SKIP[$row]:-} ]] && continue
        # shellcheck disable=SC2086
        MW[$row]=$(median ${WALLS[$row]})
        # shellcheck disable=SC2086
        MR[$row]=$(median ${RSSS[$row]})
        # shellcheck disable=SC2086
        MC[$row]=$(median ${CPUS[$row]})
        [[ -z $ref && $row == gather:* && $row != *:noparse && -z ${FAILED[$row]:-} ]] && ref=$row
    done

    printf '\n%-24s | %8s | %8s | %11s | %8s | %8s | %-17s | %7s\n' \
        tool "wall s" "vs ideal" "peak RSS MB" "wall/g" "RSS/g" "files ok" "cpu s"
    printf '%s\n' "-------------------------+----------+----------+-------------+----------+----------+-------------------+--------"
    for row in "${rows[@]}"; do
        [[ -n ${SKIP[$row]:-} ]] && continue
        local label wr rr files
        label=$(row_label "$row")
        [[ $row == curl ]] && (( WL_JOBS > CURL_PARALLEL_CAP )) && label+=" (j=$CURL_PARALLEL_CAP)"
        wr=- rr=-
        if [[ -n $ref ]]; then
            wr=$(awk -v a="${MW[$row]}" -v b="${MW[$ref]}" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
            rr=$(awk -v a="${MR[$row]}" -v b="${MR[$ref]}" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
        fi
        files="${MINFILES[$row]}/$WL_N"
        [[ -n ${FAILED[$row]:-} ]] && files+=" FAILED"
        printf '%-24s | %8.2f | %8s | %11.1f | %8s | %8s | %-17s | %7.2f\n' \
            "$label" "${MW[$row]}" \
            "$(awk -v a="${MW[$row]}" -v b="$WL_IDEAL" 'BEGIN { printf "%.2f", a / b }')" \
            "$(awk -v a="${MR[$row]}" 'BEGIN { print a / 1024 }')" \
            "$wr" "$rr" "$files" "${MC[$row]}"
    done
    printf '(medians of %d runs; ratios are tool / %s; files ok is the worst run; cpu is user+sys)\n' \
        "$BENCH_REPEAT" "$( [[ -n $ref ]] && row_label "$ref" || echo 'gather (no valid run)')"
    if [[ " $BENCH_TOOLS " == *" curl "* ]] && (( WL_JOBS > CURL_PARALLEL_CAP )); then
        printf 'note: curl -Z caps --parallel-max at %d, so curl ran with %d transfers, not %d\n' \
            "$CURL_PARALLEL_CAP" "$CURL_PARALLEL_CAP" "$WL_JOBS"
    fi
    print_gather_detail "$wl" "${rows[@]}"
    print_targets "${rows[@]}"
}

# gather's own view of its runs (from --stats): latency percentiles and CPU.
print_gather_detail() {
    local wl=$1 row
    shift
    for row in "$@"; do
        [[ $row == gather:* && -z ${SKIP[$row]:-} ]] || continue
        jq -rs --arg wl "$wl" --arg tool "$row" --arg name "$(row_label "$row")" '
            def med: sort | if length == 0 then null
                            elif length % 2 == 1 then .[length / 2 | floor]
                            else (.[length / 2 - 1] + .[length / 2]) / 2 end;
            def f: if . == null then "-" else (. * 100 | round / 100 | tostring) end;
            [.[] | select(.workload == $wl and .tool == $tool and (.warmup | not)
                          and .gather_stats != null) | .gather_stats] as $s
            | select($s | length > 0)
            | "\($name): --stats medians: p50 \([$s[].p50_ms] | med | f) ms, p95 \([$s[].p95_ms] | med | f) ms, user \([$s[].user_s] | med | f) s, sys \([$s[].sys_s] | med | f) s, invol cs \([$s[].invol_cs] | med | f)"
        ' "$RESULTS"
    done
}

# One PASS/MISS line per target and gather mode (the parsing row).
print_targets() {
    local row verdict
    for row in "$@"; do
        [[ $row == gather:* && $row != *:noparse && -z ${SKIP[$row]:-} ]] || continue
        local g label
        label=$(row_label "$row")
        g=${MW[$row]}
        if [[ -n ${FAILED[$row]:-} ]]; then
            printf 'target: %s wall <= %s x ideal: MISS (FAILED: not all files fetched)\n' "$label" "$WL_TARGET_IDEAL"
        else
            local r
            r=$(awk -v a="$g" -v b="$WL_IDEAL" 'BEGIN { printf "%.2f", a / b }')
            verdict=$(awk -v r="$r" -v t="$WL_TARGET_IDEAL" 'BEGIN { print ((r <= t) ? "PASS" : "MISS") }')
            printf 'target: %s wall <= %s x ideal: %s (%s)\n' "$label" "$WL_TARGET_IDEAL" "$verdict" "$r"
        fi
        local what cmp
        if [[ $WL_VS == wall ]]; then what="wall <= wget2 wall"; else what="peak RSS < wget2 peak RSS"; fi
        if [[ " $BENCH_TOOLS " != *" wget2 "* ]]; then
            printf 'target: %s %s: SKIP (wget2 not run)\n' "$label" "$what"
        elif [[ -n ${FAILED[$row]:-} ]]; then
            printf 'target: %s %s: MISS (gather FAILED)\n' "$label" "$what"
        elif [[ -n ${FAILED[wget2]:-} ]]; then
            printf 'target: %s %s: SKIP (wget2 FAILED, no valid comparison)\n' "$label" "$what"
        elif [[ $WL_VS == wall ]]; then
            verdict=$(awk -v a="$g" -v b="${MW[wget2]}" 'BEGIN { print ((a <= b) ? "PASS" : "MISS") }')
            printf 'target: %s %s: %s (%.2f s vs %.2f s)\n' "$label" "$what" "$verdict" "$g" "${MW[wget2]}"
        else
            cmp=${MR[$row]}
            verdict=$(awk -v a="$cmp" -v b="${MR[wget2]}" 'BEGIN { print ((a < b) ? "PASS" : "MISS") }')
            printf 'target: %s %s: %s (%.1f MB vs %.1f MB)\n' "$label" "$what" "$verdict" \
                "$(awk -v a="$cmp" 'BEGIN { print a / 1024 }')" \
                "$(awk -v a="${MR[wget2]}" 'BEGIN { print a / 1024 }')"
        fi
    done
}

# --- main -------------------------------------------------------------------

main() {
    local wls=() w
    for w in "$@"; do
        case $w in
            -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
            latency|concurrency) wls+=("$w") ;;
            *) die "unknown workload: $w (have: ${ALL_WORKLOADS[*]})" ;;
        esac
    done
    (( ${#wls[@]} )) || wls=("${ALL_WORKLOADS[@]}")

    check_env
    mkdir -p "$BENCH_DIR"
    BENCH_DIR=$(cd "$BENCH_DIR" && pwd -P)
    RESULTS=$BENCH_DIR/results.jsonl
    : > "$RESULTS"
    # Earlier outputs are moved aside now and deleted only after the
    # measurements: on ext4, creating files shortly (~1-6 min) after many were
    # deleted is several times slower (the inode allocator skips recently
    # freed inodes), which would bill one run's cleanup to the next runs.
    if [[ -e $BENCH_DIR/run ]]; then
        mv -- "$BENCH_DIR/run" "$BENCH_DIR/run.old.$$" ||
            die "cannot move $BENCH_DIR/run aside"
    fi
    # Run a private copy, so a rebuild during the bench cannot swap binaries
    # between runs.
    cp -f -- "$GATHER" "$BENCH_DIR/gather.bin" || die "cannot copy $GATHER"
    GATHER_SRC=$GATHER
    GATHER=$BENCH_DIR/gather.bin
    make_site
    start_server

    local load
    load=$(cut -d ' ' -f 1-3 /proc/loadavg)
    printf 'gather bench: %s cores, %s, fs %s, open files %s, nginx workers %s\n' \
        "$(nproc)" "$(uname -r)" "$(findmnt -n -o FSTYPE -T "$BENCH_DIR" 2>/dev/null || stat -f -c %T "$BENCH_DIR")" "$(ulimit -n)" "$BENCH_NGINX_WORKERS"
    printf 'tools: gather %s (%s, modes: %s);%s\n' \
        "$("$GATHER" --version 2>/dev/null | head -n 1 | awk '{ print $NF }')" \
        "$GATHER_SRC" "$GATHER_MODES" "$(
        for t in $BENCH_TOOLS; do
            case $t in
                curl) curl --version | head -n 1 | awk '{ printf " curl %s", $2 }' ;;
                wget2) wget2 --version 2>/dev/null | head -n 1 | awk '{ printf " wget2 %s", $3 }' ;;
                aria2c) aria2c --version | head -n 1 | awk '{ printf " aria2c %s", $3 }' ;;
            esac
        done)"

    printf 'load average at start: %s\n' "$load"
    if awk -v l="${load%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
        printf 'warning: the machine is busy (load %s on %s cores); timings will be noisy\n' \
            "${load%% *}" "$(nproc)"
    fi

    RESTARTS=0
    for w in "${wls[@]}"; do
        "$w"
    done
    (( RESTARTS == 0 )) || printf '\nwarning: nginx died and was restarted %d time(s); affected runs show FAILED\n' "$RESTARTS"

    # Downloads are deleted only now, for the reason given above.
    rm -rf -- "$BENCH_DIR"/run.old.*
    if [[ $BENCH_KEEP == 1 ]]; then
        note "kept downloads under $BENCH_DIR/run"
    else
        find "$BENCH_DIR/run" -mindepth 3 -maxdepth 3 -name out -type d \
            -exec rm -rf -- {} + 2>/dev/null || true
    fi
    printf '\nraw results: %s\n' "$RESULTS"
}

main "$@"
