//! Types and role traits shared by every backend.

use std::borrow::Cow;

use steward_domain::{RecordId, SubjectId};
use thiserror::Error;

/// Errors of a store. Messages name tables, files and SQLite/PostgreSQL
/// conditions; never Service Data (the store holds none in clear).
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(String),
    /// The database is locked by another process for longer than the busy timeout.
    #[error(
        "database is locked by another process (waited {waited_ms} ms); retry when it is released"
    )]
    Locked {
        /// How long Steward waited.
        waited_ms: u64,
    },
    /// The database file was deleted or replaced underneath a running process.
    #[error(
        "database file {path} was deleted or replaced while Steward was running; nothing was written. Restore it or restart Steward to create a new store"
    )]
    FileReplaced {
        /// The path.
        path: String,
    },
    /// The database is read-only or the disk is full.
    #[error("database cannot be written ({reason}); nothing was written")]
    Unwritable {
        /// SQLite's reason.
        reason: String,
    },
    /// A unique key already exists (e.g. a record id collision).
    #[error("conflict: {0}")]
    Conflict(String),
    /// An optimistic-concurrency guard of the [`ChangeSet`] did not hold: the
    /// registry row changed since the caller read it (another writer got
    /// there first). Nothing of the change set was written; read the row
    /// again and decide afresh.
    #[error(
        "concurrent change: registry row {table}/{id} is not what the caller read (another writer changed it first); nothing was written"
    )]
    GuardConflict {
        /// The registry table (`dsr_requests`).
        table: &'static str,
        /// The row id.
        id: String,
    },
    /// An identifier row of the change names a blind index that is already
    /// indexed to another subject (another writer created the subject
    /// first, issue 15 item 3). Nothing of the change was written: resolve
    /// the identifier again and use the subject that won.
    #[error(
        "identifier clash: a blind index of this change is already indexed to another subject (another writer got there first); nothing was written"
    )]
    IdentifierClash,
    /// A record id of the change is already stored: another writer (another
    /// node on the same PostgreSQL store, or another process on the same
    /// SQLite file) drew the same id in the same millisecond (issue 21).
    /// Nothing of the change was written: seal the batch again under fresh
    /// ids.
    #[error(
        "record id clash: a record id of this change is already stored (another writer drew it in the same millisecond); nothing was written, retry"
    )]
    RecordIdClash,
    /// Something asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The stored data is not what Steward wrote (corruption or tampering).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The audit entry could not be built.
    #[error("audit entry: {0}")]
    Audit(String),
    /// The store's URL or options are invalid: the message says which part
    /// and how to fix it (never a password).
    #[error("store configuration: {0}")]
    Config(String),
}

/// A subject row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRow {
    /// Opaque id.
    pub id: SubjectId,
    /// Home region (N4.1).
    pub region: String,
    /// When created (ms since the Unix epoch).
    pub created_at_ms: i64,
    /// When erased (crypto-shredded), if ever.
    pub erased_at_ms: Option<i64>,
}

/// A subject's wrapped data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKeyRow {
    /// The subject.
    pub subject: SubjectId,
    /// KEK version that wraps it.
    pub kek_version: u32,
    /// The DEK's own version (bound into record AADs).
    pub key_version: u32,
    /// `nonce || ciphertext || tag`.
    pub wrapped: Vec<u8>,
}

/// An external identifier of a subject: its blind index and its value sealed
/// under the subject's data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierRow {
    /// HMAC-SHA-256 blind index of `kind 0x00 value`.
    pub blind: [u8; 32],
    /// The subject.
    pub subject: SubjectId,
    /// Identifier kind (`username`, `email`, ...).
    pub kind: String,
    /// The value sealed under the subject's DEK.
    pub sealed: Vec<u8>,
}

/// A sealed record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRow {
    /// Record id.
    pub id: RecordId,
    /// Data subject.
    pub subject: SubjectId,
    /// Category key (`usage`).
    pub category: Cow<'static, str>,
    /// Kind (`usage.authentication`).
    pub kind: Cow<'static, str>,
    /// Product (N1.1).
    pub product: Cow<'static, str>,
    /// Storage region (N4.1).
    pub region: Cow<'static, str>,
    /// DEK version bound in the AAD.
    pub key_version: u32,
    /// Ingest time, ms since the Unix epoch.
    pub stored_at_ms: i64,
    /// `nonce || ciphertext || tag` of the record's JSON body.
    pub sealed: Vec<u8>,
}

