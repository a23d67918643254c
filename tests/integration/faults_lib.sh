# faults_lib.sh: sourced by the t_faults_*.sh tests (run.sh only runs
# t_*.sh, so this file is not a test of its own). On top of lib.sh: the
# four modes, a few good sample-site URLs that ride along with every fault,
# and fault_run, which runs gather once and checks everything a fault must
# not break: exit code, one record per URL, the good URLs byte for byte,
# exactly the recorded files on disk, no temporary file, and stderr.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
start_server
HOSTDIR=127.0.0.1:$PORT

# FAULT_MODES="async procs" narrows a run while debugging; FAULT_VERBOSE=1
# prints each run's exit code and duration.
read -r -a MODES <<< "${FAULT_MODES:-async threads procs hybrid}"
GOOD=(index.html about.html images/logo.png files/blob.bin)
# Counters of /fault/flaky live as long as nginx, which is ours: still,
# keys carry the test's pid so that no two runs can share one.
TAG=$$
SANITIZED=${GATHER_SANITIZED:-}

sha() { sha256sum < "$1" | cut -d' ' -f1; }
sha_of() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
declare -A GOOD_SHA
for g in "${GOOD[@]}"; do GOOD_SHA[$g]=$(sha "$SITE/$g"); done

# The number of requests /fault/flaky and /fault/flaky-reset saw for key K.
server_count() { curl -s --noproxy '*' "$BASE/fault/count?key=$1"; }

# list_files DIR: the files under DIR, sorted (none when DIR is missing).
list_files() { { find "$1" -type f 2>/dev/null || true; } | sort; }
# temp_files DIR: gather's temporary and part files under DIR.
temp_files() {
  find "$1" \( -name '*.part' -o -name '*.gather-part' -o -name '.gather-*' \) 2>/dev/null || true
}

