#!/usr/bin/env bash
# Fill fuzz/corpus/<target>/ with seed inputs, at run time.
#
#   fuzz/seed.sh            # from ../shared/data (relative to the repository root)
#   STEWARD_DATA=DIR fuzz/seed.sh
#
# Real-data seeds are cut from ../shared/data (sshd and access-log lines, the
# FOCUS CSV's head, the CloudEvents spec's examples); they are never committed
# (fuzz/corpus is git-ignored). Where ../shared/data is absent the script says
# so and writes only the hand-written and generated seeds. The generated seeds
# (canonical audit entries, signed checkpoint notes with the fuzz key, the
# default configuration) come from `gen_seeds` (fuzz/src/bin/gen_seeds.rs),
# built without sanitizers into $FUZZ_TARGET_DIR (default
# /var/tmp/steward-fuzz-target). Idempotent: seed files are overwritten, the
# fuzzer's own corpus entries are kept.
set -euo pipefail
FUZZ="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$FUZZ")"
DATA="${STEWARD_DATA:-$ROOT/../shared/data}"
CORPUS="$FUZZ/corpus"
# Its own target directory, whatever CARGO_TARGET_DIR the caller exported for the
# main workspace (.ci/run exports /var/tmp/steward-target).
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-/var/tmp/steward-fuzz-target}"
TOOLCHAIN="${STEWARD_FUZZ_TOOLCHAIN:-nightly}"

TARGETS=(ingest_openssh ingest_apache ingest_focus ingest_jsonl ingest_cloudevents
         config_toml policy_pack policy_manifest audit_entry_decode checkpoint_note
         email_intake request_bodies)
for t in "${TARGETS[@]}"; do mkdir -p "$CORPUS/$t"; done

# --- real data --------------------------------------------------------------
if [ -d "$DATA" ]; then
  python3 - "$DATA" "$CORPUS" <<'PY'
import json, os, sys
data, corpus = sys.argv[1], sys.argv[2]

def put(target, name, content):
    if isinstance(content, str):
        content = content.encode()
    with open(os.path.join(corpus, target, "seed-" + name), "wb") as f:
        f.write(content)

def chunks(path, target, per, count, stride):
    """`count` pieces of `per` lines, one every `stride` lines."""
    with open(path, "rb") as f:
        lines = f.readlines()
    n = 0
    for start in range(0, len(lines), stride):
        if n == count:
            break
        put(target, f"{os.path.basename(path)}-{start + 1}", b"".join(lines[start:start + per]))
        n += 1
    return n

n = chunks(os.path.join(data, "loghub_OpenSSH_2k.log"), "ingest_openssh", 8, 60, 33)
print(f"ingest_openssh: {n} pieces of loghub_OpenSSH_2k.log")
n = chunks(os.path.join(data, "elastic_apache_access_logs_first5000.log"), "ingest_apache", 4, 60, 83)
n += chunks(os.path.join(data, "loghub_Apache_2k.log"), "ingest_apache", 4, 5, 400)
print(f"ingest_apache: {n} pieces of the Elastic access log and the loghub Apache error log")

with open(os.path.join(data, "focus_1.0_sample_billing.csv"), "rb") as f:
    rows = f.read().split(b"\n")
header = rows[0] + b"\n"
n = 0
for start in range(1, min(len(rows), 400), 20):
    body = b"\n".join(rows[start:start + 3])
    if body.strip():
        put("ingest_focus", f"focus-head-{start}", header + body + b"\n")
        n += 1
print(f"ingest_focus: {n} pieces (header + 3 rows) of focus_1.0_sample_billing.csv")

with open(os.path.join(data, "cloudevents_json_format_spec_examples.json")) as f:
    examples = json.load(f)["examples"]
for i, ex in enumerate(examples):
    put("ingest_cloudevents", f"spec-example-{i}.json", json.dumps(ex, indent=2))
put("ingest_cloudevents", "spec-examples-batch.json", json.dumps([e for e in examples if isinstance(e, dict)]))
put("ingest_cloudevents", "spec-examples.jsonl", "".join(json.dumps(e) + "\n" for e in examples if isinstance(e, dict)))
for name in ("aws_config_snapshot_delivery_notification.json", "ocsf_okta_authentication_v1.3.0.raw.json"):
    with open(os.path.join(data, name), "rb") as f:
        put("ingest_cloudevents", name, f.read())
