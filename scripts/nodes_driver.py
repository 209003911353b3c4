"""Driver of scripts/nodes_test.sh (read its header): two `steward serve`
nodes on one PostgreSQL schema under a mixed load, one of them SIGKILLed
while it executes a data subject request, which the other takes over once
the request's lease has expired; then the store is checked. With
`--scaling`: gated reads through 1, 2 and 4 nodes on one schema, driven by
wrk.

usage: nodes_driver.py SECONDS STEWARD WORK PG_URL SCHEMA
       nodes_driver.py --scaling SECONDS STEWARD WORK PG_URL SCHEMA_PREFIX
Standard library only (http.client + ssl through steward_http.py).
"""

import hashlib
import http.client
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import steward_http as h  # noqa: E402

LEASE = int(os.environ.get("NODES_LEASE_SECS", "3"))
LIVE = int(os.environ.get("NODES_SUBJECTS", "12"))      # subjects ingested during the load
BATCH = int(os.environ.get("NODES_BATCH", "100"))
BIG = int(os.environ.get("NODES_BIG", "30000"))         # records of the subject whose export is killed
# An approval sent later than this many seconds beyond the lease after the
# kill must take the request over (the lease was last renewed before the kill).
SLACK = float(os.environ.get("NODES_SLACK", "0.5"))
t0 = time.monotonic()
violations = []
vlock = threading.Lock()


def log(msg):
    print(f"[{time.monotonic() - t0:7.1f}s] {msg}", flush=True)


def violation(msg):
    with vlock:
        violations.append(msg)
    log("VIOLATION: " + msg)


def write_config(work, pg_url, schema, lease):
    sep = "&" if "?" in pg_url else "?"
    path = os.path.join(work, "steward.toml")
    with open(path, "w") as f:
        f.write(f'[[regions]]\nname = "jp"\ncountry = "JP"\n'
                f'store = "{pg_url}{sep}schema={schema}"\n\n'
                f'[dsr]\nlease_secs = {lease}\n\n'
                f'[audit]\nsigning_key_file = "{os.path.join(work, "checkpoint-signing.key")}"\n')
    return path


class Node:
    """One `steward serve` process on the shared data directory (its own
    work subdirectory for port, pid and logs)."""

    def __init__(self, name, steward, data, work, config):
        self.name, self.steward, self.data, self.config = name, steward, data, config
        self.work = os.path.join(work, name)
        os.makedirs(self.work, exist_ok=True)
        self.up = False
        self.pid = None
        self.client = None
        self.starts = 0

    def start(self):
        port, pid, tok = h.start(self.steward, self.data, self.work,
                                 ("--config", self.config, "--rate-per-principal", "1000000"))
        cafile = open(os.path.join(self.work, "cafile")).read().strip()
        self.client = h.Client(port, cafile, timeout=60)
        self.pid, self.port, self.up = pid, port, True
        self.starts += 1
        return tok

    def kill(self):
        self.up = False
        os.kill(self.pid, signal.SIGKILL)
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass

    def stop(self):
        if self.up and self.pid:
            self.up = False
            h.stop(self.pid)
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
        if os.path.exists(os.path.join(self.work, "pid")):
            os.remove(os.path.join(self.work, "pid"))


# ---------------------------------------------------------------- statistics
stats_lock = threading.Lock()
statuses = {}          # (node, status) -> count
retry_503 = 0
five_xx = []           # (node, method, path, status, body) of 5xx other than 503 + Retry-After


def call(node, method, path, token, body=None, ctype="application/json"):
    """(status, headers, body) or None when the connection failed on a node
    that is down (killed: the outcome is unknown). A failed connection to a
    node that is up is a violation (then None too)."""
    global retry_503
    client = node.client
    try:
        status, hdrs, data = client.request(method, path, token, body, ctype)
    except (OSError, http.client.HTTPException) as e:
        if not node.up or client is not node.client:
            return None
        violation(f"{node.name}: {method} {path.split('?')[0]}: connection failed on a running node: {e!r}")
        return None
    with stats_lock:
        statuses[(node.name, status)] = statuses.get((node.name, status), 0) + 1
        if status == 503 and "retry-after" in hdrs:
            retry_503 += 1
        elif status >= 500:
            five_xx.append((node.name, method, path.split("?")[0], status, data[:300]))
    if status >= 500 and not (status == 503 and "retry-after" in hdrs):
        violation(f"{node.name}: {method} {path.split('?')[0]}: HTTP {status}: {data[:300]!r}")
    return status, hdrs, data


def up_nodes(nodes):
    return [n for n in nodes if n.up]


