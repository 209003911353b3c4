#!/usr/bin/env bash
# Crash test of the `steward` CLI's ingest: SIGKILL at random moments, restart,
# and check that nothing acknowledged is lost and nothing unacknowledged is
# half-present.
#
# usage: scripts/crash_test.sh [KILLS] [RECORDS]        (defaults 20 and 100000)
#
# What it does (docs/reliability.md, "Crash test"):
#   1. Generates RECORDS JSON Lines records `usage.error` of USERS subjects
#      (default 500): record i belongs to `username:uNNN` with NNN = i mod USERS and
#      carries the unique token `tok-<i, 9 digits>` in its message. The file is
#      cut into chunks of CHUNK records (one ingest transaction each while
#      CHUNK <= the configured ingest_batch, 10,000 by default).
#   2. Ingests the chunks in order, one `steward ingest --format jsonl --json
#      CHUNK_FILE` process each, into a fresh data directory. A chunk is
#      ACKNOWLEDGED exactly when that process printed its JSON summary
#      (stored == CHUNK, nothing rejected or skipped) and exited 0.
#   3. KILLS times, at a random moment of an ingest, sends SIGKILL to the
#      ingest's process group: half of the kills anywhere in the run time of a
#      fast ingest so far (the 25th percentile), half in its last quarter,
#      where the batch commits; only early ones once the kills left are as many
#      as the chunks left. After each kill, with no repair of any kind:
#        - `steward audit verify` exits 0;
#        - `steward subjects --json`: the killed chunk is either wholly present
#          or wholly absent: the per-subject record counts are exactly those
#          of the chunks known present, with or without the killed chunk, and
#          no subject exists without records;
#        - `steward audit search --action ingest` lists exactly one entry per
#          committed chunk (records and their audit entry are one transaction);
#        - two random subjects are exported and their records open (decrypt)
#          and carry exactly the expected tokens;
#      then the next ingest restarts with the killed chunk if it was absent, or
#      with the next chunk if it was committed before the kill (counted as
#      "committed, unacknowledged").
#   4. At the end: `steward audit verify` exits 0; the subject counts and the
#      `ingest` audit entries match the present chunks; every subject is exported
#      (`steward export --subject username:uNNN`), each ZIP's manifest hashes
#      match its files, and the tokens in all exports are exactly the tokens
#      of the present chunks, each once: every acknowledged record is present
#      and opens, no record is duplicated, none of an absent chunk exists.
#
# Prints `crash test: K kills, A chunks acknowledged, all present and opening;
# audit verify ok` and exits 0, or prints every violation and exits 1 (the
# data directory is kept for inspection). Exit 2: setup problem.
#
# Environment:
#   STEWARD_BIN        the steward binary (default: builds
#                      `cargo build --release -p steward-cli` and uses
#                      $CARGO_TARGET_DIR/release/steward)
#   CARGO_TARGET_DIR   default /var/tmp/steward-target
#   CRASH_CHUNK        records per chunk (default 2000; at most 10,000, the
#                      default ingest_batch, so that a chunk is one transaction)
#   CRASH_USERS        subjects (default 500)
#   CRASH_SEED         random seed (default: time-based; printed, to replay)
#   CRASH_WORK         work directory (default: a new /var/tmp/steward-crash.XXXXXX)
#   CRASH_KEEP=1       keep the work directory after a passing run
#   CRASH_EXPORT_JOBS  concurrent exports in the final check (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/steward-target}"

KILLS="${1:-20}"
RECORDS="${2:-100000}"
case "$KILLS$RECORDS" in *[!0-9]*|'') echo "usage: scripts/crash_test.sh [KILLS] [RECORDS]" >&2; exit 2 ;; esac

if [ -z "${STEWARD_BIN:-}" ]; then
  cargo build -q --release -p steward-cli
  STEWARD_BIN="$CARGO_TARGET_DIR/release/steward"
fi
[ -x "$STEWARD_BIN" ] || { echo "crash test: no steward binary at $STEWARD_BIN" >&2; exit 2; }
command -v python3 >/dev/null || { echo "crash test: python3 is needed" >&2; exit 2; }
if [ "${CRASH_CHUNK:-2000}" -gt 10000 ]; then
  echo "crash test: CRASH_CHUNK must be at most the ingest batch (10,000): a chunk is checked as one transaction" >&2
  exit 2