/// A record kept under a legal hold after its subject's erasure (N3.7,
/// N8.8): sealed under the subject's hold key (AAD: record id, subject,
/// category, the hold key's version), deleted by the retention sweep once
/// `until_ms` has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRecordRow {
    /// The record, `sealed` under the hold key; `key_version` is the hold key's.
    pub record: RecordRow,
    /// When the hold ends: ms since the Unix epoch (UTC).
    pub until_ms: i64,
}

/// A record's metadata without its sealed body, for retention (N8.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMeta {
    /// Record id.
    pub id: RecordId,
    /// Data subject.
    pub subject: SubjectId,
    /// Category key (`usage`).
    pub category: Cow<'static, str>,
    /// Kind (`usage.authentication`).
    pub kind: Cow<'static, str>,
    /// Ingest time, ms since the Unix epoch.
    pub stored_at_ms: i64,
    /// For a held record, when its hold ends (ms since the Unix epoch); `None` for a live record.
    pub until_ms: Option<i64>,
}

/// An audit entry to append: the caller builds the entry body; the store
/// assigns `index` and `prev` inside the write transaction.
pub type AuditDraft = steward_audit::EntryDraft;

/// Everything one operation writes, applied atomically by [`Store::commit`].
#[derive(Debug, Default)]
pub struct ChangeSet {
    /// New subjects.
    pub subjects: Vec<SubjectRow>,
    /// New or re-wrapped data keys (insert or replace).
    pub keys: Vec<WrappedKeyRow>,
    /// New identifiers. A blind index already indexed to the *same* subject
    /// is left as it is; one indexed to another subject (or given twice in
    /// this change for two subjects) is a clash: the whole change fails with
    /// [`StoreError::IdentifierClash`] and nothing is written (issue 15
    /// item 3: the blind-index key decides who a new identifier belongs to).
    pub identifiers: Vec<IdentifierRow>,
    /// Identifier rows to delete by blind index, before `identifiers` are
    /// written (a re-index or a merge moves an identifier, issue 15).
    pub delete_identifiers: Vec<[u8; 32]>,
    /// New records.
    pub records: Vec<RecordRow>,
    /// Subjects to crypto-shred: their DEK and identifiers are deleted and the
    /// subject is marked erased (N8.8). Records stay until swept.
    pub shred: Vec<SubjectId>,
    /// Legal-hold keys to insert or replace (N3.7, N8.8): a subject's hold
    /// DEK, wrapped by the KEK and kept apart from the subject's own DEK, so
    /// crypto-shredding the subject (`shred`) leaves it in place.
    pub hold_keys: Vec<WrappedKeyRow>,
    /// Records moved under a legal hold (N3.7): each is inserted into the
    /// held records, re-sealed under the subject's hold key, and the live
    /// record of the same id is deleted. Applied before `shred`; every id
    /// must be a live record, else [`StoreError::Conflict`] and nothing is written.
    pub held: Vec<HeldRecordRow>,
    /// Live records re-sealed in place (a merge of two subjects, issue 15
    /// item 4): the stored record of each row's id takes the row's subject,
    /// key version and sealed body (category, kind, product and stored time
    /// stay). Applied after `records`; every id must be a live record, else
    /// [`StoreError::Conflict`] and nothing is written.
    pub resealed: Vec<RecordRow>,
    /// Live records to delete (a rectification's superseded record, N7.2; a
    /// retention sweep, N8.8). Every id must be stored, else the whole
    /// change fails with [`StoreError::Conflict`] and nothing is written.
    pub delete_records: Vec<RecordId>,
    /// Held records to delete once their hold has ended (N8.8). Every id must
    /// be held, else [`StoreError::Conflict`]. A subject's hold key is deleted
    /// with its last held record.
    pub delete_held: Vec<RecordId>,
    /// Principals to insert or replace: (name, JSON body, revoked).
    pub principals: Vec<(String, String, bool)>,
    /// Registry rows to insert or replace: (table, id, JSON body).
    pub registry: Vec<(RegistryTable, String, String)>,
    /// Registry rows to delete, after `registry` is written (a disclosure
    /// ledger row past its retention, N8.4); a missing row is no error.
    pub delete_registry: Vec<(RegistryTable, String)>,
    /// Audit entries recording this change (the last is appended last).
    pub audit: Vec<AuditDraft>,
    /// Optimistic-concurrency guards, checked inside the commit's
    /// transaction before anything is written: when a guarded registry row
    /// is not exactly what the caller read, the commit writes nothing and
    /// fails with [`StoreError::GuardConflict`].
    pub guards: Vec<RegistryGuard>,
}