# ------------------------------------------------------------- record tokens
def usage(subject, tok, i):
    sec = i % 86400
    return {"subject": f"username:{subject}", "kind": "usage.error",
            "occurred_at": f"2026-02-01T{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}Z",
            "fields": {"level": "error", "component": "nodes-test",
                       "message": f"nodes test record {tok}"}}


def profile(subject):
    return {"subject": f"username:{subject}", "kind": "account.profile",
            "fields": {"username": subject, "given_name": "Test",
                       "email": f"{subject}@example.com"}}


def tokens_of_zip(data, what):
    """The tokens of the usage records in an export ZIP (checking its
    manifest's hashes), or None after a violation."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        manifest = json.loads(z.read("manifest.json"))
        for name, digest in manifest.get("files", {}).items():
            if hashlib.sha256(z.read(name)).hexdigest() != digest:
                violation(f"{what}: {name} does not match its manifest hash")
                return None
        rows = json.loads(z.read("usage.json")) if "usage.json" in z.namelist() else []
    except (KeyError, ValueError, zipfile.BadZipFile) as e:
        violation(f"{what}: the ZIP does not open: {e}")
        return None
    return [str(r.get("fields", {}).get("message", "")).rsplit(" ", 1)[-1] for r in rows]


def records_in_zip(data, what):
    """How many records an export ZIP holds (every file but the manifest)."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        return sum(len(json.loads(z.read(n))) for n in z.namelist()
                   if n.endswith(".json") and n != "manifest.json")
    except (KeyError, ValueError, zipfile.BadZipFile) as e:
        violation(f"{what}: the ZIP does not open: {e}")
        return None


# ================================================================= the test
def mixed(seconds, steward, work, pg_url, schema):
    data = os.path.join(work, "data")
    config = write_config(work, pg_url, schema, LEASE)
    nodes = [Node("a", steward, data, work, config), Node("b", steward, data, work, config)]
    a, b = nodes
    op = a.start()
    if not op:
        print("nodes test: no bootstrap token on the first start", file=sys.stderr)
        return 2
    b.start()
    log(f"nodes a (pid {a.pid}, port {a.port}) and b (pid {b.pid}, port {b.port}) on schema {schema}, "
        f"one data directory, dsr.lease_secs = {LEASE}; steward {steward}; work {work}")
    try:
        return mixed_run(seconds, steward, work, nodes, op, data, config)
    finally:
        for n in nodes:
            n.stop()


