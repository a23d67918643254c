# The request options of get, as the server sees them: extra headers and
# the User-Agent; the cookie jar (loaded, shared by every transfer of a
# run, written back at the end) in every mode; proxies from --proxy and
# from the environment; --limit-rate; HTTP/2 with prior knowledge (h2c);
# HTTPS with --cacert and -k, and HTTP/2 multiplexing over it (ALPN);
# and, with the hooked build, conditional requests that end in a 304 and
# leave saved files alone, and the count of 429 answers.
. "$(dirname "$0")/lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy no_proxy NO_PROXY
start_server
MODES=(async threads procs hybrid)
HOOKED=${GATHER_HOOKED:-}
HOSTDIR=127.0.0.1:$PORT
version=$("$GATHER" --version | cut -d' ' -f2)

sha() { sha256sum < "$1" | cut -d' ' -f1; }

# ---- bad values: exit 2 and a message naming the option ----
for h in 'NoColon' ': no name' 'Bad Name: x' 'X-(: y' $'X-A: b\r\nX-B: c' $'X-A: b\nX-B: c'; do
  usage_error "--header" get -H "$h" http://127.0.0.1:9/
done
for r in 0 -5 abc 1.5k 10x '' k; do usage_error "--limit-rate" get --limit-rate "$r" http://127.0.0.1:9/; done
for p in 'ftp://h:1' '://h' 'http://' 'h h' ':8080' 'http:///x'; do
  usage_error "--proxy" get --proxy "$p" http://127.0.0.1:9/
done
usage_error "--cookie-jar" get --cookie-jar '' http://127.0.0.1:9/
usage_error "--cookie-jar" get --cookie-jar /nonexistent-gather-dir/jar http://127.0.0.1:9/
mkdir "$T/adir"
usage_error "--cookie-jar" get --cookie-jar "$T/adir" http://127.0.0.1:9/
# A CA file that cannot be read would fail every https:// URL: refused
# before any transfer, by get and crawl.
usage_error "--cacert $T/nope.pem: No such file" get --cacert "$T/nope.pem" https://127.0.0.1:9/
usage_error "--cacert $T/adir: not a regular file" get --cacert "$T/adir" https://127.0.0.1:9/
usage_error "--cacert $T/nope.pem" crawl --cacert "$T/nope.pem" https://127.0.0.1:9/
usage_error "--cacert" get --cacert '' https://127.0.0.1:9/
if [ "$(id -u)" != 0 ]; then # root reads any file
  echo x > "$T/locked.pem"
  chmod 000 "$T/locked.pem"
  usage_error "--cacert $T/locked.pem: Permission denied" get --cacert "$T/locked.pem" https://127.0.0.1:9/
fi
"$GATHER" get --help > "$T/help.txt"
for o in --header --cookie-jar --proxy --limit-rate --http2-prior-knowledge --cacert --insecure; do
  grep -q -- "$o" "$T/help.txt" || fail "get --help does not list $o"
done
grep -A2 -- '-k, --insecure' "$T/help.txt" | grep -q unsafe || fail "get --help does not call --insecure unsafe"

# echo_headers OUTDIR ARGS...: the request headers the server saw for one
# fetch of /echo/headers with ARGS.
echo_headers() {
  local d="$T/$1"
  shift
  run_gather 0 get -o "$d" "$@" "$BASE/echo/headers"
  cat "$d/$HOSTDIR/echo/headers"
}

# ---- headers and the User-Agent, in every mode ----
for m in "${MODES[@]}"; do
  echo_headers "h-$m" -m "$m" -j 2 -H 'X-Test: one' -H 'X-Other: two words' > "$T/h.txt"
  grep -qx 'X-Test: one' "$T/h.txt" || fail "$m: -H X-Test did not arrive: $(cat "$T/h.txt")"
  grep -qx 'X-Other: two words' "$T/h.txt" || fail "$m: -H X-Other did not arrive"
  grep -qx "User-Agent: gather/$version" "$T/h.txt" || fail "$m: default User-Agent: $(grep -i user-agent "$T/h.txt")"
