//! The PostgreSQL backend: [`PostgresStore`] (URL, TLS (N5.3), concurrency
//! and error mapping are documented there). The URL and connection are in
//! `target` (TLS verifiers in `tls`), error mapping in `errors`, the
//! migrations (rendered from [`crate::schema`]) in `migrate`, a commit in
//! `commit`, and the role traits' reads in `subjects`, `records`, `audit`
//! and `registry`.

mod audit;
mod commit;
mod errors;
mod migrate;
mod records;
mod registry;
mod rows;
mod subjects;
mod target;
mod tls;

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use postgres::{Client, Statement};

use crate::options::StoreOptions;
use crate::types::*;
use commit::commit_once;
use errors::{connection_gone, is_retryable, map_pg};
use migrate::{lost_migration_race, migrate_once};
use target::Target;

/// How many times a migration or commit that lost a race is tried in all.
const MIGRATE_TRIES: u32 = 10;
const COMMIT_TRIES: u32 = 3;

/// An open connection and its prepared statements.
struct Conn {
    client: Client,
    stmts: HashMap<String, Statement>,
}

impl Conn {
    /// A prepared statement for `sql`, prepared once per connection.
    fn stmt(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.stmts.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

/// A failure inside a unit of work: a PostgreSQL error (mapped by SQLSTATE)
/// or a store error decided by Steward.
enum Fail {
    Pg(postgres::Error),
    Store(StoreError),
}

impl From<postgres::Error> for Fail {
    fn from(e: postgres::Error) -> Self {
        Fail::Pg(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

/// The PostgreSQL backend (production): the same tables (both backends
/// render their DDL from one description), role traits and
/// semantics as [`SqliteStore`](crate::SqliteStore) (one conformance suite,
/// `tests/conformance/`, runs against both), for PostgreSQL (tested with
/// 15) and written for the PostgreSQL-compatible distributed engines
/// (CockroachDB, YugabyteDB, Citus), DESIGN "Storage" and "Scale-out".
///
/// # Connecting
///
/// [`PostgresStore::open`] takes a URL in libpq's form,
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE?OPTION=VALUE&...`
/// (`postgresql://` too), and the same [`StoreOptions`] as the SQLite store.
/// One store serves one region (N4.1): `StoreOptions::region` names it and
/// every record read back carries it.
///
/// Options Steward reads itself (percent-encoded values are decoded):
///
/// | option | values | effect |
/// |---|---|---|
/// | `schema` | an identifier: 1 to 63 ASCII letters, digits or `_`, not starting with a digit | the store's tables live in this schema: created if missing, then `SET search_path` to it only. Absent: the server's default search path (usually `public`). Test runs use their own schema so runs cannot collide. |
/// | `sslmode` | `disable` (default), `prefer`, `require`, `verify-ca`, `verify-full` | TLS to the database (N5.3), below |
/// | `sslrootcert` | path of a PEM file of CA certificates | the trust roots for `verify-ca` / `verify-full` (and `require`, which then verifies the chain, as libpq does) |
/// | `record_insert` | `copy` (default), `unnest` | how a commit of 100 or more records writes them: one binary `COPY ... FROM STDIN WITH BINARY`, or one multi-row `INSERT ... SELECT FROM UNNEST(...)` for engines or roles that may not `COPY` (CockroachDB before v22 lets only admins `COPY`). Smaller commits always use the `INSERT`. |
///
/// Every other option goes to the `postgres` crate as in libpq: `user`,
/// `password`, `dbname`, `host` (several, comma-separated, or a Unix socket
/// directory), `hostaddr`, `port`, `connect_timeout` (seconds; Steward's
/// default is 10), `application_name`, `options`, `keepalives*`,
/// `tcp_user_timeout`, `target_session_attrs`, `channel_binding`,
/// `load_balance_hosts`. An unknown option is a [`StoreError::Config`].
///
/// # TLS (N5.3: encrypt every connection to storage)
///
/// TLS is rustls with the *ring* crypto provider (crates `rustls` and
/// `tokio-postgres-rustls`; no OpenSSL). `sslmode` follows libpq:
///
/// * `disable` or absent: no TLS. Only for a database on the same host
///   (loopback or Unix socket); N5.3 requires TLS everywhere else, and
///   [`PostgresStore::open`] refuses such a URL for any other host (before
///   connecting) unless [`StoreOptions::allow_plaintext_store`] is set.
/// * `prefer`: TLS when the server offers it, else plain text. Not
///   compliant with N5.3 on its own, and refused like `disable` for a
///   host that is not loopback; use `require` or stricter.
/// * `require`: TLS or no connection. Without `sslrootcert` the server's
///   certificate is **not** verified (encryption against passive
///   eavesdropping only, libpq's meaning of `require`); with `sslrootcert`
///   its chain is verified as in `verify-ca`.
/// * `verify-ca`: TLS; the server's certificate must chain to a root in
///   `sslrootcert` (required). Its host name is not checked.
/// * `verify-full` (recommended in production): as `verify-ca`, and the
///   certificate must name the host in the URL (DNS name or IP address).
///
/// Example: `postgres://steward@db.internal:5432/steward?schema=jp&sslmode=verify-full&sslrootcert=/etc/steward/db-ca.pem`.
/// Client certificates (`sslcert`, `sslkey`) are not supported yet: use a
/// password (SCRAM-SHA-256; `channel_binding=require` binds it to the TLS
/// session).
///
/// # Writes and the audit log
///
/// [`Store::commit`] applies a [`ChangeSet`] and appends its audit entries in
/// one transaction (READ COMMITTED). The audit index is assigned from the
/// `audit_head` row, read with `SELECT ... FOR UPDATE` in that transaction
/// and updated before it commits: concurrent commits from any number of
/// connections or API nodes serialize on that row and get contiguous
/// indexes. No sequence orders anything (subjects' row `key` is the
/// subject's own random id; record ids are made by the writer) and
/// migrations take no advisory lock: each runs in one transaction that
/// locks the `steward_schema_version` row (`FOR UPDATE`) and updates it, so
/// concurrent migrators serialize on that row, and a migrator that loses a
/// `CREATE ... IF NOT EXISTS` race retries. Records are written with one
/// binary `COPY` per commit (or one multi-row `INSERT`, see `record_insert`),
/// inside the commit's transaction: a failing row rolls back everything.
///
/// A commit that fails on a serialization failure or deadlock (SQLSTATE
/// 40001, 40P01) is retried twice, then reported as
/// [`StoreError::Locked`]. Commits are durable when they return: the session
/// sets `synchronous_commit = on` (and `default_transaction_isolation =
/// 'read committed'`, whatever the server's default).
///
/// # Errors
///
/// | PostgreSQL condition | [`StoreError`] |
/// |---|---|
/// | 40001 serialization failure, 40P01 deadlock, 55P03 lock not available (after `busy_timeout_ms`, the session's `lock_timeout`), 57014 cancelled | [`Locked`](StoreError::Locked) (retry) |
/// | 23505 on `records_pkey` (a record id another node drew in the same millisecond) | [`RecordIdClash`](StoreError::RecordIdClash) (the core seals again under fresh ids) |
/// | class 23 otherwise (unique, check, not-null violation) | [`Conflict`](StoreError::Conflict) |
/// | 25006 read-only transaction, 42501 insufficient privilege, classes 08 (connection), 28 (authentication), 3D (no such database), 53 (disk full, out of memory, too many connections), 57 (shutdown); the connection lost or refused; a TLS failure | [`Unwritable`](StoreError::Unwritable) with the reason |
/// | the store's tables dropped while running (seen by [`Store::health`]) | [`FileReplaced`](StoreError::FileReplaced) naming host, database and schema |
/// | anything else | [`Database`](StoreError::Database) with the message and SQLSTATE |
///
/// Messages carry PostgreSQL's primary message only, never its `DETAIL`
/// (which can quote key values). After a lost connection the next call
/// reconnects, so the store recovers by itself once the server is back
/// (DESIGN "Audit log": fail closed, then recover). A connection lost while
/// `COMMIT` was in flight is reported as `Unwritable` although the commit
/// may have landed: the audit entry then records an access that was not
/// carried out, never the reverse.
///
/// # Threads
///
/// The connection sits behind a `RefCell` because the read traits take
/// `&self`: a store is `Send` but not `Sync`; open one per thread or node.
pub struct PostgresStore {
    conn: RefCell<Option<Conn>>,
    target: Target,
    opts: StoreOptions,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target.described)
            .field("tls", &self.target.tls_mode)
            .field("region", &self.opts.region)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the PostgreSQL database at `url` (see [`PostgresStore`]
    /// for the URL, its `schema`, `sslmode`, `sslrootcert` and
    /// `record_insert` options and TLS, N5.3), creates the schema if asked,
    /// and applies pending migrations (versioned, in one transaction, no
    /// advisory lock). `opts.busy_timeout_ms` becomes the session's
    /// `lock_timeout`; `opts.region` is the region this store serves (N4.1).
    ///
    /// Errors: [`StoreError::Config`] for a bad URL, option or root
    /// certificate file, or a URL that does not require TLS to a host that
    /// is not loopback (unless `opts.allow_plaintext_store`, N5.3);
    /// [`StoreError::Unwritable`] when the server cannot
    /// be reached, refuses the login or the TLS handshake fails;
    /// [`StoreError::Database`] / [`StoreError::Locked`] when a migration fails.
    pub fn open(url: &str, opts: StoreOptions) -> Result<Self, StoreError> {
        let target = Target::parse(url, opts.busy_timeout_ms, opts.allow_plaintext_store)?;
        let mut conn = target.connect()?;
        let mut tries = 0;
        loop {
            tries += 1;
            match migrate_once(&mut conn, target.schema.as_deref()) {
                Ok(()) => break,
                Err(Fail::Pg(e)) if tries < MIGRATE_TRIES && lost_migration_race(&e) => {
                    std::thread::sleep(Duration::from_millis(10 * u64::from(tries)));
                }
                Err(Fail::Pg(e)) => return Err(map_pg(&e, opts.busy_timeout_ms)),
                Err(Fail::Store(e)) => return Err(e),
            }
        }
        Ok(PostgresStore {
            conn: RefCell::new(Some(conn)),
            target,
            opts,
        })
    }

    /// Connects a plain client to `url` with the same option handling and
    /// TLS as [`open`](Self::open) (`schema` only sets the search path;
    /// nothing is created or migrated): for tools, tests and benchmarks that
    /// work beside a store.
    ///
    /// Errors: as [`open`](Self::open).
    pub fn connect_client(url: &str) -> Result<Client, StoreError> {
        Ok(Target::parse(url, 5000, false)?.connect()?.client)
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.opts
    }

    /// The schema given in the URL, if any.
    pub fn schema(&self) -> Option<&str> {
        self.target.schema.as_deref()
    }

    /// `host:port/database` and the schema, for messages (no password).
    pub fn described(&self) -> &str {
        &self.target.described
    }

    /// Whether the current connection is encrypted (N5.3), as the server
    /// sees it (`pg_stat_ssl`).
    ///
    /// Errors: as any query ([`StoreError::Unwritable`] when disconnected).
    pub fn tls_in_use(&self) -> Result<bool, StoreError> {
        self.with_conn(|c| {
            Ok(c.client
                .query_one(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    &[],
                )?
                .try_get(0)?)
        })
    }

    /// Runs `f` on the store's connection (reconnecting first if it was
    /// lost), for tests and benchmarks that inspect rows. The session's
    /// search path is the store's schema.
    ///
    /// Errors: [`StoreError::Unwritable`] when no connection can be made.
    pub fn with_client<T>(&self, f: impl FnOnce(&mut Client) -> T) -> Result<T, StoreError> {
        self.with_conn(|c| Ok(f(&mut c.client)))
    }

    /// Runs `f` with a live connection: reconnects when the last one was
    /// lost (fail closed, then recover), maps errors.
    fn with_conn<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T, Fail>) -> Result<T, StoreError> {
        let mut slot = self.conn.try_borrow_mut().map_err(|_| {
            StoreError::Database(
                "the PostgreSQL store was used while already in use on this thread".into(),
            )
        })?;
        if slot.as_ref().is_none_or(|c| c.client.is_closed()) {
            *slot = None;
            *slot = Some(self.target.connect()?);
        }
        let Some(conn) = slot.as_mut() else {
            return Err(StoreError::Unwritable {
                reason: format!("no connection to PostgreSQL at {}", self.target.described),
            });
        };
        let out = f(conn);
        if let Err(Fail::Pg(e)) = &out
            && (conn.client.is_closed() || connection_gone(e))
        {
            // Reconnect on the next call rather than reuse a dying session.
            *slot = None;
        }
        out.map_err(|e| match e {
            Fail::Pg(e) => map_pg(&e, self.opts.busy_timeout_ms),
            Fail::Store(e) => e,
        })
    }

    /// Runs one read-write transaction `f`, retried on serialization
    /// failures and deadlocks.
    fn write<T>(
        &self,
        mut f: impl FnMut(&mut Conn, bool) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let last = tries >= COMMIT_TRIES;
            let mut retry = false;
            let out = self.with_conn(|c| match f(c, last) {
                Err(Fail::Pg(e)) if !last && is_retryable(&e) => {
                    retry = true;
                    Err(Fail::Pg(e))
                }
                other => other,
            });
            if retry {
                std::thread::sleep(Duration::from_millis(5 * u64::from(tries)));
                continue;
            }
            return out;
        }
    }
}

impl Store for PostgresStore {
    fn commit(&mut self, mut c: ChangeSet) -> Result<Committed, StoreError> {
        let opts = self.opts.clone();
        let copy = self.target.copy_records;
        self.write(|conn, last| {
            let drafts = if last {
                std::mem::take(&mut c.audit)
            } else {
                c.audit.clone()
            };
            commit_once(conn, &opts, copy, &c, drafts)
        })
    }

    fn transport(&self) -> String {
        format!(
            "PostgreSQL {}: {}",
            self.target.described, self.target.transport
        )
    }

    fn health(&self) -> Result<(), StoreError> {
        let (read_only, present): (String, bool) = self.with_conn(|c| {
            let st = c.stmt("SELECT current_setting('transaction_read_only'), to_regclass('audit_head') IS NOT NULL")?;
            let r = c.client.query_one(&st, &[])?;
            Ok((r.try_get(0)?, r.try_get(1)?))
        })?;
        if read_only == "on" {
            return Err(StoreError::Unwritable {
                reason: format!(
                    "PostgreSQL at {} is read-only (a hot standby, or default_transaction_read_only is on)",
                    self.target.described
                ),
            });
        }
        if !present {
            return Err(StoreError::FileReplaced {
                path: format!("postgres {}", self.target.described),
            });
        }
        Ok(())
    }
}
