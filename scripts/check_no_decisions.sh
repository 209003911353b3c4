#!/usr/bin/env bash
# Issue 12: every authorization decision is made in steward-core through the
# policy pack. The HTTP server and the CLI authenticate, translate and print:
# they check no principal kind or team and make no policy decision. This
# fails on any line of their sources that does.
#
# Usage: scripts/check_no_decisions.sh [repo root]
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root"
dirs=(crates/steward-server/src crates/steward-cli/src)
# What a decision outside the core looks like: a kind or team checked, a
# policy engine asked, a management decision made here.
patterns=(
  'PrincipalKind::'
  'Team::'
  '\.teams\.(contains|iter\(\)\.any)'
  '\.organisations\.(contains|iter\(\)\.any)'
  '\.kind *(==|!=)'
  'is_staff\(\)'
  '\bmanage\('
  'administers'
  'authorize_system'
  'authorize_dsr_handling'
  '\.decide\('
  'PolicyEngine'
  'argon2::'
)
hits=0
for p in "${patterns[@]}"; do
  if out=$(grep -rnE "$p" "${dirs[@]}" --include='*.rs'); then
    echo "$out"
    hits=$((hits + $(printf '%s\n' "$out" | wc -l)))
  fi
done
if [ "$hits" -gt 0 ]; then
  echo "check_no_decisions: $hits line(s) above make or prepare an authorization decision outside steward-core (issue 12): move it into a core operation that takes the acting principal and decides through the policy pack" >&2
  exit 1
fi
echo "check_no_decisions: no decision, kind or team check in ${dirs[*]}"
