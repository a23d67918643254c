# Faults that earn retries, in every mode: connection resets and empty
# replies, retried and not-retried HTTP statuses, servers that fail a few
# times then answer, and Retry-After (seconds and HTTP-date) under the
# --max-retry-wait cap. /fault/count tells how many requests the server saw.
. "$(dirname "$0")/faults_lib.sh"

# check_http_error URL CODE ATTEMPTS: a response with status CODE after
# ATTEMPTS requests: its body hashed, not saved.
check_http_error() {
  check_rec "$1" "$2	HTTP $2	$3	null	$1	11	$(sha_of "status $2
")" status error attempts path final_url bytes sha256
}

# check_no_response URL ATTEMPTS ERE: no response at all, after ATTEMPTS.
check_no_response() {
  check_rec "$1" "0	null	null	null	0	null	$2" status final_url path sha256 bytes content_type attempts
  check_match "$(rec "$1" error)" "$3" "$WHAT: error of $1"
}

# check_body URL TEXT ATTEMPTS: URL succeeded after ATTEMPTS requests and
# its saved file holds exactly TEXT.
check_body() {
  printf '%s' "$2" > "$T/expected"
  check_saved "$1" "$T/expected"
  check_rec "$1" "$3	text/plain; charset=utf-8	$1" attempts content_type final_url
}

for m in "${MODES[@]}"; do
  echo "mode $m"
  k=$TAG-$m

  # 1-3. --retries 2: every transient failure costs 3 attempts, the others 1.
  reset=$BASE/fault/reset
  close=$BASE/fault/close
  always_reset="$BASE/fault/flaky-reset?key=$k-always&fail=1000"
  flaky="$BASE/fault/flaky?key=$k-flaky&fail=2"
  flaky502="$BASE/fault/flaky?key=$k-flaky502&fail=2&code=502"
  flaky_reset="$BASE/fault/flaky-reset?key=$k-freset&fail=2"
  retried=(500 502 503 504 408 429)
  final=(400 403 404 410)
  urls=("$reset" "$close" "$always_reset" "$flaky" "$flaky502" "$flaky_reset")
  for c in "${retried[@]}" "${final[@]}"; do urls+=("$BASE/fault/status/$c"); done
  fault_run retries "$m" 1 --retries 2 -- "${urls[@]}"

  check_no_response "$reset" 3 'reset|recv failure'
  check_no_response "$close" 3 'empty reply|nothing'
  check_no_response "$always_reset" 3 'reset|recv failure'
  # libcurl may resend once on a fresh connection when a reused one is
  # reset before any byte: the server sees 3 to 6 requests for 3 attempts.
  n=$(server_count "$k-always")
  [ "$n" -ge 3 ] && [ "$n" -le 6 ] || fail "$WHAT: server saw $n requests for 3 attempts of $always_reset"

  for c in "${retried[@]}"; do check_http_error "$BASE/fault/status/$c" "$c" 3; done
  for c in "${final[@]}"; do check_http_error "$BASE/fault/status/$c" "$c" 1; done

  # Two 503s (or 502s), then "ok KEY": saved on the third attempt, and the
  # server saw exactly those three requests.
  check_body "$flaky" "ok $k-flaky
" 3
  check_eq "$(server_count "$k-flaky")" 3 "$WHAT: requests the server saw for $flaky"
  check_body "$flaky502" "ok $k-flaky502
" 3
  # Two resets, then "ok KEY". libcurl silently resends a request whose
  # reused connection was reset, and may do so on each of several pooled
  # connections, so 1 to 3 attempts of ours; the server's count (at least
  # 3 requests) is what shows every reset was followed by another request.
  a=$(rec "$flaky_reset" attempts)
  [ "$a" -ge 1 ] && [ "$a" -le 3 ] || fail "$WHAT: $flaky_reset took $a attempts, expected 1 to 3"
  check_body "$flaky_reset" "ok $k-freset
" "$a"
  n=$(server_count "$k-freset")
  [ "$n" -ge 3 ] || fail "$WHAT: server saw $n requests for $flaky_reset"

  # The default is 3 retries; --retries 0 makes one attempt only.
  always_reset="$BASE/fault/flaky-reset?key=$k-default&fail=1000"
  fault_run default-retries "$m" 1 -- "$BASE/fault/status/503" "$always_reset"
  check_http_error "$BASE/fault/status/503" 503 4
  check_no_response "$always_reset" 4 'reset|recv failure'
  once="$BASE/fault/flaky?key=$k-once&fail=1"
  fault_run no-retries "$m" 1 --retries 0 -- "$BASE/fault/status/503" "$reset" "$once"
  check_http_error "$BASE/fault/status/503" 503 1
  check_no_response "$reset" 1 'reset|recv failure'
  check_http_error "$once" 503 1
  check_eq "$(server_count "$k-once")" 1 "$WHAT: requests for a URL not to be retried"

  # 4. Retry-After: 1 s (seconds), 1 s from now (HTTP-date), and values
  # that are no delay at all ('soon', -1, a past date: plain backoff).
  ra429="$BASE/fault/flaky?key=$k-ra&fail=1&code=429&retry_after=1"
  radate="$BASE/fault/flaky?key=$k-rd&fail=1&retry_after_date=1"
  odd=("$BASE/fault/status/503?retry_after_date=1" "$BASE/fault/status/503?retry_after=soon"
       "$BASE/fault/status/503?retry_after=-1" "$BASE/fault/status/503?retry_after_date=-5")
  RUN_TIMEOUT=30 fault_run retry-after "$m" 1 --retries 1 -- "$ra429" "$radate" "${odd[@]}"
  check_body "$ra429" "ok $k-ra
" 2
  check_eq "$(server_count "$k-ra")" 2 "$WHAT: requests for $ra429"
  check_body "$radate" "ok $k-rd
" 2
  for u in "${odd[@]}"; do check_http_error "$u" 503 2; done

  # --max-retry-wait 0.2 caps a Retry-After of 30 s (seconds or date):
  # uncapped, these would need a minute and the run timeout would fire.
  cap429="$BASE/fault/flaky?key=$k-cap&fail=1&code=429&retry_after=30"
  cap503="$BASE/fault/status/503?retry_after=30"
  capdate="$BASE/fault/status/429?retry_after_date=30"
  RUN_TIMEOUT=20 fault_run retry-after-cap "$m" 1 --retries 2 --max-retry-wait 0.2 -- "$cap429" "$cap503" "$capdate"
  check_body "$cap429" "ok $k-cap
" 2
  check_http_error "$cap503" 503 3
  check_http_error "$capdate" 429 3
  # It caps the exponential backoff as well (30 s, then 60 s uncapped).
  RUN_TIMEOUT=20 fault_run backoff-cap "$m" 1 --retries 2 --retry-delay 30 --max-retry-wait 0.2 -- "$BASE/fault/status/500"
  check_http_error "$BASE/fault/status/500" 500 3
done
echo "faults/retry: ok"