done
echo_headers ua -A 'probe/1.0' > "$T/h.txt"
grep -qx 'User-Agent: probe/1.0' "$T/h.txt" || fail "-A: $(grep -i user-agent "$T/h.txt")"
# A header of the same name replaces curl's own; "Name:" drops it.
echo_headers ua2 -A 'probe/1.0' -H 'User-Agent: hdr/2' -H 'Accept:' > "$T/h.txt"
check_eq "$(grep -ic '^user-agent:' "$T/h.txt")" 1 "User-Agent headers"
grep -qx 'User-Agent: hdr/2' "$T/h.txt" || fail "-H User-Agent did not win"
! grep -qi '^accept:' "$T/h.txt" || fail "-H 'Accept:' did not drop the header"
# Headers go with every request, redirects included.
run_gather 0 get -o "$T/redir" -H 'X-Test: redirected' "$BASE/redirect?to=/echo/headers"
grep -rqx 'X-Test: redirected' "$T/redir" || fail "a redirect lost -H"

# ---- the cookie jar ----
# cookie_run MODE JAR OUTDIR URL...: one transfer after the other (-j 1),
# so that a cookie set by one can go with the next.
cookie_run() {
  local m=$1 jar=$2 d=$3
  shift 3
  run_gather 0 get -m "$m" -j 1 --cookie-jar "$jar" -o "$d" --jsonl "$d.jsonl" "$@"
}
set_a="$BASE/cookie/set?name=a&value=1&max_age=3600"
set_s="$BASE/cookie/set?name=s&value=2" # a session cookie
now=$(date +%s)
for m in async threads hybrid; do
  jar="$T/jar-$m"
  # An expired cookie of the jar is neither sent nor written back.
  printf '# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t%s\tpre\tloaded\n127.0.0.1\tFALSE\t/\tFALSE\t1\told\tgone\n' \
    $((now + 3600)) > "$jar"
  cookie_run "$m" "$jar" "$T/c1-$m" "$set_a" "$set_s" "$BASE/echo/headers"
  cookies=$(sed -n 's/^Cookie: //p' "$T/c1-$m/$HOSTDIR/echo/headers" | tr -d ' ' | tr ';' '\n' | sort | tr '\n' ' ')
  check_eq "$cookies" "a=1 pre=loaded s=2 " "$m: cookies sent after two were set"
  # Written back at the end: private, every live cookie, nothing expired.
  check_eq "$(stat -c %a "$jar")" 600 "$m: jar mode"
  check_eq "$(grep -v '^#' "$jar" | grep -v '^$' | cut -f1,3,6,7 | sort | tr '\t\n' ', ')" \
    "127.0.0.1,/,a,1 127.0.0.1,/,pre,loaded 127.0.0.1,/,s,2 " "$m: jar contents"
  check_eq "$(awk -F'\t' '$6 == "s" {print $5}' "$jar")" 0 "$m: session cookie expiry"
  # The next run starts from the jar.
  cookie_run "$m" "$jar" "$T/c2-$m" "$BASE/echo/headers"
  cookies=$(sed -n 's/^Cookie: //p' "$T/c2-$m/$HOSTDIR/echo/headers" | tr -d ' ' | tr ';' '\n' | sort | tr '\n' ' ')
  check_eq "$cookies" "a=1 pre=loaded s=2 " "$m: cookies from the jar"
  [ -z "$(find "$T" -maxdepth 1 -name "jar-$m.gather-*")" ] || fail "$m: temporary jar left behind"