/// A compare-and-set condition on one registry row (see [`ChangeSet::guards`]).
///
/// PostgreSQL checks it with `SELECT ... FOR UPDATE` after taking the
/// `audit_head` row lock that every commit takes, so two guarded commits of
/// the same row serialize and the second sees the first's write; SQLite
/// checks it inside its `BEGIN IMMEDIATE` transaction (one writer at a time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryGuard {
    /// The registry table.
    pub table: RegistryTable,
    /// The row id.
    pub id: String,
    /// The body the row must have now (byte for byte), or `None`: the row
    /// must not exist.
    pub expected: Option<String>,
}

/// The registries Steward keeps beside Service Data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryTable {
    /// Support cases (N3.5).
    SupportCases,
    /// Recorded legal obligations (N3.7, N6.5d).
    LegalObligations,
    /// Erasure receipts (N8.8).
    ErasureReceipts,
    /// Transfer mechanisms on record (N4.4): adequacy decisions, SCCs, UK IDTA/addendum, Swiss clauses.
    TransferMechanisms,
    /// The transfer register (N4.4, N8.9): each transfer out of the EEA, UK or Switzerland.
    Transfers,
    /// API tokens (N5.1, N5.5): keyed by token id; the body holds the
    /// SHA-256 of the token, never the token itself.
    ApiTokens,
    /// Tenancy (N1.2): partners, organisations, users and subject
    /// memberships, keyed `partner:ID`, `org:ID`, `user:NAME`, `member:sub_…`;
    /// user password hashes are argon2id PHC strings, never passwords.
    Tenancy,
    /// Data subject requests (N7.2, N7.4): the request record, keyed
    /// `dsr_…`; the subject by opaque id and blind index only.
    Requests,
    /// One-time identity verification codes of data subject requests,
    /// keyed by request id: a keyed hash of the code, never the code.
    Verifications,
    /// Processing restrictions and objections recorded by data subject
    /// requests (N7.2 "control"), keyed by opaque subject id (`sub_…`).
    ProcessingRestrictions,
    /// The email intake ledger (N7.4): one row per message taken in, keyed
    /// `eml_` + a keyed hash (HMAC-SHA-256 under the blind-index key) of the
    /// message's identity (its Message-ID, else the SHA-256 of its bytes);
    /// the body names the outcome (request id or rejection reason) and the
    /// stored record id, never an address or the message.
    EmailIntake,
    /// Recipients of Service Data outside the provider (N6.2, N6.6, N8.9):
    /// third-party apps, subprocessors, affiliates, authorities and other
    /// controllers, keyed `rcp_…`.
    Recipients,
    /// The disclosure ledger (N6.2, N8.4): one row per disclosure, keyed
    /// `dsc_…`: basis, recipient, categories, opaque subject ids and record
    /// count, time, policy and notice versions, and what allowed it.
    Disclosures,
    /// The consent ledger (N6.4): one row per consent, keyed `cns_…`, the
    /// subject by opaque id.
    Consents,
    /// Third-party app grants (N6.3), keyed `grt_…`, and each
    /// organisation's app admin policy, keyed `policy:ORG`.
    AppGrants,
    /// Global Privacy Control signals (GPC specification; N6.4), keyed by
    /// opaque subject id: when the opt-out was first and last received,
    /// and each time it was applied or overridden.
    GpcSignals,
    /// Need-to-know grants (N5.5): one principal may read one subject's
    /// data of named categories for one purpose until a day, keyed
    /// `grant-…`; the subject by opaque id only.
    NeedToKnowGrants,
    /// Incidents (N8.5, N5.1), keyed `inc_…`: kinds, scales, principal
    /// names, counts and instants; the report's text is a sealed record.
    Incidents,
    /// On-call schedules (N8.5), keyed by schedule name.
    OncallSchedules,
    /// Professional-services engagements (N6.6, issue 17 item 4), keyed
    /// `eng_…`: the processor principal, the organisation or opaque subject
    /// ids covered, categories, first and last day, and whether it ended.
    Engagements,
    /// Execution leases of data subject requests (issue 21 item 5), keyed
    /// `dsr_…`: which node executes the request and until when its lease
    /// runs (renewed by a heartbeat; taken over once expired). No Service
    /// Data.
    DsrLeases,
    /// Results of access and export requests (N7.2, issue 21 item 5),
    /// keyed `dsr_…`, in the subject's home region: the ZIP sealed under
    /// the subject's data key, so any node serves it and the subject's
    /// erasure makes it unreadable (and deletes the row, N8.8).
    DsrResults,
}

