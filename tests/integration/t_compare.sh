# gather compare: its usage errors; its table, report.json and report.html
# checked against the stats and records each run left in --report DIR/runs;
# the page as XML and as HTML, with no external resources and its text
# escaped; the charts as headless Chromium draws them; the temp dir
# without --report; stdin lists; runs that do not complete.
. "$(dirname "$0")/lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

MODES=(async threads procs hybrid)

# table_rows FILE: the rows of the first table of compare's output (after
# its header line, up to the blank line).
table_rows() { awk '/^mode +runs /{on=1; next} on && /^$/{exit} on' "$1"; }
# phase_rows FILE: the rows of the phase table.
phase_rows() { awk '/^mode +queue /{on=1; next} on && /^$/{exit} on' "$1"; }

# close_to A B DECIMALS: A (printed with DECIMALS) is B rounded.
close_to() { awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { e = 0.5 * 10^-d + 1e-9; exit !((a - b) <= e && (b - a) <= e) }'; }

# chromium_check REPORT_HTML SERIES: Chromium loads the page (no network),
# its inline script measures every chart; each must have a box and SERIES
# series, all drawn.
chromium_check() {
  command -v chromium >/dev/null || fail "chromium is not installed (apt-get install -y chromium; .ci/deps lists it)"
  local profile
  profile=$(mktemp -d "$T/chromium.XXXXXX")
  HOME=$profile timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu \
    --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$profile" \
    --virtual-time-budget=5000 --dump-dom "file://$1" > "$T/dom.html" 2> "$T/chromium.err" \
    || { tail -5 "$T/chromium.err" >&2; fail "chromium could not load $1"; }
  sed -n '/<pre id="render-check">/,/<\/pre>/p' "$T/dom.html" | sed 's/<[^>]*>//g' > "$T/render.txt"
  grep -qx 'charts 5' "$T/render.txt" || { cat "$T/render.txt" >&2; fail "render check: not 5 charts (did the script run?)"; }
  for id in chart-wall chart-throughput chart-cdf chart-cpu chart-phases; do
    grep -Eq "^chart $id width=[0-9.]+ height=[0-9.]+ series=$2 drawn=$2 expected=$2\$" "$T/render.txt" \
      || { cat "$T/render.txt" >&2; fail "render check: $id"; }
    awk -v id="$id" '$2 == id { split($3, w, "="); split($4, h, "="); exit !(w[2] > 0 && h[2] > 0) }' "$T/render.txt" \
      || fail "render check: $id has an empty box"
  done
}

# ---- every option of get is known to compare ----
# (compare keeps its own table of get's options to find its own among them)
for opt in $("$GATHER" get --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
  "$GATHER" compare "$opt" 1 -i /nonexistent-gather-list > /dev/null 2> "$T/stderr" || true
  ! grep -q "unknown option" "$T/stderr" || fail "compare does not know get's $opt: $(cat "$T/stderr")"
done

# ---- usage errors: exit 2, nothing run, nothing created ----
echo "http://127.0.0.1:9/" > "$T/one.txt"
"$GATHER" compare --help > "$T/help.txt" || fail "gather compare --help failed"
grep -q '^Usage: gather compare' "$T/help.txt" || fail "compare --help prints no usage"
"$GATHER" --help | grep -q '^  compare ' || fail "gather --help does not list compare"
usage_error "needs a URL list: -i FILE" compare --repeat 1
usage_error "unknown mode 'bogus' in --modes" compare -i "$T/one.txt" --modes async,bogus
grep -q 'async, threads, procs, hybrid' "$T/stderr" || fail "--modes bogus: the valid modes are not named"
usage_error "mode 'async' given twice" compare -i "$T/one.txt" --modes async,async
usage_error "--modes wants" compare -i "$T/one.txt" --modes async,
for n in 0 -1 x 1.5 1001; do usage_error "--repeat wants a number" compare -i "$T/one.txt" --repeat "$n"; done
usage_error "-m/--mode is not for compare" compare -i "$T/one.txt" -m async
usage_error "compare sets --jsonl" compare -i "$T/one.txt" --jsonl "$T/x.jsonl"
usage_error "compare sets --stats" compare -i "$T/one.txt" --stats="$T/x.json"
usage_error "not URLs" compare -i "$T/one.txt" http://127.0.0.1:9/
grep -q 'add --crawl' "$T/stderr" || fail "URLs without --crawl: no hint at --crawl"
usage_error "compare --crawl takes seed URLs, not -i" compare --crawl -i "$T/one.txt" http://127.0.0.1:9/
usage_error "no seed URLs" compare --crawl --repeat 1
usage_error "--depth is an option of gather crawl" compare -i "$T/one.txt" --depth 1
usage_error "--depth wants" compare --crawl --depth x http://127.0.0.1:9/
# what only a run finds unusable (here a seed's scheme) stops compare at
# the first run, as a usage error, instead of failing every run alike
usage_error "the runs cannot use these options or inputs" compare --crawl --repeat 3 ftp://127.0.0.1:9/
check_eq "$(grep -c 'did not complete' "$T/stderr")" 1 "runs started on an unusable seed"
grep -q "unsupported URL scheme" "$T/stderr" || fail "compare does not show why the run refused the seed"
usage_error "unknown option '--bogus'" compare -i "$T/one.txt" --bogus
usage_error "ambiguous" compare -i "$T/one.txt" --rep 2
# get's own checks apply to the options compare passes on
usage_error "--jobs wants a number" compare -i "$T/one.txt" -j 0
usage_error "XPath" compare -i "$T/one.txt" --xpath 'x=//['
usage_error "cannot read /nonexistent-gather-list" compare -i /nonexistent-gather-list --report "$T/never"
[ ! -e "$T/never" ] || fail "a usage error created the report directory"
echo junk > "$T/afile"
usage_error "cannot create $T/afile" compare -i "$T/one.txt" -o "$T/afile"
mkdir -p "$T/used/threads-2"
usage_error "$T/used/threads-2 exists" compare -i "$T/one.txt" -o "$T/used" --repeat 2

start_server
# The list's name must be escaped in the page and kept exact in the JSON.
LIST="$T/l<is>t & \"q\".txt"
urls > "$LIST"

# ---- four modes, two repeats, with a report ----
run_gather 0 compare -i "$LIST" --repeat 2 -j 4 -P 2 --xpath 't=//title' \
  -o "$T/out" --report "$T/rep" > "$T/table.txt"
R=$T/rep
J=$R/report.json

# Each run left its records, stats and stderr; -o gave each a fresh tree.
for m in "${MODES[@]}"; do
  for r in 1 2; do
    run=$R/runs/$m-$r
    check_eq "$(wc -l < "$run.jsonl")" 21 "$m-$r records"
    check_eq "$(jq -c '[.mode, .ok, .failed]' "$run.json")" "[\"$m\",20,1]" "$m-$r stats"
    # only the 404's line: no progress, no summary in a run's stderr
    check_eq "$(cat "$run.stderr")" "gather: $BASE/missing-page.html: HTTP 404" "$m-$r stderr"
    check_eq "$(jq -s '[.[] | select(.title) | .fields.t[0] == .title] | length > 10 and all' "$run.jsonl")" \
      true "$m-$r: --xpath passed to the run"
    check_eq "$(find "$T/out/$m-$r" -type f | wc -l)" 20 "$m-$r saved files"
    diff -r "$T/out/async-1" "$T/out/$m-$r" > /dev/null || fail "$m-$r saved other files than async-1"
  done
done
# Interleaved: repeat by repeat, each starting one mode later; the stats
# files were written in that order (mtimes may tie, never go back).
ORDER="async-1 threads-1 procs-1 hybrid-1 threads-2 procs-2 hybrid-2 async-2"
check_eq "$(jq -r '[.modes[] | .mode as $m | .runs[] | {n: "\($m)-\(.rep)", order}] | sort_by(.order) | map(.n) | join(" ")' "$R/report.json")" \
  "$ORDER" "run order in report.json"
for run in $ORDER; do find "$R/runs" -name "$run.json" -printf '%T@\n'; done \
  | awk 'NR > 1 && $1 < last { exit 1 } { last = $1 }' || fail "the runs did not run in the order $ORDER"

# report.json against the run files: every figure recomputed.
check_eq "$(jq -r .list "$J")" "$LIST" "report.json list"
check_eq "$(jq -c '[.repeat, [.modes[].mode]]' "$J")" '[2,["async","threads","procs","hybrid"]]' "report.json repeat, modes"
check_eq "$(jq .cores "$J")" "$(nproc)" "report.json cores"
cat > "$T/check.jq" <<'EOF'
def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                   else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def near($a; $b): ($a - $b | fabs) <= 1e-9 * ([($a | fabs), ($b | fabs), 1] | max);
def rank($v; $p): $v[([(($p * ($v | length) + 99) / 100 | floor), 1] | max) - 1];
def phases: ["queue","dns","connect","tls","ttfb","transfer","write","parse_wait","parse","total"];
($rep[0].modes[] | select(.mode == $m)) as $o
| [$s1[0], $s2[0]] as $s
| [$r1, $r2] as $r
| ([$r[][] | .timings.total] | sort) as $lat
| ($lat | length) as $n
| [ (if $o.runs_completed == 2 then empty else "runs_completed" end),
    (if $o.wall_s == [$s[].wall_s] then empty else "wall_s" end),
    (if near($o.wall_median_s; [$s[].wall_s] | median) then empty else "wall_median_s" end),
    (if near($o.req_per_s; [$s[].req_per_s] | median) then empty else "req_per_s" end),
    (if near($o.mb_per_s; [$s[].mb_per_s] | median) then empty else "mb_per_s" end),
    (if near($o.cpu_s; [$s[] | .user_s + .sys_s] | median) then empty else "cpu_s" end),
    (if [$o.runs[] | .wall_s] == [$s[].wall_s] then empty else "runs[].wall_s" end),
    # process_s is compare's own measure of each run: fork to exit
    (if near($o.process_s; [$o.runs[].process_s] | median) then empty else "process_s" end),
    (if all($o.runs[]; .process_s >= .wall_s) then empty else "process_s < wall_s" end),
    (if near($o.cpu_wall_ratio; $o.cpu_s / $o.process_s) then empty else "cpu_wall_ratio" end),
    (if $o.max_rss_kb == ([$s[].max_rss_kb] | median | round) then empty else "max_rss_kb" end),
    (if $o.ctx_switches == ([$s[] | .vol_cs + .invol_cs] | median | round) then empty else "ctx_switches" end),
    (if $o.failed == ([$s[].failed] | add) then empty else "failed" end),
    (if $o.records == $n and $n == 42 then empty else "records" end),
    (if $o.p50_ms == rank($lat; 50) then empty else "p50_ms" end),
    (if $o.p95_ms == rank($lat; 95) then empty else "p95_ms" end),
    (if $o.p99_ms == rank($lat; 99) then empty else "p99_ms" end),
    (phases[] as $p
     | if near($o.phases_ms[$p]; [$r[] | map(.timings[$p]) | add] | median) then empty
       else "phases_ms.\($p)" end),
    (if $o.cdf == [range(0; $n) as $i | [$lat[$i], ($i + 1) / $n]] then empty else "cdf" end),
    ($o.phases_ms as $p
     | (($p.parse_wait + $p.parse) > ($p.dns + $p.connect + $p.tls + $p.ttfb + $p.transfer)
        or $o.cpu_s >= $rep[0].cpu_share * $o.process_s) as $cpu
     | if $o.bound == (if $cpu then "cpu" else "network" end) then empty else "bound" end)
  ]
| if length == 0 then "ok" else "differs: " + join(", ") end
EOF
for m in "${MODES[@]}"; do
  out=$(jq -rn --arg m "$m" --slurpfile rep "$J" \
    --slurpfile s1 "$R/runs/$m-1.json" --slurpfile s2 "$R/runs/$m-2.json" \
    --slurpfile r1 "$R/runs/$m-1.jsonl" --slurpfile r2 "$R/runs/$m-2.jsonl" -f "$T/check.jq") \
    || fail "$m: jq failed on report.json"
  check_eq "$out" ok "$m: report.json against its runs"
done

# The table: a row per mode in --modes order, figures as in report.json.
table_rows "$T/table.txt" > "$T/rows.txt"
phase_rows "$T/table.txt" > "$T/phase_rows.txt"
check_eq "$(awk '{print $1}' "$T/rows.txt" | tr '\n' ' ')" "async threads procs hybrid " "table rows"
check_eq "$(awk '{print $1}' "$T/phase_rows.txt" | tr '\n' ' ')" "async threads procs hybrid " "phase table rows"
for m in "${MODES[@]}"; do
  read -r _ runs wall rps mbps p50 p95 p99 cpu rss ctx failed < <(grep "^$m " "$T/rows.txt")
  o=$(jq -c --arg m "$m" '.modes[] | select(.mode == $m)' "$J")
  v() { jq -r "$1" <<< "$o"; }
  check_eq "$runs" 2/2 "$m: table runs"
  check_eq "$failed" "$(v .failed)" "$m: table failed"
  check_eq "$ctx" "$(v .ctx_switches)" "$m: table ctx sw"
  close_to "$wall" "$(v .wall_median_s)" 3 || fail "$m: table wall $wall"
  close_to "$rps" "$(v .req_per_s)" 1 || fail "$m: table req/s $rps"
  close_to "$mbps" "$(v .mb_per_s)" 2 || fail "$m: table MB/s $mbps"
  close_to "$p50" "$(v .p50_ms)" 2 || fail "$m: table p50 $p50"
  close_to "$p95" "$(v .p95_ms)" 2 || fail "$m: table p95 $p95"
  close_to "$p99" "$(v .p99_ms)" 2 || fail "$m: table p99 $p99"
  close_to "$cpu" "$(v .cpu_s)" 3 || fail "$m: table cpu $cpu"
  close_to "$rss" "$(v '.max_rss_kb / 1024')" 1 || fail "$m: table RSS $rss"
  check_eq "$(grep "^$m " "$T/phase_rows.txt" | awk '{print $NF}')" "$(v .bound)" "$m: table bound"
  read -r total proc ratio < <(grep "^$m " "$T/phase_rows.txt" | awk '{print $(NF-3), $(NF-2), $(NF-1)}')
  close_to "$total" "$(v .phases_ms.total)" 1 || fail "$m: table total phase $total"
  close_to "$proc" "$(v .process_s)" 3 || fail "$m: table proc s $proc"
  close_to "$ratio" "$(v .cpu_wall_ratio)" 2 || fail "$m: table cpu/wall $ratio"
done
grep -q '^bound: cpu when' "$T/table.txt" || fail "the table does not state the bound rule"

# ---- report.html: well-formed, self-contained, escaped, one series per mode ----
H=$R/report.html
xmllint --noout "$H" || fail "report.html is not well-formed XML"
xmllint --html --noout "$H" 2> "$T/html.err" || fail "xmllint --html failed"
# libxml2's HTML parser knows HTML 4 only: inline SVG's tags are all it may flag.
if grep 'error' "$T/html.err" | grep -Ev 'HTML parser error : Tag (svg|g|path|rect|line|circle|text|title) invalid$' | grep -q .; then
  cat "$T/html.err" >&2; fail "xmllint --html: errors besides SVG tags"
fi
! grep -qi 'http' "$H" || fail "report.html names a URL: $(grep -oi '.\{20\}http.\{20\}' "$H" | head -1)"
! grep -Eqi '(src|href)=|url\(|@import' "$H" || fail "report.html refers to another resource"
grep -qF 'l&lt;is&gt;t &amp; &quot;q&quot;.txt' "$H" || fail "report.html: list name not escaped"
! grep -qF 'l<is>t' "$H" || fail "report.html: raw list name"
check_eq "$(xmllint --xpath 'count(//svg[@class="chart"])' "$H")" 5 "charts in report.html"
for id in chart-wall chart-throughput chart-cdf chart-cpu chart-phases; do
  check_eq "$(xmllint --xpath "count(//svg[@id='$id']//*[@class='series'])" "$H")" 4 "$id series"
  check_eq "$(xmllint --xpath "//svg[@id='$id']//*[@class='series']/@data-mode" "$H" | tr -s ' \n' ' ')" \
    ' data-mode="async" data-mode="threads" data-mode="procs" data-mode="hybrid" ' "$id series modes"
done
check_eq "$(xmllint --xpath 'count(//svg[@id="chart-cdf"]//path[@class="series"])' "$H")" 4 "CDF paths"
check_eq "$(xmllint --xpath 'count(//svg[@id="chart-cdf"]//g[@class="legend"])' "$H")" 4 "CDF legend entries"
# The page's summary table holds the same figures as the printed table.
for m in "${MODES[@]}"; do
  row=$(for i in $(seq 2 12); do printf '%s ' "$(xmllint --xpath "string(//table[@id='summary']/tbody/tr[@data-mode='$m']/td[$i])" "$H")"; done)
  check_eq "$row" "$(grep "^$m " "$T/rows.txt" | awk '{$1 = ""; print substr($0, 2)}') " "$m: report.html summary row"
done
check_eq "$(xmllint --xpath 'count(//table[@id="phases"]/tbody/tr)' "$H")" 4 "phase table rows"
check_eq "$(xmllint --xpath 'count(//table[@id="runs"]/tbody/tr)' "$H")" 8 "runs table rows"

chromium_check "$H" 4

# ---- --crawl: each run is gather crawl from the seeds, with crawl's options ----
EXP=$ROOT/tests/integration/expected
run_gather 0 compare --crawl --modes procs,async,hybrid --repeat 1 -j 4 -P 2 \
  --depth 9 -o "$T/cout" --report "$T/crep" -- "$BASE/" > "$T/ctable.txt"
grep -q "^gather compare: crawl from $BASE/, 3 modes x 1 repeat" "$T/ctable.txt" || fail "crawl table header: $(head -1 "$T/ctable.txt")"
check_eq "$(table_rows "$T/ctable.txt" | awk '{print $1, $2}' | tr '\n' ' ')" "procs 1/1 async 1/1 hybrid 1/1 " "crawl table rows"
check_eq "$(jq -r .crawl "$T/crep/report.json")" "$BASE/" "report.json crawl"
check_eq "$(jq -r 'has("list")' "$T/crep/report.json")" false "report.json list, for a crawl"
for m in procs async hybrid; do
  run=$T/crep/runs/$m-1
  # the same set as gather crawl finds on its own; the run's stats are a crawl's
  diff -u "$EXP/crawl-sample.txt" <(jq -r --arg b "$BASE" '"\(.status) \(.url | ltrimstr($b))"' "$run.jsonl" | sort -k2) \
    || fail "$m: compare --crawl found a different set"
  check_eq "$(jq -c '[.mode, .ok + .failed, .crawl.queued]' "$run.json")" "[\"$m\",24,24]" "$m: crawl run stats"
  diff -r "$T/cout/procs-1" "$T/cout/$m-1" > /dev/null || fail "$m: compare --crawl saved other files than procs"
done
grep -qF "Crawl from <code>$BASE/</code>" "$T/crep/report.html" || fail "report.html does not say it was a crawl"
# --sitemap URLs are named with the seeds (here there are none but them)
run_gather 0 compare --crawl --modes async --repeat 1 --depth 0 --sitemap "$BASE/no-sitemap.xml" > "$T/stable.txt"
check_eq "$(head -1 "$T/stable.txt")" "gather compare: crawl from sitemap $BASE/no-sitemap.xml, 1 mode x 1 repeat, $(nproc) cores" "compare --crawl --sitemap header"

# ---- no --report: runs in a temp dir, removed; the list from stdin ----
mkdir "$T/tmp"
TMPDIR=$T/tmp run_gather 0 compare -i - --modes threads,async --repeat 1 < "$LIST" > "$T/table2.txt"
check_eq "$(table_rows "$T/table2.txt" | awk '{print $1, $2}' | tr '\n' ' ')" "threads 1/1 async 1/1 " "stdin compare rows"
check_eq "$(table_rows "$T/table2.txt" | awk '{print $NF}' | tr '\n' ' ')" "1 1 " "stdin compare failed"
check_eq "$(find "$T/tmp" -mindepth 1 | wc -l)" 0 "files left in TMPDIR"
! grep -q '^report:' "$T/table2.txt" || fail "a report without --report"

# ---- interrupted: SIGINT to compare stops the run in progress, removes the
# temp dir and exits 130 ----
for i in 1 2 3 4; do echo "$BASE/index.html?delay=5000&n=$i"; done > "$T/slow.txt"
mkdir "$T/tmp-int"
TMPDIR=$T/tmp-int "$GATHER" compare -i "$T/slow.txt" --modes async,threads > "$T/int.out" 2> "$T/int.err" &
cpid=$!
for _ in $(seq 100); do
  ls "$T"/tmp-int/*/async-1.stderr > /dev/null 2>&1 && break
  sleep 0.1
done
kill -INT "$cpid"
rc=0
wait "$cpid" || rc=$?
check_eq "$rc" 130 "exit status of an interrupted compare"
grep -q 'stopped by signal 2' "$T/int.err" || { cat "$T/int.err" >&2; fail "interrupted compare says nothing"; }
[ ! -s "$T/int.out" ] || fail "an interrupted compare printed a table"
check_eq "$(find "$T/tmp-int" -mindepth 1 | wc -l)" 0 "files left by an interrupted compare"
! pgrep -f "$T/slow.txt" > /dev/null || fail "a run outlived compare"

# ---- runs that do not complete: exit 1, reported, the report still valid ----
# Test hook: a parse raises SIGSEGV. async and threads parse in the process
# that fetches, so their run dies; procs parses in worker processes, so it
# records the URL as failed and completes.
if [ -n "${GATHER_HOOKED:-}" ]; then
  GATHER_TEST_CRASH_URL=/about.html GATHER=$GATHER_HOOKED run_gather 1 \
    compare -i "$LIST" --modes async,procs --repeat 1 --report "$T/rep-crash" > "$T/table3.txt"
  grep -q "async run 1 did not complete (killed by signal" "$T/stderr" || { cat "$T/stderr" >&2; fail "crashed run not reported"; }
  ! grep -q "procs run" "$T/stderr" || fail "procs run reported as failed"
  check_eq "$(table_rows "$T/table3.txt" | awk '{print $1, $2, $NF}' | tr '\n' ' ')" "async 0/1 - procs 1/1 2 " "crash table"
  check_eq "$(jq -c '[.modes[] | [.mode, .runs_completed, .records, .failed, (.runs[0].status | split(" ")[0])]]' "$T/rep-crash/report.json")" \
    '[["async",0,0,0,"killed"],["procs",1,21,2,"exit"]]' "crash report.json"
  chromium_check "$T/rep-crash/report.html" 1

  # No run completes: every figure is null, the charts say so.
  GATHER_TEST_CRASH_URL=/about.html GATHER=$GATHER_HOOKED run_gather 1 \
    compare -i "$LIST" --modes threads --repeat 2 --report "$T/rep-none" > "$T/table4.txt"
  check_eq "$(grep -c 'did not complete' "$T/stderr")" 2 "failed runs reported"
  check_eq "$(table_rows "$T/table4.txt" | awk '{print $1, $2, $3}')" "threads 0/2 -" "no-run table"
  check_eq "$(jq -c '.modes[] | [.runs_completed, .wall_s, .wall_median_s, .p50_ms, .bound, .cdf]' "$T/rep-none/report.json")" \
    '[0,[null,null],null,null,null,[]]' "no-run report.json"
  xmllint --noout "$T/rep-none/report.html" || fail "report.html without data is not well-formed"
  check_eq "$(xmllint --xpath 'count(//svg[@class="chart" and @data-series="0"])' "$T/rep-none/report.html")" 5 "empty charts"
else
  echo "GATHER_HOOKED not set: runs that crash are not tested"
fi
echo "compare: table, report.json and report.html agree with $(ls "$R/runs" | wc -l) run files"
