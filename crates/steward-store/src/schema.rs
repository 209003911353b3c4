//! The one description of the store's tables, columns (with a logical type)
//! and indexes, and the versioned migrations built from it. Each backend
//! renders its DDL from here ([`Backend::render`]), so the SQLite and
//! PostgreSQL schemas cannot drift apart; the tests below check both
//! backends' created schemas against [`TABLES`] and [`INDEXES`] by
//! introspection (`pragma table_info`, `information_schema.columns`).
//!
//! Migration `i` (0-based) brings a store from version `i` to `i + 1`
//! (SQLite: `PRAGMA user_version`; PostgreSQL: the `steward_schema_version`
//! row). Existing migrations never change: a new table, column or index is a
//! new migration at the end of [`MIGRATIONS`], and the description is
//! updated in the same change.

use crate::types::{RegistryField, RegistryTable};

/// A column's logical type and how each backend stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    /// A 64-bit integer: SQLite `INTEGER`, PostgreSQL `BIGINT`.
    Int,
    /// A small code (category, kind, product; the audit head's row id):
    /// SQLite `INTEGER`, PostgreSQL `INTEGER` (32 bits).
    Code,
    /// Text ordered byte by byte (keys, names, identifier kinds): SQLite
    /// `TEXT` (binary collation), PostgreSQL `TEXT COLLATE "C"`.
    Key,
    /// Text that is never ordered: `TEXT` on both.
    Text,
    /// Bytes: SQLite `BLOB`, PostgreSQL `BYTEA`.
    Bytes,
    /// A boolean: SQLite `INTEGER` (0 or 1), PostgreSQL `BOOLEAN`.
    Bool,
}

/// A column of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Column {
    /// Column name.
    pub name: &'static str,
    /// Logical type.
    pub ty: Ty,
    /// The table's primary key (one column; rendered without `NOT NULL`, as
    /// the first migrations were written).
    pub primary: bool,
    /// `UNIQUE`.
    pub unique: bool,
    /// May hold `NULL`.
    pub nullable: bool,
    /// A `CHECK` expression on the column, e.g. `id = 1`.
    pub check: Option<&'static str>,
}

/// A `NOT NULL` column.
const fn col(name: &'static str, ty: Ty) -> Column {
    Column {
        name,
        ty,
        primary: false,
        unique: false,
        nullable: false,
        check: None,
    }
}

/// The primary key column.
const fn pk(name: &'static str, ty: Ty) -> Column {
    Column {
        primary: true,
        ..col(name, ty)
    }
}

/// A nullable column.
const fn opt(name: &'static str, ty: Ty) -> Column {
    Column {
        nullable: true,
        ..col(name, ty)
    }
}

/// A table: name and columns in order (rows are inserted positionally in
/// places, so the order is part of the schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Table {
    /// Table name.
    pub name: &'static str,
    /// Columns, in order.
    pub columns: &'static [Column],
}

/// A secondary index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Index {
    /// Index name.
    pub name: &'static str,
    /// The indexed table.
    pub table: &'static str,
    /// Indexed columns, in order.
    pub columns: &'static [&'static str],
}

/// A literal of a seed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lit {
    /// An integer.
    Int(i64),
    /// Zero bytes.
    EmptyBytes,
}

