//! Real-data test of email intake parsing (N7.4): the 54 messages of
//! `../shared/data/eml` (stalwartlabs/mail-parser's legacy test corpus, see
//! SOURCES.md there; Apache-2.0 OR MIT; read in place, never copied).
//!
//! The expected counts were derived independently of Steward and of
//! mail-parser, with Python 3's standard `email` package
//! (`email.message_from_bytes(raw, policy=email.policy.default)`):
//!
//! * every file has at least one header field: 54 parse;
//! * `email.utils.parseaddr(m["From"])` has an `@` in 54; by lower-cased
//!   address: dwsauder@example.com 32, doug@example.com 18,
//!   doug@penguin.example.com 4;
//! * `m["Message-ID"]` is present in 54, `parsedate_to_datetime(m["Date"])`
//!   succeeds for 54;
//! * 5 messages have a `text/html` part and no `text/plain` part
//!   (002, 024, 025, 039, 050);
//! * regular expressions for the request words of every type (English and
//!   German, broader than Steward's rules: plain `access` anywhere, `opt.out`,
//!   `art(.|ikel|icle) 15-18, 20, 21`) over the lower-cased decoded subject
//!   and every text part match none of the 54 (they are fables: "The Hare and
//!   the Tortoise", "Die Hasen und die Frösche"), so no message classifies to
//!   a type. The Japanese words of Steward's rules (開示, 削除, 消去, 訂正,
//!   利用停止, 第三者提供の停止, 異議, エクスポート, ポータビリティ) occur
//!   in none of them either (10 have CJK text; Python `in` over the same
//!   decoded texts).

use std::collections::BTreeMap;
use std::path::PathBuf;

use steward_ingest::email::{BodySource, parse};

fn eml_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/eml");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skip: {} absent (real-data email corpus)", dir.display());
        None
    }
}

#[test]
fn the_54_corpus_messages_parse_with_sender_and_no_request_type_n7_4() {
    let Some(dir) = eml_dir() else {
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 54);

    let (mut parsed, mut rejected) = (0, 0);
    let (mut with_from, mut with_id, mut with_date, mut html) = (0, 0, 0, 0);
    let mut senders: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    let mut unclassified = 0;
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        match parse(&name, &raw) {
            Ok(m) => {
                parsed += 1;
                if let Some(s) = &m.from {
                    with_from += 1;
                    *senders.entry(s.address.clone()).or_default() += 1;
                }
                with_id += usize::from(m.message_id.is_some());
                with_date += usize::from(m.date.is_some());
                html += usize::from(m.body_source == BodySource::Html);
                match m.classification.request_type {
                    Some(t) => *by_type.entry(t.as_str()).or_default() += 1,
                    None => {
                        unclassified += 1;
                        assert!(
                            m.classification
                                .reason
                                .starts_with("could not tell which request"),
                            "{name}: {}",
                            m.classification.reason
                        );
                    }
                }
                // Debug never shows the sender or the subject.
                let dbg = format!("{m:?}");
                assert!(!dbg.contains("sauder"), "{name}: {dbg}");
                assert!(!dbg.contains("Hasen") && !dbg.contains("Hare"), "{name}");
            }
            Err(e) => {
                rejected += 1;
                println!("rejected {name}: {e}");
            }
        }
    }
    assert_eq!((parsed, rejected), (54, 0));
    assert_eq!(with_from, 54);
    assert_eq!(
        senders,
        BTreeMap::from([
            ("doug@example.com".to_string(), 18),
            ("doug@penguin.example.com".to_string(), 4),
            ("dwsauder@example.com".to_string(), 32),
        ])
    );
    assert_eq!(with_id, 54);
    assert_eq!(with_date, 54);
    assert_eq!(html, 5);
    assert_eq!(by_type, BTreeMap::new());
    assert_eq!(unclassified, 54);
}

/// Every corpus message, cut short at every 97th byte and with bytes
/// flipped, still ends as a parsed message or a named error: no panic.
#[test]
fn truncated_and_corrupted_corpus_messages_never_panic() {
    let Some(dir) = eml_dir() else {
        return;
    };
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        let raw = std::fs::read(&p).unwrap();
        for cut in (0..raw.len()).step_by(97) {
            let _ = parse("cut.eml", &raw[..cut]);
            let mut flipped = raw.clone();
            flipped[cut] ^= 0xA5;
            let _ = parse("flip.eml", &flipped);
            n += 1;
        }
    }
    assert!(n > 54, "{n}");
}
