# Servers that accept and never answer, in every mode: --timeout ends
# them (and is retried), before or after the headers; and a thousand of
# them at once (300 under the sanitizers) end as a thousand timeout
# records, without running out of descriptors or crashing.
. "$(dirname "$0")/faults_lib.sh"

TIMEOUT_ERE='timed? ?out'
hang=$BASE/fault/hang
hang_headers="$BASE/fault/hang?headers=1"
n=1000
[ -z "$SANITIZED" ] || n=300
for i in $(seq "$n"); do echo "$BASE/fault/hang?i=$i"; done > "$T/hangs.txt"
mapfile -t hangs < "$T/hangs.txt"

for m in "${MODES[@]}"; do
  echo "mode $m"

  # 13. --timeout 1 --retries 1: two attempts, each ended by the timeout;
  # no response at all, or headers and not one body byte.
  fault_run hang "$m" 1 --timeout 1 --retries 1 -- "$hang" "$hang_headers"
  check_failed "$hang" "$TIMEOUT_ERE"
  check_rec "$hang" "0	null	2	0	null" status final_url attempts bytes sha256
  check_failed "$hang_headers" "$TIMEOUT_ERE"
  check_rec "$hang_headers" "200	2	0" status attempts bytes

  # A thousand at once (procs: 200 worker processes, not a thousand).
  jobs=1000
  [ "$m" = procs ] && jobs=200
  JOBS=$jobs RUN_TIMEOUT=120 fault_run many-hangs "$m" 1 --timeout 2 --retries 0 -- "${hangs[@]}"
  check_eq "$(jq -s --arg h "$BASE/fault/hang?i=" 'map(select((.url | startswith($h)) and
      .status == 0 and .attempts == 1 and .path == null and
      (.error | test("timed? ?out"; "i")))) | length' "$R")" "$n" "$WHAT: timeout records"
  if grep -qiE 'too many open files|EMFILE|cannot|out of memory' "$ERR"; then
    fail "$WHAT: resource errors on stderr: $(grep -iE 'too many open files|EMFILE|cannot|out of memory' "$ERR" | head -3)"
  fi
done
echo "faults/timeouts: ok"
