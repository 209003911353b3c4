#!/usr/bin/env bash
# API property testing: schemathesis against /openapi.json of a running
# `steward serve` (issue 4, issue 7 item 3; docs/reliability.md, "API property
# testing").
#
# usage: scripts/schemathesis.sh [MAX_EXAMPLES [SEED]]   (default 100 per operation;
#        SEED replays a run: every run prints its seed, and a failing one the replay command)
#
#   1. installs schemathesis (pinned below) into a venv at
#      $STEWARD_ST_VENV (default /var/tmp/steward-st-venv) unless it is there;
#   2. builds the release binary (or uses $STEWARD_BIN);
#   3. starts `steward serve` on a fresh data directory in a new
#      /var/tmp/steward-st.XXXXXX on a free loopback port, over TLS with its
#      development certificate (schemathesis trusts exactly that certificate:
#      tls-verify = the dev-cert.pem), with the per-principal rate limit and
#      the lockout raised (N5.1; they would otherwise turn most of the run
#      into 429s), and reads the one-time bootstrap token of the operator;
#   4. seeds a tenancy (scripts/steward_http.py: a partner, two
#      organisations, administrators, three data subjects with records, their
#      users, staff, an obligation, disposable principals and a token);
#   5. runs schemathesis with every phase (examples, coverage, fuzzing,
#      stateful), positive and negative data, MAX_EXAMPLES per operation,
#      authenticated as the operator, path and query parameters drawn often
#      from the seeded names (dictionaries) so that operations reach real
#      data, with the checks
#        not_a_server_error, status_code_conformance,
#        content_type_conformance, response_schema_conformance,
#        response_headers_conformance;
#      DELETE /v1/tokens/{id} and DELETE /v1/principals/{name} get the
#      disposable token and principals only (so the run cannot revoke its own
#      credential);
#   6. stops the server, and checks that its log holds no `internal error`.
# Exit 0 when schemathesis passed and the log is clean; 1 otherwise (the work
# directory, with schemathesis's JUnit and NDJSON reports and the server log,
# is kept). Exit 2: setup problem.
#
# Environment: STEWARD_BIN, CARGO_TARGET_DIR (default /var/tmp/steward-target),
# STEWARD_ST_VENV, ST_SEED (schemathesis seed; default random, printed),
# ST_PHASES (default examples,coverage,fuzzing,stateful), ST_EXTRA (more
# `st run` arguments, e.g. "--include-path /v1/organisations"),
# ST_WORKERS (default 2), ST_KEEP=1 (keep the work directory after a pass).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in scripts/
ROOT="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/steward-target}"
ST_VERSION=4.32.5
N="${1:-100}"
case "$N" in *[!0-9]*|'') echo "usage: scripts/schemathesis.sh [MAX_EXAMPLES [SEED]]" >&2; exit 2 ;; esac
if [ -n "${2:-}" ]; then ST_SEED="$2"; fi
case "${ST_SEED:-0}" in *[!0-9]*|'') echo "schemathesis.sh: the seed must be a non-negative integer, not '${ST_SEED}'" >&2; exit 2 ;; esac

VENV="${STEWARD_ST_VENV:-/var/tmp/steward-st-venv}"
if ! "$VENV/bin/st" --version 2>/dev/null | grep -qx "st, version $ST_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$ST_VERSION"
fi
if [ -z "${STEWARD_BIN:-}" ]; then
  cargo build -q --release -p steward-cli
  STEWARD_BIN="$CARGO_TARGET_DIR/release/steward"
fi
[ -x "$STEWARD_BIN" ] || { echo "schemathesis: no steward binary at $STEWARD_BIN" >&2; exit 2; }

WORK="$(mktemp -d /var/tmp/steward-st.XXXXXX)"
OK=0
cleanup() {
  [ -f "$WORK/pid" ] && python3 "$ROOT/scripts/steward_http.py" stop "$WORK" || true
  if [ "$OK" = 1 ] && [ "${ST_KEEP:-0}" != 1 ]; then rm -rf "$WORK"; else echo "schemathesis: work directory kept: $WORK"; fi
}
trap cleanup EXIT

python3 scripts/steward_http.py start "$STEWARD_BIN" "$WORK/data" "$WORK" \
  --rate-per-principal 1000000 --lockout-after 1000000
[ -s "$WORK/token" ] || { echo "schemathesis: no bootstrap token printed on the first start" >&2; exit 2; }
python3 scripts/steward_http.py seed "$WORK"
PORT="$(cat "$WORK/port")"

