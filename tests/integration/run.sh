#!/usr/bin/env bash
# Runs every integration test (tests/integration/t_*.sh) against the binary
# given as $1, each in its own process with a time bound.
set -uo pipefail
cd "$(dirname "$0")/../.."
export GATHER=${1:?usage: run.sh GATHER_BINARY}
if [ -n "${GATHER_SANITIZED:-}" ]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
fi
pass=0 failed=()
for t in tests/integration/t_*.sh; do
  if [ -n "${ONLY:-}" ]; then # names, space-separated: run only those
    keep=
    for o in $ONLY; do [[ $t == *"$o"* ]] && keep=1; done
    [ -n "$keep" ] || continue
  fi
  start=$(date +%s)
  if timeout -k 10 "${TEST_TIMEOUT:-300}" bash "$t" >"/tmp/gather-it.$$.log" 2>&1; then
    pass=$((pass + 1)); echo "ok   $t ($(( $(date +%s) - start )) s)"
  else
    failed+=("$t"); echo "FAIL $t"; sed 's/^/    /' "/tmp/gather-it.$$.log" | tail -40
  fi
done
rm -f "/tmp/gather-it.$$.log"
echo "integration ($GATHER): $pass passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
