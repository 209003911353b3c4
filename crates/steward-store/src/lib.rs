//! Steward's storage: small role traits and the embedded SQLite backend.
//!
//! Reads go through role traits ([`SubjectStore`], [`RecordStore`],
//! [`AuditStore`], [`PrincipalStore`], [`RegistryStore`]). Every write is a
//! [`ChangeSet`] applied by [`Store::commit`] in **one transaction** together
//! with the audit entries that record it: either all of it is durable, or
//! none of it is (DESIGN: "A rejected batch leaves nothing behind"; an
//! acknowledged record survives a crash).
//!
//! The audit log's index is assigned from the `audit_head` row updated in the
//! same transaction: no database sequence orders anything, so distributed
//! PostgreSQL-compatible engines need none.
//!
//! The store never sees Service Data in clear: records, identifiers and data
//! keys arrive sealed; identifiers are found by their blind index.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod sqlite;
mod types;

pub use sqlite::{SqliteStore, StoreOptions};
pub use types::*;
