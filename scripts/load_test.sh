#!/usr/bin/env bash
# HTTP load and soak with wrk (issue 4, issue 7 item 4; docs/reliability.md,
# "Load and soak", and docs/benchmarks.md, "HTTP load (wrk)").
#
# usage: scripts/load_test.sh [SECONDS]       (default 60; CI: 10)
#
# Starts a release `steward serve` (TLS, development certificate) on a free
# loopback port on a fresh data directory, seeds three data subjects
# (scripts/steward_http.py), and on that one server runs wrk with a fixed
# concurrency (WRK_THREADS threads, WRK_CONNECTIONS connections; default 2 and
# 16) for SECONDS each against:
#   (a) GET /healthz (no authentication, no Service Data);
#   (b) the gated single-record read: GET
#       /v1/subjects/username:bob/records?purpose=protect&category=usage as the
#       security employee `sam` (scripts/load_wrk.lua adds the bearer
#       token and counts non-2xx responses): authenticate, resolve through the blind index, decide by
#       policy, append the decision to the audit log (one durable commit per
#       read), decrypt bob's one usage record. This run is the soak.
# Between (a) and (b) a gated-read warm-up of LOAD_WARMUP seconds (default 20)
# brings the server to its steady state: under gated load tokio's blocking
# pool grows from a few threads to about 30 (each with its allocator heap),
# which takes RSS from about 70 to about 100 MiB within some 15 s, where it
# stays (docs/reliability.md); the pool's idle threads exit after 10 s, so
# the warm-up must come right before (b). SQLite's page cache grows too, as
# every read's audit entry adds pages to the log, until it holds its bound
# (32 MiB per region store, `SqliteStore::PAGE_CACHE_KIB`, docs/deploy.md):
# after LOAD_WARMUP seconds the warm-up goes on in 5 s steps while a step
# still grew RSS by more than 2 %, for at most LOAD_WARMUP_MAX seconds
# (default 90) in all. Bounded growth levels off; a leak does not, and is
# then caught by the check on (b) below. The server's resident memory
# (VmRSS of /proc/PID/status) and thread count are read at start, before
# (b), every 5 s during (b), and after (b).
#
# The per-principal rate limit (N5.1, default 200 requests/s, bursts of 400)
# is raised with `--rate-per-principal 1000000` for this test, or most of
# the reads would be 429s.
#
# Passes (exit 0) when neither run had a socket error or a non-2xx response
# and RSS after (b) is at most 110 % of RSS before (b). Exit 1 otherwise, 2 on
# a setup problem. Prints a Markdown table; with LOAD_WRITE=FILE it also puts
# it between the `<!-- http-load:begin -->` and `<!-- http-load:end -->`
# lines of FILE (docs/benchmarks.md; steward-bench --write keeps that block).
#
# Environment: STEWARD_BIN, CARGO_TARGET_DIR (default /var/tmp/steward-target),
# WRK_THREADS, WRK_CONNECTIONS, LOAD_WARMUP (seconds, default 20),
# LOAD_WARMUP_MAX (seconds, default 90), LOAD_WRITE,
# LOAD_KEEP=1 (keep the work dir), STEWARD_SOURCE_REV (the source the binary
# was built from, for the report; default git HEAD of the work tree).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in scripts/
ROOT="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/steward-target}"
SECS="${1:-60}"
case "$SECS" in *[!0-9]*|''|0) echo "usage: scripts/load_test.sh [SECONDS]" >&2; exit 2 ;; esac
THREADS="${WRK_THREADS:-2}"
CONNS="${WRK_CONNECTIONS:-16}"

if ! command -v wrk >/dev/null; then
  if command -v apt-get >/dev/null; then
    apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
  fi
fi
command -v wrk >/dev/null || { echo "load test: wrk is needed (Debian package wrk)" >&2; exit 2; }
if [ -z "${STEWARD_BIN:-}" ]; then
  cargo build -q --release -p steward-cli
  STEWARD_BIN="$CARGO_TARGET_DIR/release/steward"
fi
[ -x "$STEWARD_BIN" ] || { echo "load test: no steward binary at $STEWARD_BIN" >&2; exit 2; }

WORK="$(mktemp -d /var/tmp/steward-load.XXXXXX)"
OK=0
cleanup() {
  [ -f "$WORK/pid" ] && python3 "$ROOT/scripts/steward_http.py" stop "$WORK" || true
  if [ "$OK" = 1 ] && [ "${LOAD_KEEP:-0}" != 1 ]; then rm -rf "$WORK"; else echo "load test: work directory kept: $WORK"; fi
}
trap cleanup EXIT