# The document and the configuration (dictionaries from the seed).
python3 - "$WORK" <<'PY'
import json, os, sys
sys.path.insert(0, os.path.join(os.getcwd(), "scripts"))
import steward_http as h
work = sys.argv[1]
port = int(open(f"{work}/port").read())
cafile = open(f"{work}/cafile").read().strip()
op = open(f"{work}/token").read().strip()
seed = json.load(open(f"{work}/seed.json"))
status, headers, body = h.Client(port, cafile).request("GET", "/openapi.json", op)
assert status == 200, status
open(f"{work}/openapi.json", "wb").write(body)
doc = json.loads(body)
ops = sum(1 for item in doc["paths"].values() for m in item
          if m in ("get", "put", "post", "delete", "patch"))
open(f"{work}/operations", "w").write(str(ops))

def toml_list(xs):
    return "[" + ", ".join(json.dumps(x) for x in xs) + "]"

purposes = ["provide_services", "recommendations", "maintain_improve", "other_services",
            "assist", "protect", "comply", "internal_reporting"]
categories = ["account", "billing", "configuration", "usage", "communications"]
cfg = f"""
tls-verify = {json.dumps(cafile)}
request-timeout = 30
max-redirects = 0

[auth.openapi.bearer]
bearer = "${{STEWARD_ST_TOKEN}}"

[dictionaries.subjects]
values = {toml_list(seed["subjects"] + ["ann@example.com", "username:nobody"])}
[dictionaries.users]
values = {toml_list(list(seed["users"].values()))}
[dictionaries.organisations]
values = {toml_list(seed["organisations"])}
[dictionaries.partners]
values = {toml_list(seed["partners"])}
[dictionaries.purposes]
values = {toml_list(purposes)}
[dictionaries.categories]
values = {toml_list(categories)}
[dictionaries.obligations]
values = {toml_list([seed["obligation"]])}

[parameters]
"path.identifier" = {{ dictionary = "subjects", probability = 0.6 }}
"path.user" = {{ dictionary = "users", probability = 0.6 }}
"query.purpose" = {{ dictionary = "purposes", probability = 0.6 }}
"query.category" = {{ dictionary = "categories", probability = 0.6 }}
"query.obligation" = {{ dictionary = "obligations", probability = 0.6 }}

[[operations]]
include-path-regex = "^/v1/organisations/"
parameters = {{ "path.id" = {{ dictionary = "organisations", probability = 0.6 }} }}

[[operations]]
include-path-regex = "^/v1/partners/"
parameters = {{ "path.id" = {{ dictionary = "partners", probability = 0.6 }} }}

# The run must not revoke its own credential: these get disposable targets only.
[[operations]]
include-name = "DELETE /v1/tokens/{{id}}"
parameters = {{ "path.id" = {json.dumps(seed["disposable_token_id"])} }}

[[operations]]
include-name = "DELETE /v1/principals/{{name}}"
parameters = {{ "path.name" = {json.dumps(seed["disposable_principals"][1])} }}
"""
open(f"{work}/schemathesis.toml", "w").write(cfg)
PY

SEED="${ST_SEED:-$(( $(date +%s%N) % 1000000007 ))}"
echo "schemathesis $ST_VERSION: $(cat "$WORK/operations") operations, max $N examples each, seed $SEED, https://localhost:$PORT"
START=$(date +%s)
set +e
(cd "$WORK" && STEWARD_ST_TOKEN="$(cat "$WORK/token")" "$VENV/bin/st" \
  --config-file "$WORK/schemathesis.toml" run "$WORK/openapi.json" \
  --url "https://localhost:$PORT" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --phases "${ST_PHASES:-examples,coverage,fuzzing,stateful}" \
  ${ST_EXTRA:-} \
  --mode all \
  --max-examples "$N" \
  --seed "$SEED" \
  --workers "${ST_WORKERS:-2}" \
  --report "${ST_REPORT:-junit,ndjson}" --report-dir "$WORK/report" \
  --no-color) 2>&1 | tee "$WORK/schemathesis.out"
ST_RC=${PIPESTATUS[0]}
set -e
echo "schemathesis: exit $ST_RC after $(( $(date +%s) - START )) s"

python3 scripts/steward_http.py stop "$WORK"
rm -f "$WORK/pid"
INTERNAL=$(grep -c '"internal error"' "$WORK/serve.log" || true)
if [ "$INTERNAL" != 0 ]; then
  echo "schemathesis: the server logged $INTERNAL internal errors (see $WORK/serve.log):"
  grep '"internal error"' "$WORK/serve.log" | head -5
fi
python3 - "$WORK/serve.log" <<'PY'
import collections, json, sys
by = collections.Counter()
for line in open(sys.argv[1], errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("msg") == "request" or "status" in e:
        s = e.get("status")
        if isinstance(s, int):
            by[f"{s // 100}xx"] += 1
print("server responses by class: " + ", ".join(f"{k} {v}" for k, v in sorted(by.items())))
PY
if [ "$ST_RC" = 0 ] && [ "$INTERNAL" = 0 ]; then
  OK=1
  echo "schemathesis: passed"
else
  echo "schemathesis: FAILED; replay this run with: scripts/schemathesis.sh $N $SEED"
  exit 1
fi