/// One step of a migration.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step {
    /// `CREATE TABLE`.
    Table(&'static Table),
    /// `CREATE INDEX`.
    Index(&'static Index),
    /// `INSERT INTO table VALUES (...)`: a row the table starts with.
    Row(&'static str, &'static [Lit]),
    /// `ALTER TABLE ... ADD COLUMN` (computed from the body) and `CREATE
    /// INDEX` of a registry table's lookup column ([`Backend::add_lookup`]).
    Lookup(&'static Lookup),
}

/// An indexed lookup column of a registry table (issue 12): a top-level
/// key of the row's JSON body, computed by the database into a column of
/// its own and indexed, so that
/// [`RegistryStore::registry_find`](crate::RegistryStore) reads the rows it
/// asks for through an index instead of the whole table. A row without the
/// key (or whose body does not parse) has NULL there and is returned by
/// every lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lookup {
    /// The registry table.
    pub table: RegistryTable,
    /// The field; its column is [`RegistryField::column`].
    pub field: RegistryField,
    /// The key in the row's JSON body.
    pub key: &'static str,
}

impl Lookup {
    /// The column's logical type.
    pub(crate) fn ty(&self) -> Ty {
        if self.field.is_time() {
            Ty::Int
        } else {
            Ty::Text
        }
    }

    /// The index's name: `<table>_<column>`.
    pub(crate) fn index_name(&self) -> String {
        format!("{}_{}", self.table.table(), self.field.column())
    }
}

/// A registry table: rows keyed by id, the body as JSON text.
const REGISTRY: &[Column] = &[pk("id", Ty::Key), col("body", Ty::Text)];

const fn registry(name: &'static str) -> Table {
    Table {
        name,
        columns: REGISTRY,
    }
}

const SUBJECTS: Table = Table {
    name: "subjects",
    columns: &[
        pk("key", Ty::Int),
        Column {
            unique: true,
            ..col("id", Ty::Int)
        },
        col("region", Ty::Text),
        col("created_at", Ty::Int),
        opt("erased_at", Ty::Int),
    ],
};
/// Wrapped data keys (`subject_keys`) and hold keys (`hold_keys`, N3.7).
const WRAPPED_KEY: &[Column] = &[
    pk("subject_id", Ty::Int),
    col("kek_version", Ty::Int),
    col("key_version", Ty::Int),
    col("wrapped", Ty::Bytes),
];
const SUBJECT_KEYS: Table = Table {
    name: "subject_keys",
    columns: WRAPPED_KEY,
};
const IDENTIFIERS: Table = Table {
    name: "identifiers",
    columns: &[
        pk("blind", Ty::Bytes),
        col("subject_id", Ty::Int),
        col("kind", Ty::Key),
        col("sealed", Ty::Bytes),
    ],
};
const RECORDS: Table = Table {
    name: "records",
    columns: &[
        pk("id", Ty::Int),
        col("subject_key", Ty::Int),
        col("category", Ty::Code),
        col("kind", Ty::Code),
        col("product", Ty::Code),
        col("key_version", Ty::Int),
        col("stored_at", Ty::Int),
        col("sealed", Ty::Bytes),
    ],
};
const AUDIT_ENTRIES: Table = Table {
    name: "audit_entries",
    columns: &[
        pk("idx", Ty::Int),
        col("entry", Ty::Bytes),
        col("leaf_hash", Ty::Bytes),
    ],
};
const AUDIT_HEAD: Table = Table {
    name: "audit_head",
    columns: &[
        Column {
            check: Some("id = 1"),
            ..pk("id", Ty::Code)
        },
        col("size", Ty::Int),
        col("last_leaf", Ty::Bytes),
        col("frontier", Ty::Bytes),
        col("checkpoint_size", Ty::Int),
        col("checkpoint_at", Ty::Int),
    ],
};
const AUDIT_CHECKPOINTS: Table = Table {
    name: "audit_checkpoints",
    columns: &[
        pk("size", Ty::Int),
        col("note", Ty::Text),
        col("created_at", Ty::Int),
    ],
};
const PRINCIPALS: Table = Table {
    name: "principals",
    columns: &[
        pk("name", Ty::Key),
        col("body", Ty::Text),
        col("revoked", Ty::Bool),
    ],
};
const SUPPORT_CASES: Table = registry("support_cases");
const LEGAL_OBLIGATIONS: Table = registry("legal_obligations");
const ERASURE_RECEIPTS: Table = registry("erasure_receipts");
const TRANSFER_MECHANISMS: Table = registry("transfer_mechanisms");
const TRANSFERS: Table = registry("transfers");
const API_TOKENS: Table = registry("api_tokens");
const TENANCY: Table = registry("tenancy");
const DSR_REQUESTS: Table = registry("dsr_requests");
const DSR_VERIFICATIONS: Table = registry("dsr_verifications");
const PROCESSING_RESTRICTIONS: Table = registry("processing_restrictions");
const HOLD_KEYS: Table = Table {
    name: "hold_keys",
    columns: WRAPPED_KEY,
};
const HELD_RECORDS: Table = Table {
    name: "held_records",
    columns: &[
        pk("id", Ty::Int),
        col("subject_id", Ty::Int),
        col("category", Ty::Code),
        col("kind", Ty::Code),
        col("product", Ty::Code),
        col("key_version", Ty::Int),
        col("stored_at", Ty::Int),
        col("until_at", Ty::Int),
        col("sealed", Ty::Bytes),
    ],
};
const EMAIL_INTAKE: Table = registry("email_intake");
const NEED_TO_KNOW_GRANTS: Table = registry("need_to_know_grants");
const RECIPIENTS: Table = registry("recipients");
const DISCLOSURES: Table = registry("disclosures");
const CONSENTS: Table = registry("consents");
const APP_GRANTS: Table = registry("app_grants");
const GPC_SIGNALS: Table = registry("gpc_signals");
const INCIDENTS: Table = registry("incidents");
const ONCALL_SCHEDULES: Table = registry("oncall_schedules");
const ENGAGEMENTS: Table = registry("engagements");

// ---- v11 (issue 21 item 5, several nodes): DSR execution leases and
// sealed request results. Kept in one block to ease merging with v12.
/// Execution leases of data subject requests, keyed `dsr_…`: the holding
/// node's id and the lease's expiry (ms since the epoch). No Service Data.
const DSR_LEASES: Table = registry("dsr_leases");
/// Access and export results of data subject requests, keyed `dsr_…`, in the
/// subject's home region: the ZIP sealed under the subject's data key
/// (base64), the opaque subject id, the record count and when it was stored.
const DSR_RESULTS: Table = registry("dsr_results");
// ---- end of v11

// ----------------------------------------------------------------------
// Issue 21 item 5 (v12): the security counters every node shares. Kept in
// a block of its own: v11 (leases) is written on another branch.

/// Windowed failure counters and lockouts (N5.1), one row per guarded key
/// (a keyed digest of a client address or an account name, never the
/// name itself): failures counted since `window_start` (ms since the Unix
/// epoch), and the end of the lockout in force (`locked_until`, ms; 0:
/// none). Rows whose window and lockout have ended are swept.
const LIMIT_COUNTERS: Table = Table {
    name: "limit_counters",
    columns: &[
        pk("key", Ty::Key),
        col("window_start", Ty::Int),
        col("count", Ty::Int),
        col("locked_until", Ty::Int),
    ],
};

// ----------------------------------------------------------------------
// v13 (issue 12): registry rows looked up by an indexed column instead of
// being listed whole and filtered in memory. Values are opaque ids, states,
// principal names and times: no Service Data.

const fn lookup(table: RegistryTable, field: RegistryField, key: &'static str) -> Lookup {
    Lookup { table, field, key }
}

/// A data subject request's subject (erasure clean-up, merges) and state
/// (the request queue).
const DSR_REQUESTS_SUBJECT: Lookup =
    lookup(RegistryTable::Requests, RegistryField::Subject, "subject");
const DSR_REQUESTS_STATE: Lookup = lookup(RegistryTable::Requests, RegistryField::State, "state");
/// A consent's subject (read by every consent-based disclosure, N6.4).
const CONSENTS_SUBJECT: Lookup = lookup(RegistryTable::Consents, RegistryField::Subject, "subject");
/// A third-party app grant's organisation (N6.3).
const APP_GRANTS_ORGANISATION: Lookup = lookup(
    RegistryTable::AppGrants,
    RegistryField::Organisation,
    "organisation",
);
/// An API token's principal (revoking a principal's tokens, N5.5).
const API_TOKENS_PRINCIPAL: Lookup = lookup(
    RegistryTable::ApiTokens,
    RegistryField::Principal,
    "principal",
);
/// A disclosure ledger row's last disclosure, ms (its retention, N8.4).
const DISCLOSURES_AT: Lookup = lookup(RegistryTable::Disclosures, RegistryField::At, "last_at_ms");

/// Every lookup column (the schema after the last migration).
pub(crate) const LOOKUPS: &[&Lookup] = &[
    &DSR_REQUESTS_SUBJECT,
    &DSR_REQUESTS_STATE,
    &CONSENTS_SUBJECT,
    &APP_GRANTS_ORGANISATION,
    &API_TOKENS_PRINCIPAL,
    &DISCLOSURES_AT,
];

/// The lookup columns of `table`, in the order of [`LOOKUPS`] (the order
/// of its columns after `id` and `body`).
pub(crate) fn lookups_of(table: RegistryTable) -> impl Iterator<Item = &'static Lookup> {
    LOOKUPS.iter().copied().filter(move |l| l.table == table)
}

