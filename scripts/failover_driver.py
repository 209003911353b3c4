"""Driver of scripts/failover_test.sh (read its header): two throwaway
PostgreSQL 15 clusters (a primary and a synchronous standby), `steward serve`
on both through one multi-host URL, ingest batches and gated reads streamed
over HTTPS while the primary is SIGKILLed and the standby promoted, without
restarting Steward; then every acknowledged record must be present exactly
once and the audit log must verify on the promoted store.

usage: failover_driver.py FAILOVERS RECORDS STEWARD WORK
Standard library only (http.client + ssl through steward_http.py).
"""

import http.client
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import steward_http as h  # noqa: E402
from token_batches import TokenBatches  # noqa: E402

failovers_wanted, records = int(sys.argv[1]), int(sys.argv[2])
steward, work = sys.argv[3], sys.argv[4]
batch = int(os.environ.get("FAILOVER_BATCH", "100"))
users = int(os.environ.get("FAILOVER_USERS", "50"))
read_every = int(os.environ.get("FAILOVER_READ_EVERY", "5"))
recover_limit = float(os.environ.get("FAILOVER_RECOVER_SECS", "60"))
seed = int(os.environ.get("FAILOVER_SEED", str(int(time.time() * 1000) % 1_000_000_007)))
rng = random.Random(seed)
PGBIN = os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin")
data = os.path.join(work, "data")
pgroot = os.path.join(work, "pg")
sock = os.path.join(pgroot, "sock")
n_batches = max(1, (records + batch - 1) // batch)
t0 = time.monotonic()
violations = []


class Setup(Exception):
    """A setup problem (exit 2), not a finding."""


def log(msg):
    print(f"[{time.monotonic() - t0:7.1f}s] {msg}", flush=True)


def violation(msg):
    violations.append(msg)
    log("VIOLATION: " + msg)


# --- the two PostgreSQL clusters -------------------------------------------

def as_postgres(*cmd, timeout=120, check=True):
    r = subprocess.run(["runuser", "-u", "postgres", "--", *cmd], capture_output=True,
                       text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise Setup(f"{' '.join(cmd[:2])} exit {r.returncode}: {(r.stdout + r.stderr).strip()[-600:]}")
    return r


class Node:
    """One cluster: a data directory under WORK/pg and a loopback port."""

    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(pgroot, name)
        self.port = h.free_port()

    def psql(self, sql, check=True):
        r = as_postgres(f"{PGBIN}/psql", "-X", "-q", "-A", "-t", "-h", sock, "-p", str(self.port),
                        "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql, timeout=60, check=check)
        return r.stdout.strip()

    def start(self):
        as_postgres(f"{PGBIN}/pg_ctl", "-D", self.dir, "-l", os.path.join(pgroot, f"{self.name}.log"),
                    "-w", "-t", "60", "start")

    def postmaster(self):
        try:
            with open(os.path.join(self.dir, "postmaster.pid")) as f:
                return int(f.readline().strip())
        except (OSError, ValueError):
            return None

    def kill9(self):
        """SIGKILL the postmaster, at once, then every process of the cluster
        (its children keep the data directory as their working directory);
        wait until all are gone. Returns how many children were killed."""
        pm = self.postmaster()
        if pm is None:
            raise Setup(f"{self.name}: no postmaster.pid")
        os.kill(pm, signal.SIGKILL)
        killed = set()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            alive = []
            for p in os.listdir("/proc"):
                if p.isdigit():
                    try:
                        if os.readlink(f"/proc/{p}/cwd") == self.dir:
                            alive.append(int(p))
                    except OSError:
                        pass   # gone, or a zombie
            if not alive:
                return len(killed - {pm})
            for p in alive:
                try:
                    os.kill(p, signal.SIGKILL)
                    killed.add(p)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)
        raise Setup(f"{self.name}: processes {alive} outlived SIGKILL")

    def sync_state(self):
        """(state, sync_state) of the one standby streaming from this node, if any."""
        out = self.psql("SELECT state || ' ' || sync_state FROM pg_stat_replication", check=False)
        return out.splitlines()[0].split() if out else None

    def wait_sync(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sync_state() == ["streaming", "sync"]:
                return
            time.sleep(0.1)
        raise Setup(f"{self.name}: no synchronous streaming standby after {timeout} s "
                    f"(pg_stat_replication: {self.sync_state()})")


def init_primary(node):
    as_postgres(f"{PGBIN}/initdb", "-D", node.dir, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                "--locale=C", "--no-instructions")
    with open(os.path.join(node.dir, "postgresql.conf"), "a") as f:
        f.write(f"""
# scripts/failover_test.sh
listen_addresses = '127.0.0.1'
port = {node.port}
unix_socket_directories = '{sock}'
max_connections = 60
shared_buffers = 32MB
wal_level = replica
max_wal_senders = 5
wal_keep_size = 512MB
hot_standby = on
synchronous_commit = on
""")
    node.start()
    node.psql("CREATE DATABASE test")
    # Synchronous from now on (CREATE DATABASE above would wait for a standby).
    with open(os.path.join(node.dir, "postgresql.conf"), "a") as f:
        f.write("synchronous_standby_names = '*'\n")
    node.psql("SELECT pg_reload_conf()")


def make_standby(node, primary):
    """`node` as a fresh copy of `primary` (pg_basebackup -R), streaming from it.
    Its own synchronous_standby_names is '' so that, once promoted alone, its
    commits do not wait for a standby it does not have yet."""
    if os.path.exists(node.dir):
        shutil.rmtree(node.dir)
    as_postgres(f"{PGBIN}/pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                "-D", node.dir, "-R", "-X", "stream", "-c", "fast", timeout=300)
    with open(os.path.join(node.dir, "postgresql.auto.conf"), "a") as f:
        f.write(f"port = {node.port}\nsynchronous_standby_names = ''\n")
    node.start()


def promote(node):
    as_postgres(f"{PGBIN}/pg_ctl", "-D", node.dir, "-w", "-t", "60", "promote")


# --- Steward ----------------------------------------------------------------

stream = TokenBatches(steward, data, records, batch, users, "failover-test", violation, log)
token, batch_range, batch_records, run = stream.token, stream.batch_range, stream.batch_records, stream.run


def audit_verify(when):
    return stream.audit_verify(when, say=True)


os.makedirs(sock, exist_ok=True)
nodes = [Node("a"), Node("b")]
try:
    log(f"seed {seed}: clusters a (port {nodes[0].port}, primary) and b (port {nodes[1].port}, "
        f"synchronous standby) under {pgroot}")
    init_primary(nodes[0])
    make_standby(nodes[1], nodes[0])
    nodes[0].wait_sync()
except (Setup, subprocess.TimeoutExpired) as e:
    print(f"failover test: setup: {e}", file=sys.stderr)
    sys.exit(2)
primary, standby = nodes
schema = "steward_failover"
url = (f"postgres://postgres@127.0.0.1:{nodes[0].port},127.0.0.1:{nodes[1].port}/test"
       f"?target_session_attrs=read-write&connect_timeout=3&schema={schema}")
cfg = os.path.join(work, "steward.toml")
with open(cfg, "w") as f:
    f.write(f'[[regions]]\nname = "jp"\ncountry = "JP"\nstore = "{url}"\n')
os.environ["STEWARD_CONFIG"] = cfg   # the server and every CLI command below
log(f"standby in sync; store {url}")

try:
    port, pid, op = h.start(steward, data, work, ("--rate-per-principal", "1000000"))
    if not op:
        raise RuntimeError("no bootstrap token on the first start")
    cafile = open(os.path.join(work, "cafile")).read().strip()
    client = h.Client(port, cafile, timeout=30)
    seeded = h.seed(client, op)
    ingest_tok = client.json("POST", "/v1/tokens", op,
                             {"principal": "ingest", "ttl_secs": 7 * 86400})["token"]
except (RuntimeError, OSError, http.client.HTTPException) as e:
    print(f"failover test: setup: {e}", file=sys.stderr)
    sys.exit(2)
READ = f"/v1/subjects/username:bob/records?purpose=protect&category=usage&grant={seeded['sam_grant']}"
sam = seeded["sam_token"]

if failovers_wanted > max(0, n_batches - 2):
    print(f"failover test: {failovers_wanted} failovers need more batches (RECORDS >= "
          f"{(failovers_wanted + 2) * batch})", file=sys.stderr)
    h.stop(pid)
    sys.exit(2)
# Failover k is armed on batch trigger[k]: spread over the run, with jitter.
span = n_batches / (failovers_wanted + 1)
triggers = [max(1, min(n_batches - 1, int(span * (k + 1) + rng.uniform(-span / 4, span / 4))))
            for k in range(failovers_wanted)]
log(f"{records} records of {users} subjects in {n_batches} batches of {batch}, a gated read "
    f"every {read_every} batches; failovers armed at batches {triggers}")

# --- the failover controller (its own thread) -------------------------------

state = {"killed_at": None, "promoted_at": None}
ready = threading.Event()        # the standby is in sync: the next failover may be armed
ready.set()
failover_log = []
controller_error = []


def failover(k, delay):
    """Kill the primary `delay` s from now, promote the standby, and (more to
    come) rebuild the old primary as the new one's synchronous standby."""
    global primary, standby
    try:
        time.sleep(delay)
        killed = state["killed_at"] = time.monotonic()
        kids = primary.kill9()
        gap = rng.uniform(0.2, 2.0)   # the operator (or orchestrator) notices
        time.sleep(gap)
        promote(standby)
        state["promoted_at"] = time.monotonic()
        log(f"failover {k + 1}: killed {primary.name}'s postmaster, then {kids} of its processes left; promoted "
            f"{standby.name} {state['promoted_at'] - killed:.2f} s later")
        old = primary
        primary, standby = standby, old
        failover_log.append({"killed": killed, "promoted": state["promoted_at"]})
        if k + 1 < failovers_wanted:
            t = time.monotonic()
            make_standby(standby, primary)
            primary.psql("ALTER SYSTEM SET synchronous_standby_names = '*'")
            primary.psql("SELECT pg_reload_conf()")
            primary.wait_sync()
            log(f"failover {k + 1}: {standby.name} rebuilt as {primary.name}'s synchronous standby "
                f"in {time.monotonic() - t:.1f} s")
            ready.set()
    except (Setup, subprocess.TimeoutExpired, OSError) as e:
        controller_error.append(str(e))
        log(f"failover {k + 1}: SETUP FAILED: {e}")


# --- streaming ---------------------------------------------------------------

acked, unacked = [], []
reads_acked = reads_tried = 0
latencies = []
statuses = {}
recoveries = []      # per failover: kill -> first acknowledged batch after promotion (s)
k_next = 0
b = 0
controller = None
pending_recovery = None   # index of the failover whose recovery is awaited


def note_status(what, status, body):
    statuses[status] = statuses.get(status, 0) + 1
    if status is not None and status >= 500 and status != 503:
        violation(f"{what}: HTTP {status}: {body[:300]!r}")
    elif status is not None and 400 <= status < 500:
        violation(f"{what}: HTTP {status}: {body[:300]!r}")


def gated_read():
    global reads_acked, reads_tried
    reads_tried += 1
    try:
        status, _, resp = client.request("GET", READ, sam)
    except (OSError, http.client.HTTPException):
        status, resp = None, b""
    if status == 200:
        reads_acked += 1
        return True
    note_status("gated read", status, resp)
    return False


fatal = False    # Steward did not come back: stop streaming
while b < n_batches and not fatal and not controller_error:
    if k_next < failovers_wanted and b >= triggers[k_next] and pending_recovery is None:
        # Arm the next failover on this batch once the standby is in sync.
        if not ready.wait(timeout=120):
            controller_error.append("the rebuilt standby never came in sync")
            break
        ready.clear()
        est = statistics.median(latencies) if latencies else 0.05
        controller = threading.Thread(target=failover, args=(k_next, rng.uniform(0, 1.5 * est)))
        controller.start()
        pending_recovery = k_next
        k_next += 1
    sent = time.monotonic()
    try:
        status, _, resp = client.request("POST", "/v1/records:batch", ingest_tok,
                                         json.dumps(batch_records(b)).encode())
    except (OSError, http.client.HTTPException):
        status, resp = None, b""
    took = time.monotonic() - sent
    ok = False
    if status == 201:
        try:
            ok = json.loads(resp).get("stored") == len(batch_range(b))
        except ValueError:
            ok = False
        if not ok:
            violation(f"batch {b}: 201 but the summary is not {len(batch_range(b))} stored: {resp[:200]!r}")
    else:
        note_status(f"batch {b}", status, resp)
    if ok:
        acked.append(b)
        if pending_recovery is None:
            latencies.append(took)
        elif state["promoted_at"] is not None and sent > state["killed_at"]:
            now = time.monotonic()
            recoveries.append((now - state["killed_at"], now - state["promoted_at"]))
            log(f"failover {pending_recovery + 1}: serving again: batch {b} acknowledged "
                f"{recoveries[-1][0]:.2f} s after the kill, {recoveries[-1][1]:.2f} s after the promotion")
            pending_recovery = None
            state["killed_at"] = state["promoted_at"] = None
    else:
        unacked.append(b)
    if pending_recovery is not None and state["killed_at"] is not None \
            and time.monotonic() - state["killed_at"] > recover_limit:
        violation(f"failover {pending_recovery + 1}: Steward not serving {recover_limit:.0f} s after the kill")
        fatal = True
        break
    if not ok:
        # Down: probe with gated reads (which write an audit entry) every
        # 100 ms until one is answered, then go on with the next batch.
        while not fatal:
            time.sleep(0.1)
            if gated_read():
                break
            if pending_recovery is not None and state["killed_at"] is not None \
                    and time.monotonic() - state["killed_at"] > recover_limit:
                violation(f"failover {pending_recovery + 1}: Steward not serving "
                          f"{recover_limit:.0f} s after the kill")
                fatal = True
            if pending_recovery is None and time.monotonic() - sent > recover_limit:
                violation(f"batch {b}: refused with no failover under way, and Steward not "
                          f"serving {recover_limit:.0f} s later")
                fatal = True
    elif b % read_every == 0:
        gated_read()
    b += 1

if controller:
    controller.join()
if pending_recovery is not None and not fatal and not controller_error:
    violation(f"failover {pending_recovery + 1}: no batch acknowledged after the promotion "
              f"before the stream ended (RECORDS too small?)")
h.stop(pid)
try:
    os.waitpid(pid, 0)
except ChildProcessError:
    pass
os.remove(os.path.join(work, "pid"))
if controller_error:
    print(f"failover test: setup during the run: {controller_error[0]}", file=sys.stderr)
    sys.exit(2)

# --- the final check, Steward stopped ---------------------------------------
done = len(failover_log)
log(f"streaming done: {len(acked)} batches acknowledged, {len(unacked)} not; {reads_acked} of "
    f"{reads_tried} gated reads acknowledged; {done} failovers; statuses {statuses}; "
    f"median batch latency {statistics.median(latencies) * 1000 if latencies else 0:.0f} ms; final check "
    f"on {primary.name} (port {primary.port})")
if done != failovers_wanted and not violations:
    violation(f"{done} of {failovers_wanted} failovers done")
if primary.psql("SELECT pg_is_in_recovery()") != "f":
    violation(f"{primary.name} is still in recovery after its promotion")
audit_verify("final")
r = run("verify-records")
if r.returncode != 0:
    violation(f"final: `steward verify-records` exit {r.returncode}: {(r.stdout + r.stderr).strip()[:400]}")
else:
    log("verify-records: " + r.stdout.strip().splitlines()[-1][:300])
# Every subject exported: every acknowledged batch's tokens present once; an
# unacknowledged batch's all or none.
got = {}
for tokens in stream.exported_tokens(work).values():
    for t in tokens:
        got[t] = got.get(t, 0) + 1
dups = sorted(t for t, n in got.items() if n > 1)
if dups:
    violation(f"final: {len(dups)} tokens stored more than once: {dups[:5]}")
missing = [token(i) for x in acked for i in batch_range(x) if token(i) not in got]
if missing:
    violation(f"final: {len(missing)} acknowledged records missing: {missing[:5]}")
committed_unacked = 0
for x in unacked:
    present = sum(1 for i in batch_range(x) if token(i) in got)
    if present == len(batch_range(x)):
        committed_unacked += 1
    elif present:
        violation(f"final: unacknowledged batch {x} half-present ({present} of {len(batch_range(x))})")
known = {token(i) for x in acked + unacked for i in batch_range(x)}
strays = [t for t in got if t not in known]
if strays:
    violation(f"final: {len(strays)} tokens never sent: {strays[:5]}")
# Every acknowledged gated read left its audit entry (an unacknowledged one may have).
r = run("audit", "search", "--principal", "sam", "--decision", "allow")
m = re.search(r"(\d+) entries", r.stderr)
read_entries = int(m.group(1)) if m else None
if r.returncode != 0 or read_entries is None:
    violation(f"final: `steward audit search` exit {r.returncode}: {r.stderr.strip()[-300:]}")
elif read_entries < reads_acked:
    violation(f"final: {read_entries} audit entries of sam's reads, fewer than the {reads_acked} acknowledged")
audit_verify("final, after the exports")

acked_records = sum(len(batch_range(x)) for x in acked)
if violations:
    print(f"failover test FAILED (seed {seed}): {len(violations)} violations")
    for v in violations:
        print("  " + v)
    sys.exit(1)
rec = ", ".join(f"{k:.1f} s ({p:.1f} s)" for k, p in recoveries)
print(f"failover test: {done} failovers, {len(acked)} acknowledged batches ({acked_records} records) "
      f"all present once, {committed_unacked} of {len(unacked)} unacknowledged committed whole, none half; "
      f"{reads_acked} acknowledged gated reads, {read_entries} read audit entries; audit verify ok on the "
      f"promoted store; serving again {rec} after each kill (after its promotion), without a restart (seed {seed})")
