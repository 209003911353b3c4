//! End to end, email intake of data subject requests (N7.4): `steward intake
//! email --dir` over the 54 real messages of `../shared/data/eml` (copied at
//! test time into a temporary maildir, never into the repository), plus two
//! requests written by this test, then again to show nothing is taken twice.
//!
//! Expected counts, derived independently with Python 3's standard `email`
//! package (`email.message_from_bytes(raw, policy=email.policy.default)`,
//! `email.utils.parseaddr(m["From"])`):
//!
//! * 54 messages, all with a `From` address: dwsauder@example.com 32,
//!   doug@example.com 18, doug@penguin.example.com 4 (3 senders);
//! * request words of any type (regular expressions broader than Steward's
//!   rules, English and German, and the Japanese words of the rules) over
//!   the decoded subjects and text parts:
//!   none in any of the 54 (they are fables), so all 54 end as recorded
//!   rejections `unclassified` ("could not tell which request"), each stored
//!   encrypted under its sender's subject;
//! * with an account for dwsauder@example.com ingested first, 32 of the 54
//!   come from a matched sender.
//!
//! The two messages this test writes: an erasure request from
//! dwsauder@example.com (matched: a request awaiting verification) and an
//! access request from an unknown sender (an unverified request).

use std::path::{Path, PathBuf};

mod common;
use common::{json, ok};

fn eml_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/eml");
    if p.is_dir() {
        Some(p)
    } else {
        println!(
            "skip: {} is absent (../shared/data is not here)",
            p.display()
        );
        None
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_54_corpus_messages_end_as_requests_or_rejections_exactly_once_n7_4() {
    let Some(eml) = eml_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let maildir = tmp.path().join("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    // 000-026 in new/, 027-053 in cur/ (a maildir reader reads both).
    let mut names: Vec<PathBuf> = std::fs::read_dir(&eml)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 54);
    for (i, p) in names.iter().enumerate() {
        let to = if i < 27 { "new" } else { "cur" };
        std::fs::copy(p, maildir.join(to).join(p.file_name().unwrap())).unwrap();
    }
    // A message still being delivered (tmp/) is not taken.
    std::fs::write(maildir.join("tmp/partial"), b"From: x@example.com\r\n").unwrap();
    std::fs::write(
        maildir.join("new/1700000000.erasure"),
        b"From: Doug <DWSauder@example.com>\r\nTo: privacy@provider.example\r\nMessage-ID: <t1@steward.test>\r\nSubject: Please delete my account\r\n\r\nThanks.\r\n",
    )
    .unwrap();
    std::fs::write(
        maildir.join("new/1700000001.access"),
        b"From: new.person@example.net\r\nTo: privacy@provider.example\r\nMessage-ID: <t2@steward.test>\r\nSubject: =?iso-8859-1?Q?Auskunft_=FCber_meine_Daten?=\r\n\r\nHallo.\r\n",
    )
    .unwrap();

    // An account for one of the three senders.
    let account = tmp.path().join("account.jsonl");
    std::fs::write(
        &account,
        "{\"kind\":\"account.profile\",\"subject\":\"username:dwsauder\",\"fields\":{\"username\":\"dwsauder\",\"email\":\"dwsauder@example.com\"}}\n",
    )
    .unwrap();
    ok(
        &data,
        &["ingest", "--format", "jsonl", account.to_str().unwrap()],
    );

    let dir = maildir.to_str().unwrap();
    let first = json(&ok(&data, &["intake", "email", "--dir", dir, "--json"]));
    assert_eq!(first["messages"], 56, "{first}");
    assert_eq!(first["taken"], 56);
    assert_eq!(first["already_taken"], 0);
    assert_eq!(first["in_progress"], 0);
    assert_eq!(first["unreadable"], 0);
    assert_eq!(
        first["requests"],
        serde_json::json!({"access": 1, "erasure": 1})
    );
    assert_eq!(first["unverified"], 1);
    assert_eq!(first["rejected"], serde_json::json!({"unclassified": 54}));

    // Every message with a sender is stored, encrypted, under its sender's
    // subject: dwsauder (32 + 1 on the existing account), the two other
    // corpus senders (18, 4) and the unknown requester (1), new subjects.
    let subjects = json(&ok(&data, &["subjects", "--json"]));
    let mut comms: Vec<u64> = subjects
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["records"]["communications"].as_u64().unwrap_or(0))
        .collect();
    comms.sort();
    assert_eq!(comms, vec![1, 4, 18, 33]);

    // The ledger: 56 rows, 33 from a matched sender; no address in it.
    let conn = rusqlite::Connection::open(data.join("jp.sqlite3")).unwrap();
    let rows: Vec<String> = conn
        .prepare("SELECT id || ' ' || body FROM email_intake")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    drop(conn);
    assert_eq!(rows.len(), 56);
    let matched = rows
        .iter()
        .filter(|r| r.contains("\"sender_matched\":true"))
        .count();
    assert_eq!(matched, 33);
    assert!(rows.iter().all(|r| !r.contains('@')));

    // Again: nothing new is taken (exactly once), the single-file mode too.
    let again = json(&ok(&data, &["intake", "email", "--dir", dir, "--json"]));
    assert_eq!(again["taken"], 0, "{again}");
    assert_eq!(again["already_taken"], 56);
    let one = maildir.join("new").join(names[0].file_name().unwrap());
    let line = ok(&data, &["intake", "email", one.to_str().unwrap()]);
    assert!(
        line.contains("already taken: rejected (unclassified)"),
        "{line}"
    );
    assert!(line.contains("1 messages: 0 taken"), "{line}");

    // Output never shows an address, a subject line or a body.
    let text = ok(&data, &["intake", "email", "--dir", dir]);
    assert!(!text.contains('@'), "{text}");
    assert!(
        !text.contains("Hasen") && !text.contains("Tortoise"),
        "{text}"
    );
    assert!(text.contains("56 messages: 0 taken"), "{text}");

    // At rest, nothing of the messages is in clear (bodies, senders).
    ok(&data, &["audit", "verify"]);
    for e in std::fs::read_dir(&data).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            let b = std::fs::read(&p).unwrap();
            for needle in [
                &b"Die Hasen klagten"[..],
                b"Tortoise",
                b"dwsauder@example.com",
                b"doug@example.com",
            ] {
                assert!(
                    !contains(&b, needle),
                    "{} holds {:?} in clear",
                    p.display(),
                    String::from_utf8_lossy(needle)
                );
            }
        }
    }
}
