# Worker processes in procs and hybrid: a worker that dies takes only its
# own URL with it, a parse over its CPU limit is stopped, and a slow parse
# pool holds back the event loop instead of piling up bodies.
. "$(dirname "$0")/lib.sh"
start_server
urls > "$T/urls.txt"
HOOKED=${GATHER_HOOKED:?GATHER_HOOKED must name a binary built with GATHER_TEST_HOOKS}
case $HOOKED in /*) ;; *) HOOKED=$ROOT/$HOOKED ;; esac

# Reference records from async, to compare the untouched URLs with.
run_gather 1 get -i "$T/urls.txt" --jsonl "$T/ref.jsonl" -j 4
strip() { jq -c 'del(.timings, .path)' "$@" | sort; }

# 1. A parse worker crashes on one page (the test hook raises SIGSEGV).
for m in procs hybrid; do
  rc=0
  GATHER_TEST_CRASH_URL=/about.html "$HOOKED" get -m "$m" -j 4 -P 2 -i "$T/urls.txt" \
    -o "$T/out-$m" --jsonl "$T/crash-$m.jsonl" 2>"$T/stderr" || rc=$?
  check_eq "$rc" 1 "$m exit code"
  check_eq "$(wc -l < "$T/crash-$m.jsonl")" "$(wc -l < "$T/ref.jsonl")" "$m record count"
  err=$(jq -r 'select(.url|endswith("/about.html")) | .error' "$T/crash-$m.jsonl")
  [[ $err == "worker killed by signal "* ]] || fail "$m: about.html error is '$err'"
  diff <(strip "$T/ref.jsonl" | grep -v '/about.html"') \
       <(strip "$T/crash-$m.jsonl" | grep -v '/about.html"') || fail "$m: other records changed"
  # Every other page was still saved intact.
  for f in index.html contact.html images/logo.png files/blob.bin; do
    cmp -s "$T/out-$m/127.0.0.1:$PORT/$f" "$SITE/$f" || fail "$m: $f not saved intact"
  done
done
# 1b. hybrid hands each worker its next page before the current one is
#     done. With one worker and parsing slowed to 50 ms a page, contact.html
#     already waits in the worker's socket when about.html kills it: it
#     must go to the replacement and come out intact, not share the blame.
rc=0
GATHER_TEST_CRASH_URL=/about.html GATHER_TEST_PARSE_DELAY_MS=50 "$HOOKED" get -m hybrid \
  -j 4 -P 1 -i "$T/urls.txt" --jsonl "$T/crash-queued.jsonl" 2>"$T/stderr" || rc=$?
check_eq "$rc" 1 "queued crash exit code"
check_eq "$(jq -r 'select(.error != null and (.error|startswith("worker"))) | .url' \
  "$T/crash-queued.jsonl")" "$BASE/about.html" "the only page a worker death failed"
diff <(strip "$T/ref.jsonl" | grep -v '/about.html"') \
     <(strip "$T/crash-queued.jsonl" | grep -v '/about.html"') || fail "queued crash: other records changed"
# hybrid fetched about.html in the parent before the worker died, so its
# record keeps what the fetch learnt.
jq -e -s --arg s "$(sha256sum < "$SITE/about.html" | cut -d' ' -f1)" \
  'map(select(.url|endswith("/about.html"))) | length == 1 and
   (.[0] | .status == 200 and .sha256 == $s and has("title") == false)' \
  "$T/crash-hybrid.jsonl" >/dev/null || fail "hybrid: crashed page lost its fetch fields"

# 2. A page too expensive to parse (30 MB of HTML, ~1 s of CPU) under a
#    0.1 s limit: its worker is killed, the rest goes on.
{ cat "$T/urls.txt"; echo "$BASE/gen/30000000"; } > "$T/heavy.txt"
for m in procs hybrid; do
  run_gather 1 get -m "$m" -j 4 -P 2 --parse-timeout 0.1 -i "$T/heavy.txt" --jsonl "$T/heavy-$m.jsonl"
  err=$(jq -r 'select(.url|contains("/gen/")) | .error' "$T/heavy-$m.jsonl")
  [[ $err == "worker killed: task exceeded its "*" limit" ]] || fail "$m: heavy page error is '$err'"
  diff <(strip "$T/ref.jsonl") <(strip "$T/heavy-$m.jsonl" | grep -v '/gen/') || fail "$m: other records changed"
done

# 3. Back-pressure: parsing slowed to 20 ms a page with one worker, while
#    the loop could fetch 16 at once. The loop starts no transfer while
#    4 MiB of bodies (16 of 256 KB) wait, so the queue never exceeds those
#    16 plus the 16 that were in flight (without back-pressure it would
#    reach ~200), and memory stays far below the 50 MB of 200 pages of
#    256 KB piled up.
"$ROOT/samples/gen-site" "$T/big" 200 256 >/dev/null
"$ROOT/samples/serve" stop "$NGINX_DIR" >/dev/null; NGINX_DIR=
start_server --site "$T/big"
"$ROOT/samples/serve" urls --strip "$BASE" "$T/big/urls.txt" > "$T/big.txt"
GATHER_TEST_PARSE_DELAY_MS=20 "$HOOKED" get -m hybrid -j 16 -P 1 -i "$T/big.txt" \
  --jsonl "$T/bp.jsonl" --stats "$T/bp.json" 2>"$T/stderr" || fail "back-pressure run failed: $(cat "$T/stderr")"
check_eq "$(jq .ok "$T/bp.json")" 200 "back-pressure ok count"
check_eq "$(jq '[.[] | select(.words > 0)] | length' -s "$T/bp.jsonl")" 200 "pages parsed"
peak=$(jq .parse_queue_peak "$T/bp.json")
[ "$peak" -ge 1 ] && [ "$peak" -le 32 ] || fail "parse queue peak $peak, expected 1..32"
if [ -z "${GATHER_SANITIZED:-}" ]; then
  rss=$(jq .max_rss_kb "$T/bp.json")
  [ "$rss" -lt 45000 ] || fail "peak RSS $rss KiB: bodies piled up"
fi
echo "workers: crash and CPU limit contained; queue peak $peak"
