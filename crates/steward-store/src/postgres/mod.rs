//! The PostgreSQL backend: [`PostgresStore`] (URL, TLS (N5.3), concurrency
//! and error mapping are documented there). The URL and connection are in
//! `target` (TLS verifiers in `tls`), the connection pool in `pool`,
//! error mapping in `errors`, the
//! migrations (rendered from [`crate::schema`]) in `migrate`, a commit in
//! `commit`, and the role traits' reads in `subjects`, `records`, `audit`
//! and `registry`.

mod audit;
mod commit;
mod counters;
mod errors;
mod migrate;
mod pool;
mod records;
mod registry;
mod rows;
mod subjects;
mod target;
mod tls;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use postgres::{Client, Statement};

use crate::options::StoreOptions;
use crate::types::*;
use commit::commit_once;
use errors::{connection_gone, is_retryable, map_pg};
use migrate::{lost_migration_race, migrate_once};
use pool::Connections;
use target::Target;

/// How many times a migration or commit that lost a race is tried in all.
const MIGRATE_TRIES: u32 = 10;
const COMMIT_TRIES: u32 = 3;

/// An open connection and its prepared statements (one pooled connection).
struct Conn {
    client: Client,
    stmts: HashMap<String, Statement>,
    /// The session is over: the pool drops the connection when it is
    /// handed back.
    broken: bool,
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

/// A failure inside a unit of work: a PostgreSQL error (mapped by SQLSTATE),
/// the same at `COMMIT` (where a lost connection leaves the outcome
/// unknown, so it is never retried), or a store error decided by Steward.
enum Fail {
    Pg(postgres::Error),
    Commit(postgres::Error),
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
/// | `pool_max_size` | a number of connections, 1 to 1000 (default 8) | the most connections this store (one region of one node) holds open at once, below |
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
/// inside the commit's transaction: a failing row rolls back everything (in
/// a group commit, everything of its change set: [`Store::commit_group`]).
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
/// (which can quote key values). A connection found dead (closed, class
/// 08, a server shutdown or `pg_terminate_backend`, 57P01-57P03) is dropped
/// from the pool and the unit of work runs again on another connection,
/// every other pooled connection being checked before use: a read always,
/// a commit (within its three tries) unless the connection was lost while
/// `COMMIT` was in flight. That one is reported as `Unwritable` although
/// the commit may have landed: the audit entry then records an access that
/// was not carried out, never the reverse. While no connection can be made
/// every call fails closed with the connection error, and the store
/// recovers by itself once the server is back (DESIGN "Audit log").
///
/// # Threads and the connection pool
///
/// A store is `Send` and `Sync`: its connections are pooled (crate `r2d2`,
/// issue 21 item 5), so threads sharing one store (reads through the role
/// traits, writes through [`commit_shared`](Self::commit_shared)) each work
/// on a connection of their own. At most `pool_max_size` (default 8)
/// connections are open; they are made on demand, each with its own TLS
/// session, session settings (`lock_timeout`, the `search_path` of
/// `schema`, `synchronous_commit`, READ COMMITTED) and prepared
/// statements, closed after 10 minutes idle and replaced after 30. A caller
/// that finds all of them busy waits up to `busy_timeout_ms`, then gets
/// [`StoreError::Locked`] (retry). Size it against the server's
/// `max_connections` (100 by default): every node opens up to
/// `pool_max_size` per region store, plus one for each `steward` command
/// that runs beside it.
pub struct PostgresStore {
    conns: Connections,
    target: Arc<Target>,
    opts: StoreOptions,
    /// A reading handle ([`Store::reader`]): every write is refused.
    read_only: bool,
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
        let target = Arc::new(Target::parse(
            url,
            opts.busy_timeout_ms,
            opts.allow_plaintext_store,
        )?);
        let mut conn = target.connect()?;
        let mut tries = 0;
        loop {
            tries += 1;
            match migrate_once(&mut conn, target.schema.as_deref()) {
                Ok(()) => break,
                Err(Fail::Pg(e) | Fail::Commit(e))
                    if tries < MIGRATE_TRIES && lost_migration_race(&e) =>
                {
                    std::thread::sleep(Duration::from_millis(10 * u64::from(tries)));
                }
                Err(Fail::Pg(e) | Fail::Commit(e)) => {
                    return Err(map_pg(&e, opts.busy_timeout_ms));
                }
                Err(Fail::Store(e)) => return Err(e),
            }
        }
        // The migrated connection becomes the pool's first.
        let conns = Connections::new(target.clone(), conn, opts.busy_timeout_ms);
        Ok(PostgresStore {
            conns,
            target,
            opts,
            read_only: false,
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

    /// Whether a pooled connection is encrypted (N5.3), as the server
    /// sees it (`pg_stat_ssl`); every connection is made with the same TLS
    /// settings.
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

    /// Runs `f` once on a connection from the store's pool, for tests and
    /// benchmarks that inspect rows. The session's search path is the
    /// store's schema; a session setting `f` changes stays with that
    /// pooled connection (the one a single thread gets again next).
    ///
    /// Errors: [`StoreError::Unwritable`] when no connection can be made,
    /// [`StoreError::Locked`] when all stayed busy for `busy_timeout_ms`.
    pub fn with_client<T>(&self, f: impl FnOnce(&mut Client) -> T) -> Result<T, StoreError> {
        let (out, _) = self.run(false, |c| Ok(f(&mut c.client)))?;
        out.map_err(|e| self.mapped(e))
    }

    /// How many connections the pool holds open now (in use and idle),
    /// at most `pool_max_size`.
    pub fn open_connections(&self) -> u32 {
        self.conns.open_connections()
    }

    /// [`Store::commit`] through a shared reference, for threads sharing
    /// one store (each commit on a pooled connection of its own).
    ///
    /// Errors: as [`Store::commit`].
    pub fn commit_shared(&self, mut c: ChangeSet) -> Result<Committed, StoreError> {
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

    /// Runs the read `f` on a pooled connection, and again on another one
    /// when the connection was found dead (reads are safe to repeat); maps
    /// errors.
    fn with_conn<T>(
        &self,
        mut f: impl FnMut(&mut Conn) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        let mut tries = 0;
        let mut validate = false;
        loop {
            tries += 1;
            let (out, gone) = self.run(validate, &mut f)?;
            if gone && tries <= self.conns.max_size() {
                validate = true;
                continue;
            }
            return out.map_err(|e| self.mapped(e));
        }
    }

    /// One try of `f` on a pooled connection (checked first with
    /// `validate`): its outcome, and whether the connection is gone (then
    /// it is marked broken, and the pool drops it).
    ///
    /// Errors: no connection could be had ([`Connections::checkout`]).
    fn run<T>(
        &self,
        validate: bool,
        f: impl FnOnce(&mut Conn) -> Result<T, Fail>,
    ) -> Result<(Result<T, Fail>, bool), StoreError> {
        let mut conn = self.conns.checkout(validate)?;
        let out = f(&mut conn);
        let gone = match &out {
            Err(Fail::Pg(e) | Fail::Commit(e)) => conn.client.is_closed() || connection_gone(e),
            _ => false,
        };
        conn.broken |= gone;
        Ok((out, gone))
    }

    /// Refuses a write through a reading handle ([`Store::reader`]), as
    /// SQLite's `query_only` connections do.
    ///
    /// Errors: [`StoreError::Unwritable`] on a reading handle.
    fn writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::Unwritable {
                reason: "this is a reading handle of the store (Store::reader): it does not write"
                    .into(),
            });
        }
        Ok(())
    }

