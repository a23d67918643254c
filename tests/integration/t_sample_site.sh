# The main job on the sample site: every saved file is byte-identical to
# the served one, and every field of every record is right.
. "$(dirname "$0")/lib.sh"
start_server
urls > "$T/urls.txt"
n_urls=$(grep -c '^http' "$T/urls.txt")

# One URL of the list is a 404, so the exit code is 1.
run_gather 1 get -i "$T/urls.txt" -o "$T/out" --jsonl "$T/r.jsonl" -j 4
check_eq "$(wc -l < "$T/r.jsonl")" "$n_urls" "record count"
check_eq "$(jq -r .url "$T/r.jsonl" | sort -u | wc -l)" "$n_urls" "distinct URLs"
diff <(jq -r .url "$T/r.jsonl" | sort) <(grep '^http' "$T/urls.txt" | sort) ||
  fail "recorded URLs differ from the list"

# Independent checks against the site itself.
declare -A ctype=([html]="text/html; charset=utf-8" [txt]="text/plain; charset=utf-8"
  [json]="application/json" [png]="image/png" [jpg]="image/jpeg" [gif]="image/gif"
  [bin]="application/octet-stream")
saved=0
while IFS=$'\t' read -r url status bytes ct sha path error etag lm; do
  rel=${url#"$BASE"/}
  if [ "$status" = 404 ]; then
    check_eq "$error" "HTTP 404" "$url error"
    check_eq "$path" "null" "$url path"
    check_eq "$etag $lm" "null null" "$url validators"
    [ ! -e "$SITE/$rel" ] || fail "$url exists but was a 404"
    continue
  fi
  check_eq "$status" 200 "$url status"
  check_eq "$error" null "$url error"
  check_eq "$bytes" "$(stat -c %s "$SITE/$rel")" "$url bytes"
  check_eq "$sha" "$(sha256sum < "$SITE/$rel" | cut -d' ' -f1)" "$url sha256"
  check_eq "$ct" "${ctype[${rel##*.}]}" "$url content_type"
  check_eq "$path" "$T/out/127.0.0.1:$PORT/$rel" "$url path"
  cmp -s "$path" "$SITE/$rel" || fail "$path differs from the served file"
  # nginx's validators of a static file: its mtime and size.
  mtime=$(stat -c %Y "$SITE/$rel")
  check_eq "$etag" "$(printf '"%x-%x"' "$mtime" "$(stat -c %s "$SITE/$rel")")" "$url etag"
  check_eq "$lm" "$(LC_ALL=C date -u -d "@$mtime" '+%a, %d %b %Y %H:%M:%S GMT')" "$url last_modified"
  saved=$((saved + 1))
done < <(jq -r '[.url, .status, .bytes, .content_type, .sha256, (.path // "null"), (.error // "null"),
  (.etag // "null"), (.last_modified // "null")] | @tsv' "$T/r.jsonl")
check_eq "$saved" "$((n_urls - 1))" "files checked"
check_eq "$(find "$T/out" -type f | wc -l)" "$saved" "files on disk"
[ -z "$(find "$T/out" -name '*.part')" ] || fail "temporary files left behind"

# Timings: every phase present, none negative, phases within the total.
jq -e -s 'all(.[]; .timings as $t | ($t | keys) == (["connect","dns","parse","parse_wait","queue","tls","total","transfer","ttfb","write"])
  and ([$t[]] | all(type=="number" and . >= 0))
  and ($t.write <= $t.transfer + 0.01)
  and (($t.queue+$t.dns+$t.connect+$t.tls+$t.ttfb+$t.transfer+$t.parse_wait+$t.parse) - $t.total | fabs < 0.05))' \
  "$T/r.jsonl" >/dev/null || fail "bad timings"
# Pages were parsed and files written, so those phases were timed.
jq -e -s '(map(select(.title != null and .timings.parse > 0)) | length) == 13 and
  (map(select(.path != null and .timings.write > 0)) | length) == 20' "$T/r.jsonl" >/dev/null ||
  fail "parse or write phases not timed"

# Every other field against the reviewed expected records (host, port,
# output directory and the validators checked above, which depend on the
# checkout's mtimes, replaced by placeholders).
normalise_records "$T/r.jsonl" "$T/out" | jq -s -c 'sort_by(.url)[]' > "$T/actual.jsonl"
diff -u "$ROOT/tests/integration/expected/sample.jsonl" "$T/actual.jsonl" || fail "records differ from expected"

# Not a terminal: stderr holds only the error line of the 404.
check_eq "$(cat "$T/stderr")" "gather: $BASE/missing-page.html: HTTP 404" "stderr"
echo "sample site: $n_urls records, $saved files verified"
