# The command line: exit codes and messages of every kind of usage error,
# how URL lists are read (stdin, comments, CRLF, bad lines) and what each
# output option (--jsonl -, --no-parse, --xpath, --stats, --progress,
# --summary) really produces.
. "$(dirname "$0")/lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
# run_fresh EXPECTED_EXIT ARGS...: run_gather without the records of an
# earlier run: $T/r.jsonl is also gather's journal, and a journal makes a
# rerun skip every URL it already holds.
run_fresh() { rm -f "$T/r.jsonl"; run_gather "$@"; }

sha() { sha256sum < "$1" | cut -d' ' -f1; }

# ---- help, version, commands ----
"$GATHER" --help > "$T/out.txt" || fail "gather --help failed"
grep -q '^Usage: gather' "$T/out.txt" || fail "gather --help prints no usage"
"$GATHER" get --help > "$T/out.txt" 2>"$T/stderr" || fail "gather get --help failed"
grep -q '^Usage: gather get' "$T/out.txt" || fail "gather get --help prints no usage"
grep -q -- '--xpath' "$T/out.txt" || fail "gather get --help does not list --xpath"
[ ! -s "$T/stderr" ] || fail "gather get --help wrote to stderr"
for v in --version -V; do
  "$GATHER" $v > "$T/out.txt" || fail "gather $v failed"
  grep -Eq '^gather [0-9]+\.[0-9]+' "$T/out.txt" || fail "gather $v: '$(cat "$T/out.txt")'"
done
"$GATHER" get --version > "$T/out.txt" || fail "gather get --version failed"
grep -Eq '^gather [0-9]+\.[0-9]+' "$T/out.txt" || fail "gather get --version"

usage_error "Usage: gather"
usage_error "unknown command 'frobnicate'" frobnicate
usage_error "no URLs" get
usage_error "unknown option '--bogus'" get --bogus http://127.0.0.1:9/
usage_error "unknown option '-Z'" get -Z http://127.0.0.1:9/
# crawl's own options are named, however they were spelled, for get
usage_error "gather get: --depth is an option of gather crawl" get --depth 2 http://127.0.0.1:9/
usage_error "gather get: --depth is an option of gather crawl" get -l2 http://127.0.0.1:9/
usage_error "gather get: --requisites is an option of gather crawl" get -p http://127.0.0.1:9/
usage_error "gather get: --sitemap is an option of gather crawl" get --sitemap=x http://127.0.0.1:9/
usage_error "needs a value" get --jsonl
usage_error "unknown mode 'nope'" get -m nope http://127.0.0.1:9/
grep -q 'async' "$T/stderr" || fail "-m nope: the valid modes are not named"
for j in 0 abc -5 1.5 ''; do usage_error "--jobs" get -j "$j" http://127.0.0.1:9/; done
usage_error "--procs" get -P 0 http://127.0.0.1:9/
for s in 0 x -1 inf; do usage_error "--timeout" get --timeout "$s" http://127.0.0.1:9/; done
usage_error "--connect-timeout" get --connect-timeout 0 http://127.0.0.1:9/
usage_error "--max-redirs" get --max-redirs -1 http://127.0.0.1:9/
usage_error "--max-redirs" get --max-redirs x http://127.0.0.1:9/
usage_error "--max-parse-size" get --max-parse-size 0 http://127.0.0.1:9/
usage_error "--xpath" get --xpath noequals http://127.0.0.1:9/
usage_error "--xpath" get --xpath =//h1 http://127.0.0.1:9/
usage_error "--xpath" get --xpath a=//h1 --xpath a=//h2 http://127.0.0.1:9/
# An expression libxml2 cannot compile: the message must say which option
# was wrong, like every other bad value.
usage_error "--xpath" get --xpath 'x=//[' http://127.0.0.1:9/

# Unusable inputs and outputs: exit 2 before any transfer.
usage_error "/nonexistent-gather-list" get -i /nonexistent-gather-list
mkdir "$T/adir"
usage_error "$T/adir" get -i "$T/adir"
echo junk > "$T/afile"
usage_error "$T/afile" get -o "$T/afile" http://127.0.0.1:9/
usage_error "/nonexistent-gather-dir/x" get --jsonl /nonexistent-gather-dir/x http://127.0.0.1:9/
[ ! -e /nonexistent-gather-dir ] || fail "--jsonl created a directory"

start_server

# ---- stdin list: blank lines, comments, CRLF, surrounding blanks ----
{
  printf '# a comment\r\n'
  printf '\r\n'
  printf '   # an indented comment\n'
  printf '\t# a tab-indented comment\n'
  printf '\n'
  printf '  %s/about.html  \r\n' "$BASE"
  printf '%s/contact.html\r\n' "$BASE"
  printf '   \t \n'
  printf '\t%s/files/notes.txt\t\n' "$BASE"
  printf '%s/images/pixel.png' "$BASE" # no final newline
} > "$T/list.txt"
run_fresh 0 get -i - --jsonl "$T/r.jsonl" < "$T/list.txt"
check_eq "$(jq -r .url "$T/r.jsonl" | sort | tr '\n' ' ')" \
  "$BASE/about.html $BASE/contact.html $BASE/files/notes.txt $BASE/images/pixel.png " "urls read from stdin"