fi

WORK="${CRASH_WORK:-$(mktemp -d /var/tmp/steward-crash.XXXXXX)}"
mkdir -p "$WORK"
DRIVER="$WORK/crash_test_driver.py"
cat > "$DRIVER" <<'PY'
import hashlib, json, os, random, shutil, signal, subprocess, sys, time, zipfile
from concurrent.futures import ThreadPoolExecutor

kills_wanted, records = int(sys.argv[1]), int(sys.argv[2])
steward, work = sys.argv[3], sys.argv[4]
chunk = int(os.environ.get("CRASH_CHUNK", "2000"))
users = int(os.environ.get("CRASH_USERS", "500"))
seed = int(os.environ.get("CRASH_SEED", str(int(time.time() * 1000) % 1_000_000_007)))
jobs = int(os.environ.get("CRASH_EXPORT_JOBS", "2"))
rng = random.Random(seed)
data = os.path.join(work, "data")
chunk_dir = os.path.join(work, "chunks")
export_dir = os.path.join(work, "exports")
for d in (chunk_dir, export_dir):
    os.makedirs(d, exist_ok=True)
if os.path.exists(data):
    shutil.rmtree(data)
violations = []
t0 = time.monotonic()

def log(msg):
    print(f"[{time.monotonic() - t0:7.1f}s] {msg}", flush=True)

def violation(msg):
    violations.append(msg)
    log("VIOLATION: " + msg)

def user(i):
    return i % users

def token(i):
    return f"tok-{i:09d}"

# 1. Generate the chunks.
n_chunks = (records + chunk - 1) // chunk
bounds = [(k * chunk, min(records, (k + 1) * chunk)) for k in range(n_chunks)]
for k, (lo, hi) in enumerate(bounds):
    with open(os.path.join(chunk_dir, f"chunk-{k:05d}.jsonl"), "w") as f:
        for i in range(lo, hi):
            sec = i % 86400
            f.write(json.dumps({
                "subject": f"username:u{user(i):03d}",
                "kind": "usage.error",
                "occurred_at": f"2026-01-{1 + i // 86400 % 28:02d}T{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}Z",
                "fields": {"level": "error", "component": "crash-test",
                           "message": f"crash test record {token(i)}"},
            }) + "\n")
log(f"seed {seed}: {records} records of {users} subjects in {n_chunks} chunks of {chunk}, "
    f"{kills_wanted} kills, steward {steward}, work {work}")

def run(*args, timeout=600):
    return subprocess.run([steward, "--data-dir", data, *args], capture_output=True,
                          text=True, timeout=timeout)

def expected_counts(present):
    """Per subject, the records of the present chunks."""
    counts = [0] * users
    for k in present:
        lo, hi = bounds[k]
        for i in range(lo, hi):
            counts[user(i)] += 1
    return counts

def audit_verify(when):
    r = run("audit", "verify")
    if r.returncode != 0 or not r.stdout.startswith("audit log verifies"):
        violation(f"{when}: `steward audit verify` exit {r.returncode}: {(r.stdout + r.stderr).strip()[:500]}")
        return False
    return True

def subject_counts(when):
    """Sorted per-subject usage record counts, or None (violation recorded)."""
    r = run("subjects", "--json")
    if r.returncode != 0:
        violation(f"{when}: `steward subjects --json` exit {r.returncode}: {r.stderr.strip()[:500]}")
        return None
    try:
        subjects = json.loads(r.stdout)
    except ValueError as e:
        violation(f"{when}: `steward subjects --json` printed no JSON: {e}")
        return None
    out = []
    for s in subjects:
        recs = s.get("records", {})
        if set(recs) - {"usage"}:
            violation(f"{when}: subject {s.get('subject')} has records of {sorted(recs)}: only usage was ingested")
        out.append(recs.get("usage", 0))
    return sorted(out)

