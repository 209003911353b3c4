#!/usr/bin/env bash
# The gate's opener is unreachable outside crates/steward-core/src/gate/,
# checked by the compiler: build steward-core with its probe module
# (src/probe.rs, `--cfg steward_gate_probe`), which calls each opener from
# outside the gate, and pass only when the compiler refuses every call.
set -uo pipefail
cd "$(dirname "$0")/.."
probe=crates/steward-core/src/probe.rs
out=$(cargo rustc -q -p steward-core --lib --profile check -- --cfg steward_gate_probe 2>&1)
status=$?
if [ "$status" -eq 0 ]; then
  echo "FAIL: the probe compiled: code outside the gate can open ciphertext"
  exit 1
fi
expected=$(grep -c '// PROBE' "$probe")
fail=0
while IFS= read -r line; do
  n=$(echo "$line" | cut -d: -f1)
  code=$(echo "$line" | sed -n 's/.*PROBE \(E[0-9]*\).*/\1/p')
  if ! echo "$out" | grep -B8 -- "--> $probe:$n:" | grep -q "error\[$code\]"; then
    echo "FAIL: $probe:$n was not refused with $code"
    fail=1
  fi
done < <(grep -n '// PROBE' "$probe")
# The primary location of each error (the first `-->` after it) must be in the probe.
other=$(echo "$out" | awk '/^error\[/{want=1; next} want && /-->/{print; want=0}' | grep -vc -- "--> $probe:")
if [ "$other" -ne 0 ]; then
  echo "FAIL: the probe build failed outside the probe:"
  echo "$out"
  exit 1
fi
if [ "$fail" -ne 0 ]; then
  echo "$out"
  exit 1
fi
echo "gate probe: all $expected openings from outside the gate refused by the compiler"
