# Faults on our side of the wire, in every mode: files already at the
# final name (kept, reused or, with --overwrite, replaced), a write that
# fails (file size limit, full disk): that URL fails and leaves nothing,
# the others are saved; and an output directory that cannot be created
# (and one whose parents are missing: they are created).
. "$(dirname "$0")/faults_lib.sh"

MNTS=()
trap 'for d in "${MNTS[@]}"; do umount -l "$d" 2>/dev/null || true; done; cleanup' EXIT

# mount_tmpfs DIR SIZE: a tmpfs of SIZE at DIR; fails when not allowed.
mount_tmpfs() {
  mkdir -p "$1"
  mount -t tmpfs -o "size=$2" tmpfs "$1" 2>/dev/null || return 1
  MNTS+=("$1")
}

printf 'old about\n' > "$T/old-about"
printf 'old blob\n' > "$T/old-blob"
printf 'old blob 1\n' > "$T/old-blob1"
small=(index.html about.html images/logo.png)

for m in "${MODES[@]}"; do
  echo "mode $m"
  H=$T/ow-$m/$HOSTDIR

  # 14. Files at the final names before the run: about.html and blob.bin
  # (and blob.1.bin) differ from the server's, index.html is the same.
  mkdir -p "$H/files"
  cp "$T/old-about" "$H/about.html"
  cp "$SITE/index.html" "$H/index.html"
  cp "$T/old-blob" "$H/files/blob.bin"
  cp "$T/old-blob1" "$H/files/blob.1.bin"
  list=()
  for g in "${GOOD[@]}"; do list+=("$BASE/$g"); done
  # Without --overwrite nothing is replaced: new bodies get the first free
  # ".N" name, and a file with the very same bytes is reused.
  FAULT_OUT=$T/ow-$m NO_GOOD=1 fault_run keep "$m" 0 -- "${list[@]}"
  for g in "${GOOD[@]}"; do check_saved "$BASE/$g" "$SITE/$g"; done
  check_rec "$BASE/about.html" "$H/about.1.html" path
  check_rec "$BASE/index.html" "$H/index.html" path
  check_rec "$BASE/files/blob.bin" "$H/files/blob.2.bin" path
  check_rec "$BASE/images/logo.png" "$H/images/logo.png" path
  cmp -s "$H/about.html" "$T/old-about" || fail "$WHAT: about.html was replaced"
  cmp -s "$H/files/blob.bin" "$T/old-blob" || fail "$WHAT: blob.bin was replaced"
  cmp -s "$H/files/blob.1.bin" "$T/old-blob1" || fail "$WHAT: blob.1.bin was replaced"
  [ ! -e "$H/index.1.html" ] || fail "$WHAT: index.html was saved twice"
  # Again: every body is already there under some name; nothing new.
  FAULT_OUT=$T/ow-$m NO_GOOD=1 fault_run keep-again "$m" 0 -- "${list[@]}"
  check_rec "$BASE/about.html" "$H/about.1.html" path
  check_rec "$BASE/files/blob.bin" "$H/files/blob.2.bin" path
  check_eq "$(find "$T/ow-$m" -type f | wc -l)" 7 "$WHAT: files"
  # --overwrite (with --fsync): the final names now hold the server's
  # bodies; the .N files of earlier runs are left alone.
  FAULT_OUT=$T/ow-$m NO_GOOD=1 fault_run overwrite "$m" 0 --overwrite --fsync -- "${list[@]}"
  for g in "${GOOD[@]}"; do
    check_saved "$BASE/$g" "$SITE/$g"
    check_rec "$BASE/$g" "$H/$g" path
  done
  cmp -s "$H/files/blob.1.bin" "$T/old-blob1" || fail "$WHAT: blob.1.bin was touched"
  cmp -s "$H/about.1.html" "$SITE/about.html" || fail "$WHAT: about.1.html was touched"

  # 14b. A file where a directory is needed (images, before
  # images/logo.png) and a directory where a file goes (about.html/): both
  # stay as they were, and the bodies go to images.d/ and about.1.html.
  H=$T/clash-$m/$HOSTDIR
  mkdir -p "$H/about.html/inside"
  printf 'not a directory\n' > "$H/images"
  FAULT_OUT=$T/clash-$m NO_GOOD=1 fault_run clash "$m" 0 -- \
    "$BASE/images/logo.png" "$BASE/about.html" "$BASE/index.html"
  check_saved "$BASE/images/logo.png" "$SITE/images/logo.png"
  check_saved "$BASE/about.html" "$SITE/about.html"
  check_rec "$BASE/images/logo.png" "$H/images.d/logo.png" path
  check_rec "$BASE/about.html" "$H/about.1.html" path
  check_rec "$BASE/index.html" "$H/index.html" path
  check_eq "$(cat "$H/images")" "not a directory" "$WHAT: the file images"
  [ -d "$H/about.html/inside" ] || fail "$WHAT: the directory about.html was touched"
  # Again, with another image: images/ still maps to images.d/.
  FAULT_OUT=$T/clash-$m NO_GOOD=1 fault_run clash-again "$m" 0 -- \
    "$BASE/images/logo.png" "$BASE/images/photo.jpg"
  check_rec "$BASE/images/logo.png" "$H/images.d/logo.png" path
  check_saved "$BASE/images/photo.jpg" "$SITE/images/photo.jpg"
  check_rec "$BASE/images/photo.jpg" "$H/images.d/photo.jpg" path

  # 15. A file size limit of 200 KiB (gather ignores SIGXFSZ): blob.bin
  # (300 KB) cannot be written; the small files can.
  list=()
  for g in "${small[@]}"; do list+=("$BASE/$g"); done
  ULIMIT_F=200 NO_GOOD=1 fault_run file-size-limit "$m" 1 --retries 2 -- "${list[@]}" "$BASE/files/blob.bin"
  for g in "${small[@]}"; do check_saved "$BASE/$g" "$SITE/$g"; done
  check_failed "$BASE/files/blob.bin" 'file too large|EFBIG'
  check_rec "$BASE/files/blob.bin" "200	1" status attempts
  [ ! -e "$OUT/$HOSTDIR/files/blob.bin" ] || fail "$WHAT: a partial blob.bin under its final name"

  # 16. An output directory that cannot be created: a usage error (2),
  # said once on stderr, before any transfer.
  : > "$T/file"
  for o in "$T/file/sub" "$T/file"; do
    rc=0
    timeout 30 "$GATHER" get -m "$m" -j 4 -P 2 -o "$o" --jsonl "$T/unwritable.jsonl" --restart \
      "$BASE/index.html" 2>"$T/stderr" || rc=$?
    check_eq "$rc" 2 "$m: exit code with -o $o"
    check_eq "$(wc -l < "$T/stderr")" 1 "$m: stderr lines with -o $o"
    grep -qF -- "$o" "$T/stderr" || fail "$m: the message does not name $o: $(cat "$T/stderr")"
    check_match "$(cat "$T/stderr")" 'not a directory|not writable|cannot' "$m: message with -o $o"
    [ ! -s "$T/unwritable.jsonl" ] || fail "$m: records written with -o $o"
  done

  # 17. Missing parents of the output directory are created, as wget2 -P
  # and curl --create-dirs do.
  rc=0
  timeout 30 "$GATHER" get -m "$m" -j 4 -P 2 -o "$T/deep-$m/er/out" --no-progress \
    "$BASE/index.html" 2>"$T/stderr" || rc=$?
  check_eq "$rc" 0 "$m: exit code with missing parents of -o ($(cat "$T/stderr"))"
  cmp -s "$SITE/index.html" "$T/deep-$m/er/out/$HOSTDIR/index.html" ||
    fail "$m: index.html not saved under the new directories"
