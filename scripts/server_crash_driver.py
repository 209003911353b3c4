"""Driver of scripts/server_crash_test.sh (read its header): SIGKILL a running
`steward serve` while a client streams ingest batches to it, restart it
without repair, and check that every acknowledged record is present and
opens and that no batch is half-present.

usage: server_crash_driver.py KILLS RECORDS STEWARD WORK
Standard library only (http.client + ssl through steward_http.py).
"""

import http.client
import json
import os
import random
import signal
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import steward_http as h  # noqa: E402
from token_batches import TokenBatches  # noqa: E402

kills_wanted, records = int(sys.argv[1]), int(sys.argv[2])
steward, work = sys.argv[3], sys.argv[4]
batch = int(os.environ.get("SCRASH_BATCH", "100"))
users = int(os.environ.get("SCRASH_USERS", "50"))
seed = int(os.environ.get("SCRASH_SEED", str(int(time.time() * 1000) % 1_000_000_007)))
rng = random.Random(seed)
data = os.path.join(work, "data")
n_batches = max(1, (records + batch - 1) // batch)
t0 = time.monotonic()
violations = []


def log(msg):
    print(f"[{time.monotonic() - t0:7.1f}s] {msg}", flush=True)


def violation(msg):
    violations.append(msg)
    log("VIOLATION: " + msg)


stream = TokenBatches(steward, data, records, batch, users, "server-crash-test", violation, log)
token, batch_range, batch_records = stream.token, stream.batch_range, stream.batch_records
run, audit_verify = stream.run, stream.audit_verify


def total_usage(when):
    """Total usage records over all subjects (`steward subjects --json`)."""
    r = run("subjects", "--json")
    if r.returncode != 0:
        violation(f"{when}: `steward subjects --json` exit {r.returncode}: {r.stderr.strip()[:400]}")
        return None
    try:
        return sum(s.get("records", {}).get("usage", 0) for s in json.loads(r.stdout))
    except (ValueError, AttributeError) as e:
        violation(f"{when}: `steward subjects --json` printed no JSON list: {e}")
        return None


# Start: a fresh data directory; the operator issues a long-lived token for
# the `ingest` service, which stays valid across restarts (tokens are stored).
port, pid, op = h.start(steward, data, work, ("--rate-per-principal", "1000000"))
if not op:
    print("server crash test: no bootstrap token on the first start", file=sys.stderr)
    sys.exit(2)
cafile = open(os.path.join(work, "cafile")).read().strip()
client = h.Client(port, cafile, timeout=30)
ingest_tok = client.json("POST", "/v1/tokens", op,
                         {"principal": "ingest", "ttl_secs": 7 * 86400})["token"]
log(f"seed {seed}: {records} records of {users} subjects in {n_batches} batches of {batch} "
    f"(POST /v1/records:batch), {kills_wanted} kills; steward {steward}; work {work}")

# Kill points: KILLS distinct batches, spread over the run; each kill lands a
# random time after that batch's request was sent: from 0 to 1.5 x the median
# latency of the batches acknowledged so far (before, during or just after
# the commit; some after the response, between requests).
if kills_wanted > n_batches:
    print(f"server crash test: {kills_wanted} kills need at least as many batches "
          f"(RECORDS >= {kills_wanted * batch})", file=sys.stderr)
    h.stop(pid)
    sys.exit(2)
kill_at = set(rng.sample(range(n_batches), kills_wanted))
acked, unknown, resolved_present, resolved_absent = [], [], set(), set()
latencies = []
kills = restarts = 0
b = 0
while b < n_batches and not violations:
    body = json.dumps(batch_records(b)).encode()
    killer = None
    delay = None
    if b in kill_at:
        est = statistics.median(latencies) if latencies else 0.05
        delay = rng.uniform(0, 1.5 * est)
        killer = threading.Timer(delay, lambda p=pid: os.kill(p, signal.SIGKILL))
    sent = time.monotonic()
    if killer:
        killer.start()
    status = None
    try:
        status, _, resp = client.request("POST", "/v1/records:batch", ingest_tok, body)
    except (OSError, http.client.HTTPException):
        status = None
    took = time.monotonic() - sent
    if killer:
        killer.join()
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        kills += 1
    ok = False
    if status == 201:
        try:
            ok = json.loads(resp).get("stored") == len(batch_range(b))
        except ValueError:
            ok = False
        if not ok:
            violation(f"batch {b}: 201 but the summary is not {len(batch_range(b))} stored: {resp[:200]!r}")
    elif status is not None:
        violation(f"batch {b}: HTTP {status}: {resp[:300]!r}")
    if ok:
        acked.append(b)
        if not killer:
            latencies.append(took)
    elif killer:
        unknown.append(b)
    if killer:
        when = f"kill {kills} (batch {b}, {delay * 1000:.0f} ms after sending)"
        # The server is dead: check the store as it was left, then restart.
        av = audit_verify(when)
        total = total_usage(when)
        known = sum(len(batch_range(x)) for x in acked) + \
            sum(len(batch_range(x)) for x in resolved_present)
        state = "acknowledged" if ok else "?"
        if total is not None and not ok:
            if total == known:
                state = "absent"
                resolved_absent.add(b)
            elif total == known + len(batch_range(b)):
                state = "committed, unacknowledged"
                resolved_present.add(b)
            else:
                violation(f"{when}: {total} usage records stored, expected {known} (batch absent) "
                          f"or {known + len(batch_range(b))} (batch committed): half-present")
        elif total is not None and total != known:
            violation(f"{when}: {total} usage records stored, expected {known}")
        try:
            t1 = time.monotonic()
            port, pid, _ = h.start(steward, data, work, ("--rate-per-principal", "1000000"))
            client = h.Client(port, cafile, timeout=30)
            restarts += 1
            up = time.monotonic() - t1
        except RuntimeError as e:
            violation(f"{when}: restart without repair failed: {e}")
            break
        log(f"kill {kills}/{kills_wanted}: batch {b} {state}; audit verify {'ok' if av else 'FAILED'}; "
            f"restarted in {up * 1000:.0f} ms")
    b += 1

# Final check: stop the server cleanly, then look at the store with the CLI.
h.stop(pid)
try:
    os.waitpid(pid, 0)
except ChildProcessError:
    pass
os.remove(os.path.join(work, "pid"))
if not violations:
    present = set(acked) | resolved_present
    log(f"streaming done: {len(acked)} batches acknowledged, {len(resolved_present)} committed but "
        f"unacknowledged, {len(resolved_absent)} absent after their kill; {kills} kills, {restarts} restarts; "
        f"median batch latency {statistics.median(latencies) * 1000 if latencies else 0:.0f} ms; final check")
    audit_verify("final")
    want_total = sum(len(batch_range(x)) for x in present)
    total = total_usage("final")
    if total is not None and total != want_total:
        violation(f"final: {total} usage records, expected {want_total}")
    r = run("verify-records")
    if r.returncode != 0:
        violation(f"final: `steward verify-records` exit {r.returncode}: {(r.stdout + r.stderr).strip()[:400]}")
    else:
        log("verify-records: " + r.stdout.strip().splitlines()[-1][:300])
    # Every subject exported; the tokens are exactly those of the present batches, each once.
    want = {}
    for x in present:
        for i in batch_range(x):
            want.setdefault(i % users, []).append(token(i))
    got_all = 0
    exported = stream.exported_tokens(work, required=lambda u: bool(want.get(u)))
    for u, tokens in exported.items():
        got = sorted(tokens)
        got_all += len(got)
        if got != sorted(want.get(u, [])):
            missing = sorted(set(want.get(u, [])) - set(got))
            extra = sorted(set(got) - set(want.get(u, [])))
            violation(f"final: export of u{u:03d}: {len(got)} records, want {len(want.get(u, []))}; "
                      f"missing {missing[:5]} unexpected {extra[:5]} duplicates {len(got) - len(set(got))}")
    audit_verify("final, after the exports")
    if not violations:
        log(f"exports: {got_all} records of {min(users, records)} subjects open, exactly the present batches' tokens")

if violations:
    print(f"server crash test FAILED (seed {seed}): {len(violations)} violations")
    for v in violations:
        print("  " + v)
    sys.exit(1)
print(f"server crash test: {kills} kills, {len(acked)} batches acknowledged "
      f"({sum(len(batch_range(x)) for x in acked)} records), {len(resolved_present)} committed unacknowledged, "
      f"{len(resolved_absent)} absent; all acknowledged present and opening, none half-present; "
      f"audit verify ok; {restarts} restarts without repair (seed {seed})")
