# gather crawl: the set of URLs found on the sample site in every mode,
# saved files byte for byte, depth, scope, --max-pages, robots.txt (checked
# on the server's access log), sitemaps, resuming, and CSV records.
. "$(dirname "$0")/lib.sh"
EXP=$ROOT/tests/integration/expected
# The sample site, with a site of our own under /site/ (written below,
# once the port is known) and a robots.txt for it.
cp -r "$ROOT/samples/site" "$T/root"
S=$T/root/site
mkdir -p "$S/private" "$S/img"
start_server --site "$T/root"
LOG=$NGINX_DIR/access.log

# "STATUS /path" per record, sorted by path.
found() { jq -r --arg b "$BASE" '"\(.status) \(.url | ltrimstr($b))"' "$1" | sort -k2; }
# Paths requested from the server since the log was last cleared.
requested() { awk '{print $4}' "$LOG"; }

# Every file a 200 record saved is the served file, byte for byte.
check_saved() { # RECORDS SITE
  local n=0 path rel
  while IFS=$'\t' read -r path rel; do
    rel=${rel%%\?*}; case $rel in */) rel+=index.html ;; esac
    cmp -s "$path" "$2$rel" || fail "$path differs from $2$rel"
    n=$((n + 1))
  done < <(jq -r --arg b "$BASE" 'select(.status == 200) | [.path, (.url | ltrimstr($b))] | @tsv' "$1")
  [ "$n" -gt 0 ] || fail "no file saved"
}

# --- the sample site, in every mode ------------------------------------------
{ cat "$EXP/crawl-sample.txt"
  printf '%s\n' '200 /images/logo.png' '404 /images/missing.png' \
    '200 /images/photo.jpg' '200 /images/pixel.png' '200 /images/spinner.gif'
} | sort -k2 > "$T/expected-p.txt"
for m in async threads procs hybrid; do
  run_gather 1 crawl -m "$m" -j 4 -P 2 -o "$T/o-$m" --jsonl "$T/$m.jsonl" "$BASE/"
  diff -u "$EXP/crawl-sample.txt" <(found "$T/$m.jsonl") || fail "$m: crawl found a different set"
  check_saved "$T/$m.jsonl" "$SITE"
  run_gather 1 crawl -m "$m" -p -o "$T/p-$m" --jsonl "$T/p-$m.jsonl" "$BASE/"
  diff -u "$T/expected-p.txt" <(found "$T/p-$m.jsonl") || fail "$m: crawl --requisites found a different set"
done
# A frontier of 3 URLs in memory at each end spills the rest to its file
# (test builds only): the same set, breadth-first order kept.
if [ -n "${GATHER_HOOKED:-}" ]; then
  GATHER_TEST_CRAWL_QUEUE=3 "$GATHER_HOOKED" crawl -p --jsonl "$T/spill.jsonl" "$BASE/" 2>/dev/null || true
  diff -u "$T/expected-p.txt" <(found "$T/spill.jsonl") || fail "crawl with a spilled frontier found a different set"
  GATHER_TEST_CRAWL_QUEUE=3 "$GATHER_HOOKED" crawl -p --depth 1 --jsonl "$T/spill1.jsonl" "$BASE/" 2>/dev/null || true
  "$GATHER" crawl -p --depth 1 --jsonl "$T/nospill1.jsonl" "$BASE/" 2>/dev/null || true
  diff -u <(found "$T/nospill1.jsonl") <(found "$T/spill1.jsonl") || fail "spilled frontier broke --depth 1"
fi
# Each URL once, and one request each (plus robots.txt).
check_eq "$(jq -r .url "$T/async.jsonl" | sort | uniq -d)" "" "duplicate records"

