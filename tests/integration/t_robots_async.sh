# A host's robots.txt (and the sitemaps it names) is read off the thread
# that hands out URLs: while one host's robots.txt is slow, the other hosts
# are crawled, and the slow host's pages wait for its rules alone. Checked
# in every mode on the servers' access logs (which request ended before
# which), never on gather's own timing. Also: a 5xx robots.txt still skips
# its host, --no-robots waits for nothing, and a stop while a robots.txt
# is on its way ends the run without waiting for it. With a test build,
# the run is woken when a robots.txt is read, rather than asking again and
# again for the URLs of the host it holds meanwhile.
. "$(dirname "$0")/lib.sh"

page() { # DIR FILE LINKS...: an HTML page linking to LINKS
  local f=$1/$2; shift 2
  mkdir -p "$(dirname "$f")"
  { echo "<html><body>"; for l; do echo "<a href=\"$l\">x</a>"; done; echo "</body></html>"; } > "$f"
}
# Host A: slow robots.txt (3 s), which disallows /private/ and names a
# sitemap index; the sitemap adds orphan.html (and a disallowed page).
page "$T/a" index.html a1.html a2.html private/p.html
page "$T/a" a1.html a2.html private/q.html
page "$T/a" a2.html
page "$T/a" orphan.html
page "$T/a" private/p.html
page "$T/a" private/q.html
page "$T/a" private/x.html
# Host B: no robots.txt (404: everything allowed), five pages.
page "$T/b" index.html b1.html b2.html b3.html b4.html
for i in 1 2 3 4; do page "$T/b" "b$i.html"; done
# Host C: robots.txt answers 503.
page "$T/c" index.html
# Host D: as A, but its robots.txt takes a minute.
cp -r "$T/a" "$T/d"

start_server --site "$T/a" --robots-delay 3000
A=$BASE A_LOG=$NGINX_DIR/access.log
start_server --site "$T/b"
B=$BASE B_LOG=$NGINX_DIR/access.log
start_server --site "$T/c" --robots-status 503
C=$BASE C_LOG=$NGINX_DIR/access.log
start_server --site "$T/d" --robots-delay 60000
D=$BASE D_LOG=$NGINX_DIR/access.log
printf 'User-agent: *\nDisallow: /private/\nSitemap: %s/sitemap-index.xml\n' "$A" > "$T/a/robots.txt"
cat > "$T/a/sitemap-index.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>$A/sitemap.xml</loc></sitemap>
</sitemapindex>
XML
printf '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>%s/orphan.html</loc></url><url><loc>%s/private/x.html</loc></url></urlset>\n' "$A" "$A" > "$T/a/sitemap.xml"
printf 'User-agent: *\nDisallow: /private/\n' > "$T/d/robots.txt"

# The value of NAME=value on a log line.
FIELD='function field(k,  i) { for (i = NF; i > 0; i--) if (index($i, k "=") == 1) return substr($i, length(k) + 2) }'
# "PATH START END" per request in log $1 (seconds; nginx logs the end,
# t=$msec, and the duration, field 8), the server's own checks left out.
requests() {
  awk "$FIELD"'$4 !~ /^\/__gather\// { printf "%s %.3f %.3f\n", $4, field("t") - $8, field("t") }' "$1"
}
# nginx logs a request after answering it: wait (at most 5 s) until log
# $1 has $2 requests.
wait_log() {
  for _ in $(seq 50); do [ "$(requests "$1" | wc -l)" -ge "$2" ] && return; sleep 0.1; done
  fail "$1 has $(requests "$1" | wc -l) requests, expected $2"
}
clear_logs() { : > "$A_LOG"; : > "$B_LOG"; : > "$C_LOG"; : > "$D_LOG"; }
# "STATUS URL" per record, sorted, with the bases as A, B, C.
found() {
  jq -r --arg a "$A" --arg b "$B" --arg c "$C" \
    '"\(.status) \(.url | sub($a; "A") | sub($b; "B") | sub($c; "C"))"' "$1" | sort
}
UNAVAILABLE='robots.txt unavailable (HTTP 503): the host is skipped, as RFC 9309 asks'

