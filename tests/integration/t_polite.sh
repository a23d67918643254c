# Politeness in every mode, checked on the server's access log: --per-host
# caps the requests one host has in progress at once (counted from each
# request's start and end), and --delay spaces the starts per host.
. "$(dirname "$0")/lib.sh"
cp -r "$ROOT/samples/site" "$T/root"
start_server --site "$T/root"
LOG=$NGINX_DIR/access.log

# nginx logs a request after answering it: wait (at most 5 s) until the
# log has N lines.
wait_log() {
  for _ in $(seq 50); do [ "$(wc -l < "$LOG")" -ge "$1" ] && return; sleep 0.1; done
  fail "the access log has $(wc -l < "$LOG") lines, expected $1"
}

# The value of NAME=value on a log line.
FIELD='function field(k,  i) { for (i = NF; i > 0; i--) if (index($i, k "=") == 1) return substr($i, length(k) + 2) }'

# Per host (h=), the most requests in progress at once: each log line
# gives the end (t=$msec) and the duration ($request_time, field 8).
max_overlap() {
  awk "$FIELD"'{ t = field("t"); h = field("h")
         printf "%s %.3f 1\n%s %.3f -1\n", h, t - $8, h, t }' "$LOG" |
    sort -k1,1 -k2,2n -k3,3n |
    awk '$1 != h { h = $1; n = 0 } { n += $3; if (n > m) m = n } END { print m + 0 }'
}
# Per host, the shortest gap between two request starts, in ms (robots.txt
# aside: it is read before the host's first page).
min_gap() {
  awk "$FIELD"'!/ \/robots\.txt / { printf "%s %.3f\n", field("h"), field("t") - $8 }' "$LOG" |
    sort -k1,1 -k2,2n |
    awk '$1 == h { g = ($2 - s) * 1000; if (m == "" || g < m) m = g } { h = $1; s = $2 } END { printf "%d\n", m }'
}

# 12 slow URLs on each of two hosts (127.0.0.1 and localhost, one server).
for i in $(seq 1 12); do
  echo "$BASE/about.html?delay=150&n=$i"
  echo "http://localhost:$PORT/about.html?delay=150&n=$i"
done > "$T/slow.txt"

for m in async threads procs hybrid; do
  # Without a cap, -j 8 puts several requests on one host at once: the
  # measurement can see concurrency.
  : > "$LOG"
  run_gather 0 get -m "$m" -j 8 -P 2 -i "$T/slow.txt" --jsonl "$T/a-$m.jsonl"
  wait_log 24
  free=$(max_overlap)
  [ "$free" -gt 2 ] || fail "$m: without --per-host only $free at once"
  : > "$LOG"
  run_gather 0 get -m "$m" -j 8 -P 2 --per-host 2 -i "$T/slow.txt" --jsonl "$T/b-$m.jsonl"
  check_eq "$(jq -s length "$T/b-$m.jsonl")" 24 "$m: --per-host records"
  wait_log 24
  capped=$(max_overlap)
  [ "$capped" -le 2 ] || fail "$m: --per-host 2 allowed $capped at once"
  # Both hosts were busy at once: the cap is per host, not global.
  check_eq "$(awk "$FIELD"'{ print field("h") }' "$LOG" | sort -u | wc -l)" 2 "$m: hosts"

  # --delay 250: starts on one host at least 250 ms apart. The margin of
  # 5 ms covers the log's millisecond rounding (2 ms) and the gap between
  # handing a request to curl, which the delay spaces, and its arrival: the
  # first request of a host also opens the connection, which takes a few
  # ms more under the sanitizers than the reused one after it.
  : > "$LOG"
  run_gather 0 get -m "$m" -j 8 --delay 250 --jitter 20 --jsonl "$T/c-$m.jsonl" \
    $(for i in 1 2 3 4 5; do echo "$BASE/about.html?n=$i"; done)
  wait_log 5
  gap=$(min_gap)
  [ "$gap" -ge 245 ] || fail "$m: --delay 250 gave a gap of $gap ms"
done

# A crawl obeys Crawl-delay from robots.txt the same way (same margin).
printf 'User-agent: *\nCrawl-delay: 0.3\n' > "$T/root/robots.txt"
: > "$LOG"
run_gather 0 crawl -j 8 --depth 1 --jsonl "$T/d.jsonl" "$BASE/docs/index.html"
n=$(jq -s length "$T/d.jsonl")
[ "$n" -ge 3 ] || fail "Crawl-delay crawl fetched too little"
wait_log $((n + 1))
gap=$(min_gap)
[ "$gap" -ge 295 ] || fail "Crawl-delay 0.3 gave a gap of $gap ms"
echo "politeness ok: per-host cap, delay and Crawl-delay in the log"