# The records of the last run, by URL, loaded once (jq is slow to start):
# the fields below joined by \x1f, null written as "null".
FIELDS=(status error attempts path final_url bytes sha256 content_type)
declare -A REC
load_records() {
  local line
  REC=()
  jq -r '[.url, .status, .error, .attempts, .path, .final_url, .bytes, .sha256, .content_type]
         | map(if . == null then "null" else tostring | gsub("\n"; "\\n") end) | join("\u001f")' \
    "$R" > "$R.fields" || fail "$WHAT: records are not valid JSON"
  while IFS= read -r line; do
    REC[${line%%$'\x1f'*}]=${line#*$'\x1f'}
  done < "$R.fields"
}

# rec URL FIELD...: the fields of URL's record, tab-separated; "null" for
# null, "no record" when there is none.
rec() {
  local u=$1 f i out=() v
  shift
  [ -n "${REC[$u]+x}" ] || { echo "no record"; return; }
  IFS=$'\x1f' read -r -a v <<< "${REC[$u]}"
  for f in "$@"; do
    for i in "${!FIELDS[@]}"; do
      [ "${FIELDS[$i]}" = "$f" ] && out+=("${v[$i]}")
    done
  done
  (IFS=$'\t'; echo "${out[*]}")
}

# check_rec URL EXPECTED FIELD...: rec URL FIELD... is EXPECTED (fields
# tab-separated).
check_rec() {
  local u=$1 want=$2
  shift 2
  check_eq "$(rec "$u" "$@")" "$want" "$WHAT: $* of $u"
}

# check_match TEXT ERE WHAT: TEXT matches ERE (case-insensitive).
check_match() {
  grep -qiE -- "$2" <<< "$1" || fail "$3: '$1' does not match /$2/"
}

# check_failed URL ERE: URL failed with an error matching ERE, and left
# nothing behind (no path; fault_run checks that no file appeared).
check_failed() {
  check_match "$(rec "$1" error)" "$2" "$WHAT: error of $1"
  check_rec "$1" null path
}

# check_saved URL BODY_FILE: URL succeeded (status 200, no error) and its
# record and saved file describe exactly the bytes of BODY_FILE.
check_saved() {
  local u=$1 p
  check_rec "$u" "200	null	$(sha "$2")	$(stat -c %s "$2")" status error sha256 bytes
  p=$(rec "$u" path)
  [ -f "$p" ] || fail "$WHAT: $u: no file at '$p'"
  cmp -s "$p" "$2" || fail "$WHAT: $p differs from what the server sent"
}

# fault_run NAME MODE WANT_EXIT [OPTION...] -- [URL...]
# Runs gather -m MODE -j ${JOBS:-4} -P 2 --retry-delay 0.05 OPTIONS on the
# URLs plus the good ones (GOOD, unless NO_GOOD=1), with a fresh records
# file $R and output dir $OUT (or $FAULT_OUT when set: files already there
# may stay). A run longer than ${RUN_TIMEOUT:-60} s counts as a hang;
# ULIMIT_F=BLOCKS runs gather under that file size limit. Then
# checks what no fault may break, and loads the records for rec.
RUN=0
fault_run() {
  local name=$1 m=$2 want=$3 rc=0 g u before t0
  shift 3
  local opts=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  local list=("$@")
  if [ -z "${NO_GOOD:-}" ]; then
    for g in "${GOOD[@]}"; do list+=("$BASE/$g"); done
  fi
  RUN=$((RUN + 1))
  WHAT="$name/$m"
  OUT=${FAULT_OUT:-$T/out-$RUN-$m}
  R=$T/r-$RUN-$m.jsonl
  ERR=$T/err-$RUN-$m
  printf '%s\n' "${list[@]}" > "$T/urls-$RUN"
  before=$(list_files "$OUT")
  t0=$(date +%s.%N)
  (
    [ -z "${ULIMIT_F:-}" ] || ulimit -f "$ULIMIT_F"
    exec timeout -k 5 "${RUN_TIMEOUT:-60}" "$GATHER" get -m "$m" -j "${JOBS:-4}" -P 2 \
      --retry-delay 0.05 "${opts[@]}" -i "$T/urls-$RUN" -o "$OUT" --jsonl "$R"
  ) 2>"$ERR" || rc=$?
  [ -z "${FAULT_VERBOSE:-}" ] || echo "  $WHAT: exit $rc after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    fail "$WHAT: gather ${opts[*]} still running after ${RUN_TIMEOUT:-60} s (hung)"
  fi
  if [ "$rc" != "$want" ]; then
    sed 's/^/    stderr: /' "$ERR" | head -40 >&2
    fail "$WHAT: gather ${opts[*]} exited $rc, expected $want"
  fi
  # Exactly one whole record per URL.
  load_records
  check_eq "$(wc -l < "$R.fields")" "${#list[@]}" "$WHAT: records"
  check_eq "${#REC[@]}" "${#list[@]}" "$WHAT: distinct URLs"
  # The good URLs, byte for byte, under the names their URLs give.
  if [ -z "${NO_GOOD:-}" ]; then
    for g in "${GOOD[@]}"; do
      u=$BASE/$g
      check_rec "$u" "200	null	1	${GOOD_SHA[$g]}	$(stat -c %s "$SITE/$g")	$OUT/$HOSTDIR/$g	$u" \
        status error attempts sha256 bytes path final_url
      cmp -s "$OUT/$HOSTDIR/$g" "$SITE/$g" || fail "$WHAT: $g differs from the served file"
    done
  fi
  # On disk: the files that were there, plus those the records name; no
  # temporary or part file (except with -c, which keeps parts on purpose).
  diff <(sort -u <(printf '%s\n' "$before" | sed '/^$/d') <(awk -F'\x1f' '$5 != "null" { print $5 }' "$R.fields")) \
       <(list_files "$OUT") >&2 ||
    fail "$WHAT: files on disk (>) differ from the files there before plus those recorded (<)"
  if [ -z "${KEEP_PARTS:-}" ] && [ -n "$(temp_files "$OUT")" ]; then
    fail "$WHAT: temporary files left: $(temp_files "$OUT")"
  fi
  # stderr: one "gather: URL: message" line per failed URL, nothing else.
  if grep -v '^gather: ' "$ERR" >&2; then fail "$WHAT: unexpected stderr lines (above)"; fi
  check_eq "$(wc -l < "$ERR")" "$(awk -F'\x1f' '$3 != "null"' "$R.fields" | wc -l)" \
    "$WHAT: stderr lines (one per failed URL)"
}