python3 scripts/steward_http.py start "$STEWARD_BIN" "$WORK/data" "$WORK" --rate-per-principal 1000000
python3 scripts/steward_http.py seed "$WORK"
PORT="$(cat "$WORK/port")"
PID="$(cat "$WORK/pid")"
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$PID/status"; }
SAM="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sam_token"])' "$WORK/seed.json")"
URL="https://localhost:$PORT"
GRANT="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sam_grant"])' "$WORK/seed.json")"
# sam cites the need-to-know grant the seed made (N3.8: a person's read of
# one subject names its justification).
READ="/v1/subjects/username:bob/records?purpose=protect&category=usage&grant=$GRANT"

# One gated read by hand: 200 with the one usage record seeded for bob.
python3 - "$WORK" "$READ" "$SAM" <<'PY'
import json, os, sys
sys.path.insert(0, os.path.join(os.getcwd(), "scripts"))
import steward_http as h
work, path, tok = sys.argv[1:4]
c = h.Client(int(open(f"{work}/port").read()), open(f"{work}/cafile").read().strip())
v = c.json("GET", path, tok)
assert len(v["records"]) == 1 and v["records"][0]["kind"] == "usage.authentication", v["records"]
PY

run_wrk() { # NAME SECONDS PATH [TOKEN]
  STEWARD_TOKEN="${4:-}" wrk -t "$THREADS" -c "$CONNS" -d "${2}s" --latency --timeout 10s \
    -s scripts/load_wrk.lua "$URL$3" > "$WORK/wrk-$1.txt" 2>&1
}

threads() { awk '/^Threads:/ {print $2}' "/proc/$PID/status"; }
RSS_START=$(rss); THR_START=$(threads)
run_wrk healthz "$SECS" /healthz
WARMED="${LOAD_WARMUP:-20}"
run_wrk warmup "$WARMED" "$READ" "$SAM"
PREV=$(rss)
LEVELLED=none
while [ "$WARMED" -lt "${LOAD_WARMUP_MAX:-90}" ]; do
  run_wrk warmup-more 5 "$READ" "$SAM"
  WARMED=$((WARMED + 5))
  NOW=$(rss)
  if [ "$NOW" -le $((PREV + PREV / 50)) ]; then LEVELLED=1; break; fi
  LEVELLED=0
  PREV=$NOW
done
export LOAD_WARMED="$WARMED" LOAD_LEVELLED="$LEVELLED"
RSS_BEFORE=$(rss); THR_BEFORE=$(threads)
( while sleep 5; do rss; done > "$WORK/rss-samples.txt" ) &
SAMPLER=$!
run_wrk read "$SECS" "$READ" "$SAM"
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
RSS_AFTER=$(rss); THR_AFTER=$(threads)
RSS_WARM="$THR_START/$THR_BEFORE/$THR_AFTER"
python3 scripts/steward_http.py stop "$WORK"
rm -f "$WORK/pid"
AUDIT_OUT="$("$STEWARD_BIN" --data-dir "$WORK/data" audit verify 2>&1)" || { echo "load test: audit verify failed: $AUDIT_OUT"; exit 1; }

set +e
python3 - "$WORK" "$SECS" "$THREADS" "$CONNS" "$RSS_START" "$RSS_WARM" "$RSS_BEFORE" "$RSS_AFTER" "$STEWARD_BIN" "$AUDIT_OUT" <<'PY'
import os, re, subprocess, sys, time
work, secs, threads, conns = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rss_start, rss_before, rss_after = int(sys.argv[5]), int(sys.argv[7]), int(sys.argv[8])
thr_start, thr_before, thr_after = sys.argv[6].split("/")
samples = [int(x) for x in open(f"{work}/rss-samples.txt").read().split()]
warmup = int(os.environ.get("LOAD_WARMED", "20"))
levelled = {"1": "RSS had levelled off: under 2 % in its last 5 s",
            "0": "RSS still growing when the warm-up's limit came"}.get(
    os.environ.get("LOAD_LEVELLED", ""), "no further warm-up: LOAD_WARMUP_MAX was reached at once")
rev = os.environ.get("STEWARD_SOURCE_REV")
steward, audit = sys.argv[9], sys.argv[10]

