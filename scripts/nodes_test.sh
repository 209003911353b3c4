#!/usr/bin/env bash
# Several nodes on one store under a mixed load (issue 21 item 5;
# docs/reliability.md, "Several nodes under a mixed load"; docs/deploy.md,
# "Several nodes on one store").
#
# usage: scripts/nodes_test.sh [SECONDS]            (default 60; CI: 15)
#        scripts/nodes_test.sh --scaling [SECONDS]   (default 10 per configuration; not in CI)
#
# What it does (scripts/nodes_driver.py; Python standard library only, through
# scripts/steward_http.py):
#   1. Writes a steward.toml whose one region `jp` is a fresh PostgreSQL schema
#      `steward_nodes_<random>` (NODES_PG_URL, else STEWARD_TEST_PG_URL, else
#      postgres://postgres@127.0.0.1:5432/test) with `[dsr] lease_secs = 3`,
#      and starts TWO `steward serve` processes (TLS, development certificate)
#      on one data directory (one keyring, as two nodes share it) and that one
#      schema, each on its own free loopback port. Seeds through both: the
#      `ingest` service, the security employee `sam` with need-to-know grants,
#      NODES_SUBJECTS (12) live subjects, victims to erase, six subjects of
#      one record to read, and `big` with NODES_BIG (30,000) records.
#   2. For SECONDS, spread over both nodes: 2 writers stream batches of 100
#      `usage.error` records, each carrying a unique token (a batch is
#      ACKNOWLEDGED only on its 201 saying all were stored); a gated reader
#      (sam, `protect`, a grant); an exporter (`GET /v1/subjects/…/export`,
#      every record acknowledged before the export began, on either node,
#      must be in it, none twice); a requester opening access, export and
#      erasure requests and approving each through BOTH nodes at once
#      (exactly one 200, the other 409), fetching access/export results from
#      the other node, and reading each erased subject on both nodes (nothing).
#   3. At a third of the run: an export request of `big` is approved on node a;
#      as soon as node b sees it `in_progress`, a is SIGKILLed. b approves it
#      every 0.1 s (409 while a's lease is live) until it takes it over: an
#      approval sent later than lease_secs + NODES_SLACK (0.5 s) after the
#      kill must take it over (a renewed the lease before it died); then a is
#      restarted and serves the result b stored (exactly big's records).
#   4. With both nodes stopped, through the CLI on the same configuration:
#      `steward audit verify`; every live subject exported: each acknowledged
#      token exactly once, nothing never sent, an unanswered batch all or
#      nothing; one `dsr_complete` audit entry per request, two
#      `dsr_in_progress` for the taken-over one, one `erase` entry and one
#      `erasure_receipts` row per erasure, one `dsr_results` row per
#      access/export request, no `dsr_leases` row left; no 5xx response at
#      all except 503 with Retry-After (counted and reported).
# Prints `nodes test: …` and exits 0 (the schema and work directory removed),
# or lists every violation and exits 1 (both kept). Exit 2: setup problem.
#
# --scaling: gated single-record reads (each one durable audit append) through
# 1, 2 and 4 `steward serve` processes on one schema each, one wrk per node
# (2 wrk threads and WRK_CONNECTIONS=16 connections in all) for SECONDS after
# a 5 s warm-up; then, with pgbench if installed and no Steward, the audit
# head row alone: appends from 1, 4 and 16 clients, over 16 head rows, and
# 10 entries per commit. Prints Markdown tables (docs/deploy.md, "One, two
# and four nodes").
#
# Environment: STEWARD_BIN, CARGO_TARGET_DIR (default /var/tmp/steward-target),
# NODES_PG_URL, NODES_LEASE_SECS (3), NODES_SUBJECTS, NODES_BIG, NODES_BATCH,
# NODES_SLACK, NODES_KEEP=1 (keep the work directory and schema after a pass),
# STEWARD_SOURCE_REV (the source the binary was built from, for --scaling's
# report; default git HEAD of the work tree).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in scripts/
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/steward-target}"
MODE=mixed
if [ "${1:-}" = --scaling ]; then MODE=scaling; shift; fi
SECS="${1:-$([ "$MODE" = scaling ] && echo 10 || echo 60)}"
case "$SECS" in *[!0-9]*|''|0) echo "usage: scripts/nodes_test.sh [--scaling] [SECONDS]" >&2; exit 2 ;; esac
PG_URL="${NODES_PG_URL:-${STEWARD_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}}"
command -v python3 >/dev/null || { echo "nodes test: python3 is needed" >&2; exit 2; }
command -v psql >/dev/null || { echo "nodes test: psql is needed (to drop the schema)" >&2; exit 2; }
psql "$PG_URL" -qtAc 'SELECT 1' >/dev/null 2>&1 || { echo "nodes test: PostgreSQL not reachable at $PG_URL" >&2; exit 2; }
if [ "$MODE" = scaling ] && ! command -v wrk >/dev/null; then
  if command -v apt-get >/dev/null; then
    apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
  fi
  command -v wrk >/dev/null || { echo "nodes test: wrk is needed (Debian package wrk)" >&2; exit 2; }
fi
if [ -z "${STEWARD_BIN:-}" ]; then
  cargo build -q --release -p steward-cli
  STEWARD_BIN="$CARGO_TARGET_DIR/release/steward"
fi
[ -x "$STEWARD_BIN" ] || { echo "nodes test: no steward binary at $STEWARD_BIN" >&2; exit 2; }

WORK="$(mktemp -d /var/tmp/steward-nodes.XXXXXX)"
SCHEMA="steward_nodes_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
RC=2
cleanup() {
  # No node may outlive the test: every pid the driver wrote whose command
  # line is a `steward … serve` on this work directory.
  for f in "$WORK"/*/pid "$WORK"/*/*/pid; do
    [ -f "$f" ] || continue
    P="$(cat "$f")"
    if tr '\0' ' ' < "/proc/$P/cmdline" 2>/dev/null | grep -q -- "--data-dir $WORK/.* serve"; then kill -9 "$P" 2>/dev/null || true; fi
  done
  if [ "$RC" = 0 ] && [ "${NODES_KEEP:-0}" != 1 ]; then
    psql "$PG_URL" -qc "DROP SCHEMA IF EXISTS \"$SCHEMA\" CASCADE" >/dev/null 2>&1 || true
    rm -rf "$WORK"
  else
    echo "nodes test: work directory kept: $WORK (schema $SCHEMA)"
  fi
}
trap cleanup EXIT

set +e
if [ "$MODE" = scaling ]; then
  python3 scripts/nodes_driver.py --scaling "$SECS" "$STEWARD_BIN" "$WORK" "$PG_URL" "$SCHEMA"
else
  python3 scripts/nodes_driver.py "$SECS" "$STEWARD_BIN" "$WORK" "$PG_URL" "$SCHEMA"
fi
RC=$?
set -e
exit "$RC"
