# Network and HTTP errors mixed with good URLs in one run: each failure is
# a record of its own with the right fields, nothing of it is saved, and
# the good URLs are unaffected.
. "$(dirname "$0")/lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
# run_fresh EXPECTED_EXIT ARGS...: run_gather without the records of an
# earlier run: $T/r.jsonl is also gather's journal, and a journal makes a
# rerun skip every URL it already holds.
run_fresh() { rm -f "$T/r.jsonl"; run_gather "$@"; }
start_server

sha() { sha256sum < "$1" | cut -d' ' -f1; }
sha_of() { printf '%b' "$1" | sha256sum | cut -d' ' -f1; } # $1 may hold \n
# rec URL JQ: JQ applied to URL's only record.
rec() {
  jq -r -s --arg u "$1" "map(select(.url == \$u)) | if length == 1 then .[0] | $2 else \"records: \\(length)\" end" "$T/r.jsonl"
}

# A port on 127.0.0.1 that nothing listens on (checked, not assumed).
closed_port() {
  local p i
  for i in $(seq 50); do
    p=$((20000 + RANDOM % 12000))
    [ "$p" = "$PORT" ] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  fail "no closed port found"
}
CLOSED=$(closed_port)

refused=http://127.0.0.1:$CLOSED/x.html
good=(about.html files/blob.bin images/logo.png files/data.json)
urls=("$refused" "$BASE/status/500" "$BASE/status/404" "$BASE/status/204" "$BASE/status/503"
  "$BASE/about.html?delay=10000" "$BASE/files/blob.bin?rate=20000")
for g in "${good[@]}"; do urls+=("$BASE/$g"); done

check_mode() {
  local m=$1 u p g code
  OUT=$T/out-$m
  run_fresh 1 get -m "$m" -o "$OUT" --jsonl "$T/r.jsonl" --timeout 4 --retries 0 -j 8 "${urls[@]}"
  [ -f "$T/r.jsonl" ] || { cat "$T/stderr" >&2; fail "$m: no records file"; }
  check_eq "$(wc -l < "$T/r.jsonl")" "${#urls[@]}" "$m: records"

  # Connection refused: no response at all.
  check_eq "$(rec "$refused" '[.status, .final_url, .path, .sha256, .bytes, .content_type] | @json')" \
    '[0,null,null,null,0,null]' "refused record"
  rec "$refused" .error | grep -qiE 'connect|refused' || fail "refused: error is '$(rec "$refused" .error)'"

  # HTTP errors: status and error set, the body hashed but never saved.
  for code in 500 404 503; do
    u=$BASE/status/$code
    check_eq "$(rec "$u" '[.status, .error, .path, .final_url, .bytes, .sha256] | @tsv')" \
      "$code	HTTP $code		$u	11	$(sha_of "status $code\n")" "/status/$code record"
  done

  # 204 is a success with an empty body: an empty file, the empty digest.
  u=$BASE/status/204
  check_eq "$(rec "$u" '[.status, .error, .bytes, .sha256] | @tsv')" \
    "204		0	$(sha_of "")" "/status/204 record"
  p=$(rec "$u" .path)
  check_eq "$p" "$OUT/127.0.0.1:$PORT/status/204" "/status/204 path"
  { [ -f "$p" ] && [ ! -s "$p" ]; } || fail "/status/204 did not give an empty file"

  # A timeout before the headers, and one in the middle of the body: errors
  # that say so; no file, complete or partial.
  for u in "$BASE/about.html?delay=10000" "$BASE/files/blob.bin?rate=20000"; do
    rec "$u" .error | grep -qiE 'timed? ?out' || fail "$u: error is '$(rec "$u" .error)'"
    check_eq "$(rec "$u" .path)" null "$u path"
  done
  check_eq "$(rec "$BASE/about.html?delay=10000" .status)" 0 "status of a timeout before the headers"
  [ ! -e "$OUT/127.0.0.1:$PORT/files/blob.bin?rate=20000" ] || fail "a timed-out body was saved"

  # The good URLs, byte for byte.
  for g in "${good[@]}"; do
    u=$BASE/$g
    check_eq "$(rec "$u" '[.status, .error, .sha256, .bytes, .path] | @tsv')" \
      "200		$(sha "$SITE/$g")	$(stat -c %s "$SITE/$g")	$OUT/127.0.0.1:$PORT/$g" "$g record"
    cmp -s "$OUT/127.0.0.1:$PORT/$g" "$SITE/$g" || fail "$g differs from the served file"
  done
  # Exactly the good files and the 204 were saved; no temporary files.
  check_eq "$(find "$OUT" -type f | wc -l)" "$((${#good[@]} + 1))" "files saved"
  [ -z "$(find "$OUT" -name '*.part' -o -name '.gather-*')" ] || fail "temporary files left behind"

  # stderr: one "gather: URL: message" line per failure, nothing else.
  grep -v '^gather: http' "$T/stderr" | sed "s/^/$m: unexpected stderr line: /" >&2 || true
  check_eq "$(wc -l < "$T/stderr")" "$(jq -s 'map(select(.error != null)) | length' "$T/r.jsonl")" "$m: error lines"
  check_eq "$(wc -l < "$T/stderr")" 6 "$m: error lines (refused, 500, 404, 503, two timeouts)"
  while IFS= read -r u; do
    grep -qF "gather: $u: " "$T/stderr" || fail "no error line for $u"
  done < <(jq -r 'select(.error != null) | .url' "$T/r.jsonl")
}
# Every mode: they share the transfer code but not the plumbing around it.
modes=$({ "$GATHER" get -m nope x 2>&1 || true; } | sed -n 's/.*(modes: \(.*\)).*/\1/p' | tr -d ,)
[ -n "$modes" ] || fail "cannot list the modes"
for m in $modes; do
  echo "mode $m"
  check_mode "$m"
done

# Failures only: exit 1 too; success only: exit 0.
run_fresh 1 get --retries 0 --jsonl "$T/r.jsonl" "$refused"
run_fresh 0 get --jsonl "$T/r.jsonl" "$BASE/status/204" "$BASE/about.html"
echo "errors: ok"
