#!/usr/bin/env bash
# bench/run.sh - gather against curl -Z, wget2 and aria2c on a local nginx,
# gather's modes against each other, and gather's parser against bare libxml2.
# Each workload fetches the same URL list with every tool into a fresh output
# dir, warms up once, then takes the median of BENCH_REPEAT interleaved runs
# (wall time and peak RSS from /usr/bin/time) and checks every file arrived
# with its exact byte count. Then `gather compare` runs the modes on the same
# list and writes $BENCH_DIR/report-WORKLOAD/report.html and report.json.
# The crawl workload instead crawls a generated site from its root (gather
# crawl against wget2 -r), on its own nginx that delays every request.
#
#   bench/run.sh [latency] [concurrency] [cpu] [bulk] [crawl]   (no argument: all)
#
# Environment:
#   BENCH_DIR            work dir, output dirs, results.jsonl (/tmp/gather-bench)
#   BENCH_REPEAT         measured runs per tool (3; 2 for concurrency and bulk
#                        unless BENCH_REPEAT is set)
#   BENCH_REPEAT_<WL>    the same for one workload (BENCH_REPEAT_CONCURRENCY=3)
#   GATHER               the binary (./gather)
#   GATHER_MODES         gather modes to run ("async threads procs hybrid");
#                        a mode gather rejects with exit status 2 is skipped
#   GATHER_NOPARSE_MODES modes that also get a --no-parse row ("async")
#   BENCH_PROCS_JOBS     most worker processes procs may fork (200): where a
#                        workload's -j is higher, procs runs with this -j
#                        (labelled) and sits out gather compare
#   BENCH_COMPARE_REPEAT --repeat of gather compare (1); 0 skips compare
#   BENCH_BULK_RATE      ?rate= of the bulk workload (1m = 1 MiB/s per connection)
#   BENCH_TOOLS          other tools to run ("curl wget2 aria2c")
#   BENCH_TIMEOUT        seconds before one run is killed and FAILED (120)
#   BENCH_NGINX_WORKERS  nginx worker processes (1: the other core is the client's)
#   BENCH_KEEP           1: keep the downloaded files after the run
#   BENCH_OUT            where the tools save files: "auto" (default) is
#                        /dev/shm when it is a tmpfs with 8 GiB free, else
#                        $BENCH_DIR/run; see "Where files go" in README.md
#
# Prints one table per workload and its targets (PASS/MISS), the compare
# tables, and a summary of every target at the end; raw results go to
# $BENCH_DIR/results.jsonl. A missed target still exits 0; only harness
# errors (no server, no tools, bad arguments) exit non-zero.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

BENCH_DIR=${BENCH_DIR:-/tmp/gather-bench}
BENCH_REPEAT_SET=${BENCH_REPEAT:+1}
BENCH_REPEAT=${BENCH_REPEAT:-3}
GATHER=${GATHER:-./gather}
GATHER_MODES=${GATHER_MODES:-async threads procs hybrid}
GATHER_NOPARSE_MODES=${GATHER_NOPARSE_MODES:-async}
BENCH_PROCS_JOBS=${BENCH_PROCS_JOBS:-200}
BENCH_COMPARE_REPEAT=${BENCH_COMPARE_REPEAT:-1}
BENCH_BULK_RATE=${BENCH_BULK_RATE:-1m}
BENCH_TOOLS=${BENCH_TOOLS:-curl wget2 aria2c}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-120}
BENCH_NGINX_WORKERS=${BENCH_NGINX_WORKERS:-1}
BENCH_KEEP=${BENCH_KEEP:-0}
BENCH_OUT=${BENCH_OUT:-auto}
CURL_PARALLEL_CAP=300 # curl -Z refuses --parallel-max above this

# latency and concurrency serve pages of one generated site ($BENCH_DIR/site),
# cpu its own big pages (site/cpu/), bulk binary files (site/bulk/).
SITE_PAGES=10000
SITE_KB=10
CPU_PAGES=200
CPU_KB=512
BULK_SIZES_KB="256 512 1024 2048 4096"
BULK_PER_SIZE=8
# crawl: its own site (site/crawl/, gen-site --index): index.html, its
# sections and their pages (2,000 HTML files) and the pages' images, served
# by an nginx that delays every request (serve start --delay).
CRAWL_PAGES=1979
CRAWL_SECTIONS=20
CRAWL_KB=10
CRAWL_IMAGES=200
CRAWL_IMAGE_KB=8
CRAWL_DELAY=20
CRAWL_JOBS=50
ALL_WORKLOADS=(latency concurrency cpu bulk crawl)
# Fewer measured runs for the heavy workloads unless BENCH_REPEAT or
# BENCH_REPEAT_<WL> says otherwise: a concurrency pass takes ~1.5 min (aria2c
# alone ~30 s), and bulk's walls are set by the server's throttle (every
# tool lands within 0.1 s of the ideal), so a third run tells little.
declare -A DEFAULT_REPEAT=([concurrency]=2 [bulk]=2)

die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
note() { printf 'bench: %s\n' "$*" >&2; }

# --- workloads ------------------------------------------------------------
# Each sets, after wl_defaults: WL_N (URLs), WL_DELAY (ms per request),
# WL_JOBS (concurrency), WL_TARGET_IDEAL (max gather wall / ideal, empty:
# none), WL_VS ("wall", "rss" or empty: what gather must beat wget2 on),
# WL_NOTE, WL_SITE (main, cpu or bulk), WL_MODES, WL_TOOLS, WL_GET_OPTS
# (more gather options), WL_NOPARSE (1: --no-parse rows), WL_PARSEREF (1:
# bare libxml2 and xmllint rows).

wl_defaults() {
    WL_DELAY=0 WL_TARGET_IDEAL="" WL_VS="" WL_SITE=main
    WL_MODES=$GATHER_MODES WL_TOOLS=$BENCH_TOOLS WL_GET_OPTS=()
    WL_NOPARSE=1 WL_PARSEREF=0
}

latency() {
    wl_defaults
    WL_N=2000 WL_DELAY=50 WL_JOBS=100
    WL_TARGET_IDEAL=1.10 WL_VS=wall
    WL_NOTE="2,000 x ${SITE_KB} KB pages, ?delay=50, -j 100"
    run_workload latency
}

concurrency() {
    wl_defaults
    WL_N=10000 WL_DELAY=200 WL_JOBS=1000
    WL_TARGET_IDEAL=1.15 WL_VS=rss
    WL_NOTE="10,000 x ${SITE_KB} KB pages, ?delay=200, -j 1000"
    run_workload concurrency
}

cpu() {
    wl_defaults
    WL_N=$CPU_PAGES WL_JOBS=16 WL_SITE=cpu WL_GET_OPTS=(-P 2)
    WL_TOOLS="" WL_PARSEREF=1
    WL_NOTE="$CPU_PAGES x $CPU_KB KB HTML pages, no delay, -j 16 -P 2"
    run_workload cpu
}

bulk() {
    wl_defaults
    WL_N=$(( $(wc -w <<< "$BULK_SIZES_KB") * BULK_PER_SIZE )) WL_JOBS=8
    WL_SITE=bulk WL_NOPARSE=0
    WL_MODES=$(modes_in "async hybrid")
    WL_NOTE="$WL_N binary files, ${BULK_PER_SIZE} each of ${BULK_SIZES_KB// /, } KB, ?rate=$BENCH_BULK_RATE per connection, -j 8"
    run_workload bulk
}

# gather crawl -p against wget2 -r -p from the site's root; the "list" is
# the seed, the files expected are every file of the site.
crawl() {
    wl_defaults
    WL_N=$(( 1 + CRAWL_SECTIONS + CRAWL_PAGES + CRAWL_IMAGES ))
    WL_DELAY=$CRAWL_DELAY WL_JOBS=$CRAWL_JOBS WL_SITE=crawl WL_NOPARSE=0
    WL_TOOLS="" # curl and aria2c do not crawl
    [[ " $BENCH_TOOLS " == *" wget2 "* ]] && WL_TOOLS=wget2
    WL_NOTE="crawl from / of $(thousands "$WL_N") files ($(thousands $(( 1 + CRAWL_SECTIONS + CRAWL_PAGES ))) HTML, $CRAWL_IMAGES images), ${CRAWL_DELAY} ms every request, -j $CRAWL_JOBS -p"
    run_workload crawl
}

