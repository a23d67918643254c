# The records file is a journal that a rerun appends to, so gather must
# only ever append to its own: a file of records (whose half-written last
# record, left by a crash, is cut off) or a CSV with the same columns.
# Anything else (a URL list, notes, other CSV columns) is refused with
# exit 2 and left byte for byte as it was; so is one file given two roles
# of which one writes (records, summary, cookie jar).
. "$(dirname "$0")/lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
start_server
LOG=$NGINX_DIR/access.log
A=$BASE/about.html B=$BASE/index.html

# refused FILE WHAT ARGS...: gather exits 2 naming WHAT, FILE unchanged.
refused() {
  local f=$1 what=$2; shift 2
  cp "$f" "$T/before"
  usage_error "$what" "$@"
  cmp -s "$f" "$T/before" || fail "gather $* changed $f"
}

# 1. A half-written last record (kill -9 mid-write) is cut off; the whole
#    record before it is kept, and its URL is not fetched again.
run_gather 0 get --jsonl "$T/r.jsonl" "$A"
printf '{"url":"%s","final_url":"%s","sta' "$B" "$B" >> "$T/r.jsonl"
: > "$LOG"
run_gather 0 get --jsonl "$T/r.jsonl" "$A" "$B"
check_eq "$(jq -r .url "$T/r.jsonl" | tr '\n' ' ')" "$A $B " "records after a torn last line"
check_eq "$(awk '{print $4}' "$LOG")" "/index.html" "requests after a torn last line"

# 2. Not a records file: notes whose last line has no newline (the line a
#    torn record would be cut at), a URL list, a file of other JSON.
printf 'my notes\nmore notes' > "$T/notes.txt"
refused "$T/notes.txt" "$T/notes.txt is not a file of gather records (line 1 is not one); name another file, or add --restart" \
  get --jsonl "$T/notes.txt" "$A"
printf '{"url":"%s"}\nmore notes' "$A" > "$T/half.txt"
refused "$T/half.txt" "(line 2 is not one)" get --jsonl "$T/half.txt" "$A"
printf '{"name":"x"}\n' > "$T/other.jsonl"
refused "$T/other.jsonl" "(line 1 is not one)" get --jsonl "$T/other.jsonl" "$A"
for m in async threads procs hybrid; do
  refused "$T/notes.txt" "not a file of gather records" crawl -m "$m" --jsonl "$T/notes.txt" "$A"
done
# the separate journal of -o DIR is checked as well
mkdir -p "$T/o"
printf 'not a journal\n' > "$T/o/.gather-journal"
refused "$T/o/.gather-journal" "$T/o/.gather-journal is not a file of gather records" get -o "$T/o" "$A"
# --since reads records only
refused "$T/notes.txt" "$T/notes.txt is not a file of gather records (line 1 is not one)" \
  get --since "$T/notes.txt" --jsonl "$T/s.jsonl" "$A"

# 3. One file for two roles where one of them writes: the URL list as the
#    records file (even with --restart, which would empty the list before
#    it is read), or as the summary or cookie jar written at the end, which
#    would replace it; the records as the summary; however the path is
#    spelled, and whether the written file exists yet or not.
printf '%s\n%s' "$A" "$B" > "$T/list.txt"
one="give each a file of its own"
refused "$T/list.txt" "the URL list (-i) and the records file are one file, $T/list.txt: $one" get -i "$T/list.txt" --jsonl "$T/list.txt"
refused "$T/list.txt" "the URL list (-i) and the records file are one file" get -i "$T/list.txt" --jsonl "$T/list.txt" --restart
ln -s list.txt "$T/link.txt"
refused "$T/list.txt" "the URL list (-i) and the records file are one file" get -i "$T/list.txt" --jsonl "$T/link.txt"
refused "$T/list.txt" "the URL list (-i) and --stats are one file" get -i "$T/list.txt" --stats "$T/list.txt" --jsonl "$T/l.jsonl"
refused "$T/list.txt" "the URL list (-i) and --cookie-jar are one file" get -i "$T/list.txt" --cookie-jar "$T/list.txt" --jsonl "$T/l.jsonl"
usage_error "the records file and --stats are one file" get --jsonl "$T/new.jsonl" --stats "$T/./new.jsonl" "$A"
[ ! -e "$T/new.jsonl" ] || fail "a refused run created its records file"
refused "$T/r.jsonl" "the records file and --cookie-jar are one file" get --jsonl "$T/r.jsonl" --cookie-jar "$T/r.jsonl" "$A"
refused "$T/r.jsonl" "the records file and --stats are one file" crawl --jsonl "$T/r.jsonl" --stats "$T/r.jsonl" "$A"
usage_error "--stats and --cookie-jar are one file" crawl --stats "$T/jar" --cookie-jar "$T/jar" "$A"
ln -s r.jsonl "$T/link-r.jsonl"
refused "$T/r.jsonl" "--since and the records file are one file" get --since "$T/r.jsonl" --jsonl "$T/link-r.jsonl" "$A"

# 4. CSV: rows go on under the same header; another file or other
#    --field columns are refused.
run_gather 0 get --format csv --records "$T/r.csv" "$A"
run_gather 0 get --format csv --records "$T/r.csv" "$B"
check_eq "$(wc -l < "$T/r.csv")" 3 "CSV rows appended under one header"
check_eq "$(grep -c '^url,' "$T/r.csv")" 1 "CSV headers"
refused "$T/r.csv" "$T/r.csv is not a CSV of gather records with these columns" \
  get --format csv --records "$T/r.csv" --field 't=//title' "$A"
refused "$T/notes.txt" "is not a CSV of gather records" get --format csv --records "$T/notes.txt" "$A"

# 5. --restart empties a file the user names on purpose, and writes records.
run_gather 0 get --jsonl "$T/notes.txt" --restart "$A"
check_eq "$(jq -r .url "$T/notes.txt")" "$A" "--restart over notes"
echo "records file: only gather's own is appended to or cut; the rest refused and left intact"
