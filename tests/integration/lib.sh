# lib.sh: sourced by every integration test. Gives the test a scratch
# directory and private nginx servers on free loopback ports, and removes
# them all when the test exits, whatever the outcome.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GATHER=${GATHER:?GATHER must name the binary under test}
case $GATHER in /*) ;; *) GATHER=$ROOT/$GATHER ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/gather-test.XXXXXX")
NGINX_DIR=
NGINX_DIRS=()

cleanup() {
  [ -n "${KEEP_T:-}" ] && { echo "kept $T" >&2; return; }
  local d
  for d in "${NGINX_DIRS[@]}"; do "$ROOT/samples/serve" stop "$d" >/dev/null 2>&1 || true; done
  rm -rf "$T"
}
trap cleanup EXIT

# start_server [--site DIR] [SERVE_OPTIONS...]: serves the sample site (or
# DIR); sets BASE, PORT, SITE and NGINX_DIR; H2C_BASE and H2C_PORT, the same
# server over HTTP/2 with prior knowledge; and TLS_BASE, TLS_PORT and
# TLS_CA, the same server over HTTPS (HTTP/2 by ALPN) with a self-signed
# certificate, TLS_CA. Called again, it starts another server (another
# host to gather) and sets them for that one.
start_server() {
  local env
  env=$("$ROOT/samples/serve" start "$@") || { echo "cannot start nginx" >&2; exit 1; }
  eval "$env"
  BASE=$GATHER_BASE PORT=$GATHER_PORT NGINX_DIR=$GATHER_NGINX_DIR
  NGINX_DIRS+=("$NGINX_DIR")
  H2C_BASE=$GATHER_H2C_BASE H2C_PORT=$GATHER_H2C_PORT
  TLS_BASE=$GATHER_TLS_BASE TLS_PORT=$GATHER_TLS_PORT TLS_CA=$GATHER_TLS_CA
  SITE=$ROOT/samples/site
  if [ "${1:-}" = --site ]; then SITE=$2; fi
}

# urls LIST: the list with {BASE} filled in.
urls() { "$ROOT/samples/serve" urls "$BASE" "$@"; }

fail() { echo "FAIL: $*" >&2; exit 1; }

# check_eq ACTUAL EXPECTED WHAT
check_eq() { [ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"; }

# run_gather EXPECTED_EXIT ARGS...: runs gather, checks its exit code; its
# stderr goes to $T/stderr.
run_gather() {
  local want=$1 rc=0
  shift
  "$GATHER" "$@" 2>"$T/stderr" || rc=$?
  if [ "$rc" != "$want" ]; then
    cat "$T/stderr" >&2
    fail "gather $* exited $rc, expected $want"
  fi
}

# usage_error WHAT_STDERR_MUST_CONTAIN ARGS...: gather exits 2 and says so.
usage_error() {
  local want=$1
  shift
  run_gather 2 "$@"
  grep -qF -- "$want" "$T/stderr" || { cat "$T/stderr" >&2; fail "gather $*: stderr does not mention '$want'"; }
}

# normalise_records RECORDS OUTDIR: the records as tests/integration/expected
# holds them, one a line: without timings, and with the host and port, the
# output directory and the validators (which depend on the checkout's
# mtimes) replaced by placeholders.
normalise_records() {
  jq -c --arg h "127.0.0.1:$PORT" --arg o "$2/" 'del(.timings) |
    (if .etag then .etag = "{ETAG}" else . end) |
    (if .last_modified then .last_modified = "{LAST_MODIFIED}" else . end) |
    walk(if type=="string" then gsub($h; "{HOST}") | (if startswith($o) then "{OUT}/" + .[($o|length):] else . end) else . end)' \
    "$1"
}