impl RegistryTable {
    /// SQL table name.
    pub fn table(self) -> &'static str {
        match self {
            RegistryTable::SupportCases => "support_cases",
            RegistryTable::LegalObligations => "legal_obligations",
            RegistryTable::ErasureReceipts => "erasure_receipts",
            RegistryTable::TransferMechanisms => "transfer_mechanisms",
            RegistryTable::Transfers => "transfers",
            RegistryTable::ApiTokens => "api_tokens",
            RegistryTable::Tenancy => "tenancy",
            RegistryTable::Requests => "dsr_requests",
            RegistryTable::Verifications => "dsr_verifications",
            RegistryTable::ProcessingRestrictions => "processing_restrictions",
            RegistryTable::EmailIntake => "email_intake",
            RegistryTable::Recipients => "recipients",
            RegistryTable::Disclosures => "disclosures",
            RegistryTable::Consents => "consents",
            RegistryTable::AppGrants => "app_grants",
            RegistryTable::GpcSignals => "gpc_signals",
            RegistryTable::NeedToKnowGrants => "need_to_know_grants",
            RegistryTable::Incidents => "incidents",
            RegistryTable::OncallSchedules => "oncall_schedules",
            RegistryTable::Engagements => "engagements",
            RegistryTable::DsrLeases => "dsr_leases",
            RegistryTable::DsrResults => "dsr_results",
        }
    }

    /// Every registry table (each backend creates one table per entry).
    pub const ALL: [RegistryTable; 22] = [
        RegistryTable::SupportCases,
        RegistryTable::LegalObligations,
        RegistryTable::ErasureReceipts,
        RegistryTable::TransferMechanisms,
        RegistryTable::Transfers,
        RegistryTable::ApiTokens,
        RegistryTable::Tenancy,
        RegistryTable::Requests,
        RegistryTable::Verifications,
        RegistryTable::ProcessingRestrictions,
        RegistryTable::EmailIntake,
        RegistryTable::Recipients,
        RegistryTable::Disclosures,
        RegistryTable::Consents,
        RegistryTable::AppGrants,
        RegistryTable::GpcSignals,
        RegistryTable::NeedToKnowGrants,
        RegistryTable::Incidents,
        RegistryTable::OncallSchedules,
        RegistryTable::Engagements,
        RegistryTable::DsrLeases,
        RegistryTable::DsrResults,
    ];
}

/// What [`Store::commit`] appended to the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// Indexes of the audit entries appended, in order.
    pub audit_indexes: Vec<u64>,
    /// The log size after the commit.
    pub audit_size: u64,
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// Index in the log.
    pub index: u64,
    /// Canonical JSON bytes.
    pub entry: Vec<u8>,
    /// RFC 6962 leaf hash stored with it.
    pub leaf_hash: [u8; 32],
}

/// Subjects: rows, identifiers (by blind index), wrapped keys.
pub trait SubjectStore {
    /// The subject that a blind index resolves to, if any.
    fn subject_by_blind(&self, blind: &[u8; 32]) -> Result<Option<SubjectId>, StoreError>;
    /// A subject row.
    fn subject(&self, id: SubjectId) -> Result<Option<SubjectRow>, StoreError>;
    /// All subjects, erased ones included.
    fn subjects(&self) -> Result<Vec<SubjectRow>, StoreError>;
    /// A subject's identifiers.
    fn identifiers(&self, id: SubjectId) -> Result<Vec<IdentifierRow>, StoreError>;
    /// A subject's wrapped data key (none once crypto-shredded).
    fn wrapped_key(&self, id: SubjectId) -> Result<Option<WrappedKeyRow>, StoreError>;
    /// Every wrapped key (for KEK rotation).
    fn wrapped_keys(&self) -> Result<Vec<WrappedKeyRow>, StoreError>;
}