done

# 15 again, with a real full disk: a 256 KiB tmpfs, where the small files
# fit and blob.bin (300 KB) cannot. One transfer at a time, small files
# first, so that blob.bin's part file never takes their space.
if mount_tmpfs "$T/tiny" 256k; then
  for m in "${MODES[@]}"; do
    list=()
    for g in "${small[@]}"; do list+=("$BASE/$g"); done
    JOBS=1 FAULT_OUT=$T/tiny/out NO_GOOD=1 fault_run enospc "$m" 1 --retries 2 -- "${list[@]}" "$BASE/files/blob.bin"
    for g in "${small[@]}"; do check_saved "$BASE/$g" "$SITE/$g"; done
    check_failed "$BASE/files/blob.bin" 'no space|ENOSPC'
    check_rec "$BASE/files/blob.bin" "200	1" status attempts
    rm -rf "$T/tiny/out"
  done
  # An output directory on a read-only file system: even root cannot write.
  mkdir -p "$T/ro"
  if mount --bind "$T/ro" "$T/ro" 2>/dev/null && MNTS+=("$T/ro") && mount -o remount,bind,ro "$T/ro" 2>/dev/null; then
    for m in "${MODES[@]}"; do
      rc=0
      timeout 30 "$GATHER" get -m "$m" -o "$T/ro" --jsonl "$T/ro.jsonl" --restart "$BASE/index.html" 2>"$T/stderr" || rc=$?
      check_eq "$rc" 2 "$m: exit code with a read-only output directory"
      grep -qF -- "$T/ro" "$T/stderr" || fail "$m: the message does not name $T/ro: $(cat "$T/stderr")"
    done
  else
    echo "skip: cannot make a read-only bind mount"
  fi
else
  echo "skip: cannot mount a tmpfs here (ENOSPC case not run)"
fi
echo "faults/disk: ok"
