#!/usr/bin/env bash
# parsl-report on a real run: a parsl-run campaign under mpirun with monitoring on (tasks that
# succeed, one that fails, one long enough to be sampled), then
#   - the text summary names the failure and the apps' counts;
#   - the page is self-contained (no external script, style or image) and opens in headless
#     Chromium without a message on its console; each of its five charts painted pixels
#     (the page counts them into data- attributes) and its screenshot is not blank;
#   - bad input (no such folder, a folder without a database, a foreign file, a locked
#     database, an empty workflow table) is a clear error with exit status 1.
#   parsl_report_check.sh PARSL_RUN PARSL_REPORT LAUNCHER [LAUNCHER ARGS...]
set -euo pipefail
parsl_run=$1 report=$2
shift 2
launcher=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

{
  for i in $(seq 40); do echo "echo task $i"; done
  echo "exit 3"
  echo "sleep 1.5"
} > "$work/tasks.txt"
set +e
"${launcher[@]}" "$parsl_run" --monitoring --parsl-monitoring-interval=0.3 --parsl-run-dir="$work/runinfo" \
  "$work/tasks.txt" > "$work/run.out" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$work/run.out"; fail "parsl-run exited $rc, expected 1 (one task fails)"; }
run="$work/runinfo/000"

# The summary.
"$report" --text "$run" > "$work/text.out"
grep -q "tasks: 42 (41 completed, 1 failed)" "$work/text.out" || { cat "$work/text.out"; fail "summary counts"; }
grep -Eq "parsl_run.task +42 +41 +0 +1 +0" "$work/text.out" || { cat "$work/text.out"; fail "per-app row"; }
grep -q "failed tasks: 1" "$work/text.out" || fail "failed task count"
grep -q "exit code 3" "$work/text.out" || fail "the failure's error"
grep -q "workers" "$work/text.out" || fail "no node line"

# The same run as Parsl writes its database (tables, where ours has views of task_life):
# the same summary, through the report's queries of Parsl's tables.
mkdir "$work/as-parsl"
python3 - "$run/monitoring.db" "$work/as-parsl/monitoring.db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[2])
c.execute("ATTACH DATABASE ? AS ours", ("file:" + sys.argv[1] + "?mode=ro",))
for t in ("workflow", "task", "try", "status", "node", "block", "resource"):
    c.execute(f"CREATE TABLE main.{t} AS SELECT * FROM ours.{t}")
c.commit()
EOF
"$report" --text "$work/as-parsl" > "$work/text-parsl.out"
diff <(grep -v '^queries:' "$work/text.out") <(grep -v '^queries:' "$work/text-parsl.out") ||
  fail "the summary of the run's database as Parsl writes it differs"

# The page.
"$report" "$run" > "$work/report.out"
page="$run/report.html"
[ -s "$page" ] || fail "no page"
if grep -Eiq '<(script|link|img)[^>]+(src|href)=' "$page"; then fail "the page loads something from elsewhere"; fi
grep -q "exit code 3" "$page" || fail "the failed task is not in the page's table"
grep -q "task_logs" "$page" || fail "the failed task's log paths are not in the page"

chrome=(chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --enable-logging=stderr --v=0
        --virtual-time-budget=10000 --user-data-dir="$work/chrome")
timeout 120 "${chrome[@]}" --dump-dom "file://$page" > "$work/dom.html" 2> "$work/chrome.err" ||
  { tail -20 "$work/chrome.err"; fail "chromium could not open the page"; }
if grep -q ":CONSOLE" "$work/chrome.err"; then grep ":CONSOLE" "$work/chrome.err"; fail "messages on the console"; fi
grep -q 'data-charts-drawn="5"' "$work/dom.html" ||
  { grep -o 'data-charts-drawn="[0-9]*"' "$work/dom.html"; fail "not all 5 charts were drawn"; }
for id in gantt states durations utilisation resources; do
  painted=$(grep -o "<canvas id=\"$id\"[^>]*" "$work/dom.html" | grep -o 'data-painted="[0-9]*"' | grep -o '[0-9]*')
  [ "${painted:-0}" -gt 2000 ] || fail "chart $id painted ${painted:-no} pixels"
done
timeout 120 "${chrome[@]}" --window-size=1300,2600 --screenshot="$work/shot.png" "file://$page" 2>> "$work/chrome.err" ||
  fail "no screenshot"
python3 - "$work/shot.png" <<'EOF'
# Decodes the PNG (8-bit RGB or RGBA, no interlace) and checks it is not blank: many colours,
# and a good share of pixels that are not the white background.
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat = 8, b''
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, colours, ink = bytearray(stride), set(), 0
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp * 4):  # every 4th pixel is plenty
        px = bytes(line[x:x + 3])
        colours.add(px)
        ink += px != b'\xff\xff\xff'
    prev = line
share = ink / (h * w / 4)
print(f'screenshot {w}x{h}: {len(colours)} colours, {share:.1%} not white')
assert len(colours) > 30 and share > 0.03, 'the screenshot looks blank'
EOF

# Bad input: each a clear error, exit status 1, nothing written.
expect_error() {  # expect_error TEXT ARGS...: parsl-report ARGS fails with TEXT on stderr
  local text=$1
  shift
  set +e
  "$report" "$@" > "$work/bad.out" 2>&1
  local code=$?
  set -e
  [ "$code" -eq 1 ] || { cat "$work/bad.out"; fail "parsl-report $* exited $code, expected 1"; }
  grep -q -- "$text" "$work/bad.out" || { cat "$work/bad.out"; fail "parsl-report $*: no '$text'"; }
}
expect_error "no such run folder" "$work/nowhere"
mkdir "$work/empty-run"
expect_error "without monitoring" "$work/empty-run"
expect_error "without monitoring" --text "$work/empty-run"
echo "not a database, just some text that is long enough to fill a header" > "$work/foreign.db"
expect_error "not a SQLite database" "$work/foreign.db"
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table task (name text)'); c.commit()" \
  "$work/other.db"
expect_error "not a monitoring database" --text "$work/other.db"
cp "$run/monitoring.db" "$work/nobody.db"
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('delete from workflow'); c.commit()" \
  "$work/nobody.db"
expect_error "holds no run" "$work/nobody.db"
# A database another program holds an exclusive lock on (rollback journal: readers wait).
cp "$run/monitoring.db" "$work/locked.db"
python3 - "$work/locked.db" "$work/locked.ready" <<'EOF' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('PRAGMA journal_mode=DELETE')
c.execute('BEGIN EXCLUSIVE')
c.execute('UPDATE workflow SET workflow_name = workflow_name')
open(sys.argv[2], 'w').close()
time.sleep(8)
EOF
holder=$!
for _ in $(seq 100); do [ -e "$work/locked.ready" ] && break; sleep 0.05; done
expect_error "locked" --text "$work/locked.db"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
echo "PASS"