/// Sealed records.
pub trait RecordStore {
    /// A subject's records, optionally of one category, in id order.
    fn records(
        &self,
        subject: SubjectId,
        category: Option<&str>,
    ) -> Result<Vec<RecordRow>, StoreError>;
    /// Count of a subject's records per category.
    fn record_counts(&self, subject: SubjectId) -> Result<Vec<(String, u64)>, StoreError>;
    /// Delete the rows of crypto-shredded subjects; returns the number deleted.
    fn sweep_shredded(&mut self) -> Result<u64, StoreError>;
    /// One record by id.
    fn record(&self, id: steward_domain::RecordId) -> Result<Option<RecordRow>, StoreError>;
    /// Live records stored at or before `before_ms` (ms since the Unix
    /// epoch) whose id is greater than `after`, in id order, at most `limit`:
    /// pages of candidates for the retention sweep (N8.8).
    fn records_stored_before(
        &self,
        before_ms: i64,
        after: RecordId,
        limit: usize,
    ) -> Result<Vec<RecordMeta>, StoreError> {
        let _ = (before_ms, after, limit);
        Err(StoreError::Config(
            "this backend does not support retention (N8.8)".into(),
        ))
    }
    /// A subject's held records (N3.7), in id order.
    fn held_records(&self, subject: SubjectId) -> Result<Vec<HeldRecordRow>, StoreError> {
        let _ = subject;
        Err(StoreError::Config(
            "this backend does not support legal holds (N3.7)".into(),
        ))
    }
    /// Held records whose hold ends at or before `at_ms` (ms since the Unix
    /// epoch), in id order (N8.8).
    fn held_due(&self, at_ms: i64) -> Result<Vec<RecordMeta>, StoreError> {
        let _ = at_ms;
        Err(StoreError::Config(
            "this backend does not support legal holds (N3.7)".into(),
        ))
    }
    /// A subject's hold key (N3.7): present while it has held records.
    fn hold_key(&self, subject: SubjectId) -> Result<Option<WrappedKeyRow>, StoreError> {
        let _ = subject;
        Err(StoreError::Config(
            "this backend does not support legal holds (N3.7)".into(),
        ))
    }
    /// Every hold key, in subject order (for KEK rotation, N5.2).
    fn hold_keys(&self) -> Result<Vec<WrappedKeyRow>, StoreError> {
        Err(StoreError::Config(
            "this backend does not support legal holds (N3.7)".into(),
        ))
    }
    /// One page of a subject's records, optionally of one category, in id
    /// order: the first `limit` records whose id is greater than `after`
    /// (from the start when `None`). Keyset paging for streaming readers
    /// (the export, N7.2): call again with the last id returned until a page
    /// holds fewer than `limit` rows; only one page is in memory at a time,
    /// and the store is free between pages. `limit` 0 returns no rows.
    ///
    /// Errors: an unknown category name; database errors.
    fn records_page(
        &self,
        subject: SubjectId,
        category: Option<&str>,
        after: Option<RecordId>,
        limit: usize,
    ) -> Result<Vec<RecordRow>, StoreError>;
}

/// The audit log's storage.
pub trait AuditStore {
    /// Number of entries (from the head row).
    fn audit_size(&self) -> Result<u64, StoreError>;
    /// Entries with index in `[from, to)`, in index order, streamed to `f`.
    fn audit_scan(
        &self,
        from: u64,
        to: u64,
        f: &mut dyn FnMut(AuditRow) -> bool,
    ) -> Result<(), StoreError>;
    /// All signed checkpoints (size, note text), by size.
    fn checkpoints(&self) -> Result<Vec<(u64, String)>, StoreError>;
    /// The head row: (size, root).
    fn audit_head(&self) -> Result<(u64, [u8; 32]), StoreError>;
    /// Cut a checkpoint of the current head now (on demand); returns its size.
    fn cut_checkpoint(&mut self) -> Result<u64, StoreError>;
    /// Import an existing log into this store's EMPTY log, byte for byte: the
    /// entry rows as stored (contiguous from index 0) and the signed
    /// checkpoints; the head row is recomputed from the rows. Used by
    /// `steward copy` so the copied log still verifies.
    ///
    /// Errors: [`StoreError::Conflict`] when this log is not empty,
    /// [`StoreError::Corrupt`] when the rows are not contiguous from 0.
    fn import_audit(
        &mut self,
        rows: &[AuditRow],
        checkpoints: &[(u64, String)],
    ) -> Result<(), StoreError> {
        let _ = (rows, checkpoints);
        Err(StoreError::Config(
            "this backend cannot import an audit log".into(),
        ))
    }
}

