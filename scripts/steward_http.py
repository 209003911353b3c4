"""Shared by the HTTP reliability scripts (scripts/schemathesis.sh,
scripts/load_test.sh, scripts/server_crash_test.sh): start `steward serve`
on a free loopback port over TLS with its development certificate, read the
one-time bootstrap token it prints, talk to it with Python's standard library
(http.client + ssl, trusting exactly that certificate), and seed a small
tenancy with data subjects and records.

Standard library only. Usage as a command (the shell scripts call these):

  python3 steward_http.py start STEWARD DATA_DIR WORK [SERVE_ARGS...]
      starts the server in the background, waits for /healthz and writes
      WORK/port, WORK/pid, WORK/token (the bootstrap token, first start only)
  python3 steward_http.py seed WORK
      seeds the data below; writes WORK/seed.json (names and tokens)
  python3 steward_http.py stop WORK
      SIGINT (a clean shutdown), then SIGKILL after 10 s, of the server in WORK/pid
"""

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time


def free_port():
    """A free TCP port on 127.0.0.1 (bound and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """HTTPS to localhost:PORT trusting only the development certificate."""

    def __init__(self, port, cafile, timeout=60.0):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=cafile)
        self.timeout = timeout

    def request(self, method, path, token=None, body=None, ctype="application/json"):
        """(status, headers dict with lower-case names, body bytes); raises OSError
        (or http.client.HTTPException) when the connection fails."""
        conn = http.client.HTTPSConnection("localhost", self.port, context=self.ctx,
                                           timeout=self.timeout)
        try:
            headers = {}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            data = None
            if body is not None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                headers["Content-Type"] = ctype
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def json(self, method, path, token=None, body=None, want=(200, 201)):
        status, _, data = self.request(method, path, token, body)
        if status not in want:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {data[:300]!r}")
        return json.loads(data) if data else None


def start(steward, data_dir, work, serve_args=(), port=None, timeout=120.0):
    """Start `steward serve` in the background; return (port, pid, token or None)."""
    port = port or free_port()
    out = open(os.path.join(work, "serve.stdout"), "ab")
    err = open(os.path.join(work, "serve.log"), "ab")
    mark = out.tell()
    p = subprocess.Popen([steward, "--data-dir", data_dir, "serve", "--listen",
                          f"127.0.0.1:{port}", *serve_args],
                         stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                         # debug lines (connection and TLS errors) for diagnosis
                         env={**os.environ, "STEWARD_LOG": "debug"},
                         start_new_session=True)
    cafile = os.path.join(data_dir, "tls", "dev-cert.pem")
    deadline = time.monotonic() + timeout
    token = None
    while True:
        if p.poll() is not None:
            raise RuntimeError(f"steward serve exited with {p.returncode} at start; "
                               f"see {work}/serve.log")
        if time.monotonic() > deadline:
            p.kill()
            raise RuntimeError(f"steward serve did not answer /healthz within {timeout:.0f} s")
        with open(os.path.join(work, "serve.stdout"), "rb") as f:
            f.seek(mark)
            lines = f.read().decode(errors="replace").splitlines()
        ready = any(l.startswith("steward: serving") for l in lines)
        for i, l in enumerate(lines):
            if "bootstrap API token" in l and i + 1 < len(lines):
                token = lines[i + 1].strip()
        if ready and os.path.exists(cafile):
            try:
                status, _, _ = Client(port, cafile, timeout=5).request("GET", "/healthz")
                if status == 200:
                    break
            except (OSError, http.client.HTTPException):
                pass
        time.sleep(0.05)
    with open(os.path.join(work, "port"), "w") as f:
        f.write(str(port))
    with open(os.path.join(work, "pid"), "w") as f:
        f.write(str(p.pid))
    with open(os.path.join(work, "cafile"), "w") as f:
        f.write(cafile)
    if token:
        with open(os.path.join(work, "token"), "w") as f:
            f.write(token)
        os.chmod(os.path.join(work, "token"), 0o600)
    return port, p.pid, token


def stop(pid, grace=10.0):
    """SIGINT (the server's Ctrl-C handler shuts down), SIGKILL after `grace` s."""
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        # Reap it if it is our child.
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def staff_dates():
    t = time.gmtime()
    today = f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"
    return {"confidentiality_signed_on": f"{t.tm_year - 1:04d}-01-01",
            "training_expires_on": f"{t.tm_year + 1:04d}-12-31"}, today


def person(username, extra=0):
    """An account profile, an authentication event and `extra` more
    authentication events of the data subject `username:<username>`."""
    recs = [
        {"subject": f"username:{username}", "kind": "account.profile",
         "fields": {"username": username, "given_name": "Test",
                    "email": f"{username}@example.com"}},
        {"subject": f"username:{username}", "kind": "usage.authentication",
         "occurred_at": "2024-05-01T10:00:00Z",
         "fields": {"event": "login", "outcome": "success", "account": username}},
    ]
    for i in range(extra):
        recs.append({"subject": f"username:{username}", "kind": "usage.authentication",
                     "occurred_at": f"2024-05-02T10:{i // 60 % 60:02d}:{i % 60:02d}Z",
                     "fields": {"event": "login", "outcome": "failure", "account": username}})
    return recs


PW = {"ann": "ann correct horse battery", "bob": "bob correct horse battery",
      "cat": "cat correct horse battery"}


def seed(c, op):
    """Seed a tenancy as the operator `op`: partner p1 with reseller
    `resell`; organisations acme (through p1) and beta (no self-export);
    administrators acme-admin and beta-admin; data subjects ann, bob, cat
    (2 records each, ann 20 more) ingested by the `ingest` service; users
    for ann (acme), bob and cat (beta) with passwords; staff sam (security)
    and pat (privacy); a recorded obligation; sam's need-to-know grant for
    bob's usage (protect); two disposable principals and
    a disposable token. Returns a dict of the names, ids and tokens."""
    dates, _ = staff_dates()

    def tok(principal):
        return c.json("POST", "/v1/tokens", op, {"principal": principal, "ttl_secs": 86400})

    ingest = tok("ingest")["token"]
    recs = person("ann", 20) + person("bob") + person("cat")
    r = c.json("POST", "/v1/records:batch", ingest, recs)
    assert r["stored"] == len(recs), r
    c.json("POST", "/v1/partners", op, {"id": "p1", "name": "Partner One"})
    c.json("POST", "/v1/partners/p1/resellers", op, {"name": "resell"})
    c.json("POST", "/v1/organisations", op, {"id": "acme", "name": "Acme", "partner": "p1"})
    c.json("POST", "/v1/organisations", op,
           {"id": "beta", "name": "Beta", "users_may_export": False})
    c.json("POST", "/v1/organisations/acme/admins", op, {"name": "acme-admin"})
    c.json("POST", "/v1/organisations/beta/admins", op, {"name": "beta-admin"})
    users = {}
    for name, org in (("ann", "acme"), ("bob", "beta"), ("cat", "beta")):
        u = c.json("POST", f"/v1/organisations/{org}/users", op,
                   {"subject": f"username:{name}", "password": PW[name]})
        users[name] = u["name"]
    for name, team in (("sam", "security"), ("pat", "privacy")):
        c.json("POST", "/v1/principals", op, {"name": name, "kind": "employee",
                                              "teams": [team], **dates})
    for name in ("disposable-1", "disposable-2"):
        c.json("POST", "/v1/principals", op, {"name": name, "kind": "service"})
    ob = c.json("POST", "/v1/obligations", op,
                {"kind": "data_subject_request", "reference": "DSR-seed-1"})
    # sam's read of one subject names a justification (N3.8, issue 17): a
    # need-to-know grant for bob's usage, for protect, valid today.
    _, today = staff_dates()
    grant = c.json("POST", "/v1/need-to-know-grants", op,
                   {"grantee": "sam", "subject": "username:bob", "purpose": "protect",
                    "categories": ["usage"], "expires_on": today,
                    "reference": "LOAD-TEST-1"})
    disposable = tok("disposable-1")
    out = {
        "ingest_token": ingest,
        "sam_token": tok("sam")["token"],
        "sam_grant": grant["id"],
        "acme_admin_token": tok("acme-admin")["token"],
        "users": users,
        "subjects": ["username:ann", "username:bob", "username:cat"],
        "organisations": ["acme", "beta"],
        "partners": ["p1"],
        "obligation": ob["id"],
        "disposable_principals": ["disposable-1", "disposable-2"],
        "disposable_token_id": disposable["info"]["id"],
        "records": len(recs),
    }
    return out


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "start":
        steward, data_dir, work = argv[2], argv[3], argv[4]
        port, pid, token = start(steward, data_dir, work, argv[5:])
        print(f"steward serve pid {pid} on https://localhost:{port}"
              f"{' (bootstrap token read)' if token else ''}")
        return 0
    if cmd == "seed":
        work = argv[2]
        port = int(open(os.path.join(work, "port")).read())
        cafile = open(os.path.join(work, "cafile")).read().strip()
        op = open(os.path.join(work, "token")).read().strip()
        s = seed(Client(port, cafile), op)
        with open(os.path.join(work, "seed.json"), "w") as f:
            json.dump(s, f)
        os.chmod(os.path.join(work, "seed.json"), 0o600)
        print(f"seeded {s['records']} records of {len(s['subjects'])} subjects, "
              f"{len(s['organisations'])} organisations, {len(s['users'])} users")
        return 0
    if cmd == "stop":
        work = argv[2]
        stop(int(open(os.path.join(work, "pid")).read()))
        return 0
    print(f"unknown command {cmd}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