# --- a site of our own: depth, scope, robots.txt, sitemaps -------------------
page() { local f=$1; shift; { echo "<html><body>"; for l; do echo "<a href=\"$l\">x</a>"; done; echo "</body></html>"; } > "$S/$f"; }
page index.html a.html d1.html private/secret.html "b.html?x=1#frag" "http://localhost:$PORT/site/other.html" nofollow.html
page a.html index.html "./a.html" "HTTP://127.0.0.1:$PORT/site/b.html?x=1"
page b.html
page d1.html d2.html
page d2.html d3.html
page d3.html
page private/secret.html
page nofollow.html
page orphan.html
page orphan2.html
page other.html
printf '<html><body><img src="img/p.png"></body></html>' > "$S/pic.html"
cp "$SITE/images/pixel.png" "$S/img/p.png"
# A page that embeds more than images: style sheet, icon, script, frame
# (a page whose own image is a requisite too), object and video; its
# alternate link and canonical link are links, not requisites.
cat > "$S/media.html" <<'HTML'
<html><head><link rel="stylesheet" href="css/s.css"><link rel="icon" href="img/p.png">
<link rel="alternate" href="orphan2.html"><script src="js/a.js"></script></head>
<body><iframe src="frame.html"></iframe><object data="doc.txt"></object>
<video src="v.bin" poster="img/poster.png"></video></body></html>
HTML
printf '<html><body><img src="img/f.png"></body></html>' > "$S/frame.html"
mkdir -p "$S/css" "$S/js"
printf 'body { color: red }\n' > "$S/css/s.css"
printf 'var x = 1;\n' > "$S/js/a.js"
printf 'a document\n' > "$S/doc.txt"
printf 'not a video\n' > "$S/v.bin"
cp "$SITE/images/pixel.png" "$S/img/poster.png"
cp "$SITE/images/logo.png" "$S/img/f.png"
printf 'User-agent: *\nDisallow: /site/private/\nDisallow: /site/nofollow\nSitemap: %s/site/sitemap-index.xml\n\nUser-agent: otherbot\nDisallow: /\n' "$BASE" > "$T/root/robots.txt"
cat > "$S/sitemap-index.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>$BASE/site/sitemap1.xml.gz</loc></sitemap>
</sitemapindex>
XML
printf '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>%s/site/orphan.html</loc></url><url><loc>%s/site/private/x.html</loc></url></urlset>\n' "$BASE" "$BASE" | gzip -n > "$S/sitemap1.xml.gz"
printf '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>%s/site/orphan2.html</loc></url></urlset>\n' "$BASE" > "$S/extra-sitemap.xml"

crawl_site() { # EXIT ARGS...: crawl /site/index.html; records in $T/s.jsonl
  local want=$1; shift
  : > "$LOG"; rm -rf "$T/s" "$T/s.jsonl"
  run_gather "$want" crawl --jsonl "$T/s.jsonl" -o "$T/s" "$@"
}
paths() { jq -r --arg b "$BASE/site" '.url | ltrimstr($b)' "$T/s.jsonl" | sort | tr '\n' ' '; }

for m in async threads procs hybrid; do
  crawl_site 0 -m "$m" "$BASE/site/index.html"
  check_eq "$(paths)" "/a.html /b.html?x=1 /d1.html /d2.html /d3.html /index.html /orphan.html " "$m: robots.txt + sitemap crawl"
  # robots.txt was read, and nothing it disallows was ever requested.
  grep -q '"GET /robots.txt ' "$LOG" || fail "$m: robots.txt not read"
  ! requested | grep -E '^/site/(private|nofollow)' || fail "$m: a disallowed path was requested"
  grep -q '"GET /site/sitemap1.xml.gz ' "$LOG" || fail "$m: the sitemap of the index was not read"
done
# The other host (localhost) is out of scope by default.
! grep -q ' h=localhost$' "$LOG" || fail "another host was crawled"
check_saved "$T/s.jsonl" "$SITE"

# A seed that robots.txt disallows gets a record saying so, and no request;
# the sitemaps its host's robots.txt names are still crawled (their
# disallowed URL is not).
for m in async threads procs hybrid; do
  crawl_site 1 -m "$m" "$BASE/site/private/secret.html"
  check_eq "$(jq -r 'select(.url | endswith("/secret.html")) | .error' "$T/s.jsonl")" \
    "disallowed by robots.txt" "$m: disallowed seed"
  check_eq "$(paths)" "/orphan.html /private/secret.html " "$m: disallowed seed, its host's sitemap"
  ! requested | grep -q '^/site/private' || fail "$m: disallowed seed requested"
done
# --no-robots fetches it; robots.txt is not even read.
crawl_site 0 --no-robots --depth 1 "$BASE/site/index.html"
check_eq "$(paths)" "/a.html /b.html?x=1 /d1.html /index.html /nofollow.html /private/secret.html " "--no-robots"
! grep -q '"GET /robots.txt ' "$LOG" || fail "--no-robots read robots.txt"

# Depth: the seed is depth 0.
crawl_site 0 --depth 2 --no-robots "$BASE/site/d1.html"
check_eq "$(paths)" "/d1.html /d2.html /d3.html " "--depth 2"
crawl_site 0 --depth 1 --no-robots "$BASE/site/d1.html"
check_eq "$(paths)" "/d1.html /d2.html " "--depth 1"
crawl_site 0 --depth 0 --no-robots "$BASE/site/d1.html"
check_eq "$(paths)" "/d1.html " "--depth 0"