/// Principals (N5.5).
pub trait PrincipalStore {
    /// A principal's JSON body and revoked flag.
    fn principal(&self, name: &str) -> Result<Option<(String, bool)>, StoreError>;
    /// All principals: (name, body, revoked).
    fn principals(&self) -> Result<Vec<(String, String, bool)>, StoreError>;
}

/// Registries: support cases, legal obligations, erasure receipts.
pub trait RegistryStore {
    /// One row's JSON body.
    fn registry_get(&self, table: RegistryTable, id: &str) -> Result<Option<String>, StoreError>;
    /// All rows (id, body).
    fn registry_list(&self, table: RegistryTable) -> Result<Vec<(String, String)>, StoreError>;
    /// The rows (id, body) that `query` narrows the table to, by id, read
    /// through an index (issue 12): the indexed columns a registry table
    /// has are listed once in the store's schema description (`lookups`).
    ///
    /// The index narrows, it never decides: a row whose indexed field is
    /// unknown (absent from the body, of another JSON type, a body that does
    /// not parse) has NULL there and is always returned, so the caller
    /// parses every row it gets, filters it as it would a full listing, and
    /// a corrupt row is still reported rather than skipped. The columns are
    /// computed by the database from the body, so a row rewritten by SQL
    /// outside Steward is indexed by what it now holds. Rows with another
    /// readable value are not read: a corrupt field elsewhere in them fails
    /// the operations about their own value, not this one.
    ///
    /// Errors: [`StoreError::Config`] when the table has no indexed column
    /// for the field asked (a programming error, named with the table and
    /// field).
    fn registry_find(
        &self,
        table: RegistryTable,
        query: RegistryQuery<'_>,
    ) -> Result<Vec<(String, String)>, StoreError>;
}

/// A top-level field of a registry row's JSON body that has a column of its
/// own, computed by the database from the body and indexed (issue 12). The
/// tables that index each field are listed in the store's schema
/// description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistryField {
    /// The data subject the row concerns (opaque `sub_…` id; text).
    Subject,
    /// The row's state in its workflow (`open`, `completed`; text).
    State,
    /// The customer organisation the row belongs to (`org_…`; text).
    Organisation,
    /// The principal the row belongs to (a name; text).
    Principal,
    /// The row's time for retention, ms since the Unix epoch (integer).
    At,
}

impl RegistryField {
    /// The column's name in every table that indexes the field.
    pub fn column(self) -> &'static str {
        match self {
            RegistryField::Subject => "subject",
            RegistryField::State => "state",
            RegistryField::Organisation => "organisation",
            RegistryField::Principal => "principal",
            RegistryField::At => "at_ms",
        }
    }

    /// Whether the column holds an integer (a time in ms) rather than text.
    pub fn is_time(self) -> bool {
        matches!(self, RegistryField::At)
    }
}

/// How [`RegistryStore::registry_find`] narrows a registry table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryQuery<'a> {
    /// Rows whose text field equals the value (or is unknown).
    Equals(RegistryField, &'a str),
    /// Rows whose time field is before the bound, ms since the Unix epoch
    /// (or is unknown).
    Before(RegistryField, i64),
    /// Rows whose id starts with the prefix (a range of the primary key;
    /// no unknown rows here: every row has an id).
    IdPrefix(&'a str),
}

// ------------------------------------------------------------------
// The security counters every node shares (issue 21 item 5, N5.1):
// windowed failure counts and lockouts, one row per guarded key in
// `limit_counters`. The store only counts, atomically; whether a count
// locks a key out is decided by the core (its lockout rule). Unlike every
// other write, these are not `ChangeSet`s and carry no audit entry: they
// are counters, not Service Data or decisions (the core audits the
// lockouts that matter, such as an account's `login_lockout`).

/// A counter after [`CounterStore::count_failure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterState {
    /// Failures counted in the current window, this one included (>= 1).
    pub count: u64,
    /// When the current window began, ms since the Unix epoch.
    pub window_start_ms: i64,
    /// When the lockout in force ends, ms since the Unix epoch; 0 or a
    /// time past: none.
    pub locked_until_ms: i64,
}

