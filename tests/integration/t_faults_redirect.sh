# Redirect and naming faults, in every mode: redirect loops and chains
# under --max-redirs, redirects (and URLs) to other schemes than http(s),
# and Content-Disposition names that try to leave the output directory:
# gather names files after the requested URL only.
. "$(dirname "$0")/faults_lib.sh"

passwd_line=$(head -1 /etc/passwd)
evil=gather-evil-$TAG
# Places a naive client could write the Content-Disposition names to.
targets=("/tmp/$evil" "/etc/$evil" "/$evil" "$T/$evil" "$ROOT/$evil" "$PWD/$evil" "/tmp/$evil-value")
for f in "${targets[@]}"; do [ ! -e "$f" ] || fail "$f exists before the test"; done

# check_redirect_limit URL [CODE]: URL failed on the redirect limit, with
# the last response's status CODE (302), at one attempt.
check_redirect_limit() {
  check_failed "$1" "maximum.*redirect|redirects followed|too many redirect"
  check_rec "$1" "${2:-302}	1" status attempts
}

# check_url_named URL: URL's body is saved under the name of the URL that
# was requested: in OUT/host:port/ (really: after resolving links), as
# the sanitised last path component with its query.
check_url_named() {
  local p real base
  p=$(rec "$1" path)
  [ -f "$p" ] || fail "$WHAT: $1: no file at '$p'"
  real=$(realpath "$p")
  base=$(realpath "$OUT/$HOSTDIR")
  case $real in "$base"/*) ;; *) fail "$WHAT: $1 saved outside $base: $real" ;; esac
  local u=${1#"$BASE"/} want
  want=${u%%\?*}
  want=${want##*/}
  case $(basename "$real") in "$want?"*) ;; *) fail "$WHAT: $1 saved as $(basename "$real"), not after its URL" ;; esac
}

for m in "${MODES[@]}"; do
  echo "mode $m"

  # 8, 9. --max-redirs 5: a loop stops after 5; a chain of 3 is followed;
  # ftp:, file:, gopher: and javascript: targets are refused, and so are
  # such URLs in the list itself.
  loop=$BASE/fault/redirect-loop
  loop301="$BASE/fault/redirect-loop?code=301"
  chain3="$BASE/redirect?to=/files/data.json&n=3"
  schemes=("$BASE/fault/redirect-scheme?to=ftp://127.0.0.1/x"
           "$BASE/fault/redirect-scheme?to=file:///etc/passwd"
           "$BASE/fault/redirect-scheme?to=gopher://127.0.0.1/x"
           "$BASE/fault/redirect-scheme?to=javascript:alert(1)")
  direct=("ftp://127.0.0.1/x" "file:///etc/passwd")
  fault_run redirects "$m" 1 --max-redirs 5 -- "$loop" "$loop301" "$chain3" "${schemes[@]}" "${direct[@]}"
  check_redirect_limit "$loop"
  check_redirect_limit "$loop301" 301
  check_match "$(rec "$loop" error)" '5' "$WHAT: error of $loop names the limit"
  for u in "${schemes[@]}"; do
    check_failed "$u" 'protocol|scheme|not supported|disabled|unsupported'
    check_rec "$u" "302	1" status attempts
  done
  for u in "${direct[@]}"; do
    check_failed "$u" 'scheme|protocol|unsupported|not supported'
    check_rec "$u" "0	0	null" status attempts final_url
  done
  check_saved "$chain3" "$SITE/files/data.json"
  check_rec "$chain3" "$BASE/files/data.json	1" final_url attempts
  check_url_named "$chain3"
  # The redirect's target name is not used: files/data.json is not saved.
  [ ! -e "$OUT/$HOSTDIR/files/data.json" ] || fail "$WHAT: saved under the redirect target's name"
  # Nothing of /etc/passwd anywhere: not in a file, not in a record.
  if grep -rqF -- "$passwd_line" "$OUT" "$R"; then fail "$WHAT: /etc/passwd was read"; fi

  # --max-redirs 2: the chain of 3 fails, a chain of 2 is fine; the
  # default (10) follows the chain of 3 and stops a loop.
  chain2="$BASE/redirect?to=/files/data.json&n=2"
  fault_run max-redirs-2 "$m" 1 --max-redirs 2 -- "$chain3" "$chain2"
  check_redirect_limit "$chain3"
  check_saved "$chain2" "$SITE/files/data.json"
  check_url_named "$chain2"
  fault_run default-redirs "$m" 1 -- "$chain3" "$loop"
  check_saved "$chain3" "$SITE/files/data.json"
  check_url_named "$chain3"
  check_redirect_limit "$loop"
  check_match "$(rec "$loop" error)" '10' "$WHAT: error of $loop names the default limit"

  # 10. Content-Disposition names with ../ and absolute paths: saved in the
  # output directory under the URL's name, nowhere else.
  d1="$BASE/fault/disposition?name=../../../../../../../../../../../../tmp/$evil"
  d2="$BASE/fault/disposition?name=/etc/$evil"
  d3="$BASE/fault/disposition?name=../$evil"
  d4="$BASE/fault/disposition?value=attachment%3B%20filename%3D..%2F..%2F..%2F..%2F..%2F..%2F..%2F..%2Ftmp%2F$evil-value"
  fault_run disposition "$m" 0 -- "$d1" "$d2" "$d3" "$d4"
  printf 'attachment body\n' > "$T/attachment"
  for u in "$d1" "$d2" "$d3" "$d4"; do
    check_saved "$u" "$T/attachment"
    check_url_named "$u"
  done
  for f in "${targets[@]}"; do [ ! -e "$f" ] || fail "$WHAT: $f was created"; done
  [ -z "$(find "$T" -name "$evil*")" ] || fail "$WHAT: a file took the server's name: $(find "$T" -name "$evil*")"
done
echo "faults/redirect: ok"
