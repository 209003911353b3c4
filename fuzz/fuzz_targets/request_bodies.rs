//! The HTTP API's Service Data request bodies (`POST /v1/records`,
//! `/v1/records:batch`, `/v1/cloudevents`) through
//! `steward_ingest::body::parse_body`, the function the server calls. The
//! first input byte picks the shape (record, record array, JSON Lines,
//! CloudEvent, CloudEvent batch), the rest is the body. Checks: no panic;
//! the same bytes give the same result; every rejection names its source
//! and a 1-based position; one record's body yields at most one record; a
//! shape error never quotes the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use steward_domain::Product;
use steward_ingest::ParseOptions;
use steward_ingest::body::{BodyError, BodyShape, parse_body};

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let shape = BodyShape::ALL[usize::from(first) % BodyShape::ALL.len()];
    let opts = ParseOptions {
        year: 2024,
        product: Product::CloudPlatform,
    };
    let result = parse_body(shape, "body", body, &opts);
    let again = parse_body(shape, "body", body, &opts);
    match (&result, &again) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.records.len(), b.records.len(), "not deterministic");
            assert_eq!(a.rejected.len(), b.rejected.len(), "not deterministic");
        }
        (Err(a), Err(b)) => assert_eq!(a, b, "not deterministic"),
        _ => panic!("not deterministic"),
    }
    match result {
        Ok(p) => {
            for r in &p.rejected {
                assert!(r.line >= 1, "position 0");
                let prefix = format!("body:{}: ", r.line);
                assert!(r.error.starts_with(&prefix), "{:?}", r.error);
            }
            if shape == BodyShape::Record || shape == BodyShape::CloudEvent {
                assert!(p.accounted() <= 1, "{shape:?} gave {} items", p.accounted());
            }
        }
        Err(BodyError::NotJson { line, column, .. }) => {
            assert!(line <= body.len() + 1 && column <= body.len() + 1);
        }
        Err(BodyError::WrongShape(m)) => assert!(!m.is_empty()),
    }
});
