# The four modes on one workload: identical records (apart from timings and
# the output directory) and identical saved files.
. "$(dirname "$0")/lib.sh"
start_server
urls > "$T/urls.txt"

normalise() { normalise_records "$1" "$T/$2" | sort; }
for m in async threads procs hybrid; do
  run_gather 1 get -m "$m" -i "$T/urls.txt" -o "$T/out-$m" --jsonl "$T/$m.jsonl" -j 6 -P 2
  normalise "$T/$m.jsonl" "out-$m" > "$T/$m.norm"
done
# async's records are checked field by field in t_sample_site.sh; the
# others must match them exactly.
diff -u <(sort "$ROOT/tests/integration/expected/sample.jsonl") "$T/async.norm" || fail "async records differ from expected"
for m in threads procs hybrid; do
  diff -u "$T/async.norm" "$T/$m.norm" || fail "$m records differ from async"
  diff -r "$T/out-async" "$T/out-$m" || fail "$m saved files differ from async"
done
# The same with -j 1 (one worker, one thread): nothing depends on order.
run_gather 1 get -m procs -j 1 -i "$T/urls.txt" -o "$T/out-p1" --jsonl "$T/p1.jsonl"
diff -u "$T/async.norm" <(normalise "$T/p1.jsonl" out-p1) || fail "procs -j 1 differs"
echo "4 modes agree on $(wc -l < "$T/async.norm") records"