# thousands N: 2200 -> 2,200
thousands() { sed -e ':a' -e 's/^\([0-9]\{1,\}\)\([0-9]\{3\}\)/\1,\2/; ta' <<< "$1"; }

# modes_in "A B": those of GATHER_MODES, in GATHER_MODES' order.
modes_in() {
    local m out=()
    for m in $GATHER_MODES; do
        [[ " $1 " == *" $m "* ]] && out+=("$m")
    done
    echo "${out[*]}"
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
    local w v
    for w in "${ALL_WORKLOADS[@]}"; do
        v=BENCH_REPEAT_${w^^}
        [[ -z ${!v:-} || ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be >= 1: ${!v}"
    done
    [[ $BENCH_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "BENCH_TIMEOUT must be >= 1: $BENCH_TIMEOUT"
    [[ $BENCH_PROCS_JOBS =~ ^[1-9][0-9]*$ ]] || die "BENCH_PROCS_JOBS must be >= 1: $BENCH_PROCS_JOBS"
    [[ $BENCH_COMPARE_REPEAT =~ ^[0-9]+$ ]] || die "BENCH_COMPARE_REPEAT must be >= 0: $BENCH_COMPARE_REPEAT"
    [[ $BENCH_BULK_RATE =~ ^[1-9][0-9]*[km]?$ ]] || die "BENCH_BULK_RATE must be BYTES[k|m]: $BENCH_BULK_RATE"
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

# build_parse_baseline: compiles bench/parse_baseline.c into BENCH_DIR;
# PARSE_BASELINE is the binary, or empty when it cannot be built.
build_parse_baseline() {
    PARSE_BASELINE=""
    local cc=${CC:-cc} flags
    if ! command -v "$cc" >/dev/null || ! flags=$(pkg-config --cflags --libs libxml-2.0 2>/dev/null); then
        note "no C compiler or no libxml-2.0 pkg-config; bare libxml2 baseline skipped"
        return 0
    fi
    # shellcheck disable=SC2086
    if "$cc" -O2 -o "$BENCH_DIR/parse_baseline" bench/parse_baseline.c $flags \
            2>"$BENCH_DIR/parse_baseline.log"; then
        PARSE_BASELINE=$BENCH_DIR/parse_baseline
    else
        note "bench/parse_baseline.c did not build (see $BENCH_DIR/parse_baseline.log); baseline skipped"
    fi
}

# Generates the sites the chosen workloads need; gen-site output is
# deterministic, so a site with the same parameters is reused (regenerating
# would also delete 10,000 files; see main on why deletes are kept away from
# the measurements). gen-site only deletes files at the top of its DIR, so the
# main site's regeneration leaves site/cpu and site/bulk alone.
make_site() {
    local site=$BENCH_DIR/site stamp="$SITE_PAGES $SITE_KB"
    if [[ " $* " == *" latency "* || " $* " == *" concurrency "* ]] &&
       ! [[ -f $site/.bench-stamp && $(<"$site/.bench-stamp") == "$stamp" &&
            -f $site/urls.txt ]]; then
        note "generating $SITE_PAGES pages of $SITE_KB KB in $site"
        mkdir -p "$site"
        samples/gen-site "$site" "$SITE_PAGES" "$SITE_KB" >/dev/null ||
            die "gen-site failed"
        printf '%s\n' "$stamp" > "$site/.bench-stamp"
    fi
    mkdir -p "$site"
    if [[ " $* " == *" cpu "* ]]; then
        local d=$site/cpu
        stamp="$CPU_PAGES $CPU_KB"
        if ! [[ -f $d/.bench-stamp && $(<"$d/.bench-stamp") == "$stamp" && -f $d/urls.txt ]]; then
            note "generating $CPU_PAGES pages of $CPU_KB KB in $d"
            samples/gen-site "$d" "$CPU_PAGES" "$CPU_KB" >/dev/null || die "gen-site failed"
            printf '%s\n' "$stamp" > "$d/.bench-stamp"
        fi
    fi
    if [[ " $* " == *" bulk "* ]]; then
        local d=$site/bulk kb i name
        stamp="$BULK_SIZES_KB x $BULK_PER_SIZE"
        if ! [[ -f $d/.bench-stamp && $(<"$d/.bench-stamp") == "$stamp" && -f $d/files.txt ]]; then
            note "generating $BULK_PER_SIZE binary files each of $BULK_SIZES_KB KB in $d"
            rm -rf -- "$d"
            mkdir -p "$d"
            # gen-site's images (pseudo-random bytes served as image/png), one
            # size per run, renamed so that every file has its own name.
            for kb in $BULK_SIZES_KB; do
                samples/gen-site "$d/.gen" 1 2 --images "$BULK_PER_SIZE" --image-kb "$kb" \
                    >/dev/null || die "gen-site failed"
                for (( i = 1; i <= BULK_PER_SIZE; i++ )); do
                    mv -- "$d/.gen/$(printf 'img-%06d.png' "$i")" \
                          "$d/$(printf 'img-%dk-%02d.png' "$kb" "$i")" || die "gen-site output missing"
                done
            done
            rm -rf -- "$d/.gen"
            # files.txt: name and size, sizes interleaved so the big files
            # are spread over the list.
            for (( i = 1; i <= BULK_PER_SIZE; i++ )); do
                for kb in $BULK_SIZES_KB; do
                    name=$(printf 'img-%dk-%02d.png' "$kb" "$i")
                    printf '%s %d\n' "$name" "$(stat -c %s "$d/$name")"
                done
            done > "$d/files.txt"
            printf '%s\n' "$stamp" > "$d/.bench-stamp"
        fi
    fi
    if [[ " $* " == *" crawl "* ]]; then
        local d=$site/crawl
        stamp="$CRAWL_PAGES $CRAWL_KB --images $CRAWL_IMAGES --image-kb $CRAWL_IMAGE_KB --index $CRAWL_SECTIONS"
        if ! [[ -f $d/.bench-stamp && $(<"$d/.bench-stamp") == "$stamp" && -f $d/urls.txt ]]; then
            note "generating a site to crawl in $d: $CRAWL_PAGES pages of $CRAWL_KB KB in $CRAWL_SECTIONS sections, $CRAWL_IMAGES images of $CRAWL_IMAGE_KB KB"
            # shellcheck disable=SC2086
            samples/gen-site "$d" $stamp >/dev/null || die "gen-site failed"
            printf '%s\n' "$stamp" > "$d/.bench-stamp"
        fi
    fi
}

# The workloads but crawl share one nginx serving site/ (delays come with
# each URL's ?delay=); crawl's URLs are the links found on the pages, so it
# has its own nginx serving site/crawl/ that delays every request
# (serve start --delay). use_server main|crawl starts the one a workload
# needs (stopping the other); SERVER_KIND says which is up.
SERVER_KIND=""
use_server() {
    [[ $SERVER_KIND == "$1" && -n $NGINX_DIR ]] && return 0
    if [[ -n $NGINX_DIR ]]; then
        samples/serve stop "$NGINX_DIR" >/dev/null 2>&1 || true
        NGINX_DIR=""
    fi
    SERVER_KIND=$1
    start_server
}

# start_server [PORT]: a fixed port keeps the URL lists valid on a restart.
start_server() {
    local out port_opt=() site=$BENCH_DIR/site delay_opt=()
    [[ -n ${1:-} ]] && port_opt=(--port "$1")
    if [[ $SERVER_KIND == crawl ]]; then
        site=$BENCH_DIR/site/crawl
        delay_opt=(--delay "$CRAWL_DELAY")
    fi
    out=$(samples/serve start --site "$site" --no-access-log \
          --workers "$BENCH_NGINX_WORKERS" "${port_opt[@]}" "${delay_opt[@]}") || die "could not start nginx"
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
# ref:libxml2 and ref:xmllint (cpu workload) parse the page files directly.

# row_jobs ROW: the concurrency ROW really runs with.
row_jobs() {
    local j=$WL_JOBS
    case $1 in
        curl) (( j > CURL_PARALLEL_CAP )) && j=$CURL_PARALLEL_CAP ;;
        gather:procs|gather:procs:*) (( j > BENCH_PROCS_JOBS )) && j=$BENCH_PROCS_JOBS ;;
    esac
    echo "$j"
}

row_label() {
    local l
    case $1 in
        gather:*:noparse) local m=${1#gather:}; l="gather ${m%:noparse} --no-parse" ;;
        gather:*) l="gather ${1#gather:}" ;;
        curl) l="curl -Z" ;;
        ref:libxml2) l="bare libxml2" ;;
        ref:xmllint) l="xmllint --html" ;;
        *) l=$1 ;;
    esac
    if [[ $1 != ref:* ]] && (( $(row_jobs "$1") != WL_JOBS )); then
        l+=" (j=$(row_jobs "$1"))"
    fi
    echo "$l"
}