done
# procs: each worker starts from the jar and keeps its own cookies; the
# jar is left as it was.
jar="$T/jar-procs"
printf '127.0.0.1\tFALSE\t/\tFALSE\t%s\tpre\tloaded\n' $((now + 3600)) > "$jar"
cp "$jar" "$T/jar-procs.orig"
cookie_run procs "$jar" "$T/c1-procs" "$set_a" "$BASE/echo/headers"
cookies=$(sed -n 's/^Cookie: //p' "$T/c1-procs/$HOSTDIR/echo/headers" | tr -d ' ' | tr ';' '\n' | sort | tr '\n' ' ')
check_eq "$cookies" "a=1 pre=loaded " "procs: cookies of the one worker"
cmp -s "$jar" "$T/jar-procs.orig" || fail "procs: the jar was changed"
# No jar yet: the run starts without cookies and creates it.
cookie_run async "$T/new-jar" "$T/c3" "$set_a"
grep -q "	a	1$" "$T/new-jar" || fail "a new jar lacks the cookie: $(cat "$T/new-jar")"
# Without --cookie-jar, no cookie engine: nothing is sent.
run_gather 0 get -j 1 -o "$T/c4" "$set_a" "$BASE/echo/headers"
! grep -qi '^cookie:' "$T/c4/$HOSTDIR/echo/headers" || fail "cookies sent without --cookie-jar"

# ---- proxies ----
# Pointed at nothing: every URL fails to connect to the proxy.
three=("$BASE/about.html" "$BASE/index.html" "$BASE/files/notes.txt")
run_gather 1 get --retries 0 --proxy http://127.0.0.1:1 --jsonl "$T/p1.jsonl" "${three[@]}"
check_eq "$(jq -r 'select(.status == 0 and (.error | test("127.0.0.1 port 1"))) | .url' "$T/p1.jsonl" | wc -l)" 3 "--proxy to a closed port"
http_proxy=http://127.0.0.1:1 run_gather 1 get --retries 0 --jsonl "$T/p2.jsonl" "${three[@]}"
check_eq "$(jq -r 'select(.status == 0 and (.error | test("127.0.0.1 port 1"))) | .url' "$T/p2.jsonl" | wc -l)" 3 "http_proxy to a closed port"
# --proxy '' and no_proxy go direct whatever http_proxy says.
http_proxy=http://127.0.0.1:1 run_gather 0 get --retries 0 --proxy '' --jsonl "$T/p3.jsonl" "${three[@]}"
http_proxy=http://127.0.0.1:1 no_proxy=127.0.0.1 run_gather 0 get --retries 0 --jsonl "$T/p4.jsonl" "${three[@]}"
# nginx answers a proxy request ("GET http://host/path") from its own
# site, so a host that does not exist is fetched through it, and only
# through it.
: > "$NGINX_DIR/access.log"
run_gather 0 get --proxy "$BASE" -o "$T/p5" http://gather-proxy.invalid/about.html
cmp -s "$T/p5/gather-proxy.invalid/about.html" "$SITE/about.html" || fail "--proxy: wrong body"
http_proxy=$BASE run_gather 0 get -o "$T/p6" http://gather-proxy.invalid/index.html
cmp -s "$T/p6/gather-proxy.invalid/index.html" "$SITE/index.html" || fail "http_proxy: wrong body"
check_eq "$(grep -c '"GET http://gather-proxy.invalid/[a-z]*.html HTTP/1.1" 200 ' "$NGINX_DIR/access.log")" 2 "proxy requests in the log"

# ---- --limit-rate: accepted, bodies whole (timings are the bench's) ----
for rate in 2M 900k 1000000; do
  run_gather 0 get --limit-rate "$rate" -o "$T/rate-$rate" "$BASE/files/blob.bin" "$BASE/index.html"
  cmp -s "$T/rate-$rate/$HOSTDIR/files/blob.bin" "$SITE/files/blob.bin" || fail "--limit-rate $rate: blob.bin differs"
done