// ----------------------------------------------------------------------

const IDENTIFIERS_SUBJECT: Index = Index {
    name: "identifiers_subject",
    table: "identifiers",
    columns: &["subject_id"],
};
const RECORDS_SUBJECT: Index = Index {
    name: "records_subject",
    table: "records",
    columns: &["subject_key"],
};
const HELD_RECORDS_SUBJECT: Index = Index {
    name: "held_records_subject",
    table: "held_records",
    columns: &["subject_id"],
};
const HELD_RECORDS_UNTIL: Index = Index {
    name: "held_records_until",
    table: "held_records",
    columns: &["until_at"],
};

/// Every table of the store (the schema after the last migration).
pub(crate) const TABLES: &[&Table] = &[
    &SUBJECTS,
    &SUBJECT_KEYS,
    &IDENTIFIERS,
    &RECORDS,
    &AUDIT_ENTRIES,
    &AUDIT_HEAD,
    &AUDIT_CHECKPOINTS,
    &PRINCIPALS,
    &SUPPORT_CASES,
    &LEGAL_OBLIGATIONS,
    &ERASURE_RECEIPTS,
    &TRANSFER_MECHANISMS,
    &TRANSFERS,
    &API_TOKENS,
    &TENANCY,
    &DSR_REQUESTS,
    &DSR_VERIFICATIONS,
    &PROCESSING_RESTRICTIONS,
    &HOLD_KEYS,
    &HELD_RECORDS,
    &EMAIL_INTAKE,
    &NEED_TO_KNOW_GRANTS,
    &RECIPIENTS,
    &DISCLOSURES,
    &CONSENTS,
    &APP_GRANTS,
    &GPC_SIGNALS,
    &INCIDENTS,
    &ONCALL_SCHEDULES,
    &ENGAGEMENTS,
    // v11
    &DSR_LEASES,
    &DSR_RESULTS,
    // v12
    &LIMIT_COUNTERS,
];

