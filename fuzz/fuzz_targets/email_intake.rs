//! `steward_ingest::email::parse` (email intake of data subject requests,
//! N7.4) on arbitrary bytes. Checks: no panic; the same bytes give the same
//! result; a parsed message keeps its shape (size, a lower-cased sender
//! address with `@`, an empty body when there is none, a classification that
//! names a type with the words that matched or says it could not tell); an
//! error is one of the named ones and its message carries no input bytes;
//! `Debug` of a parsed message never shows the sender's address.
#![no_main]

use libfuzzer_sys::fuzz_target;
use steward_ingest::email::{BodySource, EmailError, parse};

fuzz_target!(|data: &[u8]| {
    let first = parse("fuzz.eml", data);
    assert_eq!(first, parse("fuzz.eml", data), "not deterministic");
    match first {
        Ok(m) => {
            assert_eq!(m.size, data.len());
            if m.body_source == BodySource::None {
                assert!(m.body.is_empty());
            }
            match m.classification.request_type {
                Some(t) => {
                    assert!(!m.classification.matches.is_empty());
                    assert!(m.classification.reason.starts_with(t.as_str()));
                }
                None => assert!(
                    m.classification
                        .reason
                        .starts_with("could not tell which request")
                ),
            }
            if let Some(s) = &m.from {
                assert!(s.address.contains('@'));
                assert_eq!(s.address, s.address.to_lowercase());
                let shown = format!("{m:?}");
                let in_types = m
                    .attachments
                    .iter()
                    .any(|a| a.content_type.contains(&s.address));
                if s.address.len() >= 8 && !in_types {
                    assert!(!shown.contains(&s.address), "Debug shows the sender");
                }
            }
        }
        Err(e) => {
            assert!(matches!(
                e,
                EmailError::Empty { .. } | EmailError::TooLarge { .. } | EmailError::NotAMessage { .. }
            ));
            assert!(e.to_string().starts_with("fuzz.eml: "));
        }
    }
});
