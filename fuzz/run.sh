#!/usr/bin/env bash
# Run every fuzz target (or the ones named) for SECONDS each.
#
#   fuzz/run.sh SECONDS [TARGET...]
#
# Seeds the corpora first (fuzz/seed.sh: ../shared/data is copied at run
# time into the git-ignored fuzz/corpus/), builds the targets with cargo-fuzz
# (nightly, release with debug assertions and overflow checks, AddressSanitizer)
# and runs each target's libFuzzer binary on one core for SECONDS
# (-max_total_time), after replaying the crash inputs kept in
# fuzz/regressions/<target>/ (committed: each is the input of a fixed bug and
# must no longer crash). Prints one line per target: executions, seconds,
# executions/s, corpus size and the outcome. Exits 1 if any target found a
# crash (a panic, a failed assertion, a sanitizer report, a timeout of more
# than FUZZ_TIMEOUT seconds on one input, or more than FUZZ_RSS_MB of memory);
# the input is saved as fuzz/artifacts/<target>/crash-* (or timeout-*, oom-*)
# and the log as fuzz/artifacts/logs/<target>.log. Reproduce a crash with
#   cargo +nightly fuzz run -O -a <target> fuzz/artifacts/<target>/crash-...
# and minimise it with
#   cargo +nightly fuzz tmin -O -a <target> fuzz/artifacts/<target>/crash-...
#
# Environment:
#   FUZZ_PARALLEL   targets run at the same time (default 1; each on one core)
#   FUZZ_TIMEOUT    seconds one input may take (default 10)
#   FUZZ_RSS_MB     memory limit per target (default 2048)
#   FUZZ_TARGET_DIR the fuzz build's own target directory (default
#                   /var/tmp/steward-fuzz-target; an exported CARGO_TARGET_DIR
#                   for the main workspace is ignored)
#   STEWARD_FUZZ_TOOLCHAIN  default nightly (cargo-fuzz needs -Z flags)
#   FUZZ_NO_SEED=1  do not run seed.sh (use the corpus as it is)
set -euo pipefail
FUZZ="$(cd "$(dirname "$0")" && pwd)"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-/var/tmp/steward-fuzz-target}"
TOOLCHAIN="${STEWARD_FUZZ_TOOLCHAIN:-nightly}"
SECONDS_EACH="${1:-}"
case "$SECONDS_EACH" in ''|*[!0-9]*) echo "usage: fuzz/run.sh SECONDS [TARGET...]" >&2; exit 2 ;; esac
shift
ALL=(ingest_openssh ingest_apache ingest_focus ingest_jsonl ingest_cloudevents
     config_toml policy_pack policy_manifest audit_entry_decode checkpoint_note
     email_intake request_bodies)
if [ "$#" -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL[@]}"); fi
PARALLEL="${FUZZ_PARALLEL:-1}"

command -v cargo-fuzz >/dev/null || { echo "fuzz/run.sh: cargo-fuzz missing: cargo install cargo-fuzz --locked" >&2; exit 2; }
if [ "${FUZZ_NO_SEED:-0}" != 1 ]; then "$FUZZ/seed.sh" >/dev/null; fi

cd "$FUZZ"
# A failed build stops the run: fuzzing a stale binary from the persistent
# target directory would report a target that no longer builds as ok.
for t in "${TARGETS[@]}"; do
  build_log="$(mktemp)"
  if ! cargo "+$TOOLCHAIN" fuzz build -O -a "$t" >"$build_log" 2>&1; then
    cat "$build_log" >&2
    rm -f "$build_log"
    echo "fuzz/run.sh: cargo fuzz build of $t FAILED; nothing was fuzzed" >&2
    exit 1
  fi
  sed -e '/^\s*Compiling/d' -e '/^\s*Finished/d' "$build_log"
  rm -f "$build_log"
done
BIN="$CARGO_TARGET_DIR/$(rustc "+$TOOLCHAIN" -vV | sed -n 's/^host: //p')/release"
mkdir -p artifacts/logs

run_one() {
  local t="$1" log="artifacts/logs/$1.log" rc=0 start
  mkdir -p "artifacts/$t" "corpus/$t"
  start=$(date +%s)
  : >"$log"
  set +e
  if compgen -G "regressions/$t/*" >/dev/null; then
    "$BIN/$t" regressions/"$t"/* >>"$log" 2>&1
    rc=$?
  fi
  if [ "$rc" -eq 0 ]; then
    "$BIN/$t" -max_total_time="$SECONDS_EACH" -timeout="${FUZZ_TIMEOUT:-10}" \
      -rss_limit_mb="${FUZZ_RSS_MB:-2048}" -print_final_stats=1 \
      -artifact_prefix="artifacts/$t/" "corpus/$t" >>"$log" 2>&1
    rc=$?
  fi
  set -e
  local execs secs corpus outcome
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(( $(date +%s) - start ))
  corpus=$(find "corpus/$t" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then outcome="ok"; else
    outcome="CRASH (exit $rc): $(sed -n 's/.*Test unit written to \(.*\)$/\1/p; s/^Running: \(regressions\/.*\)$/\1/p' "$log" | tail -1)"
    outcome="$outcome; $(grep -m1 -A1 'panicked at' "$log" | tail -1 | cut -c1-160)"
  fi
  printf '%-20s %12s execs %6ss %9s/s corpus %5d  %s\n' "$t" "${execs:-?}" "$secs" \
    "$(( ${execs:-0} / (secs > 0 ? secs : 1) ))" "$corpus" "$outcome"
  echo "$rc" >"artifacts/logs/$t.rc"
}

for t in "${TARGETS[@]}"; do
  rm -f "artifacts/logs/$t.rc"
  if [ "$PARALLEL" -le 1 ]; then
    run_one "$t"
  else
    while [ "$(jobs -rp | wc -l)" -ge "$PARALLEL" ]; do wait -n || true; done
    run_one "$t" &
  fi
done
wait
status=0
for t in "${TARGETS[@]}"; do
  [ "$(cat "artifacts/logs/$t.rc" 2>/dev/null)" = 0 ] || status=1
done
if [ "$status" -ne 0 ]; then echo "fuzz/run.sh: a target crashed; inputs in fuzz/artifacts/, logs in fuzz/artifacts/logs/"; fi
exit "$status"
