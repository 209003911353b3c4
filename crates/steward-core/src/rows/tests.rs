use std::collections::BTreeMap;

use super::*;

/// Issue 12 item 3: a value that does not serialise (a map with non-string
/// keys) is an error saying nothing was written, where
/// `to_string(..).unwrap_or_default()` gave an empty body to store.
#[test]
fn a_row_that_does_not_serialise_is_an_error_not_an_empty_body_issue12() {
    let mut bad: BTreeMap<(u8, u8), u8> = BTreeMap::new();
    bad.insert((1, 2), 3);
    assert_eq!(serde_json::to_string(&bad).unwrap_or_default(), "");
    let e = row_json(&bad).expect_err("a map with tuple keys does not serialise");
    let msg = e.to_string();
    assert!(
        msg.starts_with("registry row: does not serialise as JSON ("),
        "{msg}"
    );
    assert!(msg.contains("nothing was written"), "{msg}");
    assert_eq!(row_json(&BTreeMap::from([("a", 1)])).unwrap(), r#"{"a":1}"#);
}

/// Issue 12 item 2: a row that does not parse names its table and key.
#[test]
fn a_row_that_does_not_parse_names_its_table_and_key_issue12() {
    let e = parse_row::<serde_json::Value>(RegistryTable::SupportCases, "case-1", "{\"a\":")
        .expect_err("truncated JSON does not parse");
    let msg = e.to_string();
    assert!(
        msg.starts_with(
            "storage: stored data is corrupt: registry support_cases, row `case-1` does not parse ("
        ),
        "{msg}"
    );
    assert!(msg.ends_with("): repair or remove it"), "{msg}");
    let v: serde_json::Value =
        parse_row(RegistryTable::SupportCases, "case-1", "{\"a\":1}").unwrap();
    assert_eq!(v["a"], 1);
}