# Sets CMD to the command line of row $1 writing into dir $2 (which must not
# exist yet); $3 is the run's own dir for side files.
build_cmd() {
    local row=$1 out=$2 rundir=$3 jobs
    jobs=$(row_jobs "$row")
    case $row in
        gather:*)
            local mode=${row#gather:}
            mode=${mode%:noparse}
            if [[ $WL_SITE == crawl ]]; then
                # Depth: the default (5); every file is at depth 2 or less.
                CMD=("$GATHER" crawl -j "$jobs" -m "$mode" -p -o "$out"
                     "${WL_GET_OPTS[@]}"
                     --jsonl "$rundir/records.jsonl" --stats "$rundir/stats.json"
                     --no-progress --no-summary "$SEED")
                return 0
            fi
            CMD=("$GATHER" get -i "$LIST" -j "$jobs" -m "$mode" -o "$out"
                 "${WL_GET_OPTS[@]}"
                 --jsonl "$rundir/records.jsonl" --stats "$rundir/stats.json"
                 --no-progress --no-summary)
            [[ $row == *:noparse ]] && CMD+=(--no-parse)
            ;;
        curl)
            CMD=(curl -sS --no-progress-meter --noproxy '*' --fail
                 -Z --parallel-max "$jobs" --parallel-immediate
                 --create-dirs --output-dir "$out" -K "$CURL_CFG")
            ;;
        wget2)
            if [[ $WL_SITE == crawl ]]; then
                # The same crawl: recursive, no depth limit, requisites;
                # robots.txt obeyed like gather (the site has none: a 404).
                CMD=(wget2 --no-config -q -r -l inf -p --max-threads="$jobs" -P "$out"
                     --no-hsts --no-hpkp --no-ocsp --no-netrc --no-xattr --no-metalink
                     "$SEED")
                return 0
            fi
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
        ref:libxml2)
            CMD=("$PARSE_BASELINE" "$PAGE_FILES")
            ;;
        ref:xmllint)
            # One process over every page (its errors about HTML5 tags go
            # to the log); its time includes reading the files and startup.
            local files
            mapfile -t files < "$PAGE_FILES"
            CMD=(xmllint --html --noout "${files[@]}")
            ;;
    esac
}

# --- one run ----------------------------------------------------------------

# count_files DIR: how many of the expected files ($EXPECT: "name size"
# lines) are somewhere under DIR with exactly their size. A saved name may
# carry the URL's query (gather, wget2 keep it); it is ignored. Part files
# and control files have other names or sizes and do not count.
count_files() {
    [[ -d $1 ]] || { echo 0; return 0; }
    find "$1" -type f -printf '%f %s\n' 2>/dev/null |
        awk 'NR == FNR { want[$1] = $2; next }
             { k = $1; sub(/[?].*/, "", k)
               if ((k in want) && want[k] == $2 && !(k in seen)) { seen[k] = 1; n++ } }
             END { print n + 0 }' "$EXPECT" -
}

# run_one WORKLOAD ROW REP: REP 0 is the warm-up. Records wall, RSS, CPU and
# the number of complete files in R_* and appends a line to results.jsonl.
# Returns 2 when gather rejected the mode (usage error), else 0.
run_one() {
    local wl=$1 row=$2 rep=$3
    local rundir=$BENCH_DIR/run/$wl/${row//:/-}-$rep
    local out=$OUT_BASE/$wl/${row//:/-}-$rep/out tf=$rundir/time.txt rc=0
    rm -rf -- "$out"
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
    local files stats_ok=null stats=null table_rss=$rss
    files=$(count_files "$out")
    if [[ $row == gather:* && -s $rundir/stats.json ]]; then
        stats=$(jq -c . "$rundir/stats.json" 2>/dev/null) || stats=null
        stats_ok=$(jq '.ok // null' <<< "$stats") || stats_ok=null
        # GNU time sees one process's peak; gather's own figure adds its
        # worker processes' peaks (procs, hybrid), so the table uses it.
        local s
        s=$(jq '.max_rss_kb // empty' <<< "$stats" 2>/dev/null) || s=""
        [[ $s =~ ^[0-9]+$ ]] && table_rss=$s
    fi
    local ok=true
    (( files == WL_N )) || ok=false
    [[ $stats_ok == null || $stats_ok == "$WL_N" ]] || ok=false
    # crawl: what was saved is what the tool found, so every file saved
    # (gather's journal aside) is listed, by its path under the host dir,
    # in files.txt; a file too many also fails the run.
    local saved=null setsum=""
    if [[ $WL_SITE == crawl ]]; then
        find "$out" -type f ! -name .gather-journal -printf '%P %s\n' 2>/dev/null |
            sed 's|^[^/]*/||' | sort > "$rundir/files.txt"
        saved=$(wc -l < "$rundir/files.txt")
        setsum=$(md5sum < "$rundir/files.txt" | cut -c 1-32)
        (( saved == WL_N )) || ok=false
    fi
    # On a tmpfs the files go at once (deleting there slows nothing down).
    [[ $BENCH_KEEP == 1 || $OUT_BASE == "$BENCH_DIR/run" ]] || rm -rf -- "$out"
    # Parse cost: timings.parse summed over the HTML pages parsed, per MiB.
    local parse=null
    if [[ $WL_PARSEREF == 1 && $row == gather:* && $row != *:noparse && -s $rundir/records.jsonl ]]; then
        parse=$(jq -n '[inputs | select(.error == null and (.timings.parse // 0) > 0)
                        | [.timings.parse, .bytes]]
                       | {ms: (map(.[0]) | add // 0), bytes: (map(.[1]) | add // 0), pages: length}' \
                "$rundir/records.jsonl" 2>/dev/null) || parse=null
    fi

    jq -nc --arg workload "$wl" --arg tool "$row" --argjson rep "$rep" \
        --argjson warmup "$([[ $rep == 0 ]] && echo true || echo false)" \
        --argjson n "$WL_N" --argjson jobs "$(row_jobs "$row")" \
        --argjson delay_ms "$WL_DELAY" --argjson ideal_s "${WL_IDEAL:-null}" \
        --argjson exit "$rc" --argjson wall_s "$wall" --argjson max_rss_kb "$rss" \
        --argjson rss_kb "$table_rss" \
        --argjson user_s "$user" --argjson sys_s "$sys" --argjson files "$files" \
        --argjson files_saved "$saved" \
        --argjson stats_ok "$stats_ok" --argjson ok "$ok" \
        --argjson gather_stats "$stats" --argjson parse "$parse" \
        --arg cmd "${CMD[*]}" --arg time "$(date -u +%FT%TZ)" \
        --argjson load1 "$load" --argjson server_died "$server_died" \
        '{time: $time, workload: $workload, tool: $tool, rep: $rep,
          warmup: $warmup, n: $n, jobs: $jobs, delay_ms: $delay_ms,
          ideal_s: $ideal_s, exit: $exit, wall_s: $wall_s,
          max_rss_kb: $max_rss_kb, rss_kb: $rss_kb, user_s: $user_s, sys_s: $sys_s,
          files_ok: $files, files_saved: $files_saved, stats_ok: $stats_ok, ok: $ok,
          gather_stats: $gather_stats, parse: $parse, load1_before: $load1,
          server_died: $server_died, cmd: $cmd}' >> "$RESULTS"

    R_WALL=$wall R_RSS=$table_rss R_CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    R_FILES=$files R_OK=$ok R_PARSE="" R_SAVED=$saved R_SETSUM=$setsum R_SETFILE=$rundir/files.txt
    if [[ $parse != null ]]; then
        R_PARSE=$(jq -r 'if .bytes > 0 then .ms / (.bytes / 1048576) else empty end' <<< "$parse")
    fi
    if (( rc == 124 || rc == 137 )); then
        note "$wl: $(row_label "$row") run $rep timed out after ${BENCH_TIMEOUT}s"
    elif [[ $ok == false ]] && ! [[ $row == gather:* && $rc == 2 ]]; then
        note "$wl: $(row_label "$row") run $rep: $files/$WL_N files${R_SETSUM:+ ($saved saved)}, exit $rc (log: $rundir/log.txt)"
    fi
    if [[ $server_died == true ]]; then
        note "$wl: the server died during $(row_label "$row") run $rep"
    else
        server_idle
    fi
    [[ $row == gather:* ]] && (( rc == 2 )) && return 2
    return 0
}

# run_ref WORKLOAD ROW REP: a parse reference (no network, no files);
# R_OK, R_WALL_MIB and R_CPU_MIB (ms per MiB of HTML parsed).
run_ref() {
    local wl=$1 row=$2 rep=$3
    local rundir=$BENCH_DIR/run/$wl/${row//:/-}-$rep
    local tf=$rundir/time.txt rc=0
    mkdir -p "$rundir"
    build_cmd "$row" "" "$rundir"
    printf '%s\n' "${CMD[*]}" > "$rundir/cmd.txt"
    local load
    load=$(cut -d ' ' -f 1 /proc/loadavg)
    timeout -k 5 "$BENCH_TIMEOUT" /usr/bin/time -f '%e %M %U %S' -o "$tf" \
        "${CMD[@]}" >"$rundir/out.txt" 2>"$rundir/log.txt" </dev/null &
    CHILD=$!
    wait "$CHILD" || rc=$?
    CHILD=""
    local line wall=$BENCH_TIMEOUT rss=0 user=0 sys=0
    line=$(tail -n 1 "$tf" 2>/dev/null) || line=""
    if [[ $line =~ ^([0-9.]+)\ ([0-9]+)\ ([0-9.]+)\ ([0-9.]+)$ ]]; then
        wall=${BASH_REMATCH[1]} rss=${BASH_REMATCH[2]}
        user=${BASH_REMATCH[3]} sys=${BASH_REMATCH[4]}
    fi
    local ok=false wmib=null cmib=null res=null
    case $row in
        ref:libxml2)
            if (( rc == 0 )) && res=$(jq -ce 'select(.failed == 0)' "$rundir/out.txt" 2>/dev/null); then
                ok=true
                wmib=$(jq '.wall_ms_per_mib' <<< "$res")
                cmib=$(jq '.cpu_ms_per_mib' <<< "$res")
            else
                res=null
            fi
            ;;
        ref:xmllint)
            # xmllint exits non-zero for HTML it only recovers from (HTML5
            # tags like <nav>); a timeout or a signal is a failure.
            if (( rc < 124 )) && [[ $line ]]; then
                ok=true
                wmib=$(awk -v w="$wall" -v b="$PAGE_BYTES" 'BEGIN { printf "%.4f", w * 1000 / (b / 1048576) }')
                cmib=$(awk -v u="$user" -v s="$sys" -v b="$PAGE_BYTES" 'BEGIN { printf "%.4f", (u + s) * 1000 / (b / 1048576) }')
            fi
            ;;
    esac
    jq -nc --arg workload "$wl" --arg tool "$row" --argjson rep "$rep" \
        --argjson warmup "$([[ $rep == 0 ]] && echo true || echo false)" \
        --argjson exit "$rc" --argjson wall_s "$wall" --argjson max_rss_kb "$rss" \
        --argjson user_s "$user" --argjson sys_s "$sys" --argjson ok "$ok" \
        --argjson bytes "$PAGE_BYTES" --argjson wall_ms_per_mib "$wmib" \
        --argjson cpu_ms_per_mib "$cmib" --argjson baseline "$res" \
        --arg cmd "${CMD[0]} ..." --arg time "$(date -u +%FT%TZ)" --argjson load1 "$load" \
        '{time: $time, workload: $workload, tool: $tool, rep: $rep, warmup: $warmup,
          exit: $exit, wall_s: $wall_s, max_rss_kb: $max_rss_kb, user_s: $user_s,
          sys_s: $sys_s, ok: $ok, bytes: $bytes, wall_ms_per_mib: $wall_ms_per_mib,
          cpu_ms_per_mib: $cpu_ms_per_mib, baseline: $baseline, load1_before: $load1,
          cmd: $cmd}' >> "$RESULTS"
    [[ $ok == true ]] || note "$wl: $(row_label "$row") run $rep failed, exit $rc (log: $rundir/log.txt)"
    R_OK=$ok R_WALL_MIB=$wmib R_CPU_MIB=$cmib
}