def ingest_entries(when):
    """Number of `ingest` audit entries (one per committed batch), or None."""
    r = run("audit", "search", "--action", "ingest")
    if r.returncode != 0:
        violation(f"{when}: `steward audit search --action ingest` exit {r.returncode}: {r.stderr.strip()[:500]}")
        return None
    return sum(1 for line in r.stdout.splitlines() if line.strip())

def matches(counts, present):
    want = sorted(c for c in expected_counts(present) if c > 0)
    return counts == want

def check_zip(path, u, present, when):
    """Tokens of subject u in the export, checked against the present chunks."""
    try:
        z = zipfile.ZipFile(path)
        manifest = json.loads(z.read("manifest.json"))
        for name, digest in manifest.get("files", {}).items():
            if hashlib.sha256(z.read(name)).hexdigest() != digest:
                violation(f"{when}: export of u{u:03d}: {name} does not match its manifest hash")
        rows = json.loads(z.read("usage.json")) if "usage.json" in z.namelist() else []
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as e:
        violation(f"{when}: export of u{u:03d} does not open as a ZIP with manifest.json: {e}")
        return None
    got = []
    for row in rows:
        msg = str(row.get("fields", {}).get("message", ""))
        got.append(msg.rsplit(" ", 1)[-1])
    want = sorted(token(i) for k in present for i in range(*bounds[k]) if user(i) == u)
    if sorted(got) != want:
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        dup = len(got) - len(set(got))
        violation(f"{when}: export of u{u:03d}: {len(got)} records, want {len(want)}; "
                  f"missing {missing[:5]}{'...' if len(missing) > 5 else ''} "
                  f"unexpected {extra[:5]}{'...' if len(extra) > 5 else ''} duplicates {dup}")
    return got

def export(u, present, when):
    path = os.path.join(export_dir, f"u{u:03d}.zip")
    r = run("export", "--subject", f"username:u{u:03d}", "--out", path)
    if r.returncode != 0:
        violation(f"{when}: `steward export --subject username:u{u:03d}` exit {r.returncode}: {r.stderr.strip()[:500]}")
        return None
    got = check_zip(path, u, present, when)
    os.remove(path)
    return got