check_eq "$(jq -r 'select(.status != 200 or .error != null) | .url' "$T/r.jsonl")" "" "failed records"
[ ! -s "$T/stderr" ] || { cat "$T/stderr" >&2; fail "an all-ok run wrote to stderr"; }

# Positional URLs and -i together: all of both.
printf '%s/about.html\n%s/gallery.html\n' "$BASE" "$BASE" > "$T/two.txt"
run_fresh 0 get -i "$T/two.txt" --jsonl "$T/r.jsonl" "$BASE/index.html" "$BASE/files/data.json"
check_eq "$(jq -r .url "$T/r.jsonl" | sort | tr '\n' ' ')" \
  "$BASE/about.html $BASE/files/data.json $BASE/gallery.html $BASE/index.html " "positional + list"

# ---- bad lines mixed with good ones ----
{
  echo "# good and bad"
  echo "$BASE/about.html"
  echo "notaurl"
  echo "ftp://127.0.0.1/x"
  echo "mailto:a@b"
  printf '%s/%070000d\n' "$BASE" 0  # 70000+ bytes
  echo ""
  printf '%s/index.html\0junk\n' "$BASE"  # a NUL byte
  echo "   # comment"
  echo "$BASE/images/logo.png"
  echo "$BASE/files/blob.bin"
} > "$T/bad.txt"
n_lines=$(grep -acv '^[[:space:]]*\(#\|$\)' "$T/bad.txt")
check_eq "$n_lines" 8 "non-comment lines of the bad list"
run_fresh 1 get -i "$T/bad.txt" --jsonl "$T/r.jsonl" -j 3
check_eq "$(wc -l < "$T/r.jsonl")" "$n_lines" "records of the bad list"
for rel in about.html images/logo.png files/blob.bin; do
  check_eq "$(jq -r --arg u "$BASE/$rel" 'select(.url == $u) | [.status, .error, .sha256, .bytes] | @tsv' "$T/r.jsonl")" \
    "200		$(sha "$SITE/$rel")	$(stat -c %s "$SITE/$rel")" "$rel among bad lines"
done
check_eq "$(jq -r 'select(.url == "notaurl") | .error' "$T/r.jsonl")" "malformed URL" "notaurl"
for u in ftp://127.0.0.1/x mailto:a@b; do
  jq -e -s --arg u "$u" 'map(select(.url == $u)) | length == 1 and (.[0].error | test("scheme"))' "$T/r.jsonl" >/dev/null ||
    fail "$u: no unsupported-scheme error"
done
check_eq "$(jq -c 'select(.url == null) | [.status, .final_url, .path, .sha256]' "$T/r.jsonl" | sort -u)" \
  '[0,null,null,null]' "records of unreadable lines"
jq -e -s '[.[] | select(.url == null) | .error] | (length == 2) and any(test("longer than")) and any(test("NUL"))' \
  "$T/r.jsonl" >/dev/null || fail "the long line and the NUL line do not both have an error record"
check_eq "$(grep -c '^gather: ' "$T/stderr")" 5 "error lines on stderr"
grep -q 'line 6: longer than' "$T/stderr" || fail "stderr does not name line 6 as too long"
grep -q 'line 8: .*NUL' "$T/stderr" || fail "stderr does not name line 8 as holding a NUL"