print(f"ingest_cloudevents: {len(examples)} CloudEvents spec examples, as one batch and as JSON Lines, 2 other JSON events")
PY
else
  echo "skip notice: $DATA absent; only hand-written and generated seeds are written"
fi

# --- email intake (N7.4): the real messages of eml/, copied at run time ------
if [ -d "$DATA/eml" ]; then
  n=0
  for f in "$DATA"/eml/*.eml; do
    cp "$f" "$CORPUS/email_intake/seed-$(basename "$f")"; n=$((n + 1))
  done
  echo "email_intake: $n messages of eml/"
fi

# --- hand-written -------------------------------------------------------------
J="$CORPUS/ingest_jsonl"
cat > "$J/seed-records.jsonl" <<'EOF'
{"subject": "email:ann@example.com", "category": "usage", "kind": "error", "occurred_at": "2024-05-01T10:00:00Z", "product": "cloud_platform", "fields": {"level": "error", "message": "disk full"}}
{"subject": {"kind": "ip", "value": "10.0.0.1"}, "kind": "usage.error", "product": "workspace", "fields": {"occurred_at": "2024-05-01T11:00:00Z"}}
{"kind": "billing.payment", "fields": {"billing_account_id": "BA-1", "amount": 12.5}}
{"subject": "username:u001", "kind": "usage.authentication", "fields": {"event": "login", "outcome": "success", "source_ip": "192.0.2.7", "source_port": 22, "pid": 4242}}
EOF
printf '%s\r\n\r\n%s\n' \
  '{"subject": "username:ann", "kind": "usage.error", "fields": {"message": "x", "document_body": "customer secret"}}' \
  '{"kind": "secrets.passwords", "subject": "ip:10.0.0.1"}' > "$J/seed-rejections.jsonl"
printf '\xef\xbb\xbf{"subject": "10.0.0.2", "kind": "usage.error", "occurred_at": "2024-02-29T23:59:60Z"}\nnot json\n[1,2]\n{"kind": "usage.error"}' > "$J/seed-bom-mixed.jsonl"

C="$CORPUS/ingest_cloudevents"
cat > "$C/seed-steward-event.json" <<'EOF'
{
  "specversion": "1.0",
  "type": "io.steward.usage.authentication",
  "source": "/idp",
  "id": "e-1",
  "time": "2024-05-01T10:00:00Z",
  "subject": "username:ann",
  "datacontenttype": "application/json",
  "data": {"event": "login", "outcome": "success", "source_ip": "10.0.0.1"}
}
EOF
cat > "$C/seed-steward-batch.json" <<'EOF'
[
{"specversion":"1.0","type":"usage.error","source":"/s","id":"1","subject":"ip:10.0.0.1","data_base64":"eyJtZXNzYWdlIjogImJvb20iLCAibGV2ZWwiOiAiZXJyb3IifQ=="},
{"specversion": "0.3", "type": "usage.error", "source": "/s", "id": "2"},
{"type": "usage.error", "source": "/s", "id": "3", "subject": "ip:10.0.0.1", "data": {"message": "m"}}
]
EOF
printf '%s\n%s\n' \
  '{"specversion":"1.0","type":"io.steward.billing.payment","source":"/b","id":"p1","data":{"billing_account_id":"BA-9","amount":3}}' \
  '{"specversion":"1.0","type":"usage.error","source":"/s","id":"2","subject":"email:bo@example.com","datacontenttype":"text/plain","data":"x"}' \
  > "$C/seed-steward-events.jsonl"

printf 'Dec 10 06:55:46 host sshd[1]: Accepted password for u001 from 192.0.2.1 port 4000 ssh2\r\n\r\nFeb 29 23:59:59 host sshd[2]: Failed password for invalid user x from 2001:db8::1 port 22 ssh2\n2024-05-01T10:00:00Z host sshd-session[3]: Disconnected from user root 192.0.2.9 port 5 [preauth]' \
  > "$CORPUS/ingest_openssh/seed-hand.log"
printf '192.0.2.1 - alice [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "-" "curl/8"\n::1 - - [29/Feb/2024:00:00:00 +0000] "-" 408 -\n' \
  > "$CORPUS/ingest_apache/seed-hand.log"

# --- HTTP request bodies: shape byte (0 record, 1 array, 2 JSON Lines,
# 3 CloudEvent, 4 CloudEvent batch) followed by the body ---------------------
R="$CORPUS/request_bodies"
printf '\000{"subject":"username:ann","kind":"account.profile","fields":{"username":"ann","email":"ann@example.com"}}' > "$R/seed-record"
printf '\001[{"subject":"username:ann","kind":"account.profile","fields":{"username":"ann"}},{"subject":"ip:192.0.2.1","kind":"usage.error","fields":{"x":1}}]' > "$R/seed-array"
printf '\002{"subject":"email:bo@example.com","kind":"usage.error","occurred_at":"2024-05-01T10:00:00Z","fields":{"level":"error","message":"m"}}\n\n{"a":' > "$R/seed-jsonl"
printf '\003{"specversion":"1.0","type":"usage.error","source":"/s","id":"1","subject":"email:bo@example.com","data":{"level":"error"}}' > "$R/seed-event"
printf '\004[{"specversion":"1.0","type":"io.steward.billing.payment","source":"/b","id":"p1","data":{"billing_account_id":"BA-9","amount":3}},{}]' > "$R/seed-batch"

E="$CORPUS/email_intake"
printf 'From: "Ann" <Ann@Example.COM>\r\nMessage-ID: <r1@example.com>\r\nDate: Mon, 4 Mar 2024 09:15:00 +0100\r\nSubject: Please delete my account\r\n\r\nThanks.\r\n' > "$E/seed-erasure.eml"
printf 'From: b@example.de\r\nSubject: =?iso-8859-1?Q?Auskunft_=%s?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPHA+RXhwb3J0PC9wPg==\r\n--B\r\nContent-Type: application/pdf; name="id.pdf"\r\nContent-Disposition: attachment; filename*=utf-8\x27\x27%%C3%%A4.pdf\r\n\r\nx\r\n--B--\r\n' 'FCber' > "$E/seed-multipart.eml"

T="$CORPUS/config_toml"
printf '' > "$T/seed-empty.toml"
cat > "$T/seed-regions.toml" <<'EOF'
operator = "privacy-team"
ingest_batch = 2000
keyring_file = "keys/other.json"

[controller]
entity = "Example K.K."
contact_email = "privacy@example.com"

[[regions]]
name = "eu"
country = "DE"
store = "eu.sqlite3"
products = ["cloud_platform", "workspace"]

[[regions]]
name = "jp"
country = "JP"

[retention]
usage = "90 days"
billing = "7 years"

[audit]
origin = "steward.example/audit/eu"
key_name = "steward-audit-eu"
checkpoint_every = 10
checkpoint_every_secs = 5
EOF
printf 'regions = []\n' > "$T/seed-no-regions.toml"
printf '[retention]\nsecrets = "forever"\n' > "$T/seed-bad-category.toml"
printf '[controller]\nentity = "A"\nemail = "x"\n' > "$T/seed-unknown-key.toml"
printf 'ingest_batch = 0\n[[regions]]\nname = "x"\ncountry = "US"\nproducts = ["cloud_platform", "nope"]\n' > "$T/seed-bad-values.toml"

for f in "$ROOT"/crates/steward-policy/pack/*.cedar; do
  cp "$f" "$CORPUS/policy_pack/seed-$(basename "$f")"
done
printf '@id("p")\n@clause("N3.1")\npermit (principal, action == Steward::Action::"read", resource)\nwhen { context.purpose == "provide_services" };\n' \
  > "$CORPUS/policy_pack/seed-minimal.cedar"
printf '@id("f")\n@clause("N5.5")\n@reason("revoked")\nforbid (principal, action, resource) when { principal.revoked };\n' \
  > "$CORPUS/policy_pack/seed-forbid.cedar"

M="$CORPUS/policy_manifest"
cp "$ROOT/crates/steward-policy/pack/pack.toml" "$M/seed-default-pack.toml"
printf 'name = "x"\nversion = "1"\neffective = "2024-02-29"\n' > "$M/seed-minimal.toml"
printf 'name = " "\nversion = "v1 beta"\neffective = "2023-02-29"\nextra = 1\n' > "$M/seed-bad.toml"

# --- generated (Rust: canonical entries, signed notes, default config) -------
(cd "$FUZZ" && cargo "+$TOOLCHAIN" run -q --features seeds --bin gen_seeds -- "$CORPUS")

for t in "${TARGETS[@]}"; do
  printf '%-20s %4d files\n' "$t" "$(find "$CORPUS/$t" -type f | wc -l)"
done