/// Every secondary index (the migrations create them; the tests check both
/// backends against this list).
#[cfg_attr(
    not(test),
    expect(dead_code, reason = "read by the tests that introspect both backends")
)]
pub(crate) const INDEXES: &[&Index] = &[
    &IDENTIFIERS_SUBJECT,
    &RECORDS_SUBJECT,
    &HELD_RECORDS_SUBJECT,
    &HELD_RECORDS_UNTIL,
];

/// The migrations, in order: migration `i` takes a store from version `i`
/// to `i + 1`. Stores of every version in use exist: never edit one, add.
pub(crate) const MIGRATIONS: &[&[Step]] = &[
    // v1
    &[
        Step::Table(&SUBJECTS),
        Step::Table(&SUBJECT_KEYS),
        Step::Table(&IDENTIFIERS),
        Step::Index(&IDENTIFIERS_SUBJECT),
        Step::Table(&RECORDS),
        Step::Index(&RECORDS_SUBJECT),
        Step::Table(&AUDIT_ENTRIES),
        Step::Table(&AUDIT_HEAD),
        Step::Row(
            "audit_head",
            &[
                Lit::Int(1),
                Lit::Int(0),
                Lit::EmptyBytes,
                Lit::EmptyBytes,
                Lit::Int(0),
                Lit::Int(0),
            ],
        ),
        Step::Table(&AUDIT_CHECKPOINTS),
        Step::Table(&PRINCIPALS),
        Step::Table(&SUPPORT_CASES),
        Step::Table(&LEGAL_OBLIGATIONS),
        Step::Table(&ERASURE_RECEIPTS),
    ],
    // v2: transfers (N4.4)
    &[Step::Table(&TRANSFER_MECHANISMS), Step::Table(&TRANSFERS)],
    // v3: API tokens (hashes only) and tenancy (N1.2, N5.1)
    &[Step::Table(&API_TOKENS), Step::Table(&TENANCY)],
    // v4: data subject requests, their one-time codes (hashed), processing
    // restrictions (N7.2, N7.4)
    &[
        Step::Table(&DSR_REQUESTS),
        Step::Table(&DSR_VERIFICATIONS),
        Step::Table(&PROCESSING_RESTRICTIONS),
    ],
    // v5: legal holds and retention (N3.7, N8.8): hold keys apart from
    // subject keys; held records re-sealed under them, kept until `until_at`.
    // Age for retention counts from `records.stored_at` (ingest time).
    &[
        Step::Table(&HOLD_KEYS),
        Step::Table(&HELD_RECORDS),
        Step::Index(&HELD_RECORDS_SUBJECT),
        Step::Index(&HELD_RECORDS_UNTIL),
    ],
    // v6: the email intake ledger (N7.4): each message taken exactly once,
    // keyed by a keyed hash of its identity (never the Message-ID itself)
    &[Step::Table(&EMAIL_INTAKE)],
    // v7: need-to-know grants (N5.5, N3.8): the justification a person's
    // read of one subject may cite (issue 17 item 1).
    &[Step::Table(&NEED_TO_KNOW_GRANTS)],
    // v8: sharing (N6.2-N6.7, N8.4, N8.9): recipients, the disclosure
    // ledger, the consent ledger, third-party app grants, GPC signals
    &[
        Step::Table(&RECIPIENTS),
        Step::Table(&DISCLOSURES),
        Step::Table(&CONSENTS),
        Step::Table(&APP_GRANTS),
        Step::Table(&GPC_SIGNALS),
    ],
    // v9: incidents and on-call schedules (N8.5, N5.1): JSON rows without
    // Service Data (report texts are sealed records of the reporter)
    &[Step::Table(&INCIDENTS), Step::Table(&ONCALL_SCHEDULES)],
    // v10: professional-services engagements (N6.6, issue 17 item 4): which
    // processor may reach which subjects' contact details, and until when.
    // JSON rows of principal names, organisation ids, opaque subject ids,
    // categories and days; no Service Data.
    &[Step::Table(&ENGAGEMENTS)],
    // ---- v11 (issue 21 item 5): execution leases of data subject requests
    // (holder node id and expiry, no Service Data) and their access and
    // export results sealed under the subject's data key, so any node
    // serves them and a node that died while executing is taken over.
    &[Step::Table(&DSR_LEASES), Step::Table(&DSR_RESULTS)],
    // ---- end of v11
    // v12: the security counters every node shares (issue 21 item 5, N5.1)
    &[Step::Table(&LIMIT_COUNTERS)],
    // v13: registry lookup columns (issue 12), computed from the rows' bodies
    &[
        Step::Lookup(&DSR_REQUESTS_SUBJECT),
        Step::Lookup(&DSR_REQUESTS_STATE),
        Step::Lookup(&CONSENTS_SUBJECT),
        Step::Lookup(&APP_GRANTS_ORGANISATION),
        Step::Lookup(&API_TOKENS_PRINCIPAL),
        Step::Lookup(&DISCLOSURES_AT),
    ],
];

