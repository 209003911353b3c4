#!/usr/bin/env bash
# Checks Steward's data map with fideslang itself (N5.4, N8.4).
#
# usage: scripts/check_datamap.sh OUT_DIR [DATAMAP.yml]
#
#   (a) validates the data map: DATAMAP.yml when given, else the one the
#       steward-notice `datamap` example generates (written to OUT_DIR/datamap.yml,
#       with the Markdown page beside it as OUT_DIR/datamap.md);
#   (b) makes deliberately broken copies in OUT_DIR (a dataset without its
#       fides_key, a system without system_type, a field with a data category
#       fideslang does not know, a misspelt key, an extension category with a
#       wrong parent) and asserts that each one FAILS validation, for the
#       expected reason.
#
# Needs a Python with fideslang: STEWARD_PYTHON (default
# /var/tmp/steward-venv/bin/python). Set it up with
#   python3 -m venv /var/tmp/steward-venv
#   /var/tmp/steward-venv/bin/pip install -r scripts/requirements-datamap.txt
# Exit status: 0 all checks held; 1 a check failed; 2 setup problem.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
out=${1:?usage: scripts/check_datamap.sh OUT_DIR [DATAMAP.yml]}
good=${2:-}
py=${STEWARD_PYTHON:-/var/tmp/steward-venv/bin/python}

if ! "$py" -c 'import fideslang, yaml' 2>/dev/null; then
    echo "check_datamap: $py cannot import fideslang; install it with:" >&2
    echo "  python3 -m venv /var/tmp/steward-venv && /var/tmp/steward-venv/bin/pip install -r scripts/requirements-datamap.txt" >&2
    exit 2
fi
mkdir -p "$out"
if [ -z "$good" ]; then
    good="$out/datamap.yml"
    (cd "$repo" && cargo run -q -p steward-notice --example datamap) >"$good"
    (cd "$repo" && cargo run -q -p steward-notice --example datamap -- --markdown) >"$out/datamap.md"
fi

echo "== (a) the data map validates: $good"
"$py" "$here/validate_datamap.py" "$good"

echo "== (b) broken copies must not validate"
failures=0
# expect_invalid NAME EXPECTED_TEXT PYTHON_EDIT
#   PYTHON_EDIT is run with `doc` bound to the loaded YAML of the good file.
expect_invalid() {
    local name=$1 want=$2 edit=$3
    local file="$out/broken-$name.yml" log="$out/broken-$name.txt"
    "$py" - "$good" "$file" "$edit" <<'PY'
import sys, yaml
src, dst, edit = sys.argv[1], sys.argv[2], sys.argv[3]
with open(src, encoding="utf-8") as fh:
    doc = yaml.safe_load(fh)
exec(edit, {"doc": doc})
with open(dst, "w", encoding="utf-8") as fh:
    yaml.safe_dump(doc, fh, sort_keys=False, allow_unicode=True)
PY
    local rc=0
    "$py" "$here/validate_datamap.py" "$file" >"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 1 ]; then
        echo "FAIL $name: validation exited $rc, expected 1 (invalid); see $log"
        failures=$((failures + 1))
    elif ! grep -qF -- "$want" "$log"; then
        echo "FAIL $name: rejected, but the message does not mention \`$want\`; see $log"
        failures=$((failures + 1))
    else
        echo "ok   $name: rejected ($(grep -m1 -F -- "$want" "$log" | sed 's/^ *//' | cut -c1-120))"
    fi
}

expect_invalid dataset-without-fides-key "fides_key" \
    'del doc["dataset"][0]["fides_key"]'
expect_invalid system-without-system-type "system_type" \
    'del doc["system"][0]["system_type"]'
expect_invalid unknown-data-category "user.not_a_category" \
    'doc["dataset"][0]["collections"][0]["fields"][0]["data_categories"] = ["user.not_a_category"]'
expect_invalid misspelt-key "data_categorie" \
    'f = doc["dataset"][0]["collections"][0]["fields"][0]; f["data_categorie"] = f.pop("data_categories")'
expect_invalid extension-with-wrong-parent "parent_key" \
    'doc["data_category"][0]["parent_key"] = "user.contact"'

if [ "$failures" -ne 0 ]; then
    echo "check_datamap: $failures broken copies were not rejected as expected"
    exit 1
fi
echo "check_datamap: ok"
