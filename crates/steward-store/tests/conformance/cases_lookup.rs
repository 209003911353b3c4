//! Registry lookups (issue 12): the rows a lookup column narrows a registry
//! table to follow every write (insert, replace, delete) on every backend,
//! and rows whose field is unknown are never left out.

use steward_store::{ChangeSet, RegistryField, RegistryQuery, RegistryTable, Store, StoreError};

use super::{Fixture, commit, draft};

/// The ids `query` gives on `table`.
fn found(store: &dyn Store, table: RegistryTable, query: RegistryQuery<'_>) -> Vec<String> {
    store
        .registry_find(table, query)
        .unwrap_or_else(|e| panic!("{query:?}: {e}"))
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

fn put(store: &mut dyn Store, rows: &[(RegistryTable, &str, &str)], n: u64) {
    commit(
        store,
        ChangeSet {
            registry: rows
                .iter()
                .map(|(t, id, b)| (*t, (*id).to_owned(), (*b).to_owned()))
                .collect(),
            audit: vec![draft(n)],
            ..Default::default()
        },
    );
}

pub(super) fn registry_lookups_follow_every_write(fx: &Fixture) {
    use RegistryField::{At, State, Subject};
    use RegistryQuery::{Before, Equals, IdPrefix};
    let mut store = fx.open();
    let r = RegistryTable::Requests;
    put(
        store.as_mut(),
        &[
            (r, "dsr_a", r#"{"state":"received","subject":"sub_1"}"#),
            (r, "dsr_b", r#"{"state":"received","subject":"sub_2"}"#),
            // No subject yet, and a body that does not parse: unknown.
            (r, "dsr_c", r#"{"state":"completed","subject":null}"#),
            (r, "dsr_d", "not json"),
        ],
        0,
    );
    let s = store.as_ref();
    assert_eq!(
        found(s, r, Equals(Subject, "sub_1")),
        ["dsr_a", "dsr_c", "dsr_d"]
    );
    assert_eq!(found(s, r, Equals(State, "completed")), ["dsr_c", "dsr_d"]);
    assert_eq!(
        found(s, r, Equals(State, "received")),
        ["dsr_a", "dsr_b", "dsr_d"]
    );
    // The bodies are the rows' own.
    let rows = s.registry_find(r, Equals(Subject, "sub_2")).unwrap();
    assert_eq!(
        rows[0],
        (
            "dsr_b".to_owned(),
            r#"{"state":"received","subject":"sub_2"}"#.to_owned()
        )
    );

    // A replaced row moves in the index; a deleted one leaves it.
    put(
        store.as_mut(),
        &[(r, "dsr_a", r#"{"state":"completed","subject":"sub_2"}"#)],
        1,
    );
    commit(
        store.as_mut(),
        ChangeSet {
            delete_registry: vec![(r, "dsr_b".into())],
            audit: vec![draft(2)],
            ..Default::default()
        },
    );
    let s = store.as_ref();
    assert_eq!(found(s, r, Equals(Subject, "sub_1")), ["dsr_c", "dsr_d"]);
    assert_eq!(
        found(s, r, Equals(Subject, "sub_2")),
        ["dsr_a", "dsr_c", "dsr_d"]
    );
    assert_eq!(found(s, r, Equals(State, "received")), ["dsr_d"]);

    // A time column: rows before the bound, and rows without a time.
    let d = RegistryTable::Disclosures;
    put(
        store.as_mut(),
        &[
            (d, "dis_1", r#"{"last_at_ms":100}"#),
            (d, "dis_2", r#"{"last_at_ms":200}"#),
            (d, "dis_3", r#"{"first_at_ms":50}"#),
        ],
        3,
    );
    let s = store.as_ref();
    assert_eq!(found(s, d, Before(At, 150)), ["dis_1", "dis_3"]);
    assert_eq!(found(s, d, Before(At, 100)), ["dis_3"]);
    assert_eq!(found(s, d, Before(At, 201)), ["dis_1", "dis_2", "dis_3"]);

    // An id prefix is a range of the key: nothing outside it.
    let t = RegistryTable::Tenancy;
    put(
        store.as_mut(),
        &[
            (t, "org:1", "{}"),
            (t, "org:2", "{}"),
            (t, "orga", "{}"),
            (t, "org;", "{}"),
            (t, "user:1", "{}"),
        ],
        4,
    );
    let s = store.as_ref();
    assert_eq!(found(s, t, IdPrefix("org:")), ["org:1", "org:2"]);
    assert_eq!(found(s, t, IdPrefix("user:")), ["user:1"]);
    assert!(found(s, t, IdPrefix("none:")).is_empty());

    // Lookups a table has no column for are named errors, not full scans.
    for (table, q) in [
        (RegistryTable::Incidents, Equals(Subject, "sub_1")),
        (d, Equals(At, "100")),
        (r, Before(State, 1)),
    ] {
        match s.registry_find(table, q) {
            Err(StoreError::Config(m)) => assert!(m.contains(table.table()), "{m}"),
            other => panic!("{table:?} {q:?}: {other:?}"),
        }
    }

    // A reopened store (new connections) reads the same.
    drop(store);
    let store = fx.open();
    assert_eq!(
        found(store.as_ref(), r, Equals(Subject, "sub_2")),
        ["dsr_a", "dsr_c", "dsr_d"]
    );
}