# --- one workload -------------------------------------------------------------

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Ideal wall of a bulk list: nginx's limit_rate lets a body of S bytes out
# after max(0, ceil(S / RATE) - 1) s (1 s bursts, see samples/README.md), and
# the list is handed to WL_JOBS connections in order, each taking the next
# file when it is free (loopback transfer time counted as 0).
bulk_ideal() {
    local r=$BENCH_BULK_RATE mult=1
    case $r in *k) mult=1024; r=${r%k} ;; *m) mult=1048576; r=${r%m} ;; esac
    awk -v rate="$(( r * mult ))" -v j="$WL_JOBS" '
        { t = $2 / rate - 1; ti = int(t); if (ti < t) ti++; if (ti < 0) ti = 0
          best = 1; for (k = 2; k <= j; k++) if (free[k] < free[best]) best = k
          free[best] += ti }
        END { m = 0; for (k = 1; k <= j; k++) if (free[k] > m) m = free[k]; printf "%.3f", m }' "$EXPECT"
}

# build_list WORKLOAD: LIST (URLs), CURL_CFG, EXPECT ("name size" per file),
# WL_BYTES (all files), WL_IDEAL (seconds; empty when there is none).
build_list() {
    local wl=$1
    LIST=$BENCH_DIR/lists/$wl.txt
    CURL_CFG=$BENCH_DIR/lists/$wl.curl
    EXPECT=$BENCH_DIR/lists/$wl.expect
    mkdir -p "$BENCH_DIR/lists"
    case $WL_SITE in
        main)
            samples/serve urls --strip "$BASE" "$BENCH_DIR/site/urls.txt" |
                awk -v n="$WL_N" -v d="$WL_DELAY" \
                    '/\/page-/ && c < n { print $0 "?delay=" d; c++ }' > "$LIST"
            awk -v s="$(( SITE_KB * 1024 ))" '{ n = $0; sub(/[?#].*/, "", n); sub(/.*\//, "", n)
                                               print n, s }' "$LIST" > "$EXPECT"
            WL_IDEAL=$(awk -v n="$WL_N" -v j="$WL_JOBS" -v d="$WL_DELAY" \
                       'BEGIN { printf "%.3f", n / j * d / 1000 }')
            ;;
        cpu)
            awk -v b="$BASE/cpu/" -v n="$WL_N" \
                '/\/page-/ && c < n { u = $0; sub(/.*\//, "", u); print b u; c++ }' \
                "$BENCH_DIR/site/cpu/urls.txt" > "$LIST"
            awk -v s="$(( CPU_KB * 1024 ))" '{ n = $0; sub(/.*\//, "", n); print n, s }' "$LIST" > "$EXPECT"
            # The same pages, as files, for the parse references.
            PAGE_FILES=$BENCH_DIR/lists/$wl.files
            awk -v d="$BENCH_DIR/site/cpu/" '{ print d $1 }' "$EXPECT" > "$PAGE_FILES"
            PAGE_BYTES=$(awk '{ s += $2 } END { print s }' "$EXPECT")
            WL_IDEAL=""
            ;;
        bulk)
            awk -v b="$BASE/bulk/" -v q="?rate=$BENCH_BULK_RATE" '{ print b $1 q }' \
                "$BENCH_DIR/site/bulk/files.txt" > "$LIST"
            cp -f -- "$BENCH_DIR/site/bulk/files.txt" "$EXPECT"
            WL_IDEAL=$(bulk_ideal)
            ;;
        crawl)
            # LIST is the seed alone; EXPECT every file of the site.
            SEED=$BASE/
            printf '%s\n' "$SEED" > "$LIST"
            samples/serve urls --strip "$BASE" "$BENCH_DIR/site/crawl/urls.txt" |
                awk -v d="$BENCH_DIR/site/crawl/" '{ n = $0; sub(/.*\//, "", n); print d n }' |
                xargs -d '\n' stat -c '%n %s' | sed 's|.*/||' > "$EXPECT"
            (( $(wc -l < "$EXPECT") == WL_N )) || die "$wl: the site has $(wc -l < "$EXPECT") files, not $WL_N"
            # Each hop waits the delay: robots.txt, /, the sections (one
            # round), then the pages and images WL_JOBS at a time.
            WL_IDEAL=$(awk -v n="$(( CRAWL_PAGES + CRAWL_IMAGES ))" -v j="$WL_JOBS" -v d="$WL_DELAY" \
                       -v s="$CRAWL_SECTIONS" 'BEGIN { r = int((s + j - 1) / j) + int((n + j - 1) / j)
                                               printf "%.3f", (2 + r) * d / 1000 }')
            ;;
    esac
    [[ $WL_SITE == crawl ]] ||
        (( $(wc -l < "$LIST") == WL_N )) || die "$wl: could not build a list of $WL_N URLs"
    WL_BYTES=$(awk '{ s += $2 } END { print s }' "$EXPECT")
    awk '{ name = $0; sub(/[?#].*/, "", name); sub(/.*\//, "", name)
           printf "url = \"%s\"\noutput = \"%s\"\n", $0, name }' "$LIST" > "$CURL_CFG"
}