    /// A failure as a store error (table in the type's documentation).
    fn mapped(&self, e: Fail) -> StoreError {
        match e {
            Fail::Pg(e) | Fail::Commit(e) => map_pg(&e, self.opts.busy_timeout_ms),
            Fail::Store(e) => e,
        }
    }

    /// Runs one read-write transaction `f` (told whether this is its last
    /// try), retried on serialization failures and deadlocks, and on a
    /// connection found dead before `COMMIT` was sent.
    fn write<T>(
        &self,
        mut f: impl FnMut(&mut Conn, bool) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        self.writable()?;
        let mut tries = 0;
        let mut validate = false;
        loop {
            tries += 1;
            let last = tries >= COMMIT_TRIES;
            let (out, gone) = self.run(validate, |c| f(c, last))?;
            let retry = !last
                && match &out {
                    Err(Fail::Pg(e)) => gone || is_retryable(e),
                    // A serialization failure at COMMIT did not commit; a
                    // connection lost there may have.
                    Err(Fail::Commit(e)) => !gone && is_retryable(e),
                    _ => false,
                };
            if !retry {
                return out.map_err(|e| self.mapped(e));
            }
            if gone {
                validate = true;
            } else {
                std::thread::sleep(Duration::from_millis(5 * u64::from(tries)));
            }
        }
    }
}

impl Store for PostgresStore {
    fn commit(&mut self, c: ChangeSet) -> Result<Committed, StoreError> {
        self.commit_shared(c)
    }

    /// Issue 21 item 2: the group in one transaction, a savepoint per change
    /// set, one `COMMIT` ([`commit::commit_group_once`]); retried whole on a
    /// serialization failure, a deadlock or a connection found dead before
    /// `COMMIT` was sent; a group whose `COMMIT` was in flight when the
    /// connection died is reported failed (it may have landed).
    fn commit_group(&mut self, group: Vec<ChangeSet>) -> Vec<Result<Committed, StoreError>> {
        let opts = self.opts.clone();
        let copy = self.target.copy_records;
        let mut out = Vec::with_capacity(group.len());
        for part in group.chunks(commit::GROUP_MAX) {
            match self.write(|conn, last| commit::commit_group_once(conn, &opts, copy, part, last))
            {
                Ok(done) => out.extend(done),
                Err(e) => out.extend(part.iter().map(|_| Err(e.clone()))),
            }
        }
        out
    }

    /// Issue 21 item 2: a handle sharing this store's connection pool, so
    /// that reads run on pooled connections of their own while a commit
    /// holds the region (READ COMMITTED: a read sees every commit
    /// acknowledged before it started).
    fn reader(&self) -> Result<Option<Box<dyn Store>>, StoreError> {
        Ok(Some(Box::new(PostgresStore {
            conns: self.conns.clone(),
            target: self.target.clone(),
            opts: self.opts.clone(),
            read_only: true,
        })))
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