# Scope: --domains takes in localhost; --include and --exclude.
crawl_site 0 --no-robots --domains localhost,127.0.0.1 --depth 1 "$BASE/site/index.html"
check_eq "$(jq -r 'select(.url | startswith("http://localhost:")) | .status' "$T/s.jsonl")" 200 "--domains"
crawl_site 0 --no-robots --exclude '/(d[0-9]|private)' "$BASE/site/index.html"
check_eq "$(paths)" "/a.html /b.html?x=1 /index.html /nofollow.html " "--exclude"
crawl_site 0 --no-robots --include '/(index|a)\.html$' "$BASE/site/index.html"
check_eq "$(paths)" "/a.html /index.html " "--include"
crawl_site 0 --no-robots --max-pages 3 "$BASE/site/index.html"
check_eq "$(jq -s length "$T/s.jsonl")" 3 "--max-pages 3"
# --sitemap adds its URLs; --requisites takes the image of pic.html.
crawl_site 0 --no-robots --depth 0 --sitemap "$BASE/site/extra-sitemap.xml" -p "$BASE/site/pic.html"
check_eq "$(paths)" "/img/p.png /orphan2.html /pic.html " "--sitemap and --requisites"
# Every resource a page embeds is a requisite, in every mode; without -p
# depth 0 takes the page alone.
for m in async threads procs hybrid; do
  crawl_site 0 -m "$m" --no-robots --depth 0 -p "$BASE/site/media.html"
  check_eq "$(paths)" "/css/s.css /doc.txt /frame.html /img/f.png /img/p.png /img/poster.png /js/a.js /media.html /v.bin " \
    "$m: --requisites beyond images"
  check_saved "$T/s.jsonl" "$T/root"
done
crawl_site 0 --no-robots --depth 0 "$BASE/site/media.html"
check_eq "$(paths)" "/media.html " "no --requisites"

# --- resuming: an interrupted crawl's records are kept and crawled on ----------
run_gather 1 crawl -o "$T/r" --jsonl "$T/r.jsonl" --exclude '/site/' "$BASE/"
head -n 6 "$T/r.jsonl" > "$T/r6.jsonl"; cp "$T/r6.jsonl" "$T/r.jsonl"
: > "$LOG"
run_gather 1 crawl -o "$T/r" --jsonl "$T/r.jsonl" --exclude '/site/' "$BASE/"
diff -u "$EXP/crawl-sample.txt" <(found "$T/r.jsonl") || fail "resumed crawl found a different set"
# The 6 pages recorded before were not fetched again.
while read -r path; do
  ! requested | grep -qxF "$path" || fail "resumed crawl fetched $path again"
done < <(jq -r --arg b "$BASE" '.url | ltrimstr($b)' "$T/r6.jsonl")

# --- a re-crawl with --since: unchanged pages are 304s, and their links
# (from the earlier records) are still crawled -------------------------------
for m in async procs; do
  run_gather 1 crawl -m "$m" -o "$T/o-$m" --since "$T/$m.jsonl" --jsonl "$T/again-$m.jsonl" --exclude /site/ "$BASE/"
  diff -u <(sed 's/^200 /304 /' "$EXP/crawl-sample.txt") <(found "$T/again-$m.jsonl") || fail "$m: re-crawl found a different set"
  check_eq "$(jq -r 'select(.status == 304) | .unchanged' "$T/again-$m.jsonl" | sort -u)" true "$m: unchanged"
done

# --- CSV records ---------------------------------------------------------------
run_gather 1 crawl --format csv --records "$T/c.csv" --field 'h1=//h1' --exclude /site/ "$BASE/"
python3 - "$T/c.csv" "$BASE" <<'PY' || fail "CSV records"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline='')))
assert len(rows) == 24, len(rows)
idx = [r for r in rows if r['url'] == sys.argv[2] + '/index.html'][0]
assert idx['title'] == 'Gather Sample Site - Home', idx['title']
assert idx['h1'] == 'Gather sample site', idx['h1']
assert sys.argv[2] + '/about.html' in idx['links'].split(','), idx['links']
assert ',' in idx['description'] and idx['status'] == '200'
assert idx['images'] == sys.argv[2] + '/images/logo.png', idx['images']
assert idx['assets'] == '', idx['assets']
PY
# A page's assets in their own column, joined like links.
run_gather 0 crawl --no-robots --depth 0 --format csv --records "$T/m.csv" "$BASE/site/media.html"
python3 - "$T/m.csv" "$BASE/site" <<'PY' || fail "CSV assets column"
import csv, sys
b = sys.argv[2]
row = list(csv.DictReader(open(sys.argv[1], newline='')))[0]
want = ['css/s.css', 'img/p.png', 'js/a.js', 'frame.html', 'doc.txt', 'v.bin', 'img/poster.png']
assert row['assets'].split(',') == [b + '/' + w for w in want], row['assets']
PY
echo "crawl: sample site in 4 modes, robots, depth, scope, sitemaps, resume, CSV ok"
