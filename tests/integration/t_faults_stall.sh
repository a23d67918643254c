# Slow bodies, in every mode: --stall-timeout S fails a transfer when no
# byte arrives for S seconds (however fast the bytes before the silence
# came), and leaves alone a body that is slow but steady.
. "$(dirname "$0")/faults_lib.sh"

fill() { yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ- | head -c "$1" || true; }
fill 2000 > "$T/fill2000"
STALL_ERE='too slow|stall|timed? ?out|no data'

for m in "${MODES[@]}"; do
  echo "mode $m"
  # 7. --stall-timeout 1 and
  # - hang: not one byte, ever;
  # - long: 300 bytes, then a 60 s silence;
  # - gaps: 1000 bytes every 3 s: two silences of 3 s, each longer than
  #   the limit (the body is cut short so that a gather which misses them
  #   still ends within seconds, as a success: that is the failure);
  # - steady: 100 bytes every 50 ms, never silent for 1 s: saved whole.
  hang=$BASE/fault/hang
  long="$BASE/fault/slow?bytes=1000&chunk=300&interval_ms=60000"
  gaps="$BASE/fault/slow?bytes=3000&chunk=1000&interval_ms=3000"
  steady="$BASE/fault/slow?bytes=2000&chunk=100&interval_ms=50"
  RUN_TIMEOUT=40 fault_run stall "$m" 1 --stall-timeout 1 --retries 0 -- "$hang" "$long" "$gaps" "$steady"
  check_saved "$steady" "$T/fill2000"
  check_failed "$hang" "$STALL_ERE"
  check_rec "$hang" "0	1" status attempts
  check_failed "$long" "$STALL_ERE"
  check_rec "$long" "200	1	300" status attempts bytes
  check_failed "$gaps" "$STALL_ERE"
  check_rec "$gaps" "200	1	1000" status attempts bytes
done
echo "faults/stall: ok"
