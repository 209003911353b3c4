"""Shared by scripts/server_crash_driver.py and scripts/failover_driver.py:
ingest batches whose records each carry a unique token, the `steward` CLI
run on the same data directory, and the final check that reads every
subject's export back into tokens.

Record i of a run is `usage.error` of `username:uNNN` (NNN = i mod users),
carrying `tok-<i as 9 digits>` as the last word of its message; batch b
holds records b*batch .. (b+1)*batch-1 (the last one fewer). Standard
library only.
"""

import hashlib
import json
import os
import subprocess
import zipfile


class TokenBatches:
    """`records` records in batches of `batch` over `users` subjects, for
    the `steward` binary on `data`; `component` names the test in each
    record; `violation(msg)` records a failed check, `log(msg)` prints."""

    def __init__(self, steward, data, records, batch, users, component, violation, log):
        self.steward, self.data = steward, data
        self.records, self.batch, self.users = records, batch, users
        self.component, self.violation, self.log = component, violation, log

    @staticmethod
    def token(i):
        return f"tok-{i:09d}"

    def batch_range(self, b):
        return range(b * self.batch, min(self.records, (b + 1) * self.batch))

    def batch_records(self, b):
        """The records of batch b, as POST /v1/records:batch takes them."""
        out = []
        for i in self.batch_range(b):
            sec = i % 86400
            out.append({"subject": f"username:u{i % self.users:03d}", "kind": "usage.error",
                        "occurred_at": f"2026-02-01T{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}Z",
                        "fields": {"level": "error", "component": self.component,
                                   "message": f"{self.component} record {self.token(i)}"}})
        return out

    def run(self, *args, timeout=600):
        """`steward --data-dir DATA ARGS...`, its output captured."""
        return subprocess.run([self.steward, "--data-dir", self.data, *args], capture_output=True,
                              text=True, timeout=timeout)

    def audit_verify(self, when, say=False):
        """`steward audit verify`: True when the log verifies, else a violation."""
        r = self.run("audit", "verify")
        if r.returncode != 0 or not r.stdout.startswith("audit log verifies"):
            self.violation(f"{when}: `steward audit verify` exit {r.returncode}: "
                           f"{(r.stdout + r.stderr).strip()[:400]}")
            return False
        if say:
            self.log(f"{when}: {r.stdout.strip().splitlines()[0][:200]}")
        return True

    def exported_tokens(self, work, required=lambda u: True):
        """Every subject u000.. exported with `steward export` into WORK and
        checked against its manifest's SHA-256 hashes: {u: [token, ...]} of
        the usage records found (a token twice if stored twice). A subject
        whose export fails is a violation when `required(u)`, else left out."""
        found = {}
        for u in range(min(self.users, self.records)):
            path = os.path.join(work, f"u{u:03d}.zip")
            r = self.run("export", "--subject", f"username:u{u:03d}", "--out", path)
            if r.returncode != 0:
                if required(u):
                    self.violation(f"final: export of u{u:03d} exit {r.returncode}: {r.stderr.strip()[:300]}")
                continue
            try:
                z = zipfile.ZipFile(path)
                manifest = json.loads(z.read("manifest.json"))
                for name, digest in manifest.get("files", {}).items():
                    if hashlib.sha256(z.read(name)).hexdigest() != digest:
                        self.violation(f"final: export of u{u:03d}: {name} does not match its manifest hash")
                rows = json.loads(z.read("usage.json")) if "usage.json" in z.namelist() else []
            except (OSError, KeyError, ValueError, zipfile.BadZipFile) as e:
                self.violation(f"final: export of u{u:03d} does not open: {e}")
                continue
            os.remove(path)
            found[u] = [str(row.get("fields", {}).get("message", "")).rsplit(" ", 1)[-1] for row in rows]
        return found