/// Windowed counters shared by every node on the store (SQLite: the one
/// node; PostgreSQL: every node), each operation one atomic statement.
/// Keys are the caller's opaque strings (at most 200 bytes; the core
/// passes keyed digests, never a name or an address).
pub trait CounterStore {
    /// Adds one failure to `key` at `now_ms` and returns the counter: a
    /// window that began `window_ms` or more before `now_ms` (or none)
    /// starts again at `now_ms` with this failure. Atomic: concurrent
    /// calls on any node each count once.
    ///
    /// Errors: the store's ([`StoreError::Locked`] when busy,
    /// [`StoreError::Unwritable`] ...), [`StoreError::Config`] for a key
    /// over 200 bytes.
    fn count_failure(
        &self,
        key: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<CounterState, StoreError>;

    /// Starts a lockout of `key` until `until_ms` if none is in force at
    /// `now_ms`, and starts its window again (count 0 at `now_ms`). True
    /// when this call started it: of concurrent callers on any node,
    /// exactly one. False when a lockout is in force or the key has no
    /// counter.
    ///
    /// Errors: as [`count_failure`](Self::count_failure).
    fn start_lockout(&self, key: &str, now_ms: i64, until_ms: i64) -> Result<bool, StoreError>;

    /// When the lockout of `key` ends (ms since the Unix epoch), if one
    /// was ever started and its counter is kept; the caller compares it
    /// with its "now".
    ///
    /// Errors: the store's.
    fn locked_until(&self, key: &str) -> Result<Option<i64>, StoreError>;

    /// Deletes the counters whose lockout has ended by `now_ms` and whose
    /// window began `window_ms` or more before it; returns how many.
    ///
    /// Errors: the store's.
    fn sweep_counters(&self, now_ms: i64, window_ms: i64) -> Result<u64, StoreError>;
}

/// A complete backend.
pub trait Store:
    SubjectStore + RecordStore + AuditStore + PrincipalStore + RegistryStore + CounterStore + Send
{
    /// Apply `changes` and append their audit entries in one durable
    /// transaction. On error nothing was written.
    fn commit(&mut self, changes: ChangeSet) -> Result<Committed, StoreError>;
    /// Group commit (issue 21 item 2): apply each change set of `group` as
    /// [`commit`](Self::commit) would, in order, and return one result per
    /// change set, in the same order. Each result is as if that change set
    /// had been committed alone after the ones before it: a change set that
    /// fails (a guard conflict, a clash) writes nothing and does not stop
    /// the others. A backend may make them durable together (SQLite: one
    /// transaction and one fsync, each change set in its own savepoint;
    /// PostgreSQL: the same, at most 48 change sets per transaction); no
    /// `Ok` is returned before its change set is durable. The default
    /// commits them one by one.
    fn commit_group(&mut self, group: Vec<ChangeSet>) -> Vec<Result<Committed, StoreError>> {
        group.into_iter().map(|c| self.commit(c)).collect()
    }
    /// A second handle on the same store for reads only, if the backend
    /// has one (SQLite: another connection to the file, `query_only`; in WAL
    /// mode its reads do not wait for a commit's fsync on the writing
    /// connection. PostgreSQL: a handle on the same connection pool that
    /// refuses writes). `None`: read through this handle. Issue 21 item 2: the
    /// core reads through it so that gated reads queue their decisions for
    /// a group commit while one is being made durable.
    ///
    /// Errors: the store's, opening the connection.
    fn reader(&self) -> Result<Option<Box<dyn Store>>, StoreError> {
        Ok(None)
    }
    /// Check that the store is still the one opened (its file was not deleted
    /// or replaced) and writable; the gate calls it before an audited access.
    fn health(&self) -> Result<(), StoreError>;
    /// How the store is reached, for the log (N5.3): a local file, or a
    /// database connection over TLS or, where allowed, in plain text.
    fn transport(&self) -> String {
        "local file".into()
    }
}