/// The table named `name` in the description.
pub(crate) fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().copied().find(|t| t.name == name)
}

/// PostgreSQL's functions behind the lookup columns (issue 12): a registry
/// body's top-level string (`steward_registry_text`) or integer
/// (`steward_registry_int`) at a key, NULL for anything else, a body that is
/// not JSON included (PostgreSQL 15 has no cast that returns NULL on bad
/// input, hence the exception block; the body is parsed once, inside it).
/// `IMMUTABLE`, as a generated column requires: the result depends on the
/// arguments only.
const PG_LOOKUP_FUNCTIONS: &str = "CREATE OR REPLACE FUNCTION steward_registry_text(body text, k text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $f$ DECLARE v jsonb; BEGIN v := body::jsonb -> k; RETURN CASE WHEN jsonb_typeof(v) = 'string' THEN v #>> '{}' END; EXCEPTION WHEN others THEN RETURN NULL; END $f$;
CREATE OR REPLACE FUNCTION steward_registry_int(body text, k text) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $f$ DECLARE v jsonb; BEGIN v := body::jsonb -> k; RETURN CASE WHEN jsonb_typeof(v) = 'number' THEN (v #>> '{}')::bigint END; EXCEPTION WHEN others THEN RETURN NULL; END $f$;
";

/// A backend's dialect of the DDL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// SQLite: plain `CREATE TABLE` (a migration runs once, in the
    /// transaction that bumps `user_version`).
    Sqlite,
    /// PostgreSQL: `CREATE ... IF NOT EXISTS`, since a table may exist
    /// before its migration ran (registry tables are created when missing,
    /// and concurrent migrators retry after a lost race).
    Postgres,
}