# The limit is on the line, not on its terminator: a line of exactly 65536
# bytes is read whether it ends the file or ends with a newline (the server
# then refuses a URL that long, so the record is an HTTP error with the URL).
long="$BASE/"
long=$long$(head -c $((65536 - ${#long})) /dev/zero | tr '\0' a)
check_eq "${#long}" 65536 "length of the limit line"
for term in '' '\n'; do
  printf "%s$term" "$long" > "$T/long.txt"
  rm -f "$T/r.jsonl"
  "$GATHER" get -i "$T/long.txt" --jsonl "$T/r.jsonl" 2>/dev/null || true
  check_eq "$(jq -r '.url | length' "$T/r.jsonl")" 65536 "url of a 65536-byte line (terminator '$term')"
done
# One byte more is too long either way.
printf '%sa\n' "$long" > "$T/long.txt"
run_fresh 1 get -i "$T/long.txt" --jsonl "$T/r.jsonl"
check_eq "$(jq -r '[.url, (.error | test("longer than"))] | @tsv' "$T/r.jsonl")" "	true" "65537-byte line"

# ---- output options ----
# --jsonl - goes to stdout; without -o nothing is saved anywhere.
mkdir "$T/cwd"
(cd "$T/cwd" && "$GATHER" get --jsonl - "$BASE/about.html" "$BASE/images/logo.png") > "$T/stdout.jsonl" 2>"$T/stderr" ||
  fail "--jsonl - run failed"
check_eq "$(jq -r .url "$T/stdout.jsonl" | sort | tr '\n' ' ')" "$BASE/about.html $BASE/images/logo.png " "--jsonl - records"
check_eq "$(jq -r .path "$T/stdout.jsonl" | sort -u)" "null" "paths without -o"
check_eq "$(find "$T/cwd" -mindepth 1 | wc -l)" 0 "files written without -o"
check_eq "$(jq -r 'select(.url | endswith("about.html")) | .sha256' "$T/stdout.jsonl")" "$(sha "$SITE/about.html")" "--jsonl - sha256"

# --no-parse: hashes but no page fields.
run_fresh 0 get --no-parse --jsonl "$T/r.jsonl" "$BASE/index.html" "$BASE/about.html"
jq -e -s 'length == 2 and all(.[]; (has("title") or has("links") or has("images") or has("words") or has("description")) | not)' \
  "$T/r.jsonl" >/dev/null || fail "--no-parse records have page fields"
check_eq "$(jq -r 'select(.url | endswith("index.html")) | .sha256' "$T/r.jsonl")" "$(sha "$SITE/index.html")" "--no-parse sha256"
run_fresh 0 get --jsonl "$T/r.jsonl" "$BASE/index.html"
jq -e 'has("title") and has("links")' "$T/r.jsonl" >/dev/null || fail "parsed record lacks title/links"

# --xpath: fields on HTML records only, values from the pages themselves.
run_fresh 0 get --xpath h1=//h1 --xpath n='count(//a)' --jsonl "$T/r.jsonl" \
  "$BASE/index.html" "$BASE/about.html" "$BASE/docs/" "$BASE/files/notes.txt"
for rel in index.html about.html docs/index.html; do
  url=$BASE/$rel
  [ "$rel" = docs/index.html ] && url=$BASE/docs/
  h1=$(grep -o '<h1[^>]*>[^<]*</h1>' "$SITE/$rel" | sed 's/<[^>]*>//g')
  na=$(grep -oi '<a[[:space:]>]' "$SITE/$rel" | wc -l)
  check_eq "$(jq -c --arg u "$url" 'select(.url == $u) | .fields' "$T/r.jsonl")" \
    "{\"h1\":[\"$h1\"],\"n\":[\"$na\"]}" "--xpath fields of $rel"
done
check_eq "$(jq -c 'select(.url | endswith("notes.txt")) | has("fields")' "$T/r.jsonl")" false "--xpath on a text file"

# --stats: the run's numbers agree with its records.
urls > "$T/urls.txt"
run_fresh 1 get -i "$T/urls.txt" --jsonl "$T/r.jsonl" --stats "$T/stats.json"
jq -e '[.ok, .failed, .bytes, .wall_s, .p50_ms, .p95_ms, .p99_ms, .user_s, .sys_s, .max_rss_kb] |
  all(type == "number" and . >= 0)' "$T/stats.json" >/dev/null || fail "--stats lacks a field: $(cat "$T/stats.json")"
jq -e '.p50_ms <= .p95_ms and .p95_ms <= .p99_ms and .max_rss_kb > 0' "$T/stats.json" >/dev/null ||
  fail "--stats percentiles out of order: $(cat "$T/stats.json")"
check_eq "$(jq '.ok + .failed' "$T/stats.json")" "$(wc -l < "$T/r.jsonl")" "--stats ok+failed"
check_eq "$(jq .failed "$T/stats.json")" "$(jq -s 'map(select(.error != null)) | length' "$T/r.jsonl")" "--stats failed"
check_eq "$(jq .bytes "$T/stats.json")" "$(jq -s 'map(.bytes) | add' "$T/r.jsonl")" "--stats bytes"

# --progress forced on a non-tty: a "done/total" line; --summary: counts
# that match the records.
run_fresh 1 get -i "$T/urls.txt" "$BASE/about.html?delay=500" --progress --summary --jsonl "$T/r.jsonl"
total=$(wc -l < "$T/r.jsonl")
grep -aEq "(^|[^0-9])[0-9]+/$total " "$T/stderr" || { cat -v "$T/stderr" >&2; fail "--progress shows no N/$total"; }
ok=$(jq -s 'map(select(.error == null)) | length' "$T/r.jsonl")
grep -aEq "(^|[^0-9])$ok ok, $((total - ok)) failed" "$T/stderr" ||
  { cat -v "$T/stderr" >&2; fail "--summary does not say '$ok ok, $((total - ok)) failed'"; }
# Without them, stderr is only the error line of the 404.
run_fresh 1 get -i "$T/urls.txt" --jsonl "$T/r.jsonl"
check_eq "$(cat "$T/stderr")" "gather: $BASE/missing-page.html: HTTP 404" "stderr without --progress/--summary"
run_fresh 1 get -i "$T/urls.txt" --jsonl "$T/r.jsonl" --no-progress --no-summary
check_eq "$(cat "$T/stderr")" "gather: $BASE/missing-page.html: HTTP 404" "stderr with --no-progress --no-summary"
# An empty list is a run of nothing: exit 0, a summary of zeros.
run_gather 0 get -i /dev/null --stats "$T/empty.json" --summary
check_eq "$(jq -c '[.ok, .failed, .p50_ms, .p99_ms]' "$T/empty.json")" "[0,0,0,0]" "stats of an empty list"
echo "cli: ok"