# ---- HTTP/2 with prior knowledge (h2c) ----
"$ROOT/samples/serve" urls --strip "$H2C_BASE" | grep -v missing-page > "$T/h2c.txt"
n=$(grep -c '^http' "$T/h2c.txt")
# libcurl before 8.0 cannot reuse such a connection (curl issue #10634):
# gather then gives each transfer its own.
multiplexed=1
[ "$(printf '%s\n' 8.0.0 "$(pkg-config --modversion libcurl)" | sort -V | head -1)" = 8.0.0 ] || multiplexed=0
for m in "${MODES[@]}"; do
  : > "$NGINX_DIR/access.log"
  run_gather 0 get -m "$m" -j 8 --http2-prior-knowledge -i "$T/h2c.txt" -o "$T/h2-$m" --jsonl "$T/h2-$m.jsonl"
  check_eq "$(jq -r 'select(.status == 200 and .error == null) | .url' "$T/h2-$m.jsonl" | wc -l)" "$n" "$m: h2c records"
  while read -r rel; do
    cmp -s "$T/h2-$m/127.0.0.1:$H2C_PORT/$rel" "$SITE/$rel" || fail "$m: h2c $rel differs"
  done < <(sed "s|^$H2C_BASE/||" "$T/h2c.txt" | grep -v '/$')
  check_eq "$(grep -c ' proto=HTTP/2.0$' "$NGINX_DIR/access.log")" "$n" "$m: HTTP/2 requests in the log"
  conns=$(grep -o ' conn=[0-9]*' "$NGINX_DIR/access.log" | sort -u | wc -l)
  if [ "$m" = async ] && [ "$multiplexed" = 1 ]; then
    [ "$conns" -lt "$n" ] || fail "async: $n h2c requests on $conns connections: none shared"
  elif [ "$multiplexed" = 0 ]; then
    check_eq "$conns" "$n" "$m: connections of $n h2c requests with libcurl < 8.0"
  fi
done
# Without prior knowledge, http:// is HTTP/1.1.
: > "$NGINX_DIR/access.log"
run_gather 0 get "$BASE/about.html"
grep -q ' proto=HTTP/1.1$' "$NGINX_DIR/access.log" || fail "plain http:// was not HTTP/1.1"

# ---- HTTPS: HTTP/2 by ALPN, multiplexed in the event loop ----
# Twelve site files, each answered after 200 ms, so that -j 8 has them in
# flight together; the records must hold the files' digests.
(cd "$SITE" && find . -type f -printf '%P\n' | sort | head -12) > "$T/tls-files.txt"
n=$(wc -l < "$T/tls-files.txt")
while read -r rel; do
  printf '%s/%s?delay=200\t%s\n' "$TLS_BASE" "$rel" "$(sha "$SITE/$rel")"
done < "$T/tls-files.txt" | sort > "$T/tls-want.tsv"
cut -f1 "$T/tls-want.tsv" > "$T/tls.txt"
for m in "${MODES[@]}"; do
  : > "$NGINX_DIR/access.log"
  run_gather 0 get -m "$m" -j 8 --cacert "$TLS_CA" -i "$T/tls.txt" --jsonl "$T/tls-$m.jsonl"
  diff <(jq -r 'select(.status == 200 and .error == null) | [.url, .sha256] | @tsv' "$T/tls-$m.jsonl" | sort) \
    "$T/tls-want.tsv" >&2 || fail "$m: https records are not the site's files"
  check_eq "$(wc -l < "$NGINX_DIR/access.log")" "$n" "$m: https requests in the log"
  check_eq "$(grep -c ' proto=HTTP/2.0$' "$NGINX_DIR/access.log")" "$n" "$m: HTTP/2 requests over https"
  conns=$(grep -o ' conn=[0-9]*' "$NGINX_DIR/access.log" | sort -u | wc -l)
  # One event loop: with CURLOPT_PIPEWAIT, every transfer that finds the
  # first connection still in its handshake (not yet known to multiplex)
  # waits for it, and once ALPN has said h2 they all go on it as streams;
  # later ones find it multiplexing. So one connection, whatever the
  # timing. threads open a connection per download, and a procs worker
  # keeps its own for its next URL, one transfer at a time: no streams
  # share a connection there, so only HTTP/2 itself is asserted.
  case $m in
    async | hybrid) check_eq "$conns" 1 "$m: connections of $n overlapping https requests" ;;
  esac
done

