#!/usr/bin/env bash
# Failover test of `steward serve` on PostgreSQL (issue 21 item 6): a primary
# and a synchronous standby, Steward on both through one multi-host URL; the
# primary is SIGKILLed while a client streams ingest batches and gated reads,
# the standby is promoted, and Steward must serve again without a restart,
# having lost no acknowledged record or read. docs/reliability.md,
# "Failover (PostgreSQL primary and synchronous standby)".
#
# usage: scripts/failover_test.sh [FAILOVERS] [RECORDS]     (defaults 1 and 3000)
#
# What it does (scripts/failover_driver.py; Python standard library only):
#   1. Creates two throwaway PostgreSQL 15 clusters under a temporary
#      directory in /var/tmp (initdb as `postgres`, free loopback ports, Unix
#      sockets in that directory): a primary (wal_level=replica,
#      synchronous_standby_names='*', synchronous_commit=on) and a standby
#      made with `pg_basebackup -R`; waits until pg_stat_replication shows it
#      streaming and `sync`.
#   2. Starts `steward serve` (TLS, development certificate) with its one
#      region's store at `postgres://postgres@127.0.0.1:P1,127.0.0.1:P2/test?
#      target_session_attrs=read-write&connect_timeout=3&schema=steward_failover`
#      (the URL names both clusters; the driver connects to the one that
#      accepts writes), seeds a tenancy (scripts/steward_http.py) and issues
#      a token for the `ingest` service.
#   3. Streams RECORDS records as batches of FAILOVER_BATCH (default 100) to
#      POST /v1/records:batch, one request after the other: record i is
#      `usage.error` of `username:uNNN`, NNN = i mod FAILOVER_USERS (default
#      50), carrying the unique token `tok-<i as 9 digits>`; a batch is
#      ACKNOWLEDGED exactly when its 201 arrived saying all its records were
#      stored. Every FAILOVER_READ_EVERY (default 5) batches, a gated read
#      (staff `sam` reads bob's usage under a need-to-know grant); a read is
#      acknowledged when its 200 arrived (its audit entry was committed).
#   4. FAILOVERS times, on batches spread over the run: a random time after
#      that batch was sent (0 to 1.5 x the median batch latency), the
#      primary's postmaster gets SIGKILL (then every process of that cluster
#      still running; all must be gone), and 0.2 to 2 s later the standby is
#      promoted (`pg_ctl promote`).
#      Steward is NOT restarted. After a refused request the client probes
#      with gated reads every 100 ms, then goes on with the next batch (an
#      unacknowledged batch is not resent). Steward must acknowledge a batch
#      within FAILOVER_RECOVER_SECS (default 60) of the kill; any 4xx, or a
#      5xx other than 503, is a violation. With more failovers to come, the
#      killed cluster is rebuilt as the new primary's synchronous standby
#      (data directory wiped, pg_basebackup from the new primary, same port)
#      before the next one is armed.
#   5. At the end, with Steward stopped, against the promoted store:
#      `steward audit verify` (before and after the exports), `steward
#      verify-records`, every subject exported with `steward export` (each
#      ZIP's files match its manifest hashes): every acknowledged batch's
#      tokens present exactly once, an unacknowledged batch's all or none,
#      no other token; the audit log holds at least as many allowed entries
#      of sam as reads were acknowledged.
# Prints `failover test: K failovers, N acknowledged batches, …` and exits 0,
# or lists every violation and exits 1 (the work directory is kept). Exit 2:
# setup problem. Both clusters and Steward are stopped on any exit.
#
# Environment: STEWARD_BIN, CARGO_TARGET_DIR (default /var/tmp/steward-target),
# PGBIN (default /usr/lib/postgresql/15/bin), FAILOVER_BATCH, FAILOVER_USERS,
# FAILOVER_READ_EVERY, FAILOVER_RECOVER_SECS, FAILOVER_SEED (replays the kill
# timing), FAILOVER_KEEP=1 (keep the work directory after a pass).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in scripts/
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/steward-target}"
export PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
FAILOVERS="${1:-1}"
RECORDS="${2:-3000}"
case "$FAILOVERS$RECORDS" in *[!0-9]*|'') echo "usage: scripts/failover_test.sh [FAILOVERS] [RECORDS]" >&2; exit 2 ;; esac
command -v python3 >/dev/null || { echo "failover test: python3 is needed" >&2; exit 2; }
for t in initdb pg_ctl pg_basebackup psql; do
  [ -x "$PGBIN/$t" ] || { echo "failover test: no $PGBIN/$t (PostgreSQL 15 server package)" >&2; exit 2; }
done
id postgres >/dev/null 2>&1 || { echo "failover test: no \`postgres\` user to run the clusters as" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "failover test: run as root (initdb through runuser, SIGKILL of the postmaster)" >&2; exit 2; }
if [ -z "${STEWARD_BIN:-}" ]; then
  cargo build -q --release -p steward-cli
  STEWARD_BIN="$CARGO_TARGET_DIR/release/steward"
fi
[ -x "$STEWARD_BIN" ] || { echo "failover test: no steward binary at $STEWARD_BIN" >&2; exit 2; }

WORK="$(mktemp -d /var/tmp/steward-failover.XXXXXX)"
chmod 755 "$WORK"
mkdir -p "$WORK/pg/sock"
chown -R postgres: "$WORK/pg"
RC=2

# Neither Steward nor a cluster may outlive the test, whatever happened.
cleanup() {
  if [ -f "$WORK/pid" ]; then
    P="$(cat "$WORK/pid")"
    if tr '\0' ' ' < "/proc/$P/cmdline" 2>/dev/null | grep -q -- "--data-dir $WORK/data serve"; then kill -9 "$P" || true; fi
  fi
  for D in "$WORK"/pg/*/; do
    D="${D%/}"
    [ -f "$D/postmaster.pid" ] || continue
    P="$(head -n 1 "$D/postmaster.pid")"
    # Only a live postmaster of this data directory (a SIGKILLed one leaves its pid file).
    if [ "$(readlink "/proc/$P/cwd" 2>/dev/null)" = "$D" ]; then
      runuser -u postgres -- "$PGBIN/pg_ctl" -D "$D" -m immediate -w -t 30 stop >/dev/null 2>&1 || kill -9 "$P" 2>/dev/null || true
    fi
  done
  if [ "$RC" = 0 ] && [ "${FAILOVER_KEEP:-0}" != 1 ]; then
    rm -rf "$WORK"
  else
    echo "failover test: work directory kept: $WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

set +e
python3 scripts/failover_driver.py "$FAILOVERS" "$RECORDS" "$STEWARD_BIN" "$WORK"
RC=$?
set -e
exit "$RC"