def parse(name):
    text = open(f"{work}/wrk-{name}.txt").read()
    m = {}
    for line in text.splitlines():
        if line.startswith("steward-wrk "):
            for kv in line.split()[1:]:
                k, v = kv.split("=")
                m[k] = float(v)
    if "requests" not in m:
        print(text)
        raise SystemExit(f"load test: no summary line from wrk for {name}")
    return m

h, r = parse("healthz"), parse("read")
# The verifier's verdict line (a note about an unpinned verifier key may
# come before it).
lines = audit.strip().splitlines()
verdict = next((l for l in lines if l.startswith("audit log verifies")), lines[0] if lines else "?")
if not rev:
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    if subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip():
        rev += " + working tree"
load = open("/proc/loadavg").read().split()[0]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
growth = (rss_after - rss_before) / rss_before * 100
ratio = (r["requests"] / r["seconds"]) / (h["requests"] / h["seconds"])

def row(what, m):
    errs = int(m["connect"] + m["read"] + m["write"] + m["timeout"])
    return (f"| {what} | {m['requests'] / m['seconds']:,.0f} | {m['p50'] / 1000:.2f} ms | "
            f"{m['p99'] / 1000:.2f} ms | {int(m['requests']):,} | {int(m['non2xx'])} | {errs} |")

md = [
    f"One run of `scripts/load_test.sh {secs}` on {time.strftime('%Y-%m-%d', time.gmtime())}: git {rev}, "
    f"release build, one `steward serve` (TLS 1.3, HTTP/1.1, development certificate) on a fresh data directory on loopback, "
    f"wrk {threads} threads / {conns} connections for {secs} s per row, on the machine below ({cpu}, {os.cpu_count()} cores shared with "
    f"wrk and other builds; load average {load} at the end). "
    f"The per-principal rate limit (N5.1) was raised for the test (`--rate-per-principal 1000000`).",
    "",
    "| endpoint | requests/s | p50 | p99 | requests | non-2xx | socket errors |",
    "|---|---|---|---|---|---|---|",
    row("`GET /healthz`", h),
    row("gated single-record read `GET /v1/subjects/username:bob/records?purpose=protect&category=usage`", r),
    "",
    f"Gated reads vs `/healthz` in this run: {ratio:.2f}× the requests/s (issue 21 item 3 target ≥ 0.5×: "
    f"{'met' if ratio >= 0.5 else 'missed'}); p99 {r['p99'] / 1000:.2f} ms vs {h['p99'] / 1000:.2f} ms.",
    "",
    f"Server resident memory (VmRSS): {rss_start / 1024:.1f} MiB at start ({thr_start} threads); after the `/healthz` run "
    f"and a {warmup} s gated-read warm-up ({levelled}), {rss_before / 1024:.1f} MiB ({thr_before} threads) before the gated-read run, "
    f"{rss_after / 1024:.1f} MiB ({thr_after} threads) after it: {growth:+.1f} % "
    f"(every 5 s during the run: {min(samples, default=0) / 1024:.1f} to {max(samples, default=0) / 1024:.1f} MiB). "
    f"Every gated read appended its decision to the audit log in a durable commit before it was answered (concurrent reads share "
    f"a commit: group commit); afterwards `steward audit verify`: "
    f"{verdict}",
]
text = "\n".join(md)
print(text)
open(f"{work}/result.md", "w").write(text + "\n")
target = os.environ.get("LOAD_WRITE")
fail = []
for name, m in (("healthz", h), ("read", r)):
    if m["non2xx"] or m["connect"] or m["read"] or m["write"] or m["timeout"]:
        fail.append(f"{name}: {int(m['non2xx'])} non-2xx responses, socket errors connect {int(m['connect'])} "
                    f"read {int(m['read'])} write {int(m['write'])} timeout {int(m['timeout'])}")
if rss_after > rss_before * 1.10:
    fail.append(f"resident memory grew {growth:.1f} % during the gated-read run (limit 10 %)")
if target and not fail:
    doc = open(target).read()
    b, e = "<!-- http-load:begin -->", "<!-- http-load:end -->"
    if b in doc and e in doc:
        doc = doc[:doc.index(b) + len(b)] + "\n" + text + "\n" + doc[doc.index(e):]
        open(target, "w").write(doc)
        print(f"load test: wrote the table into {target}")
    else:
        print(f"load test: {target} has no {b} … {e} block; not written")
for f in fail:
    print("load test: FAILED: " + f)
sys.exit(1 if fail else 0)
PY
RC=$?
set -e
if [ "$RC" = 0 ]; then OK=1; echo "load test: passed"; else exit 1; fi
