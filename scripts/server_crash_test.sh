#!/usr/bin/env bash
# Crash test of `steward serve` (issue 7 item 1, the server half; the CLI half
# is scripts/crash_test.sh): a client streams ingest batches over HTTPS, the
# server is killed with SIGKILL at random moments, restarted without repair,
# and the store is checked. docs/reliability.md, "Server crash test".
#
# usage: scripts/server_crash_test.sh [KILLS] [RECORDS]     (defaults 20 and 20000)
#
# What it does (scripts/server_crash_driver.py; Python standard library only):
#   1. Starts `steward serve` (TLS, development certificate) on a fresh data
#      directory on a free loopback port, reads the one-time bootstrap token
#      and issues a token for the `ingest` service (stored, so it stays valid
#      across restarts).
#   2. Streams RECORDS records as batches of SCRASH_BATCH (default 100) to
#      POST /v1/records:batch, one request after the other: record i is
#      `usage.error` of `username:uNNN`, NNN = i mod SCRASH_USERS (default 50),
#      carrying the unique token `tok-<i as 9 digits>`. A batch is
#      ACKNOWLEDGED exactly when its 201 response arrived saying all its
#      records were stored.
#   3. KILLS batches, chosen at random, get a SIGKILL of the server a random
#      time after their request was sent (0 to 1.5 x the median latency so
#      far: before, during or after the commit). With the server dead, and no
#      repair of any kind: `steward audit verify` exits 0, and the total of
#      stored records is exactly that of the batches known present, with or
#      without the killed batch (all or nothing; a killed batch found stored
#      is "committed, unacknowledged"). Then the server is started again (a
#      new free port) and must answer /healthz; streaming goes on with the
#      next batch (an unacknowledged batch is not resent).
#   4. At the end, with the server stopped: `steward audit verify`,
#      `steward verify-records` (every record authenticates), the record
#      total, and every subject exported with `steward export`: each ZIP's
#      files match its manifest hashes, and the tokens are exactly those of
#      the acknowledged batches plus the committed unacknowledged ones, each
#      once.
# Prints `server crash test: K kills, …` and exits 0, or lists every violation
# and exits 1 (the work directory is kept). Exit 2: setup problem.
#
# Environment: STEWARD_BIN, CARGO_TARGET_DIR (default /var/tmp/steward-target),
# SCRASH_BATCH, SCRASH_USERS, SCRASH_SEED (replays the kill schedule),
# SCRASH_KEEP=1 (keep the work directory after a pass).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in scripts/
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/steward-target}"
KILLS="${1:-20}"
RECORDS="${2:-20000}"
case "$KILLS$RECORDS" in *[!0-9]*|'') echo "usage: scripts/server_crash_test.sh [KILLS] [RECORDS]" >&2; exit 2 ;; esac
command -v python3 >/dev/null || { echo "server crash test: python3 is needed" >&2; exit 2; }
if [ -z "${STEWARD_BIN:-}" ]; then
  cargo build -q --release -p steward-cli
  STEWARD_BIN="$CARGO_TARGET_DIR/release/steward"
fi
[ -x "$STEWARD_BIN" ] || { echo "server crash test: no steward binary at $STEWARD_BIN" >&2; exit 2; }

WORK="$(mktemp -d /var/tmp/steward-scrash.XXXXXX)"
set +e
python3 scripts/server_crash_driver.py "$KILLS" "$RECORDS" "$STEWARD_BIN" "$WORK"
RC=$?
set -e
# No server may outlive the test.
if [ -f "$WORK/pid" ]; then
  P="$(cat "$WORK/pid")"
  if tr '\0' ' ' < "/proc/$P/cmdline" 2>/dev/null | grep -q -- "--data-dir $WORK/data serve"; then kill -9 "$P" || true; fi
fi
if [ "$RC" = 0 ] && [ "${SCRASH_KEEP:-0}" != 1 ]; then
  rm -rf "$WORK"
else
  echo "server crash test: work directory kept: $WORK"
fi
exit "$RC"
