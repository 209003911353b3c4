//! Issue 12: the registry rows the core writes carry their lookup columns
//! (store schema v13), read here straight from the SQLite file, so a row
//! type whose JSON key drifts from the schema's `LOOKUPS` (a rename, a
//! `#[serde(rename)]`) fails here instead of turning every lookup into a
//! whole-table scan unnoticed.

use std::path::Path;

use steward_core::{Channel, Config, NewRequestDetails, OpenOptions, RequestFilter, Steward};
use steward_domain::{RequestState, RequestType};

mod common;
use common::username_record;

fn open(dir: &Path) -> Steward {
    Steward::open(dir, Config::default(), OpenOptions::default()).unwrap()
}

/// One text column of row `id` of `table`, from the primary region's file.
fn column(dir: &Path, table: &str, col: &str, id: &str) -> Option<String> {
    let c = rusqlite::Connection::open(dir.join("jp.sqlite3")).unwrap();
    c.query_row(
        &format!("SELECT {col} FROM {table} WHERE id = ?1"),
        [id],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn rows_written_by_the_core_fill_their_lookup_columns_issue12() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    st.ingest(
        "ingest",
        vec![username_record(
            "account.profile",
            "ann",
            &[("username", "ann")],
        )],
        &mut |_| {},
    )
    .unwrap();
    let r = st
        .open_request(
            st.operator(),
            Some("username:ann"),
            RequestType::Access,
            Channel::Cli,
            NewRequestDetails::default(),
        )
        .unwrap();
    let id = r.id.to_string();
    let subject = r.subject.clone().expect("ann is a known subject");
    assert!(subject.starts_with("sub_"), "{subject}");
    assert_eq!(
        column(dir.path(), "dsr_requests", "subject", &id),
        Some(subject)
    );
    assert_eq!(
        column(dir.path(), "dsr_requests", "state", &id),
        Some(r.state.as_str().to_owned())
    );
    // The request queue by state reads through the column.
    let by_state = st
        .requests(RequestFilter {
            state: Some(r.state),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(by_state.len(), 1);
    assert!(
        st.requests(RequestFilter {
            state: Some(RequestState::Completed),
            ..Default::default()
        })
        .unwrap()
        .is_empty()
    );

    // A token's principal.
    let op = st.operator().to_owned();
    let t = st.issue_token(&op, "ingest", 600, vec![]).unwrap();
    assert_eq!(
        column(dir.path(), "api_tokens", "principal", &t.info.id),
        Some("ingest".to_owned())
    );
}