for m in async threads procs hybrid auto; do
  clear_logs
  rm -f "$T/takes"
  # --retries 0: C's 503 is not tried again (the answer is the same).
  GATHER=${GATHER_HOOKED:-$GATHER} GATHER_TEST_TAKES_LOG=$T/takes \
    run_gather 1 crawl -m "$m" -j 4 -P 2 --retries 0 --jsonl "$T/$m.jsonl" \
    "$A/index.html" "$B/index.html" "$C/index.html"
  # Asked for URLs (run_take()) at most every 200 ms while A's robots.txt
  # took 3 s, plus a few times for each of the 13 requests; asking every
  # 10 ms, as gather once did, is 300 times.
  if [ -n "${GATHER_HOOKED:-}" ]; then
    takes=$(cat "$T/takes")
    [ "$takes" -lt 100 ] || fail "$m: asked for a URL $takes times while A's robots.txt was read"
  fi
  check_eq "$(found "$T/$m.jsonl" | tr '\n' ' ')" \
    "0 C/index.html 200 A/a1.html 200 A/a2.html 200 A/index.html 200 A/orphan.html 200 B/b1.html 200 B/b2.html 200 B/b3.html 200 B/b4.html 200 B/index.html " \
    "$m: records"
  # A: robots.txt, the sitemap index and its sitemap, 4 pages. B: its
  # robots.txt (a 404) and 5 pages. C: its robots.txt alone.
  wait_log "$A_LOG" 7
  wait_log "$B_LOG" 6
  wait_log "$C_LOG" 1

  robots_end=$(requests "$A_LOG" | awk '$1 == "/robots.txt" { print $3 }')
  [ -n "$robots_end" ] || fail "$m: A's robots.txt was not read"
  # Every request of B ended before A's robots.txt was answered: B was
  # not held up by it.
  late=$(requests "$B_LOG" | awk -v r="$robots_end" '$3 >= r')
  [ -z "$late" ] || fail "$m: B waited for A's robots.txt (answered at $robots_end): $late"
  # A's sitemaps were read after its robots.txt, one after the other, and
  # its pages only after them (the margin of 2 ms is the log's rounding).
  rules_end=$(requests "$A_LOG" | awk '$1 ~ /^\/(robots\.txt|sitemap)/ { if ($3 > e) e = $3 } END { print e }')
  early=$(requests "$A_LOG" | awk -v r="$robots_end" '$1 ~ /^\/sitemap/ && $2 < r - 0.002')
  [ -z "$early" ] || fail "$m: A's sitemap read before its robots.txt: $early"
  early=$(requests "$A_LOG" | awk -v r="$rules_end" '$1 !~ /^\/(robots\.txt|sitemap)/ && $2 < r - 0.002')
  [ -z "$early" ] || fail "$m: A's pages requested before its rules were known ($rules_end): $early"
  ! requests "$A_LOG" | grep -q '^/private/' || fail "$m: a path A disallows was requested"
  # C's 503: the host is skipped, its seed recorded as failed with why.
  check_eq "$(requests "$C_LOG" | cut -d' ' -f1 | tr '\n' ' ')" "/robots.txt " "$m: requests to C"
  check_eq "$(jq -r --arg c "$C" 'select(.url | startswith($c)) | .error' "$T/$m.jsonl")" "$UNAVAILABLE" "$m: C's record"
  grep -qF "$UNAVAILABLE" "$T/stderr" || fail "$m: the 503 robots.txt was not reported"
done

# --no-robots: no robots.txt is read, so nothing waits for A's.
clear_logs
run_gather 0 crawl --no-robots --jsonl "$T/nr.jsonl" "$A/index.html"
wait_log "$A_LOG" 5
! requests "$A_LOG" | grep -q '^/robots.txt' || fail "--no-robots read robots.txt"
requests "$A_LOG" | grep -q '^/private/p.html' || fail "--no-robots did not crawl /private/"

# A stop while D's robots.txt (a minute long) is on its way: B is crawled,
# then the run ends at once. Had it waited for D's robots.txt, the answer
# would be in D's log by then.
for m in async threads procs hybrid; do
  clear_logs
  "$GATHER" crawl -m "$m" -j 4 -P 2 --jsonl "$T/int-$m.jsonl" "$D/index.html" "$B/index.html" 2>"$T/stderr" &
  pid=$!
  wait_log "$B_LOG" 6
  kill -INT "$pid"
  rc=0; wait "$pid" || rc=$?
  check_eq "$rc" 130 "$m: exit code after SIGINT"
  check_eq "$(requests "$D_LOG")" "" "$m: D answered"
  check_eq "$(jq -r .url "$T/int-$m.jsonl" | grep -c "^$D" || true)" 0 "$m: records of D"
done
echo "robots.txt off the coordinator: other hosts go on, rules still kept, in every mode"
