#!/usr/bin/env bash
# Runs the integration tests named after the binary (a ThreadSanitizer
# build), and before them the unit test binaries in TSAN_UNITS, with TSan
# stopping at its first report. TSan needs the address
# space layout it was built for: when the kernel randomises more than that
# allows, the tests run with randomisation off (setarch -R), and when even
# that is refused, they are skipped, saying so.
set -uo pipefail
cd "$(dirname "$0")/../.."
bin=${1:?usage: tsan.sh TSAN_BINARY TEST...}
shift
export TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1
run=()
if ! "$bin" --version >/dev/null 2>&1; then
  if setarch "$(uname -m)" -R "$bin" --version >/dev/null 2>&1; then
    run=(setarch "$(uname -m)" -R)
    echo "tsan: address space randomisation off for ThreadSanitizer"
  else
    echo "SKIPPED: ThreadSanitizer cannot start on this kernel:" >&2
    "$bin" --version 2>&1 | head -3 >&2
    exit 0
  fi
fi
# First the unit tests that start threads (TSAN_UNITS: their binaries).
for u in ${TSAN_UNITS:-}; do
  echo "== $u"
  (cd tests/unit && "${run[@]}" "../../$u") || exit 1
done
GATHER_SANITIZED=1 GATHER_HOOKED=$bin ONLY="$*" \
  "${run[@]}" tests/integration/run.sh "$bin"