# ---- HTTPS: --cacert and -k ----
# The server's certificate is self-signed: without --cacert it is refused,
# at once (not retried), in every mode; -k takes it unverified.
tls3=("$TLS_BASE/about.html" "$TLS_BASE/index.html" "$TLS_BASE/files/notes.txt")
for m in "${MODES[@]}"; do
  run_gather 1 get -m "$m" -j 2 --jsonl "$T/tls-bad-$m.jsonl" "${tls3[@]}"
  check_eq "$(jq -r 'select(.status == 0 and .attempts == 1 and (.error | test("certificate"))) | .url' "$T/tls-bad-$m.jsonl" | wc -l)" \
    3 "$m: https without --cacert: certificate errors"
  check_eq "$(grep -c '^gather: https://.*certificate' "$T/stderr")" 3 "$m: certificate errors on stderr"
  run_gather 0 get -m "$m" -j 2 -k --jsonl "$T/tls-k-$m.jsonl" "${tls3[@]}"
  check_eq "$(jq -r 'select(.status == 200 and .error == null) | .url' "$T/tls-k-$m.jsonl" | wc -l)" 3 "$m: -k records"
  check_eq "$(jq -r --arg u "$TLS_BASE/about.html" 'select(.url == $u) | .sha256' "$T/tls-k-$m.jsonl")" \
    "$(sha "$SITE/about.html")" "$m: -k body"
done
# crawl shares the options: robots.txt, pages and links over https.
run_gather 1 crawl --cacert "$TLS_CA" -l 1 --jsonl "$T/tls-crawl.jsonl" "$TLS_BASE/index.html"
jq -e -s --arg b "$TLS_BASE/" 'length > 10 and all(.[]; .url | startswith($b))' "$T/tls-crawl.jsonl" >/dev/null ||
  fail "crawl --cacert: not the site's links over https: $(jq -c '[.url, .status]' "$T/tls-crawl.jsonl")"
check_eq "$(jq -r 'select(.status != 200) | [.url, .error] | @tsv' "$T/tls-crawl.jsonl")" \
  "$TLS_BASE/missing-page.html	HTTP 404" "crawl --cacert: failures"
run_gather 1 crawl -l 1 --jsonl "$T/tls-crawl-bad.jsonl" "$TLS_BASE/index.html"
grep -q 'robots.txt unavailable (SSL certificate problem' "$T/stderr" || fail "crawl without --cacert: $(cat "$T/stderr")"
run_gather 0 crawl -k -l 0 --jsonl "$T/tls-crawl-k.jsonl" "$TLS_BASE/about.html"
check_eq "$(jq -r '.status' "$T/tls-crawl-k.jsonl")" 200 "crawl -k"

# ---- conditional requests: --since ----
urls > "$T/urls.txt"
n_ok=$(grep -c '^http' "$T/urls.txt")
n_ok=$((n_ok - 1)) # the 404
run_gather 1 get -i "$T/urls.txt" -o "$T/cond" --jsonl "$T/cond1.jsonl"
# Every record names its validators; nginx sends both for static files.
check_eq "$(jq -r 'select(.status == 200 and (.etag | test("^\"[0-9a-f]+-[0-9a-f]+\"$")) and .last_modified != null and .unchanged == false) | .url' "$T/cond1.jsonl" | wc -l)" \
  "$n_ok" "records with validators"
# snapshot [FIND_ARGS]: every entry of the output directory, with its
# size, mtime and inode.
snapshot() { find "$T/cond" "$@" -printf '%P %s %T@ %i\n' | sort; }
snapshot > "$T/before.txt"
snapshot -type f > "$T/before-files.txt"
# What a 304 keeps of the earlier record: everything but the answer's own.
kept() { jq -c 'del(.timings, .status, .unchanged, .attempts)' "$@" | sort; }
for m in "${MODES[@]}"; do
  run_gather 1 get -m "$m" -i "$T/urls.txt" -o "$T/cond" --since "$T/cond1.jsonl" --jsonl "$T/cond2-$m.jsonl"
  check_eq "$(jq -c 'select(.status == 304) | [.unchanged, .error]' "$T/cond2-$m.jsonl" | sort | uniq -c | sed 's/^ *//')" \
    "$n_ok [true,null]" "$m: 304 records"
  # The earlier record's file, digest, title and links stand.
  diff <(jq -c 'select(.status == 304)' "$T/cond2-$m.jsonl" | kept) \
    <(jq -c 'select(.status == 200)' "$T/cond1.jsonl" | kept) >&2 || fail "$m: 304 records differ from the earlier ones"
  check_eq "$(jq -r 'select(.status == 404) | .unchanged' "$T/cond2-$m.jsonl")" false "$m: the 404"
  # Not one file touched, added or left behind.
  diff <(snapshot) "$T/before.txt" >&2 || fail "$m: a 304 changed the output directory"