# fmt_ratio A B: A / B with 2 decimals, "-" when either is missing.
fmt_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

run_workload() {
    local wl=$1 row rep
    use_server "$( [[ $WL_SITE == crawl ]] && echo crawl || echo main)"
    build_list "$wl"
    local repeat=BENCH_REPEAT_${wl^^}
    if [[ -n ${!repeat:-} ]]; then
        repeat=${!repeat}
    elif [[ -z $BENCH_REPEAT_SET && -n ${DEFAULT_REPEAT[$wl]:-} ]]; then
        repeat=${DEFAULT_REPEAT[$wl]}
    else
        repeat=$BENCH_REPEAT
    fi

    local rows=() refs=() m t
    for m in $WL_MODES; do
        rows+=("gather:$m")
        [[ $WL_NOPARSE == 1 && " $GATHER_NOPARSE_MODES " == *" $m "* ]] && rows+=("gather:$m:noparse")
    done
    for t in $WL_TOOLS; do rows+=("$t"); done
    if [[ $WL_PARSEREF == 1 ]]; then
        [[ -n $PARSE_BASELINE ]] && refs+=(ref:libxml2)
        command -v xmllint >/dev/null && refs+=(ref:xmllint)
    fi

    if [[ -n $WL_IDEAL ]]; then
        printf '\n== %s: %s (ideal %.2f s), %d measured runs\n' "$wl" "$WL_NOTE" "$WL_IDEAL" "$repeat"
    else
        printf '\n== %s: %s, %d measured runs\n' "$wl" "$WL_NOTE" "$repeat"
    fi

    declare -A WALLS=() RSSS=() CPUS=() MINFILES=() FAILED=() SKIP=() PARSES=()
    declare -A SAVED=() SETS=() SETFILE=() # crawl: files saved, set checksums
    local SAMESET="" # crawl: print_crawl_files' verdict, for print_targets
    declare -A RWALL=() RCPU=() RFAILED=()
    for (( rep = 0; rep <= repeat; rep++ )); do
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
            [[ -n $R_PARSE ]] && PARSES[$row]+=" $R_PARSE"
            [[ $R_OK == true ]] || FAILED[$row]=1
            if [[ -z ${MINFILES[$row]:-} ]] || (( R_FILES < ${MINFILES[$row]} )); then
                MINFILES[$row]=$R_FILES
            fi
            if [[ -n $R_SETSUM ]]; then
                SAVED[$row]+=" $R_SAVED"
                [[ " ${SETS[$row]:-} " == *" $R_SETSUM "* ]] || SETS[$row]+=" $R_SETSUM"
                SETFILE[$row]=$R_SETFILE
            fi
        done
        for row in "${refs[@]}"; do
            run_ref "$wl" "$row" "$rep"
            (( rep == 0 )) && continue
            if [[ $R_OK == true ]]; then
                RWALL[$row]+=" $R_WALL_MIB"
                RCPU[$row]+=" $R_CPU_MIB"
            else
                RFAILED[$row]=1
            fi
        done
        (( rep == 0 )) && printf 'warm-up done\n' || printf 'run %d/%d done\n' "$rep" "$repeat"
    done

    # Medians; the reference row is the first gather mode with parsing.
    declare -A MW=() MR=() MC=() MP=()
    local ref=""
    for row in "${rows[@]}"; do
        [[ -n ${SKIP[$row]:-} ]] && continue
        # shellcheck disable=SC2086
        MW[$row]=$(median ${WALLS[$row]})
        # shellcheck disable=SC2086
        MR[$row]=$(median ${RSSS[$row]})
        # shellcheck disable=SC2086
        MC[$row]=$(median ${CPUS[$row]})
        # shellcheck disable=SC2086
        MP[$row]=$(median ${PARSES[$row]:-})
        [[ -z $ref && $row == gather:* && $row != *:noparse && -z ${FAILED[$row]:-} ]] && ref=$row
    done

    printf '\n%-28s | %8s | %8s | %11s | %8s | %8s | %8s | %-17s | %7s\n' \
        tool "wall s" "vs ideal" "peak RSS MB" "MB/s" "wall/g" "RSS/g" "files ok" "cpu s"
    printf '%s\n' "-----------------------------+----------+----------+-------------+----------+----------+----------+-------------------+--------"
    for row in "${rows[@]}"; do
        [[ -n ${SKIP[$row]:-} ]] && continue
        local label wr=- rr=- files vi=-
        label=$(row_label "$row")
        if [[ -n $ref ]]; then
            wr=$(fmt_ratio "${MW[$row]}" "${MW[$ref]}")
            rr=$(fmt_ratio "${MR[$row]}" "${MR[$ref]}")
        fi
        [[ -n $WL_IDEAL ]] && vi=$(fmt_ratio "${MW[$row]}" "$WL_IDEAL")
        files="${MINFILES[$row]}/$WL_N"
        [[ -n ${FAILED[$row]:-} ]] && files+=" FAILED"
        printf '%-28s | %8.2f | %8s | %11.1f | %8.1f | %8s | %8s | %-17s | %7.2f\n' \
            "$label" "${MW[$row]}" "$vi" \
            "$(awk -v a="${MR[$row]}" 'BEGIN { print a / 1024 }')" \
            "$(awk -v b="$WL_BYTES" -v w="${MW[$row]}" 'BEGIN { print (w > 0) ? b / 1e6 / w : 0 }')" \
            "$wr" "$rr" "$files" "${MC[$row]}"
    done
    printf '(medians of %d runs; ratios are tool / %s; files ok is the worst run, each file at its exact size;\n' \
        "$repeat" "$( [[ -n $ref ]] && row_label "$ref" || echo 'gather (no valid run)')"
    printf ' MB/s = %.1f MB / wall; cpu is user+sys; gather'"'"'s RSS is its --stats max_rss_kb: the main process plus\n' \
        "$(awk -v b="$WL_BYTES" 'BEGIN { print b / 1e6 }')"
    printf ' the sum of its worker processes'"'"' peaks (procs, hybrid), which counts shared pages once per worker)\n'
    for row in "${rows[@]}"; do
        [[ -n ${SKIP[$row]:-} ]] && continue
        local j
        j=$(row_jobs "$row")
        (( j == WL_JOBS )) && continue
        case $row in
            curl) printf 'note: curl -Z caps --parallel-max at %d, so curl ran with %d transfers, not %d\n' \
                      "$CURL_PARALLEL_CAP" "$j" "$WL_JOBS" ;;
            gather:procs*)
                printf 'note: %s ran with -j %d, not %d: a process per transfer (BENCH_PROCS_JOBS=%d)' \
                    "$(row_label "$row")" "$j" "$WL_JOBS" "$BENCH_PROCS_JOBS"
                [[ -n $WL_IDEAL && $WL_DELAY -gt 0 ]] &&
                    printf '; its own ideal is %.2f s (%s x that)' \
                        "$(awk -v n="$WL_N" -v j="$j" -v d="$WL_DELAY" 'BEGIN { print n / j * d / 1000 }')" \
                        "$(fmt_ratio "${MW[$row]}" "$(awk -v n="$WL_N" -v j="$j" -v d="$WL_DELAY" 'BEGIN { print n / j * d / 1000 }')")"
                printf '\n' ;;
        esac
    done
    [[ $WL_SITE == bulk ]] &&
        printf 'note: bulk ideal is nginx limit_rate'"'"'s model (a body of S bytes takes ceil(S/RATE)-1 s) over %d connections taking the list in order\n' "$WL_JOBS"
    if [[ $WL_SITE == crawl ]]; then
        printf 'note: crawl ideal: %d ms per hop: robots.txt, /, the %d sections, then %d pages and images %d at a time\n' \
            "$WL_DELAY" "$CRAWL_SECTIONS" "$(( CRAWL_PAGES + CRAWL_IMAGES ))" "$WL_JOBS"
        print_crawl_files "${rows[@]}"
    fi
    print_gather_detail "$wl" "${rows[@]}"
    [[ $WL_PARSEREF == 1 ]] && print_parse_table "$wl" "${rows[@]}"
    print_targets "$wl" "${rows[@]}"
    run_compare "$wl"
}