# 2./3. Ingest with kills.
acked, present = set(), set()
kills = committed_unacked = misses = 0
est = 0.3  # seconds an ingest usually takes: the 25th percentile of unkilled runs so far
durations = []
k = 0
while k < n_chunks:
    if violations:
        break
    path = os.path.join(chunk_dir, f"chunk-{k:05d}.jsonl")
    remaining_chunks = n_chunks - k
    left = kills_wanted - kills
    kill = left > 0 and (left >= remaining_chunks or rng.random() < left / remaining_chunks)
    if kill:
        # Late kills (around the commit) may let the chunk commit and so use it
        # up; when kills are as many as the chunks left, kill early only.
        late = left < remaining_chunks and rng.random() < 0.5
        delay = rng.uniform(0.75 * est, est) if late else rng.uniform(0, 0.6 * est if left >= remaining_chunks else 0.95 * est)
    start = time.monotonic()
    # Its own process group, so that SIGKILL reaches every process of the ingest.
    p = subprocess.Popen([steward, "--data-dir", data, "ingest", "--format", "jsonl", "--json", path],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    killed = False
    if kill:
        try:
            p.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            killed = True
    out, err = p.communicate()
    took = time.monotonic() - start
    if killed and p.returncode == -signal.SIGKILL:
        kills += 1
        when = f"after kill {kills} (chunk {k}, {delay * 1000:.0f} ms in)"
        ok = audit_verify(when)
        counts = subject_counts(when)
        state = "?"
        if counts is not None:
            if matches(counts, present):
                state = "absent"
            elif matches(counts, present | {k}):
                state = "committed"
                present.add(k)
                committed_unacked += 1
            else:
                violation(f"{when}: chunk {k} is half-present: per-subject counts match neither "
                          f"without it nor with it (total {sum(counts)} records, "
                          f"{len(counts)} subjects; expected {sum(expected_counts(present))} "
                          f"or {sum(expected_counts(present | {k}))})")
        entries = ingest_entries(when)
        if entries is not None and state != "?" and entries != len(present):
            violation(f"{when}: {entries} `ingest` audit entries for {len(present)} committed chunks "
                      f"(chunk {k} {state}): records and their audit entry are not one transaction")
        if present and not violations:
            for u in rng.sample(range(min(users, records)), 2):
                export(u, present, when)
        log(f"kill {kills}/{kills_wanted}: chunk {k} at {delay * 1000:.0f} ms: {state}; "
            f"audit verify {'ok' if ok else 'FAILED'}")
        if state == "committed":
            k += 1
        continue
    if kill:
        misses += 1  # exited on its own before the kill was due, or as it landed
    if p.returncode != 0:
        violation(f"chunk {k}: `steward ingest` exit {p.returncode} (restart without repair failed?): "
                  f"{err.strip()[:500]}")
        break
    try:
        summary = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        violation(f"chunk {k}: exit 0 but no JSON summary: {out[:200]!r}")
        break
    lo, hi = bounds[k]
    if summary.get("stored") != hi - lo or summary.get("rejected") or summary.get("skipped"):
        violation(f"chunk {k}: summary {summary} is not {hi - lo} stored, none rejected or skipped")
        break
    acked.add(k)
    present.add(k)
    durations.append(took)
    est = sorted(durations)[len(durations) // 4]
    k += 1

if not violations and kills < kills_wanted:
    violation(f"only {kills} of {kills_wanted} kills landed before the last chunk was acknowledged "
              f"({misses} ingests ended before their kill was due): use more RECORDS")

# 4. Final check.
if not violations:
    log(f"ingest done: {len(acked)} chunks acknowledged, {committed_unacked} committed but unacknowledged, "
        f"{kills} kills, {misses} ingests ended before their kill was due; unkilled ingests took {min(durations, default=0) * 1000:.0f} to {max(durations, default=0) * 1000:.0f} ms; final check")
    audit_verify("final")
    counts = subject_counts("final")
    if counts is not None and not matches(counts, present):
        violation(f"final: per-subject counts do not match the present chunks "
                  f"(total {sum(counts)}, expected {sum(expected_counts(present))})")
    entries = ingest_entries("final")
    if entries is not None and entries != len(present):
        violation(f"final: {entries} `ingest` audit entries for {len(present)} committed chunks")
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        results = list(ex.map(lambda u: export(u, present, "final"), range(min(users, records))))
    tokens = [t for r in results if r for t in r]
    want = {token(i) for k in present for i in range(*bounds[k])}
    acked_tokens = {token(i) for k in acked for i in range(*bounds[k])}
    if len(tokens) != len(set(tokens)):
        violation(f"final: {len(tokens) - len(set(tokens))} duplicated records across exports")
    if not acked_tokens <= set(tokens):
        violation(f"final: {len(acked_tokens - set(tokens))} acknowledged records missing from the exports")
    if set(tokens) != want:
        violation(f"final: exports hold {len(set(tokens))} distinct records, the present chunks {len(want)}")
    audit_verify("final, after the exports")

elapsed = time.monotonic() - t0
if violations:
    print(f"crash test FAILED ({len(violations)} violations, seed {seed}, {kills} kills, "
          f"{len(acked)} chunks acknowledged, {elapsed:.0f}s); data kept in {work}")
    for v in violations:
        print("  - " + v)
    sys.exit(1)
print(f"crash test: {kills} kills, {len(acked)} chunks acknowledged, all present and opening; "
      f"audit verify ok ({records} records, {n_chunks} chunks of {chunk}, "
      f"{committed_unacked} committed before the kill but unacknowledged, "
      f"{sum(bounds[k][1] - bounds[k][0] for k in present)} records present, seed {seed}, {elapsed:.0f}s)")
PY

set +e
python3 "$DRIVER" "$KILLS" "$RECORDS" "$STEWARD_BIN" "$WORK"
rc=$?
set -e
if [ "$rc" -eq 0 ] && [ "${CRASH_KEEP:-0}" != 1 ] && [ -z "${CRASH_WORK:-}" ]; then
  rm -rf "$WORK"
fi
exit "$rc"