done
# A transfer's easy handle is reset and reused by the next one on its
# thread: the validators of a conditional request must not reach the next
# URL. -j 1, so each transfer takes the handle the one before left.
for m in async procs; do
  run_gather 0 get -m "$m" -j 1 -o "$T/reuse-$m" --since "$T/cond1.jsonl" --jsonl "$T/reuse-$m.jsonl" \
    "$BASE/about.html" "$BASE/echo/headers" "$BASE/about.html" "$BASE/echo/headers?2"
  check_eq "$(jq -r '.status' "$T/reuse-$m.jsonl" | sort | tr '\n' ' ')" "200 200 304 304 " "$m: reuse statuses"
  for f in "$T/reuse-$m/$HOSTDIR/echo/headers"*; do
    grep -qi '^User-Agent: gather/' "$f" || fail "$m: reused handle lost the User-Agent: $(cat "$f")"
    ! grep -qiE '^(If-None-Match|If-Modified-Since|Range):' "$f" || fail "$m: a validator leaked into the next request: $(cat "$f")"
  done
done
# Last-Modified alone is enough; a changed ETag gets the body again.
jq -c '.etag = null' "$T/cond1.jsonl" > "$T/lm-only.jsonl"
run_gather 0 get -o "$T/cond" --since "$T/lm-only.jsonl" --jsonl "$T/lm.jsonl" "$BASE/about.html"
check_eq "$(jq -r '[.status, .unchanged] | @tsv' "$T/lm.jsonl")" "304	true" "If-Modified-Since alone"
jq -c '.etag = "\"stale\"" | .last_modified = null' "$T/cond1.jsonl" > "$T/stale.jsonl"
run_gather 0 get -o "$T/cond" --since "$T/stale.jsonl" --jsonl "$T/stale-r.jsonl" "$BASE/about.html"
check_eq "$(jq -r '[.status, .unchanged, .bytes] | @tsv' "$T/stale-r.jsonl")" "200	false	$(stat -c %s "$SITE/about.html")" "a stale ETag"
# The same bytes again are saved under the same name (its directory did
# hold a temporary file meanwhile).
diff <(snapshot -type f) "$T/before-files.txt" >&2 ||
  fail "the same body again changed the saved files"
# --since and --jsonl naming one file would skip every URL: refused.
run_gather 2 get --since "$T/cond1.jsonl" --jsonl "$T/cond1.jsonl" "$BASE/about.html"
grep -q -- '--since and the records file are one file' "$T/stderr" || fail "--since = --jsonl not explained"
run_gather 2 get --since "$T/nope.jsonl" "$BASE/about.html"

# ---- 429 counts: the hooked build's fetch log ----
if [ -z "$HOOKED" ]; then
  echo "GATHER_HOOKED not set: 429 counts are not tested"
  echo "request: ok"
  exit 0
fi
# 429 answers are counted over the attempts, in every mode.
for m in "${MODES[@]}"; do
  url="$BASE/fault/flaky?key=req-$$-$m&fail=2&code=429"
  GATHER_TEST_FETCH_LOG=$T/fetch-$m.log GATHER=$HOOKED run_gather 0 \
    get -m "$m" --retry-delay 0.05 --jsonl "$T/429-$m.jsonl" "$url" "$BASE/about.html"
  check_eq "$(jq -r 'select(.url | test("flaky")) | [.status, .attempts] | @tsv' "$T/429-$m.jsonl")" "200	3" "$m: 429 retried"
  check_eq "$(awk -F'\t' -v u="$url" '$1 == u {print $2, $3, $4}' "$T/fetch-$m.log")" "200 0 2" "$m: throttled"
  check_eq "$(awk -F'\t' -v u="$BASE/about.html" '$1 == u {print $2, $3, $4}' "$T/fetch-$m.log")" "200 0 0" "$m: not throttled"
done
echo "request: ok"
