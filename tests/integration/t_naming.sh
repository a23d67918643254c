# Saving files: names (wget -x style, index.html, queries), clashes that
# never overwrite (the same bytes reuse a name, other bytes get ".N"), hostile
# URLs that must stay inside -o, long names, redirects, and no temporary
# files left behind.
. "$(dirname "$0")/lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
# run_fresh EXPECTED_EXIT ARGS...: run_gather without the records of an
# earlier run: $T/r.jsonl is also gather's journal, and a journal makes a
# rerun skip every URL it already holds.
run_fresh() { rm -f "$T/r.jsonl"; run_gather "$@"; }
start_server

sha() { sha256sum < "$1" | cut -d' ' -f1; }
# path_of URL: the path of URL's only record in $T/r.jsonl ("" if none).
path_of() {
  jq -r -s --arg u "$1" 'map(select(.url == $u)) | if length == 1 then .[0].path // "null" else "count=\(length)" end' "$T/r.jsonl"
}
# inside DIR FILE: FILE resolves to a place under DIR.
inside() {
  local d f
  d=$(realpath -e "$1") f=$(realpath -m "$2")
  [[ $f == "$d"/* ]]
}
no_part_files() {
  [ -z "$(find "$T" -name '*.part' -o -name '.gather-*')" ] || fail "temporary files left: $(find "$T" -name '*.part')"
}

modes=$({ "$GATHER" get -m nope x 2>&1 || true; } | sed -n 's/.*(modes: \(.*\)).*/\1/p' | tr -d ,)
[ -n "$modes" ] || fail "cannot list the modes"

check_mode() {
  local m=$1 p u f b rel saved page url long q lp hostile
  OUT=$T/$m/out
  H=$OUT/127.0.0.1:$PORT

  # ---- names: the same bytes reuse a name, other bytes take the next one ----
  mkdir -p "$H/files"
  echo "junk, not from the server" > "$H/contact.html"
  echo "more junk" > "$H/contact.1.html"
  cp "$SITE/gallery.html" "$H/gallery.html" # the very bytes the server sends
  tr e E < "$SITE/files/data.json" > "$H/files/data.json" # same size, other bytes
  ! cmp -s "$H/files/data.json" "$SITE/files/data.json" || fail "data.json unchanged by tr"
  local before
  before=$(cd "$H" && sha256sum contact.html contact.1.html gallery.html files/data.json)
  run_fresh 0 get -m "$m" -o "$OUT" --jsonl "$T/r.jsonl" -j 4 \
    "$BASE/about.html" "$BASE/about.html" "$BASE/contact.html" "$BASE/gallery.html" "$BASE/files/data.json" \
    "$BASE/files/notes.txt?a=1&b=2" "$BASE/files/notes.txt?a=1&b=2" \
    "$BASE/docs/" "$BASE/" "$BASE/index.html" "$BASE/files/blob.bin" "$BASE/files/blob.bin" "$BASE/files/blob.bin"
  check_eq "$(wc -l < "$T/r.jsonl")" 13 "records"
  # A URL listed twice (or / and /index.html) gives the same bytes under the
  # same name: saved once, and every record points at that one file.
  check_eq "$(jq -r 'select(.url | endswith("/about.html")) | .path' "$T/r.jsonl" | sort | uniq -c | awk '{print $1, $2}')" \
    "2 $H/about.html" "paths of about.html twice"
  check_eq "$(jq -r 'select(.url | endswith("/files/blob.bin")) | .path' "$T/r.jsonl" | sort | uniq -c | awk '{print $1, $2}')" \
    "3 $H/files/blob.bin" "paths of blob.bin three times"
  check_eq "$(jq -r 'select(.url | endswith("notes.txt?a=1&b=2")) | .path' "$T/r.jsonl" | sort | uniq -c | awk '{print $1, $2}')" \
    "2 $H/files/notes.txt?a=1&b=2" "paths of a query URL twice"
  check_eq "$(jq -r --arg a "$BASE/" --arg b "$BASE/index.html" 'select(.url == $a or .url == $b) | .path' "$T/r.jsonl" |
    sort | uniq -c | awk '{print $1, $2}')" "2 $H/index.html" "paths of / and /index.html"
  # A trailing '/' is index.html, in its directory.
  check_eq "$(path_of "$BASE/docs/")" "$H/docs/index.html" "path of docs/"
  # A file that already holds the served bytes is that URL's file.
  check_eq "$(path_of "$BASE/gallery.html")" "$H/gallery.html" "path of gallery.html (already there)"
  # Other bytes are never replaced: the download takes the next free name,
  # even when the sizes agree.
  check_eq "$(path_of "$BASE/contact.html")" "$H/contact.2.html" "path of contact.html"
  check_eq "$(path_of "$BASE/files/data.json")" "$H/files/data.1.json" "path of data.json"
  check_eq "$(cd "$H" && sha256sum contact.html contact.1.html gallery.html files/data.json)" "$before" "files that were there before"
  while IFS=$'\t' read -r u p; do
    rel=${u#"$BASE"/} rel=${rel%%\?*}
    [[ -z $rel || $rel == */ ]] && rel+=index.html
    cmp -s "$p" "$SITE/$rel" || fail "$u: $p differs from $rel"
  done < <(jq -r '[.url, .path] | @tsv' "$T/r.jsonl")
  check_eq "$(cd "$OUT" && find . -type f | sort | tr '\n' ' ')" \
    "./127.0.0.1:$PORT/about.html ./127.0.0.1:$PORT/contact.1.html ./127.0.0.1:$PORT/contact.2.html \
./127.0.0.1:$PORT/contact.html ./127.0.0.1:$PORT/docs/index.html ./127.0.0.1:$PORT/files/blob.bin \
./127.0.0.1:$PORT/files/data.1.json ./127.0.0.1:$PORT/files/data.json ./127.0.0.1:$PORT/files/notes.txt?a=1&b=2 \
./127.0.0.1:$PORT/gallery.html ./127.0.0.1:$PORT/index.html " "files under out"
  no_part_files

  # A rerun into the same directory saves nothing twice and replaces nothing.
  run_fresh 0 get -m "$m" -o "$OUT" --jsonl "$T/r.jsonl" "$BASE/about.html" "$BASE/contact.html"
  check_eq "$(path_of "$BASE/about.html")" "$H/about.html" "about.html in a rerun"
  check_eq "$(path_of "$BASE/contact.html")" "$H/contact.2.html" "contact.html in a rerun"
  check_eq "$(find "$OUT" -type f | wc -l)" 11 "files after the rerun"

  # ---- hostile URLs stay inside -o ----
  W=$T/$m/w
  mkdir -p "$W/a/b/c/d" "$W/sib"
  OUT2=$W/a/b/c/d/out
  hostile=(
    "$BASE/%2e%2e/%2e%2e/etc/passwd"
    "$BASE/a/..%2f..%2fx"
    "$BASE/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/sib/x"
    "$BASE/../../../../../about.html"
    "$BASE/files/./../../about.html"
    "$BASE/about.html?p=../../../../../sib/x"
    "$BASE/about.html?..%2f..%2f..%2f..%2f..%2fsib%2fx"
    "$BASE/about.html?a\\..\\..\\..\\sib"
    "$BASE/about.html?/../../../../../../sib/y"
    "$BASE/index.html?..#/../../x"
    # nginx decodes and resolves these to /about.html (a 200); a save name
    # built from the decoded path would climb out of the host directory.
    "$BASE/a/b/%2e%2e/%2e%2e/about.html"
    "$BASE/files/..%2fabout.html"
    "$BASE/files/%2E%2E%2Fabout.html"
  )
  rm -f "$T/r.jsonl"
  "$GATHER" get -m "$m" -o "$OUT2" --jsonl "$T/r.jsonl" "${hostile[@]}" 2>"$T/stderr" || true
  check_eq "$(wc -l < "$T/r.jsonl")" "${#hostile[@]}" "records of hostile URLs"
  saved=0
  while read -r p; do
    [ "$p" = null ] && continue
    inside "$OUT2" "$p" || fail "saved outside -o: $p"
    [ -f "$p" ] || fail "recorded path $p is not a file"
    [[ /${p#"$OUT2"/}/ != */../* && /${p#"$OUT2"/}/ != */./* ]] || fail "a dot segment in the save name: $p"
    saved=$((saved + 1))
  done < <(jq -r '.path // "null"' "$T/r.jsonl")
  check_eq "$saved" "$(jq -s 'map(select(.status == 200)) | length' "$T/r.jsonl")" "hostile URLs saved (every 200)"
  [ "$saved" -ge 8 ] || fail "only $saved hostile URLs were 200s"
  # Every file gather wrote is under out; the directories around it are empty.
  check_eq "$(find "$W" -type f ! -path "$OUT2/*" | wc -l)" 0 "files written outside -o"
  check_eq "$(find "$W" -mindepth 1 ! -path "$OUT2" ! -path "$OUT2/*" | sort | tr '\n' ' ')" \
    "$W/a $W/a/b $W/a/b/c $W/a/b/c/d $W/sib " "entries around -o"
  # Whatever came back 200 is about.html or index.html, byte for byte.
  while IFS=$'\t' read -r p url; do
    case $url in */index.html*) page=index.html ;; *) page=about.html ;; esac
    cmp -s "$p" "$SITE/$page" || fail "$url: $p differs from $page"
  done < <(jq -r 'select(.path != null) | [.path, .url] | @tsv' "$T/r.jsonl")
  no_part_files

  # ---- long names ----
  long=$(printf 'a%.0s' {1..300})
  q=$(printf 'q%.0s' {1..300})
  run_fresh 1 get -m "$m" -o "$OUT" --jsonl "$T/r.jsonl" "$BASE/$long.html" "$BASE/$long/x.html" \
    "$BASE/about.html?$q" "$BASE/about.html?$q" "$BASE/about.html?${q}x"
  check_eq "$(jq -r 'select(.url | contains("aaaa")) | [.status, .error, .path] | @tsv' "$T/r.jsonl" | sort -u)" \
    "404	HTTP 404	" "records of 300-byte segments"
  mapfile -t lp < <(jq -r 'select(.url | contains("qqqq")) | .path' "$T/r.jsonl")
  check_eq "${#lp[@]}" 3 "records of long queries"
  # Two long queries that differ only past the cut get different names.
  check_eq "$(printf '%s\n' "${lp[@]}" | sort -u | wc -l)" 2 "distinct names for long queries"
  for p in "${lp[@]}"; do
    inside "$OUT" "$p" || fail "long name outside out: $p"
    b=$(basename "$p")
    [ "${#b}" -le 255 ] || fail "file name of ${#b} bytes"
    check_eq "$(dirname "$p")" "$H" "directory of a long name"
    cmp -s "$p" "$SITE/about.html" || fail "$p differs from about.html"
  done
  no_part_files

  # ---- redirects ----
  run_fresh 1 get -m "$m" -o "$OUT" --jsonl "$T/r.jsonl" --max-redirs 1 \
    "$BASE/redirect?to=/gallery.html" "$BASE/redirect-rel?to=/contact.html" \
    "$BASE/redirect?to=/about.html&n=3"
  rec() { jq -r -s --arg u "$1" "map(select(.url == \$u))[0] | $2" "$T/r.jsonl"; }
  u="$BASE/redirect?to=/gallery.html"
  check_eq "$(rec "$u" '[.final_url, .status, .sha256, .error] | @tsv')" \
    "$BASE/gallery.html	200	$(sha "$SITE/gallery.html")	" "absolute redirect"
  p=$(rec "$u" .path)
  inside "$OUT" "$p" || fail "redirect saved outside out: $p"
  cmp -s "$p" "$SITE/gallery.html" || fail "redirected file differs from gallery.html"
  u="$BASE/redirect-rel?to=/contact.html"
  check_eq "$(rec "$u" '[.final_url, .status, .sha256, .error] | @tsv')" \
    "$BASE/contact.html	200	$(sha "$SITE/contact.html")	" "relative redirect"
  p=$(rec "$u" .path)
  inside "$OUT" "$p" || fail "redirect saved outside out: $p"
  cmp -s "$p" "$SITE/contact.html" || fail "redirected file differs from contact.html"
  # Too many hops: an error that says so, and nothing saved.
  u="$BASE/redirect?to=/about.html&n=3"
  rec "$u" .error | grep -qi redirect || fail "too many redirects: error is '$(rec "$u" .error)'"
  check_eq "$(rec "$u" .path)" null "path after too many redirects"
  grep -qiF "gather: $u: " "$T/stderr" || fail "no error line for $u"

  # Every redirect code is followed (default limit), with a body from the target.
  run_fresh 0 get -m "$m" --jsonl "$T/r.jsonl" \
    "$BASE/redirect?to=/about.html&code=301" "$BASE/redirect?to=/about.html&code=302&n=2" \
    "$BASE/redirect?to=/about.html&code=303" "$BASE/redirect?to=/about.html&code=307" \
    "$BASE/redirect?to=/about.html&code=308" "$BASE/redirect?to=/about.html&n=10"
  check_eq "$(jq -r '[.final_url, .status, .sha256] | @tsv' "$T/r.jsonl" | sort -u)" \
    "$BASE/about.html	200	$(sha "$SITE/about.html")" "records of every redirect code"
  # --max-redirs 0: the 302 itself is the answer (not an error, nothing followed).
  run_fresh 0 get -m "$m" --jsonl "$T/r.jsonl" --max-redirs 0 "$BASE/redirect?to=/about.html"
  check_eq "$(jq -r '[.status, .final_url] | @tsv' "$T/r.jsonl")" "302	$BASE/redirect?to=/about.html" "--max-redirs 0"
}
# Every mode: procs saves from worker processes, threads from many threads.
for m in $modes; do
  echo "mode $m"
  check_mode "$m"
done

no_part_files
echo "naming: ok"
