# Faults in the body, in every mode: truncated bodies (retried, never
# saved), endless bodies stopped by --max-filesize or --timeout, gzip
# bombs stopped on decoded bytes, gzip bodies decoded byte for byte, huge
# headers, and malformed HTML that the parser must survive.
. "$(dirname "$0")/faults_lib.sh"

# fill N: the first N bytes of the fault endpoints' fill pattern.
fill() { yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ- | head -c "$1" || true; }
fill 3000 > "$T/fill3000"
SIZE_ERE='larger|too (big|large)|size|limit|exceed'
curl -s --noproxy '*' -o "$T/malformed" "$BASE/fault/malformed"
check_eq "$(stat -c %s "$T/malformed")" 100626 "size of /fault/malformed fetched with curl"

# check_capped URL LIMIT: URL failed on the size limit without saving
# anything, after no more than LIMIT body bytes, at the first attempt.
check_capped() {
  check_failed "$1" "$SIZE_ERE"
  check_rec "$1" 1 attempts
  [ "$(rec "$1" bytes)" -le "$2" ] || fail "$WHAT: $1 took $(rec "$1" bytes) bytes, over the limit $2"
}

for m in "${MODES[@]}"; do
  echo "mode $m"

  # 5, 6. Truncated bodies are retried (attempts = retries + 1), and each
  # record describes the last attempt's 3000 bytes, unsaved. Endless and
  # too-long bodies stop at --max-filesize: no retry, nothing saved.
  trunc="$BASE/fault/truncated?size=10000&send=3000"
  trunc_chunked="$BASE/fault/truncated?size=10000&send=3000&chunked=1"
  endless=$BASE/fault/endless
  endless_bin="$BASE/fault/endless?type=bin"
  long=$BASE/gen/2000000
  big_header="$BASE/fault/big-header?kb=200"
  # (Gzip bodies of other files ride along here: /fault/gzip, in the run
  # below, is a file where these need a directory.)
  gz=("$BASE/fault/gzip/files/blob.bin" "$BASE/fault/gzip/images/logo.png")
  fault_run body-limits "$m" 1 --retries 2 --max-filesize 1M -- \
    "$trunc" "$trunc_chunked" "$endless" "$endless_bin" "$long" "$big_header" "${gz[@]}"
  check_failed "$trunc" 'transfer closed|partial|remaining'
  check_failed "$trunc_chunked" 'transfer closed|partial|outstanding'
  for u in "$trunc" "$trunc_chunked"; do
    check_rec "$u" "200	3	3000	$(sha "$T/fill3000")	$u" status attempts bytes sha256 final_url
  done
  for u in "$endless" "$endless_bin" "$long"; do check_capped "$u" 1048576; done
  # A header line over curl's limit: a failure, not a crash.
  check_failed "$big_header" .
  check_saved "$BASE/fault/gzip/files/blob.bin" "$SITE/files/blob.bin"
  check_saved "$BASE/fault/gzip/images/logo.png" "$SITE/images/logo.png"

  # 6. An endless body (throttled, so the disk is spared) under --timeout.
  slow_endless="$BASE/fault/endless?rate=1m"
  fault_run body-timeout "$m" 1 --timeout 2 --retries 0 -- "$slow_endless"
  check_failed "$slow_endless" 'timed? ?out'
  check_rec "$slow_endless" "200	1" status attempts

  # 12. gzip bombs stop at --max-filesize counted in decoded bytes; gzip
  # bodies are decoded and saved byte for byte. 11. The malformed page is
  # saved as sent and parsed into a record with its plain links.
  bomb="$BASE/fault/gzip-bomb?mb=64"
  bomb_html="$BASE/fault/gzip-bomb?mb=64&type=html"
  malformed=$BASE/fault/malformed
  fault_run gzip "$m" 1 --max-filesize 8M -- "$bomb" "$bomb_html" "$malformed" "$BASE/fault/gzip"
  check_capped "$bomb" 8388608
  check_capped "$bomb_html" 8388608
  check_saved "$BASE/fault/gzip" "$SITE/index.html"
  check_saved "$malformed" "$T/malformed"
  check_rec "$malformed" "1	text/html; charset=utf-8" attempts content_type
  # The decoded page parses as index.html does (links differ: other base).
  jq -e -s --arg gz "$BASE/fault/gzip" --arg plain "$BASE/index.html" '
    (map(select(.url == $gz))[0] | [.title, .description, .words]) as $a |
    (map(select(.url == $plain))[0] | [.title, .description, .words]) as $b |
    $a == $b and ($a[0] | type) == "string"' "$R" >/dev/null ||
    fail "$WHAT: the gzip page did not parse like index.html"
  jq -e -s --arg u "$malformed" --arg b "$BASE" '
    map(select(.url == $u))[0] |
    (.title | type) == "string" and (.description | type) == "string" and
    (.words | type) == "number" and (.images | type) == "array" and
    (.links | index($b + "/index.html")) != null and
    (.links | index($b + "/about.html")) != null' "$R" >/dev/null ||
    fail "$WHAT: malformed page record: $(jq -c -s --arg u "$malformed" 'map(select(.url == $u))[0] | del(.timings)' "$R" | cut -c1-600)"
  # A failed body is not parsed.
  check_eq "$(jq -s --arg u "$bomb_html" 'map(select(.url == $u))[0] | has("title")' "$R")" false \
    "$WHAT: the capped HTML bomb was parsed"
  # Every mode parses the malformed page the same way.
  jq -c -s --arg u "$malformed" 'map(select(.url == $u))[0] | del(.timings, .path)' "$R" > "$T/malformed-$m.json"
  if [ "$m" != "${MODES[0]}" ]; then
    diff "$T/malformed-${MODES[0]}.json" "$T/malformed-$m.json" >&2 ||
      fail "$WHAT: the malformed page's record differs from ${MODES[0]}'s"
  fi
done

# Without --max-filesize a compressed body stops at 1 GiB decoded. The cap
# is in the transfer code every mode shares, so one mode is enough; no -o,
# so that a failing gather does not write a gigabyte.
rc=0
timeout -k 5 120 "$GATHER" get --no-parse --jsonl "$T/bomb.jsonl" "$BASE/fault/gzip-bomb?mb=1100" 2>"$T/stderr" || rc=$?
check_eq "$rc" 1 "exit code of a 1100 MiB gzip bomb"
R=$T/bomb.jsonl WHAT=default-cap
load_records
check_capped "$BASE/fault/gzip-bomb?mb=1100" 1073741824
echo "faults/body: ok"