impl Backend {
    /// The column type as written in `CREATE TABLE`.
    pub(crate) fn column_type(self, ty: Ty) -> &'static str {
        match (self, ty) {
            (Backend::Sqlite, Ty::Int | Ty::Code | Ty::Bool) => "INTEGER",
            (Backend::Sqlite, Ty::Key | Ty::Text) => "TEXT",
            (Backend::Sqlite, Ty::Bytes) => "BLOB",
            (Backend::Postgres, Ty::Int) => "BIGINT",
            (Backend::Postgres, Ty::Code) => "INTEGER",
            (Backend::Postgres, Ty::Key) => "TEXT COLLATE \"C\"",
            (Backend::Postgres, Ty::Text) => "TEXT",
            (Backend::Postgres, Ty::Bytes) => "BYTEA",
            (Backend::Postgres, Ty::Bool) => "BOOLEAN",
        }
    }

    fn if_not_exists(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => "IF NOT EXISTS ",
        }
    }

    /// `CREATE TABLE` for `t`.
    pub(crate) fn create_table(self, t: &Table) -> String {
        let cols: Vec<String> = t
            .columns
            .iter()
            .map(|c| {
                let mut s = format!("{} {}", c.name, self.column_type(c.ty));
                if c.primary {
                    s.push_str(" PRIMARY KEY");
                } else if !c.nullable {
                    s.push_str(" NOT NULL");
                }
                if c.unique {
                    s.push_str(" UNIQUE");
                }
                if let Some(check) = c.check {
                    s.push_str(&format!(" CHECK ({check})"));
                }
                s
            })
            .collect();
        format!(
            "CREATE TABLE {}{}({})",
            self.if_not_exists(),
            t.name,
            cols.join(", ")
        )
    }

    /// The SQL of one step.
    pub(crate) fn step(self, step: &Step) -> String {
        match step {
            Step::Table(t) => self.create_table(t),
            Step::Index(i) => format!(
                "CREATE INDEX {}{} ON {}({})",
                self.if_not_exists(),
                i.name,
                i.table,
                i.columns.join(", ")
            ),
            Step::Row(table, values) => {
                let values: Vec<String> = values
                    .iter()
                    .map(|v| match (v, self) {
                        (Lit::Int(n), _) => n.to_string(),
                        (Lit::EmptyBytes, Backend::Sqlite) => "x''".to_owned(),
                        (Lit::EmptyBytes, Backend::Postgres) => "''::bytea".to_owned(),
                    })
                    .collect();
                format!("INSERT INTO {table} VALUES ({})", values.join(", "))
            }
            Step::Lookup(l) => self.add_lookup(l),
        }
    }

    /// The column and index of lookup `l`: a column the database computes
    /// from the row's body (SQLite: a `VIRTUAL` generated column; PostgreSQL:
    /// a `STORED` one, through the two `steward_registry_*` functions created
    /// here), so it cannot disagree with the body, however the row was
    /// written. A JSON string for a text field, a JSON integer for a time
    /// field, NULL otherwise (absent, another type, a body that does not
    /// parse).
    pub(crate) fn add_lookup(self, l: &Lookup) -> String {
        let t = l.table.table();
        let c = l.field.column();
        let k = l.key;
        let (expr, extra) = match self {
            Backend::Sqlite => {
                let want = if l.field.is_time() { "integer" } else { "text" };
                (
                    format!(
                        "CASE WHEN json_valid(body) THEN CASE json_type(body, '$.{k}') WHEN '{want}' THEN json_extract(body, '$.{k}') END END"
                    ),
                    "VIRTUAL",
                )
            }
            Backend::Postgres => {
                let f = if l.field.is_time() { "int" } else { "text" };
                (format!("steward_registry_{f}(body, '{k}')"), "STORED")
            }
        };
        let functions = match self {
            Backend::Sqlite => "",
            Backend::Postgres => PG_LOOKUP_FUNCTIONS,
        };
        format!(
            "{functions}ALTER TABLE {t} ADD COLUMN {}{c} {} GENERATED ALWAYS AS ({expr}) {extra};\nCREATE INDEX {}{} ON {t}({c})",
            self.if_not_exists(),
            self.column_type(l.ty()),
            self.if_not_exists(),
            l.index_name()
        )
    }

    /// The SQL of migration `steps`, statements separated by `;`.
    pub(crate) fn render(self, steps: &[Step]) -> String {
        steps
            .iter()
            .map(|s| self.step(s) + ";\n")
            .collect::<String>()
    }
}

#[cfg(test)]
pub(crate) mod tests;
