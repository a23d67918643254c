# kill -9 and SIGINT mid-run, in every mode, then the same command again:
# every file complete and byte-identical to the server's, exactly one
# record per URL, no temporary file left, and resumed part files.
. "$(dirname "$0")/lib.sh"
"$ROOT/samples/gen-site" "$T/site" 30 40 >/dev/null
start_server --site "$T/site"
# 40 KB at 20 KB/s: each page takes a couple of seconds, so a signal after
# 1.5 s finds transfers in flight with part of their body on disk.
"$ROOT/samples/serve" urls --strip "$BASE" "$T/site/urls.txt" | sed 's/$/?rate=20000/' > "$T/urls.txt"
n=$(wc -l < "$T/urls.txt")

check_complete() { # WHAT
  check_eq "$(wc -l < "$T/r.jsonl")" "$n" "$1: records"
  check_eq "$(jq -r .url "$T/r.jsonl" | sort -u | wc -l)" "$n" "$1: distinct URLs"
  jq -e -s 'all(.[]; .error == null and (.status == 200 or .status == 206))' "$T/r.jsonl" >/dev/null || fail "$1: failed records"
  local dir="$T/out/127.0.0.1:$PORT" files=0
  for f in "$dir"/page-*; do
    cmp -s "$f" "$T/site/$(basename "${f%%\?*}")" || fail "$1: $f differs from the served file"
    files=$((files + 1))
  done
  check_eq "$files" "$n" "$1: files"
  [ -z "$(find "$T/out" -name '.*' -type f ! -name .gather-journal)" ] || fail "$1: temporary files left"
  # The records point at the files and their digests match.
  jq -r '[.path, .sha256] | @tsv' "$T/r.jsonl" | while IFS=$'\t' read -r p s; do
    check_eq "$(sha256sum < "$p" | cut -d' ' -f1)" "$s" "$1: sha256 of $p"
  done
}

for m in async threads procs hybrid; do
  for sig in KILL INT; do
    rm -rf "$T/out" "$T/r.jsonl"
    args=(get -m "$m" -c -j 10 -P 2 -i "$T/urls.txt" -o "$T/out" --jsonl "$T/r.jsonl")
    "$GATHER" "${args[@]}" 2>"$T/stderr" &
    pid=$!
    sleep 1.5
    kill -"$sig" "$pid"
    rc=0; wait "$pid" || rc=$?
    if [ "$sig" = INT ]; then
      check_eq "$rc" 130 "$m: exit code after SIGINT"
    fi
    first=$(wc -l < "$T/r.jsonl")
    parts=$(find "$T/out" -name '*.gather-part' | wc -l)
    [ "$first" -lt "$n" ] || fail "$m/$sig: the signal came too late to test anything"
    # Every record written before the signal is whole.
    if [ "$sig" = INT ]; then
      jq -e . "$T/r.jsonl" >/dev/null || fail "$m/INT: a record was cut"
    fi
    run_gather 0 "${args[@]}"
    check_complete "$m/$sig"
    echo "$m/$sig: $first records before, $parts part files resumed"
  done
done
# The server saw ranged requests: parts were resumed, not refetched.
grep -q '" 206 ' "$NGINX_DIR/access.log" || fail "no resumed (206) transfer"