# crawl: how many files each row saved (every run), and whether every run of
# every row saved the same set (paths and sizes) as the first run of the
# first row.
print_crawl_files() {
    local row line="" ref="" refrow="" diff=()
    for row in "$@"; do
        [[ -z ${SKIP[$row]:-} && -n ${SAVED[$row]:-} ]] || continue
        local counts
        counts=$(tr ' ' '\n' <<< "${SAVED[$row]# }" | sort -gu | paste -sd / -)
        line+="${line:+, }$(row_label "$row") $counts"
        if [[ -z $ref ]]; then
            ref=${SETS[$row]# }; ref=${ref%% *}; refrow=$row
        fi
        [[ ${SETS[$row]# } == "$ref" ]] || diff+=("$(row_label "$row")")
    done
    [[ -n $line ]] || return 0
    printf 'files saved per run (expected %d; gather'"'"'s journal not counted): %s\n' "$WL_N" "$line"
    if (( ${#diff[@]} == 0 )); then
        SAMESET="yes: $line"
        printf 'the same set of files (path and size) in every run of every row\n'
    else
        SAMESET="NO: $(IFS=,; echo "${diff[*]}") differ(s) from $(row_label "$refrow"); $line"
        printf 'NOT the same set: %s differ(s) from %s (lists: files.txt in each run dir, e.g. %s)\n' \
            "$(IFS=,; echo "${diff[*]}")" "$(row_label "$refrow")" "${SETFILE[$refrow]}"
    fi
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
            | "\($name): --stats medians: wall \([$s[].wall_s] | med | f) s, p50 \([$s[].p50_ms] | med | f) ms, p95 \([$s[].p95_ms] | med | f) ms, user \([$s[].user_s] | med | f) s, sys \([$s[].sys_s] | med | f) s, invol cs \([$s[].invol_cs] | med | f)"
              + (if ($tool | startswith("gather:hybrid")) then ", parse queue peak \([$s[].parse_queue_peak] | med | f)" else "" end)
              + (if ($s[0].crawl // null) != null then
                   "; crawl: queued \([$s[].crawl.queued] | med | f), links seen \([$s[].crawl.links_seen] | med | f), frontier peak \([$s[].crawl.frontier_peak] | med | f), dedup \([$s[].crawl.dedup_bytes] | med | f) B = \([$s[].crawl.dedup_bytes_per_url] | med | f) B/URL"
                 else "" end)
        ' "$RESULTS"
    done
}

# Parse cost per MiB of HTML: gather's timings.parse against bare libxml2.
print_parse_table() {
    local wl=$1 row
    shift
    printf '\nparse cost per MiB of HTML (%d pages, %.1f MiB; medians of the measured runs)\n' \
        "$WL_N" "$(awk -v b="$PAGE_BYTES" 'BEGIN { print b / 1048576 }')"
    printf '%-46s | %11s | %10s | %10s\n' source "wall ms/MiB" "cpu ms/MiB" "vs libxml2"
    printf '%s\n' "-----------------------------------------------+-------------+------------+-----------"
    local base="" bw bc
    if [[ -n ${RWALL[ref:libxml2]:-} && -z ${RFAILED[ref:libxml2]:-} ]]; then
        # shellcheck disable=SC2086
        base=$(median ${RWALL[ref:libxml2]})
    fi
    for row in "$@"; do
        [[ $row == gather:* && $row != *:noparse && -z ${SKIP[$row]:-} && -n ${MP[$row]:-} ]] || continue
        local what
        what="$(row_label "$row"): sum of timings.parse"
        printf '%-46s | %11.1f | %10s | %10s\n' "$what" "${MP[$row]}" - "$(fmt_ratio "${MP[$row]}" "$base")"
    done
    for row in ref:libxml2 ref:xmllint; do
        [[ -n ${RWALL[$row]:-} || -n ${RFAILED[$row]:-} ]] || continue
        local what
        case $row in
            ref:libxml2) what="bare libxml2: htmlReadMemory + xmlFreeDoc" ;;
            ref:xmllint) what="xmllint --html --noout (whole process)" ;;
        esac
        if [[ -n ${RFAILED[$row]:-} ]]; then
            printf '%-46s | %11s | %10s | %10s\n' "$what" FAILED - -
            continue
        fi
        # shellcheck disable=SC2086
        bw=$(median ${RWALL[$row]})
        # shellcheck disable=SC2086
        bc=$(median ${RCPU[$row]})
        printf '%-46s | %11.1f | %10.1f | %10s\n' "$what" "$bw" "$bc" "$(fmt_ratio "$bw" "$base")"
    done
    printf '(timings.parse is wall time per page; in async it runs alone on the loop thread, so it is the\n'
    printf ' per-core cost; in threads, procs and hybrid parses overlap on %s cores and include waiting for one)\n' "$(nproc)"
    PARSE_BASE=$base
}

# verdict A OP B: PASS or MISS.
verdict() { awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
    r = (op == "<=") ? (a <= b) : (op == "<") ? (a < b) : 0; print r ? "PASS" : "MISS" }'; }

# emit KIND WORKLOAD TEXT RESULT [DETAIL]: prints one line and keeps it for
# the summary. KIND is target (PASS/MISS/SKIP) or info.
emit() {
    local kind=$1 wl=$2 text=$3 res=$4 detail=${5:-}
    if [[ $kind == target ]]; then
        printf 'target: %s: %s%s\n' "$text" "$res" "${detail:+ ($detail)}"
    else
        printf 'info: %s: %s\n' "$text" "$detail"
    fi
    SUMMARY+=("$wl"$'\t'"$text"$'\t'"$res"$'\t'"$detail")
}

# mb KB: megabytes with one decimal.
mb() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1024 }'; }

# One PASS/MISS line per target: the workload's ideal and wget2 targets for
# every gather mode with parsing but procs (which is shown, not judged), and
# each workload's own targets.
print_targets() {
    local wl=$1 row v
    shift
    for row in "$@"; do
        [[ $row == gather:* && $row != *:noparse && -z ${SKIP[$row]:-} ]] || continue
        [[ $row == gather:procs ]] && continue
        local g label
        label=$(row_label "$row")
        g=${MW[$row]}
        if [[ -n $WL_TARGET_IDEAL ]]; then
            if [[ -n ${FAILED[$row]:-} ]]; then
                emit target "$wl" "$label wall <= $WL_TARGET_IDEAL x ideal" MISS "FAILED: not all files fetched"
            else
                local r
                r=$(fmt_ratio "$g" "$WL_IDEAL")
                emit target "$wl" "$label wall <= $WL_TARGET_IDEAL x ideal" "$(verdict "$r" "<=" "$WL_TARGET_IDEAL")" \
                    "$r: $g s vs $WL_IDEAL s"
            fi
        fi
        [[ -n $WL_VS ]] || continue
        local what
        if [[ $WL_VS == wall ]]; then what="wall <= wget2 wall"; else what="peak RSS < wget2 peak RSS"; fi
        if [[ " $WL_TOOLS " != *" wget2 "* ]]; then
            emit target "$wl" "$label $what" SKIP "wget2 not run"
        elif [[ -n ${FAILED[$row]:-} ]]; then
            emit target "$wl" "$label $what" MISS "gather FAILED"
        elif [[ -n ${FAILED[wget2]:-} ]]; then
            emit target "$wl" "$label $what" SKIP "wget2 FAILED, no valid comparison"
        elif [[ $WL_VS == wall ]]; then
            emit target "$wl" "$label $what" "$(verdict "$g" "<=" "${MW[wget2]}")" \
                "$(printf '%.2f s vs %.2f s' "$g" "${MW[wget2]}")"
        else
            emit target "$wl" "$label $what" "$(verdict "${MR[$row]}" "<" "${MR[wget2]}")" \
                "$(mb "${MR[$row]}") MB vs $(mb "${MR[wget2]}") MB"
        fi
    done
    has() { [[ -n ${MW[$1]:-} && -z ${SKIP[$1]:-} ]]; }
    good() { has "$1" && [[ -z ${FAILED[$1]:-} ]]; }

    # procs: a process per transfer; shown against the other modes, not judged.
    if has gather:procs && [[ $wl == latency || $wl == concurrency ]]; then
        local d="" o
        if [[ -n ${FAILED[gather:procs]:-} ]]; then
            d="FAILED (not all files fetched); "
        fi
        d+="wall $(printf '%.2f' "${MW[gather:procs]}") s"
        for o in gather:async gather:threads gather:hybrid; do
            good "$o" && d+=", $(fmt_ratio "${MW[gather:procs]}" "${MW[$o]}")x ${o#gather:}"
        done
        d+="; RSS $(mb "${MR[gather:procs]}") MB (workers summed)"
        for o in gather:async gather:threads gather:hybrid; do
            good "$o" && d+=", $(fmt_ratio "${MR[gather:procs]}" "${MR[$o]}")x ${o#gather:}"
        done
        d+="; cpu $(printf '%.2f' "${MC[gather:procs]}") s"
        good gather:async && d+=" vs $(printf '%.2f' "${MC[gather:async]}") s async"
        emit info "$wl" "$(row_label gather:procs) vs the other modes" info "$d"
    fi

    case $wl in
        concurrency)
            local t="gather threads peak RSS <= 2 x async peak RSS"
            if good gather:threads && good gather:async; then
                v=$(awk -v a="${MR[gather:threads]}" -v b="${MR[gather:async]}" 'BEGIN { print (a <= 2 * b) ? "PASS" : "MISS" }')
                emit target "$wl" "$t" "$v" "$(fmt_ratio "${MR[gather:threads]}" "${MR[gather:async]}")x: $(mb "${MR[gather:threads]}") MB vs $(mb "${MR[gather:async]}") MB"
            else
                emit target "$wl" "$t" SKIP "threads or async did not run or FAILED"
            fi
            ;;
        cpu)
            local t="gather hybrid wall <= 0.65 x async wall"
            if good gather:hybrid && good gather:async; then
                local r
                r=$(fmt_ratio "${MW[gather:hybrid]}" "${MW[gather:async]}")
                emit target "$wl" "$t" "$(verdict "$r" "<=" 0.65)" "$r: ${MW[gather:hybrid]} s vs ${MW[gather:async]} s"
            else
                emit target "$wl" "$t" SKIP "hybrid or async did not run or FAILED"
            fi
            t="gather parse cost/MiB <= 1.15 x bare libxml2"
            if [[ -z ${PARSE_BASE:-} ]]; then
                emit target "$wl" "$t" SKIP "no bare libxml2 figure"
            elif ! good gather:async || [[ -z ${MP[gather:async]:-} ]]; then
                emit target "$wl" "$t" SKIP "no valid async run"
            else
                local r
                r=$(fmt_ratio "${MP[gather:async]}" "$PARSE_BASE")
                emit target "$wl" "$t" "$(verdict "$r" "<=" 1.15)" \
                    "$r: $(printf '%.1f' "${MP[gather:async]}") ms/MiB (async) vs $(printf '%.1f' "$PARSE_BASE") ms/MiB"
            fi
            ;;
        crawl)
            # One target, the default mode against wget2; every mode's
            # ratios to wget2 are shown (procs' RSS sums its workers).
            local t g=gather:async
            t="crawl $(thousands "$WL_N") files, $WL_DELAY ms, -j $WL_JOBS: gather <= wget2"
            if [[ " $WL_TOOLS " != *" wget2 "* ]]; then
                emit target "$wl" "$t" SKIP "wget2 not run"
            elif ! has "$g"; then
                emit target "$wl" "$t" SKIP "gather async not run"
            elif [[ -n ${FAILED[$g]:-} ]]; then
                emit target "$wl" "$t" MISS "gather async FAILED"
            elif [[ -n ${FAILED[wget2]:-} ]]; then
                emit target "$wl" "$t" SKIP "wget2 FAILED, no valid comparison"
            else
                emit target "$wl" "$t" "$(verdict "${MW[$g]}" "<=" "${MW[wget2]}")" \
                    "$(fmt_ratio "${MW[$g]}" "${MW[wget2]}")x: $(printf '%.2f s vs %.2f s' "${MW[$g]}" "${MW[wget2]}")"
            fi
            if good wget2; then
                for row in "$@"; do
                    [[ $row == gather:* && -z ${SKIP[$row]:-} ]] || continue
                    local d
                    if [[ -n ${FAILED[$row]:-} ]]; then
                        d="FAILED (worst run ${MINFILES[$row]}/$WL_N files); "
                    else
                        d=""
                    fi
                    d+="wall $(fmt_ratio "${MW[$row]}" "${MW[wget2]}")x ($(printf '%.2f s vs %.2f s' "${MW[$row]}" "${MW[wget2]}")), peak RSS $(fmt_ratio "${MR[$row]}" "${MR[wget2]}")x ($(mb "${MR[$row]}") MB vs $(mb "${MR[wget2]}") MB), cpu $(fmt_ratio "${MC[$row]}" "${MC[wget2]}")x"
                    emit info "$wl" "$(row_label "$row") / wget2" info "$d"
                done
            fi
            if [[ -n ${SAMESET:-} ]]; then
                emit info "$wl" "same files saved by every row and run" info "$SAMESET"
            fi
            if has "$g"; then
                local per
                # Medians over the measured runs, field by field.
                per=$(jq -rs --arg wl "$wl" --arg tool "$g" '
                    def med(f): map(f) | sort | if length % 2 == 1 then .[length / 2 | floor]
                                                 else (.[length / 2 - 1] + .[length / 2]) / 2 end;
                    [.[] | select(.workload == $wl and .tool == $tool and (.warmup | not))
                         | .gather_stats.crawl // empty] as $c
                    | select($c | length > 0)
                    | "\($c | med(.dedup_bytes_per_url) * 10 | round / 10) B/URL (\($c | med(.dedup_bytes)) B for \($c | med(.queued)) URLs queued, \($c | med(.links_seen)) links seen, frontier peak \($c | med(.frontier_peak)); medians)"
                    ' "$RESULTS" 2>/dev/null) || per=""
                emit info "$wl" "gather async dedup memory per URL" info "${per:-no --stats crawl object}"
            fi
            ;;
        bulk)
            for row in "$@"; do
                [[ -z ${SKIP[$row]:-} ]] || continue
                local label
                label=$(row_label "$row")
                if [[ $row == gather:* ]]; then
                    emit target "$wl" "$label: all $WL_N files, exact byte counts" \
                        "$( [[ -z ${FAILED[$row]:-} ]] && echo PASS || echo MISS)" \
                        "worst run ${MINFILES[$row]}/$WL_N; $(printf '%.1f' "$(awk -v b="$WL_BYTES" -v w="${MW[$row]}" 'BEGIN { print (w > 0) ? b / 1e6 / w : 0 }')") MB/s, $(mb "${MR[$row]}") MB RSS"
                else
                    emit info "$wl" "$label" info "$( [[ -z ${FAILED[$row]:-} ]] && echo "all files complete" || echo "FAILED: worst run ${MINFILES[$row]}/$WL_N files"); $(printf '%.2f' "${MW[$row]}") s, $(printf '%.1f' "$(awk -v b="$WL_BYTES" -v w="${MW[$row]}" 'BEGIN { print (w > 0) ? b / 1e6 / w : 0 }')") MB/s, $(mb "${MR[$row]}") MB RSS"
                fi
            done
            ;;
    esac
}

# gather compare on the workload's list and options, the modes side by side
# with the phase table; report in $BENCH_DIR/report-WORKLOAD/.
run_compare() {
    local wl=$1
    (( BENCH_COMPARE_REPEAT > 0 )) || return 0
    # compare runs gather get on a URL list; a crawl has no list.
    [[ $WL_SITE == crawl ]] && return 0
    local m modes=() left=""
    for m in $GATHER_MODES; do
        [[ $m == auto ]] && continue
        if [[ $m == procs ]] && (( WL_JOBS > BENCH_PROCS_JOBS )); then
            left="procs left out: compare gives every mode the same -j $WL_JOBS, more processes than BENCH_PROCS_JOBS=$BENCH_PROCS_JOBS"
            continue
        fi
        modes+=("$m")
    done
    (( ${#modes[@]} )) || return 0
    local mlist
    mlist=$(IFS=,; echo "${modes[*]}")
    local dir=$BENCH_DIR/report-$wl out=$BENCH_DIR/run/$wl/compare rc=0
    rm -rf -- "$dir"
    mkdir -p "$dir" "$out"
    COMPARE_CMD=("$GATHER" compare -i "$LIST" -j "$WL_JOBS" "${WL_GET_OPTS[@]}" -o "$out/out"
                 --modes "$mlist" --repeat "$BENCH_COMPARE_REPEAT" --report "$dir")
    printf '\n-- %s: gather compare --modes %s --repeat %d -j %d%s\n' "$wl" "$mlist" \
        "$BENCH_COMPARE_REPEAT" "$WL_JOBS" "${WL_GET_OPTS[*]:+ ${WL_GET_OPTS[*]}}"
    [[ -n $left ]] && printf '(%s)\n' "$left"
    ensure_server
    server_idle
    local t0 t1
    t0=$(date +%s.%N)
    timeout -k 5 $(( BENCH_TIMEOUT * ${#modes[@]} * BENCH_COMPARE_REPEAT + 60 )) \
        "${COMPARE_CMD[@]}" >"$dir/compare.txt" 2>"$dir/compare.stderr" </dev/null &
    CHILD=$!
    wait "$CHILD" || rc=$?
    CHILD=""
    t1=$(date +%s.%N)
    # The tables, without compare's closing legend and report line.
    awk '/^wall, req\/s, MB\/s/ { exit } { print }' "$dir/compare.txt" | sed -e '/^gather compare:/d' -e '1{/^$/d}'
    if (( rc != 0 )); then
        note "$wl: gather compare exited $rc (stderr: $dir/compare.stderr)"
        tail -n 5 "$dir/compare.stderr" >&2 || true
    fi
    if [[ -s $dir/report.html ]]; then
        printf 'compare report: %s (figures: %s; %.0f s)\n' "$dir/report.html" "$dir/report.json" \
            "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
        REPORTS+=("$dir/report.html")
    else
        printf 'compare report: none written (exit %d; see %s)\n' "$rc" "$dir/compare.stderr"
    fi
    server_idle
}

print_summary() {
    (( ${#SUMMARY[@]} )) || return 0
    printf '\n== summary\n'
    printf '%-12s | %-56s | %-6s | %s\n' workload target result numbers
    printf '%s\n' "-------------+----------------------------------------------------------+--------+--------------------------------"
    local line wl text res detail
    for line in "${SUMMARY[@]}"; do
        IFS=$'\t' read -r wl text res detail <<< "$line"
        [[ $res == info ]] && res=INFO
        printf '%-12s | %-56s | %-6s | %s\n' "$wl" "$text" "$res" "$detail"
    done
    local p m s
    p=$(printf '%s\n' "${SUMMARY[@]}" | awk -F '\t' '$3 == "PASS"' | wc -l)
    m=$(printf '%s\n' "${SUMMARY[@]}" | awk -F '\t' '$3 == "MISS"' | wc -l)
    s=$(printf '%s\n' "${SUMMARY[@]}" | awk -F '\t' '$3 == "SKIP"' | wc -l)
    printf '%d PASS, %d MISS, %d SKIP\n' "$p" "$m" "$s"
}

# --- main -------------------------------------------------------------------

main() {
    local wls=() w
    for w in "$@"; do
        case $w in
            -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
            latency|concurrency|cpu|bulk|crawl) wls+=("$w") ;;
            *) die "unknown workload: $w (have: ${ALL_WORKLOADS[*]})" ;;
        esac
    done
    (( ${#wls[@]} )) || wls=("${ALL_WORKLOADS[@]}")

    local started
    started=$(date +%s)
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
    # Even so, files deleted by anything else on the same ext4 (a test run)
    # slow every tool's file creation by ~0.5 ms for minutes: 1 s of a 2,000-
    # file run. Files go to a tmpfs when there is one, so the tables
    # measure the tools, not the inode allocator. Every tool saves there.
    OUT_BASE=$BENCH_OUT
    if [[ $OUT_BASE == auto ]]; then
        OUT_BASE=$BENCH_DIR/run
        # df, not findmnt: findmnt prints a line per mount when two are
        # stacked on /dev/shm, and "tmpfs\ntmpfs" once sent a whole bench
        # to ext4 unnoticed.
        if [[ $(df --output=fstype /dev/shm 2>/dev/null | tail -n 1) == tmpfs ]] &&
           (( $(df -k --output=avail /dev/shm | tail -n 1) > 8 * 1024 * 1024 )); then
            OUT_BASE=/dev/shm/gather-bench-out.$$
        fi
    fi
    mkdir -p "$OUT_BASE"
    # Run a private copy, so a rebuild during the bench cannot swap binaries
    # between runs.
    cp -f -- "$GATHER" "$BENCH_DIR/gather.bin" || die "cannot copy $GATHER"
    GATHER_SRC=$GATHER
    GATHER=$BENCH_DIR/gather.bin
    PARSE_BASELINE=""
    [[ " ${wls[*]} " == *" cpu "* ]] && build_parse_baseline
    make_site "${wls[@]}"
    use_server "$( [[ ${wls[0]} == crawl ]] && echo crawl || echo main)"

    local load
    load=$(cut -d ' ' -f 1-3 /proc/loadavg)
    printf 'gather bench: %s cores, %s, files saved to %s (%s), open files %s, nginx workers %s\n' \
        "$(nproc)" "$(uname -r)" "$OUT_BASE" "$(df --output=fstype "$OUT_BASE" | tail -n 1)" "$(ulimit -n)" "$BENCH_NGINX_WORKERS"
    printf 'tools: gather %s (%s, modes: %s; --no-parse rows: %s);%s%s\n' \
        "$("$GATHER" --version 2>/dev/null | head -n 1 | awk '{ print $NF }')" \
        "$GATHER_SRC" "$GATHER_MODES" "${GATHER_NOPARSE_MODES:-none}" "$(
        for t in $BENCH_TOOLS; do
            case $t in
                curl) curl --version | head -n 1 | awk '{ printf " curl %s", $2 }' ;;
                wget2) wget2 --version 2>/dev/null | head -n 1 | awk '{ printf " wget2 %s", $3 }' ;;
                aria2c) aria2c --version | head -n 1 | awk '{ printf " aria2c %s", $3 }' ;;
            esac
        done)" "$( [[ " ${wls[*]} " == *" cpu "* ]] && printf ' libxml2 %s' "$(pkg-config --modversion libxml-2.0 2>/dev/null || echo '?')")"

    printf 'load average at start: %s\n' "$load"
    if awk -v l="${load%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
        printf 'warning: the machine is busy (load %s on %s cores); timings will be noisy\n' \
            "${load%% *}" "$(nproc)"
    fi

    RESTARTS=0
    SUMMARY=()
    REPORTS=()
    for w in "${wls[@]}"; do
        "$w"
    done
    (( RESTARTS == 0 )) || printf '\nwarning: nginx died and was restarted %d time(s); affected runs show FAILED\n' "$RESTARTS"

    print_summary
    if (( ${#REPORTS[@]} )); then
        printf '\ncompare reports:\n'
        printf '  %s\n' "${REPORTS[@]}"
    fi
    printf 'load average at end: %s; measurements took %d s\n' "$(cut -d ' ' -f 1-3 /proc/loadavg)" "$(( $(date +%s) - started ))"

    # Downloads are deleted only now, for the reason given above.
    rm -rf -- "$BENCH_DIR"/run.old.*
    if [[ $BENCH_KEEP == 1 ]]; then
        note "kept downloads under $OUT_BASE"
    else
        [[ $OUT_BASE == "$BENCH_DIR/run" ]] || rm -rf -- "$OUT_BASE"
        find "$BENCH_DIR/run" -mindepth 3 -maxdepth 3 -name out -type d \
            -exec rm -rf -- {} + 2>/dev/null || true
    fi
    printf '\nraw results: %s\ntotal %d s, deleting the downloads included\n' "$RESULTS" "$(( $(date +%s) - started ))"
}

main "$@"
