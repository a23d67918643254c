# --mode auto measures the first URLs and picks: async for a latency-bound
# list, hybrid for a parse-heavy one; it says which and why on stderr, and
# the run's records are as complete as any other mode's.
. "$(dirname "$0")/lib.sh"

# Latency-bound: small pages behind 50 ms of server delay.
start_server
urls | grep '\.html$' | sed 's/$/?delay=50/' > "$T/latency.txt"
n=$(wc -l < "$T/latency.txt")
run_gather 1 get -m auto --summary -j 8 -i "$T/latency.txt" --jsonl "$T/lat.jsonl"
grep -q '^gather: --mode auto picked async: parsing took [0-9]*% ' "$T/stderr" ||
  fail "latency-bound list: $(grep auto "$T/stderr")"
check_eq "$(wc -l < "$T/lat.jsonl")" "$n" "latency-bound records"

# Parse-heavy: 60 pages of 512 KB, no delay.
"$ROOT/samples/serve" stop "$NGINX_DIR" >/dev/null; NGINX_DIR=
"$ROOT/samples/gen-site" "$T/heavy" 60 512 >/dev/null
start_server --site "$T/heavy"
"$ROOT/samples/serve" urls --strip "$BASE" "$T/heavy/urls.txt" > "$T/heavy.txt"
run_gather 0 get -m auto --summary -j 8 -P 2 -i "$T/heavy.txt" --jsonl "$T/heavy.jsonl" --stats "$T/heavy.json"
grep -q '^gather: --mode auto picked hybrid: parsing took [0-9]*% .*above 25%' "$T/stderr" ||
  fail "parse-heavy list: $(grep auto "$T/stderr")"
check_eq "$(jq .ok "$T/heavy.json")" 60 "parse-heavy ok"
# Pages parsed in the probe (async) and after it (hybrid) alike.
check_eq "$(jq -s 'map(select(.words > 1000 and (.links | length) > 0)) | length' "$T/heavy.jsonl")" 60 "pages parsed"
# With parsing off there is nothing to move off the loop.
run_gather 0 get -m auto --summary --no-parse -j 8 -i "$T/heavy.txt" --jsonl "$T/np.jsonl"
grep -q '^gather: --mode auto picked async: parsing is off' "$T/stderr" || fail "no-parse: $(grep auto "$T/stderr")"
# Without --summary and with stderr not a terminal, only errors appear.
run_gather 0 get -m auto -j 8 -i "$T/heavy.txt" --jsonl "$T/quiet.jsonl"
check_eq "$(cat "$T/stderr")" "" "stderr of a quiet auto run"
echo "auto: async for latency-bound, hybrid for parse-heavy"
