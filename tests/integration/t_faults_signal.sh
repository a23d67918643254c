# Stopped in the middle of a slow body, in every mode, without -c: SIGINT
# or SIGTERM ends the run at once, the finished URLs keep their records
# and files, and no temporary file is left behind (t_interrupt.sh covers
# -c, where part files are kept on purpose).
. "$(dirname "$0")/faults_lib.sh"

# A body of 100 KB at 1 KB every 500 ms: nearly a minute; the signal
# comes long before its end.
slow="$BASE/fault/slow?bytes=100000&chunk=1000&interval_ms=500"
good=()
for g in "${GOOD[@]}"; do good+=("$BASE/$g"); done

for m in "${MODES[@]}"; do
  for sig in INT TERM; do
    WHAT=$sig/$m
    OUT=$T/out-$sig-$m
    R=$T/r-$sig-$m.jsonl
    "$GATHER" get -m "$m" -j 4 -P 2 -o "$OUT" --jsonl "$R" "$slow" "${good[@]}" 2>"$T/stderr" &
    pid=$!
    # Wait until the good URLs are in and the slow body has started.
    for _ in $(seq 100); do
      [ -n "$(temp_files "$OUT")" ] && [ "$(wc -l < "$R" 2>/dev/null || echo 0)" -ge "${#good[@]}" ] && break
      sleep 0.1
    done
    [ -n "$(temp_files "$OUT")" ] || fail "$WHAT: the slow body never started"
    kill -"$sig" "$pid"
    rc=0
    timeout 30 tail --pid="$pid" -f /dev/null || fail "$WHAT: gather still running 30 s after SIG$sig"
    wait "$pid" || rc=$?
    if [ "$sig" = INT ]; then want=130; else want=143; fi
    check_eq "$rc" "$want" "$WHAT: exit status"
    load_records
    check_eq "$(wc -l < "$R.fields")" "${#good[@]}" "$WHAT: records (the good URLs; the slow one is not finished)"
    for g in "${GOOD[@]}"; do check_saved "$BASE/$g" "$SITE/$g"; done
    [ -z "$(temp_files "$OUT")" ] || fail "$WHAT: temporary files left: $(temp_files "$OUT")"
    check_eq "$(list_files "$OUT" | wc -l)" "${#good[@]}" "$WHAT: files saved"
  done
done
echo "faults/signal: ok"