def mixed_run(seconds, steward, work, nodes, op, data, config):
    a, b = nodes
    # ---- setup through both nodes
    c = a.client
    ingest = c.json("POST", "/v1/tokens", op, {"principal": "ingest", "ttl_secs": 86400})["token"]
    dates, today = h.staff_dates()
    b.client.json("POST", "/v1/principals", op, {"name": "sam", "kind": "employee",
                                                 "teams": ["security"], **dates})
    sam = c.json("POST", "/v1/tokens", op, {"principal": "sam", "ttl_secs": 86400})["token"]
    ob = b.client.json("POST", "/v1/obligations", op,
                       {"kind": "data_subject_request", "reference": "NODES-1"})["id"]
    live = [f"n{i:02d}" for i in range(LIVE)]
    n_victims = max(4, seconds // 3)
    victims = [f"e{i:03d}" for i in range(n_victims)]
    readable = [f"r{i:02d}" for i in range(6)]     # one usage record each, read by sam
    setup = [profile(s) for s in live + victims] + \
        [usage(v, f"pre-{v}", k) for k, v in enumerate(victims + readable)]
    r = b.client.json("POST", "/v1/records:batch", ingest, setup)
    assert r["stored"] == len(setup), r
    grants = {}
    for k, s in enumerate(victims + readable):
        g = nodes[k % 2].client.json("POST", "/v1/need-to-know-grants", op,
                                     {"grantee": "sam", "subject": f"username:{s}", "purpose": "protect",
                                      "categories": ["usage"], "expires_on": today,
                                      "reference": f"NODES-{s}"})
        grants[s] = g["id"]
    for k in range(0, BIG, 2000):
        recs = [usage("big", f"big-{i:06d}", i) for i in range(k, min(BIG, k + 2000))]
        r = nodes[k // 2000 % 2].client.json("POST", "/v1/records:batch", ingest, recs)
        assert r["stored"] == len(recs), r
    log(f"setup: {len(live)} live subjects, {len(victims)} to erase, {len(readable)} to read, `big` with {BIG} records, "
        f"sam's grants, obligation {ob}")

    # Two nodes read what the other wrote: a read of each victim on each node.
    for s in victims[:2]:
        for n in nodes:
            v = n.client.json("GET", f"/v1/subjects/username:{s}/records?purpose=protect&category=usage"
                                     f"&grant={grants[s]}", sam)
            if len(v["records"]) != 1:
                violation(f"setup read of {s} on {n.name}: {len(v['records'])} records, want 1")

    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    acked = {s: [] for s in live}         # subject -> tokens acknowledged
    unknown = []                          # batches with no answer (their node killed, or 503): [(subject, token)]
    counts = {"batches": 0, "records": 0, "reads": 0, "exports": 0, "requests": 0,
              "erasures": 0, "races": 0, "race_409": 0, "unknown_batches": 0}
    completed = {}                        # request id -> (type, subject, result)
    erased = []

    def bump(k, n=1):
        with lock:
            counts[k] += n

    def running(margin=0.0):
        """Yields the nodes up, again and again, until the load's end (less
        `margin` s) or a violation; waits while none is up."""
        while time.monotonic() < stop_at - margin and not violations:
            ups = up_nodes(nodes)
            if not ups:
                time.sleep(0.05)
                continue
            yield ups

    def writer(w):
        rng = random.Random(w)
        seq = sent = 0
        for ups in running():
            node = ups[(sent + w) % len(ups)]   # the writers alternate, out of step
            sent += 1
            batch = []
            for _ in range(BATCH):
                s = live[rng.randrange(len(live))]
                tok = f"w{w}-{seq:07d}"
                batch.append((s, tok))
                seq += 1
            body = [usage(s, t, seq + i) for i, (s, t) in enumerate(batch)]
            r = call(node, "POST", "/v1/records:batch", ingest, body)
            if r is None or r[0] == 503:
                with lock:
                    unknown.append(batch)
                    counts["unknown_batches"] += 1
                continue
            status, _, resp = r
            ok = status == 201 and json.loads(resp).get("stored") == len(batch)
            if not ok:
                violation(f"batch on {node.name}: HTTP {status}: {resp[:200]!r}")
                continue
            with lock:
                for s, t in batch:
                    acked[s].append(t)
                counts["batches"] += 1
                counts["records"] += len(batch)

    def reader():
        rng = random.Random(99)
        for ups in running():
            node = rng.choice(ups)
            s = rng.choice(readable)
            r = call(node, "GET", f"/v1/subjects/username:{s}/records?purpose=protect&category=usage"
                                  f"&grant={grants[s]}", sam)
            if r is None or r[0] == 503:
                continue
            if r[0] != 200 or len(json.loads(r[2]).get("records", [])) != 1:
                violation(f"gated read of {s} on {node.name}: HTTP {r[0]}: {r[2][:200]!r}")
            bump("reads")

    def exporter():
        rng = random.Random(7)
        for ups in running():
            node = rng.choice(ups)
            s = rng.choice(live)
            # Everything acknowledged before the export starts, on either
            # node, must be in it.
            with lock:
                before = list(acked[s])
            r = call(node, "GET", f"/v1/subjects/username:{s}/export?purpose=comply&obligation={ob}", op)
            if r is None or r[0] == 503:
                continue
            if r[0] != 200:
                violation(f"export of {s} on {node.name}: HTTP {r[0]}: {r[2][:200]!r}")
                continue
            got = tokens_of_zip(r[2], f"export of {s} on {node.name}")
            if got is None:
                continue
            if len(got) != len(set(got)):
                violation(f"export of {s} on {node.name}: {len(got) - len(set(got))} duplicated records")
            missing = set(before) - set(got)
            if missing:
                violation(f"export of {s} on {node.name}: {len(missing)} records acknowledged before it "
                          f"are missing, e.g. {sorted(missing)[:3]}")
            bump("exports")
            time.sleep(0.2)

    def approve_both(rid, what):
        """Approve `rid` through every running node at once: exactly one
        executes (200, completed), the others get 409."""
        ups = up_nodes(nodes)
        barrier = threading.Barrier(len(ups))
        out = [None] * len(ups)

        def go(i, n):
            barrier.wait()
            out[i] = call(n, "POST", f"/v1/requests/{rid}/approve", op)
        ts = [threading.Thread(target=go, args=(i, n)) for i, n in enumerate(ups)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        got = [o[0] if o else None for o in out]
        if any(g is None or g == 503 for g in got):
            # A node was killed meanwhile, or the store was busy: finish on one.
            return finish(rid, what)
        wins = [o for o in out if o[0] == 200]
        losses = [o for o in out if o[0] == 409]
        if len(wins) != 1 or len(wins) + len(losses) != len(out):
            violation(f"{what} {rid} approved on {len(ups)} nodes at once: statuses {got}, "
                      f"want one 200 and the rest 409")
            return None
        if len(ups) > 1:
            bump("races")
            bump("race_409", len(losses))
        return json.loads(wins[0][2])

    def finish(rid, what):
        """Approve until the request is completed (409 while a lease is live)."""
        deadline = time.monotonic() + LEASE + 30
        while time.monotonic() < deadline:
            ups = up_nodes(nodes)
            if ups:
                r = call(ups[0], "GET", f"/v1/requests/{rid}", op)
                if r and r[0] == 200 and json.loads(r[2])["state"] == "completed":
                    return json.loads(r[2])
                r = call(ups[0], "POST", f"/v1/requests/{rid}/approve", op)
                if r and r[0] == 200:
                    return json.loads(r[2])
            time.sleep(0.25)
        violation(f"{what} {rid}: not completed within {LEASE + 30} s")
        return None

    def requester():
        rng = random.Random(3)
        k = 0
        for ups in running(margin=1):
            k += 1
            erase = k % 3 == 0 and len(erased) < len(victims)
            if erase:
                s, t = victims[len(erased)], "erasure"
            else:
                s, t = rng.choice(live), rng.choice(["access", "export"])
            node = ups[k % len(ups)]
            r = call(node, "POST", "/v1/requests", op, {"type": t, "subject": f"username:{s}"})
            if r is None or r[0] == 503:
                continue
            if r[0] != 201:
                violation(f"open {t} request for {s} on {node.name}: HTTP {r[0]}: {r[2][:200]!r}")
                continue
            rid = json.loads(r[2])["id"]
            done = approve_both(rid, f"{t} request")
            if done is None:
                continue
            if done.get("state") != "completed":
                violation(f"{t} request {rid}: state {done.get('state')} after approval")
                continue
            with lock:
                completed[rid] = (t, s, done.get("result"))
                counts["requests"] += 1
            if erase:
                erased.append(s)
                bump("erasures")
                # Reads of the erased subject find nothing, on both nodes:
                # sam's gated read (its grant names a subject no longer
                # there) and the operator's export.
                for n in up_nodes(nodes):
                    rr = call(n, "GET", f"/v1/subjects/username:{s}/records?purpose=protect&category=usage"
                                        f"&grant={grants[s]}", sam)
                    if rr is not None and rr[0] != 503:
                        erased_reads[rr[0]] = erased_reads.get(rr[0], 0) + 1
                        if rr[0] == 200 and json.loads(rr[2]).get("records"):
                            violation(f"read of erased {s} on {n.name}: {len(json.loads(rr[2])['records'])} records")
                        elif rr[0] not in (200, 403, 404):
                            violation(f"read of erased {s} on {n.name}: HTTP {rr[0]}: {rr[2][:200]!r}")
                    rr = call(n, "GET", f"/v1/subjects/username:{s}/export?purpose=comply&obligation={ob}", op)
                    if rr is not None and rr[0] != 503:
                        erased_reads[f"export {rr[0]}"] = erased_reads.get(f"export {rr[0]}", 0) + 1
                        if rr[0] == 200:
                            left = records_in_zip(rr[2], f"export of erased {s} on {n.name}")
                            if left:
                                violation(f"export of erased {s} on {n.name}: {left} records")
                        elif rr[0] not in (400, 404):
                            violation(f"export of erased {s} on {n.name}: HTTP {rr[0]}: {rr[2][:200]!r}")
            else:
                # The result is served by any node (the other one, if up).
                others = [n for n in up_nodes(nodes) if n is not node] or up_nodes(nodes)
                if others:
                    rr = call(others[0], "GET", f"/v1/requests/{rid}/result", op)
                    if rr and rr[0] == 200:
                        got = tokens_of_zip(rr[2], f"result of {rid} on {others[0].name}")
                        n_rec = (done.get("result") or {}).get("records")
                        if got is not None and n_rec is not None and len(got) + 1 != n_rec:
                            # the ZIP holds the usage records and the one profile
                            violation(f"result of {rid}: {len(got)} usage records in the ZIP, "
                                      f"the request says {n_rec} in all")
                    elif rr and rr[0] != 503:
                        violation(f"result of {rid} on {others[0].name}: HTTP {rr[0]}: {rr[2][:200]!r}")

    takeover = {}
    erased_reads = {}

    def killer():
        """At a third of the run: approve an export of `big` on node a and
        SIGKILL a while b sees it in_progress; b takes it over after the lease."""
        time.sleep(max(1.0, seconds / 3))
        for attempt in range(3):
            r = b.client.json("POST", "/v1/requests", op, {"type": "export", "subject": "username:big"})
            rid = r["id"]
            res = {}
            th = threading.Thread(target=lambda: res.setdefault("r", call(a, "POST", f"/v1/requests/{rid}/approve", op)))
            th.start()
            seen = False
            while th.is_alive():
                g = call(b, "GET", f"/v1/requests/{rid}", op)
                if g and g[0] == 200 and json.loads(g[2])["state"] == "in_progress":
                    seen = True
                    break
                time.sleep(0.005)
            if not seen:
                th.join()
                log(f"kill attempt {attempt + 1}: the export of big finished on a before it was seen in_progress")
                with lock:
                    if res.get("r") and res["r"][0] == 200:
                        completed[rid] = ("export", "big", json.loads(res["r"][2]).get("result"))
                continue
            time.sleep(0.1)   # well into the execution (its heartbeat is running)
            a.kill()
            t_kill = time.monotonic()
            th.join()
            log(f"node a SIGKILLed while executing {rid} (approve answer: "
                f"{res['r'][0] if res.get('r') else 'none, connection cut'})")
            if res.get("r") and res["r"][0] == 200:
                violation(f"{rid}: node a answered 200 although killed mid-execution")
            n409 = 0
            late = []       # 409s of approvals sent after the lease (+ slack) had expired
            while True:
                sent = time.monotonic()
                r = call(b, "POST", f"/v1/requests/{rid}/approve", op)
                # Taken over by the approval sent at `sent` (its answer
                # comes after the export of big's records).
                took = sent - t_kill
                if r and r[0] == 200:
                    done = json.loads(r[2])
                    finished = time.monotonic() - t_kill
                    break
                if r and r[0] == 409:
                    n409 += 1
                    if took > LEASE + SLACK:
                        late.append(took)
                elif r and r[0] != 503:
                    violation(f"takeover of {rid} on b: HTTP {r[0]}: {r[2][:200]!r}")
                if took > LEASE + 30:
                    violation(f"{rid}: not taken over by b within {LEASE + 30} s of a's kill")
                    done = None
                    break
                time.sleep(0.1)
            takeover.update(id=rid, secs=took, refused=n409)
            if done:
                takeover["finished"] = finished
            if done:
                notes = [x.get("note", "") for x in done.get("history", [])]
                if done.get("state") != "completed" or done.get("attempts") != 2 or \
                        not any("taking over" in n for n in notes):
                    violation(f"takeover of {rid}: state {done.get('state')}, attempts {done.get('attempts')}, "
                              f"history {notes}")
                if late:
                    violation(f"takeover of {rid}: {len(late)} approvals sent {late[0]:.2f} s or more after "
                              f"the kill, past the lease ({LEASE} s + {SLACK} s), were refused; taken over "
                              f"by the one sent {took:.2f} s after")
                with lock:
                    completed[rid] = ("export", "big", done.get("result"))
                log(f"b took {rid} over with the approval sent {took:.2f} s after a's kill, completed "
                    f"{finished:.2f} s after it (lease {LEASE} s; {n409} approvals refused with 409 before); "
                    f"result {done.get('result')}")
            t1 = time.monotonic()
            a.start()
            log(f"node a restarted in {(time.monotonic() - t1) * 1000:.0f} ms (port {a.port})")
            # The restarted node serves the result b stored.
            rr = call(a, "GET", f"/v1/requests/{rid}/result", op)
            if not rr or rr[0] != 200:
                violation(f"result of {rid} on the restarted a: {rr and rr[0]}")
            else:
                got = tokens_of_zip(rr[2], f"result of {rid}")
                if got is not None and sorted(got) != [f"big-{i:06d}" for i in range(BIG)]:
                    violation(f"result of {rid}: {len(got)} records, not exactly big's {BIG}")
            return
        violation("could not catch the export of big in_progress on node a in 3 attempts")

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(2)] + \
        [threading.Thread(target=f) for f in (reader, exporter, requester, killer)]
    log(f"mixed load for {seconds} s: 2 writers (batches of {BATCH}), 1 gated reader, 1 exporter, "
        f"1 requester (access/export/erasure, approved through both nodes at once), kill of a at {seconds / 3:.0f} s")
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log(f"load done: {counts}")

    # ---- final checks, nodes stopped, with the CLI on the same configuration
    for n in nodes:
        n.stop()

    def cli(*args, timeout=600):
        return subprocess.run([steward, "--data-dir", data, "--config", config, *args],
                              capture_output=True, text=True, timeout=timeout)

    r = cli("audit", "verify")
    if r.returncode != 0 or "audit log verifies" not in r.stdout:
        violation(f"final: `steward audit verify` exit {r.returncode}: {(r.stdout + r.stderr).strip()[:400]}")
    else:
        log("audit verify: " + next(l for l in r.stdout.splitlines() if "audit log verifies" in l))
    unknown_tok = {}
    for batch in unknown:
        for s, t in batch:
            unknown_tok[t] = (s, id(batch))
    found_unknown = {}
    total = 0
    for s in live:
        path = os.path.join(work, f"{s}.zip")
        r = cli("export", "--subject", f"username:{s}", "--out", path)
        if r.returncode != 0:
            violation(f"final: export of {s} exit {r.returncode}: {r.stderr.strip()[:300]}")
            continue
        got = tokens_of_zip(open(path, "rb").read(), f"final export of {s}")
        os.remove(path)
        if got is None:
            continue
        total += len(got)
        want = set(acked[s])
        dup = len(got) - len(set(got))
        missing = want - set(got)
        extra = [t for t in set(got) - want if t not in unknown_tok]
        for t in set(got) - want:
            if t in unknown_tok:
                found_unknown.setdefault(unknown_tok[t][1], set()).add(t)
        if dup or missing or extra:
            violation(f"final: export of {s}: {len(got)} records; {len(missing)} acknowledged missing "
                      f"{sorted(missing)[:3]}, {len(extra)} never sent {extra[:3]}, {dup} duplicated")
    # An unanswered batch is all there or not at all.
    for batch in unknown:
        have = found_unknown.get(id(batch), set())
        if have and len(have) != len(batch):
            violation(f"final: an unanswered batch is half-present: {len(have)} of {len(batch)} records")
    unknown_present = sum(1 for b_ in unknown if found_unknown.get(id(b_)))
    # Every request executed once: one `dsr_complete` entry each; one
    # `erase` decision per erasure; one stored result per access/export.
    r = cli("audit", "search", "--action", "dsr_complete")
    lines = r.stdout.splitlines()
    for rid in completed:
        n = sum(1 for l in lines if rid in l)
        if n != 1:
            violation(f"final: request {rid} has {n} dsr_complete audit entries, want 1")
    r = cli("audit", "search", "--action", "dsr_in_progress")
    if takeover.get("id"):
        n = sum(1 for l in r.stdout.splitlines() if takeover["id"] in l)
        if n != 2:
            violation(f"final: the taken-over request has {n} dsr_in_progress entries, want 2 (a's, b's)")
    r = cli("audit", "search", "--action", "erase")
    n_erase = len([l for l in r.stdout.splitlines() if l.strip()])
    if n_erase != len(erased):
        violation(f"final: {n_erase} `erase` audit entries for {len(erased)} erasures")
    receipts = [v[2].get("receipt_id") for v in completed.values() if v[0] == "erasure" and v[2]]
    if len(set(receipts)) != len(erased):
        violation(f"final: {len(set(receipts))} distinct receipts for {len(erased)} erasures")
    db = psql_counts()
    log(f"rows: {db}")
    if db:
        if db.get("erasure_receipts") != len(erased):
            violation(f"final: {db.get('erasure_receipts')} erasure_receipts rows for {len(erased)} erasures")
        n_results = sum(1 for v in completed.values() if v[0] in ("access", "export"))
        if db.get("dsr_results") != n_results:
            violation(f"final: {db.get('dsr_results')} dsr_results rows for {n_results} access/export requests")
        if db.get("dsr_leases") != 0:
            violation(f"final: {db.get('dsr_leases')} dsr_leases rows left")
    # Nothing of the erased subjects is read on either node.
    for s in erased:
        r = cli("export", "--subject", f"username:{s}", "--out", os.path.join(work, "erased.zip"))
        if r.returncode == 0:
            got = tokens_of_zip(open(os.path.join(work, "erased.zip"), "rb").read(), f"export of erased {s}")
            if got:
                violation(f"final: erased {s} still exports {len(got)} records")
    with stats_lock:
        by_status = {}
        for (n, s), k in sorted(statuses.items()):
            by_status.setdefault(n, []).append(f"{s}:{k}")
    log(f"reads of erased subjects, by status: {erased_reads}")
    log("responses by node and status: " + "; ".join(f"{n} {' '.join(v)}" for n, v in by_status.items()))
    summary = (f"{seconds} s on 2 nodes, one PostgreSQL schema: {counts['batches']} batches acknowledged "
               f"({counts['records']} records, each present once), {counts['unknown_batches']} unanswered "
               f"({unknown_present} committed, all or nothing); {counts['reads']} gated reads, {counts['exports']} "
               f"exports; {counts['requests']} requests executed once ({counts['erasures']} erasures, "
               f"{counts['races']} approved through both nodes at once, {counts['race_409']} got 409); "
               f"a killed mid-export, b took it over {takeover.get('secs', float('nan')):.2f} s after "
               f"(lease {LEASE} s, {takeover.get('refused', 0)} approvals refused before; completed at "
               f"{takeover.get('finished', float('nan')):.2f} s); "
               f"5xx: {len(five_xx)} (503 with Retry-After: {retry_503}); audit verify ok")
    if violations:
        print(f"nodes test FAILED: {len(violations)} violations")
        for v in violations:
            print("  " + v)
        return 1
    print("nodes test: " + summary)
    return 0


def psql_counts():
    """Row counts of a few tables of the schema (psql), or {} without psql."""
    url, schema = os.environ.get("NODES_PG_URL"), os.environ.get("NODES_SCHEMA")
    if not url or not schema:
        return {}
    q = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{schema}\".{t}"
                           for t in ("erasure_receipts", "dsr_results", "dsr_leases"))
    try:
        r = subprocess.run(["psql", url, "-tAF,", "-c", q], capture_output=True, text=True, timeout=60)
    except OSError:
        return {}
    if r.returncode != 0:
        log(f"psql: {r.stderr.strip()[:200]}")
        return {}
    return {k: int(v) for k, v in (l.split(",") for l in r.stdout.split())}


# ============================================================= scaling mode
def wrk_run(url, path, token, secs, threads, conns, out):
    env = {**os.environ, "STEWARD_TOKEN": token}
    here = os.path.dirname(os.path.abspath(__file__))
    return subprocess.Popen(["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{secs}s", "--latency",
                             "--timeout", "10s", "-s", os.path.join(here, "load_wrk.lua"), url + path],
                            stdout=open(out, "w"), stderr=subprocess.STDOUT, env=env)


def parse_wrk(out):
    for line in open(out).read().splitlines():
        if line.startswith("steward-wrk "):
            return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    raise RuntimeError(f"no summary line from wrk in {out}")


def scaling(seconds, steward, work, pg_url, prefix):
    rows = []
    conns_total = int(os.environ.get("WRK_CONNECTIONS", "16"))
    for n in (1, 2, 4):
        schema = f"{prefix}_{n}"
        sub = os.path.join(work, f"n{n}")
        os.makedirs(sub)
        data = os.path.join(sub, "data")
        config = write_config(sub, pg_url, schema, 30)
        nodes = [Node(f"node{i}", steward, data, sub, config) for i in range(n)]
        try:
            op = nodes[0].start()
            for x in nodes[1:]:
                x.start()
            s = h.seed(nodes[0].client, op)
            path = f"/v1/subjects/username:bob/records?purpose=protect&category=usage&grant={s['sam_grant']}"
            for x in nodes:   # one read by hand on each node
                v = x.client.json("GET", path, s["sam_token"])
                assert len(v["records"]) == 1, v
            # warm-up, then the measured run: one wrk per node, the
            # connections split evenly, 2 wrk threads in all.
            for phase, secs in (("warmup", 5), ("run", seconds)):
                ps = [wrk_run(f"https://localhost:{x.port}", path, s["sam_token"], secs,
                              1 if n > 1 else 2, max(1, conns_total // n),
                              os.path.join(sub, f"wrk-{phase}-{x.name}.txt")) for x in nodes]
                for p in ps:
                    p.wait()
            ms = [parse_wrk(os.path.join(sub, f"wrk-run-{x.name}.txt")) for x in nodes]
        finally:
            for x in nodes:
                x.stop()
        r = subprocess.run([steward, "--data-dir", data, "--config", config, "audit", "verify"],
                           capture_output=True, text=True)
        verdict = next((l for l in r.stdout.splitlines() if "audit log verifies" in l), r.stderr.strip()[:200])
        rate = sum(m["requests"] / m["seconds"] for m in ms)
        errs = sum(int(m["non2xx"] + m["connect"] + m["read"] + m["write"] + m["timeout"]) for m in ms)
        p99 = max(m["p99"] for m in ms) / 1000
        p50 = sorted(m["p50"] for m in ms)[len(ms) // 2] / 1000
        rows.append((n, rate, p50, p99, int(sum(m["requests"] for m in ms)), errs, verdict))
        log(f"{n} node(s): {rate:,.0f} gated reads/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms (worst node), "
            f"errors {errs}; {verdict}")
        psql_drop(pg_url, schema)
    rev = os.environ.get("STEWARD_SOURCE_REV")
    if not rev:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        if subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                          text=True).stdout.strip():
            rev += " + working tree"
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, git {rev}, "
          f"{os.cpu_count()} cores shared by the nodes, wrk and PostgreSQL; load average "
          f"{open('/proc/loadavg').read().split()[0]} at the end")
    print(f"| nodes | gated reads/s (total) | per node | p50 | p99 (worst node) | reads | non-2xx + socket errors |")
    print("|---|---|---|---|---|---|---|")
    for n, rate, p50, p99, reqs, errs, _ in rows:
        print(f"| {n} | {rate:,.0f} | {rate / n:,.0f} | {p50:.2f} ms | {p99:.2f} ms | {reqs:,} | {errs} |")
    hot_row(pg_url, f"{prefix}_pgbench")
    return 1 if any(r[5] for r in rows) else 0


def hot_row(pg_url, schema):
    """The audit head row alone, with pgbench (if installed): an append as
    Steward's PostgreSQL store makes it (lock the head row, insert a 400-byte
    entry, move the head, commit durably) from 1, 4 and 16 clients; the same
    spread over 16 head rows (16 logs); and 10 entries per commit."""
    pgbench = next((p for p in ("/usr/lib/postgresql/15/bin/pgbench", "pgbench")
                    if os.path.exists(p) or subprocess.run(["sh", "-c", f"command -v {p}"],
                                                           capture_output=True).returncode == 0), None)
    if not pgbench:
        log("no pgbench: the head-row figures are skipped")
        return
    ddl = (f'DROP SCHEMA IF EXISTS "{schema}" CASCADE; CREATE SCHEMA "{schema}"; '
           f'CREATE TABLE "{schema}".head(log int PRIMARY KEY, size bigint NOT NULL); '
           f'CREATE TABLE "{schema}".entries(idx bigint PRIMARY KEY, body bytea NOT NULL); '
           f'INSERT INTO "{schema}".head SELECT g, 0 FROM generate_series(1, 16) g;')
    subprocess.run(["psql", pg_url, "-qc", ddl], capture_output=True, check=True)
    scripts = {
        "one": ("\\set log 1\n", 1),
        "sixteen": ("\\set log random(1, 16)\n", 1),
        "batch10": ("\\set log 1\n", 10),
    }
    out = []
    for name, clients in (("one", 1), ("one", 4), ("one", 16), ("sixteen", 16), ("batch10", 4)):
        head, per = scripts[name]
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"nodes-pgbench-{os.getpid()}.sql")
        with open(path, "w") as f:
            f.write(head +
                    "BEGIN;\n"
                    f'SELECT size FROM "{schema}".head WHERE log = :log FOR UPDATE \\gset\n'
                    f'INSERT INTO "{schema}".entries SELECT :log::bigint * 1000000000000 + :size + g, '
                    f"decode(repeat('ab', 400), 'hex') FROM generate_series(0, {per - 1}) g;\n"
                    f'UPDATE "{schema}".head SET size = :size + {per} WHERE log = :log;\n'
                    "COMMIT;\n")
        r = subprocess.run([pgbench, "-n", "-c", str(clients), "-j", "2", "-T", "8", "-f", path, pg_url],
                           capture_output=True, text=True)
        os.remove(path)
        m = re.search(r"tps = ([0-9.]+)", r.stdout)
        lat = re.search(r"latency average = ([0-9.]+) ms", r.stdout)
        if not m:
            log(f"pgbench {name} -c {clients}: {(r.stdout + r.stderr).strip()[-300:]}")
            continue
        what = {"one": "one head row", "sixteen": "16 head rows (16 logs)",
                "batch10": "one head row, 10 entries per commit"}[name]
        out.append(f"| {what} | {clients} | {float(m.group(1)) * per:,.0f} | {lat.group(1) if lat else '?'} ms |")
    subprocess.run(["psql", pg_url, "-qc", f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'], capture_output=True)
    print()
    print("| audit appends with pgbench (no Steward) | clients | appends/s | latency per commit |")
    print("|---|---|---|---|")
    print("\n".join(out))


def psql_drop(url, schema):
    subprocess.run(["psql", url, "-qc", f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'],
                   capture_output=True, text=True)


def main(argv):
    if argv[1:2] == ["--scaling"]:
        secs, steward, work, url, prefix = int(argv[2]), argv[3], argv[4], argv[5], argv[6]
        return scaling(secs, steward, work, url, prefix)
    secs, steward, work, url, schema = int(argv[1]), argv[2], argv[3], argv[4], argv[5]
    os.environ["NODES_PG_URL"], os.environ["NODES_SCHEMA"] = url, schema
    try:
        return mixed(secs, steward, work, url, schema)
    except (RuntimeError, AssertionError, OSError) as e:
        print(f"nodes test: setup problem: {e!r}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
