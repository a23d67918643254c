# The URL list is streamed: a long list from a pipe gives exactly one record
# per URL in bounded memory, and a URL's record does not wait for the lines
# after it.
. "$(dirname "$0")/lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
start_server --no-access-log

N=30000
[ -n "${GATHER_SANITIZED:-}" ] && N=10000
pixel=$(stat -c %s "$SITE/images/pixel.png")

# gen [COUNT]: COUNT (default N) distinct URLs, half an empty 204, half a
# tiny image, with comments and blank lines on the way.
gen() {
  awk -v n="${1:-$N}" -v b="$BASE" 'BEGIN {
    for (i = 1; i <= n; i++) {
      if (i % 1000 == 1) { print "# block " i; print "" }
      if (i % 2) print b "/status/204?i=" i; else print b "/images/pixel.png?i=" i
    }
  }'
}

modes=$({ "$GATHER" get -m nope x 2>&1 || true; } | sed -n 's/.*(modes: \(.*\)).*/\1/p' | tr -d ,)
[ -n "$modes" ] || fail "cannot list the modes"

# problem MESSAGE: a failure reported at the end, so that it hides none of
# the independent checks after it.
problems=()
problem() { echo "FAIL (reported at the end): $*" >&2; problems+=("$*"); }

# The whole list through a pipe, in every mode (async with all N URLs, the
# others with a third of them, to keep the test short).
for m in $modes; do
  n=$N
  [ "$m" = async ] || n=$((N / 3 / 2 * 2)) # even
  gen "$n" | grep '^http' | sort > "$T/want.txt"
  check_eq "$(wc -l < "$T/want.txt")" "$n" "URLs generated"
  rc=0
  rm -f "$T/r.jsonl" # it is also the journal: a rerun would skip its URLs
  gen "$n" | "$GATHER" get -m "$m" -i - -j 64 -P 2 --no-parse --jsonl "$T/r.jsonl" --stats "$T/stats.json" 2>"$T/stderr" || rc=$?
  if [ "$rc" != 0 ]; then
    head -20 "$T/stderr" >&2
    problem "$m: streamed run exited $rc"
    continue
  fi
  check_eq "$(wc -l < "$T/r.jsonl")" "$n" "$m: records"
  jq -r .url "$T/r.jsonl" | sort > "$T/got.txt"
  cmp -s "$T/got.txt" "$T/want.txt" || fail "$m: recorded URLs differ from the list: $(diff "$T/want.txt" "$T/got.txt" | head -5)"
  check_eq "$(jq -r '[.status, .error] | @tsv' "$T/r.jsonl" | sort | uniq -c | awk '{print $1, $2}' | tr '\n' ' ')" \
    "$((n / 2)) 200 $((n / 2)) 204 " "$m: statuses"
  check_eq "$(jq .ok "$T/stats.json")" "$n" "$m: --stats ok"
  check_eq "$(jq .failed "$T/stats.json")" 0 "$m: --stats failed"
  check_eq "$(jq .bytes "$T/stats.json")" "$((n * pixel / 2))" "$m: --stats bytes"
  # Not a terminal and nothing failed: stderr stays empty.
  if [ -s "$T/stderr" ]; then
    head -3 "$T/stderr" | sed "s/^/$m stderr: /" >&2
    problem "$m: stderr not empty in a run without failures"
  fi
  rss=$(jq .max_rss_kb "$T/stats.json")
  # Peak RSS covers worker processes too: allow each of them 16 MB.
  case $m in procs) workers=64 ;; hybrid) workers=2 ;; *) workers=0 ;; esac
  if [ -z "${GATHER_SANITIZED:-}" ]; then
    [ "$rss" -lt $(((80 + 16 * workers) * 1024)) ] || fail "$m: peak RSS $rss kB for $n URLs"
  fi
  echo "$m: $n URLs, peak RSS $rss kB"
done

# A freak line is dropped as it streams by, not gathered in memory first:
# 128 MB without a newline, then a good URL.
rc=0
rm -f "$T/r.jsonl"
{ head -c $((128 << 20)) /dev/zero | tr '\0' a; printf '\n%s/about.html\n' "$BASE"; } |
  "$GATHER" get -i - --jsonl "$T/r.jsonl" --stats "$T/stats.json" 2>"$T/stderr" || rc=$?
check_eq "$rc" 1 "exit code with a freak line"
check_eq "$(jq -c 'select(.url != null) | [.url, .status, .error]' "$T/r.jsonl")" \
  "[\"$BASE/about.html\",200,null]" "the URL after a freak line"
jq -e -s 'map(select(.url == null)) | length == 1 and (.[0].error | test("line 1: longer than"))' "$T/r.jsonl" >/dev/null ||
  fail "no error record for the freak line: $(jq -c 'select(.url == null)' "$T/r.jsonl")"
freak_rss=$(jq .max_rss_kb "$T/stats.json")
if [ -z "${GATHER_SANITIZED:-}" ]; then
  [ "$freak_rss" -lt $((80 * 1024)) ] || problem "peak RSS $freak_rss kB reading a 128 MB line"
fi

# Liveness, in every mode at once: with the list still open after one URL,
# that URL is fetched and its record written; the lines still to come must
# not hold it back.
declare -A gpid
for m in $modes; do
  mkfifo "$T/fifo-$m"
  "$GATHER" get -m "$m" -i - --no-parse --jsonl "$T/live-$m.jsonl" < "$T/fifo-$m" 2>"$T/live-$m.err" &
  gpid[$m]=$!
done
declare -A wfd
for m in $modes; do
  exec {w}>"$T/fifo-$m"
  wfd[$m]=$w
  echo "$BASE/about.html" >&"$w"
done
for _ in $(seq 150); do # up to 15 s: a bound, not a timing
  all=1
  for m in $modes; do [ -s "$T/live-$m.jsonl" ] || all=0; done
  [ "$all" = 1 ] && break
  sleep 0.1
done
declare -A early
for m in $modes; do early[$m]=$(wc -l < "$T/live-$m.jsonl" 2>/dev/null || echo 0); done
for m in $modes; do
  w=${wfd[$m]}
  echo "$BASE/contact.html" >&"$w"
  exec {w}>&-
done
stalled=
for m in $modes; do
  wait "${gpid[$m]}" || fail "$m: gather on a fifo exited $?"
  check_eq "$(wc -l < "$T/live-$m.jsonl")" 2 "$m: records from the fifo"
  [ "${early[$m]}" = 1 ] || stalled="$stalled $m"
done
[ -z "$stalled" ] || problem "a record waited for the next line of the list in mode(s):$stalled"
[ ${#problems[@]} -eq 0 ] || fail "$(printf '%s; ' "${problems[@]}")"
echo "stream: ok"
