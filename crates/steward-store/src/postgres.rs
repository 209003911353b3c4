//! The PostgreSQL backend: [`PostgresStore`] (URL, TLS (N5.3), concurrency
//! and error mapping are documented there).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::config::{Host, SslMode};
use postgres::error::SqlState;
use postgres::types::Type;
use postgres::{Client, Config, NoTls, Row, Statement};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use steward_domain::{Category, RecordId, SubjectId};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::append::{self, HeadRow, hash32, now_ms};
use crate::sqlite::StoreOptions;
use crate::types::*;

/// Versioned migrations, applied in order in one transaction; the version
/// reached is the `steward_schema_version` row. Same tables and columns as
/// the SQLite store's (BIGINT for INTEGER, BYTEA for BLOB; category, kind and
/// product as their stable integer codes). Text keys use the `"C"` collation
/// so that `ORDER BY` gives byte order, as SQLite does.
const MIGRATIONS: &[&str] = &[
    // v1
    r#"CREATE TABLE subjects(key BIGINT PRIMARY KEY, id BIGINT NOT NULL UNIQUE, region TEXT NOT NULL, created_at BIGINT NOT NULL, erased_at BIGINT);
     CREATE TABLE subject_keys(subject_id BIGINT PRIMARY KEY, kek_version BIGINT NOT NULL, key_version BIGINT NOT NULL, wrapped BYTEA NOT NULL);
     CREATE TABLE identifiers(blind BYTEA PRIMARY KEY, subject_id BIGINT NOT NULL, kind TEXT COLLATE "C" NOT NULL, sealed BYTEA NOT NULL);
     CREATE INDEX identifiers_subject ON identifiers(subject_id);
     CREATE TABLE records(id BIGINT PRIMARY KEY, subject_key BIGINT NOT NULL, category INTEGER NOT NULL, kind INTEGER NOT NULL, product INTEGER NOT NULL, key_version BIGINT NOT NULL, stored_at BIGINT NOT NULL, sealed BYTEA NOT NULL);
     CREATE INDEX records_subject ON records(subject_key);
     CREATE TABLE audit_entries(idx BIGINT PRIMARY KEY, entry BYTEA NOT NULL, leaf_hash BYTEA NOT NULL);
     CREATE TABLE audit_head(id INTEGER PRIMARY KEY CHECK (id = 1), size BIGINT NOT NULL, last_leaf BYTEA NOT NULL, frontier BYTEA NOT NULL, checkpoint_size BIGINT NOT NULL, checkpoint_at BIGINT NOT NULL);
     INSERT INTO audit_head VALUES (1, 0, ''::bytea, ''::bytea, 0, 0);
     CREATE TABLE audit_checkpoints(size BIGINT PRIMARY KEY, note TEXT NOT NULL, created_at BIGINT NOT NULL);
     CREATE TABLE principals(name TEXT COLLATE "C" PRIMARY KEY, body TEXT NOT NULL, revoked BOOLEAN NOT NULL);
     CREATE TABLE support_cases(id TEXT COLLATE "C" PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE legal_obligations(id TEXT COLLATE "C" PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE erasure_receipts(id TEXT COLLATE "C" PRIMARY KEY, body TEXT NOT NULL);"#,
    // v2: transfers (N4.4)
    r#"CREATE TABLE transfer_mechanisms(id TEXT COLLATE "C" PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE transfers(id TEXT COLLATE "C" PRIMARY KEY, body TEXT NOT NULL);"#,
    // v3: API tokens (hashes only) and tenancy (N1.2, N5.1)
    r#"CREATE TABLE api_tokens(id TEXT COLLATE "C" PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE tenancy(id TEXT COLLATE "C" PRIMARY KEY, body TEXT NOT NULL);"#,
    // v4: data subject requests, their one-time codes (hashed), processing restrictions (N7.2, N7.4)
    r#"CREATE TABLE IF NOT EXISTS dsr_requests(id TEXT COLLATE "C" PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE IF NOT EXISTS dsr_verifications(id TEXT COLLATE "C" PRIMARY KEY, body TEXT NOT NULL);
     CREATE TABLE IF NOT EXISTS processing_restrictions(id TEXT COLLATE "C" PRIMARY KEY, body TEXT NOT NULL);"#,
    // legal holds and retention (N3.7, N8.8), as in the SQLite store
    r#"CREATE TABLE IF NOT EXISTS hold_keys(subject_id BIGINT PRIMARY KEY, kek_version BIGINT NOT NULL, key_version BIGINT NOT NULL, wrapped BYTEA NOT NULL);
     CREATE TABLE IF NOT EXISTS held_records(id BIGINT PRIMARY KEY, subject_id BIGINT NOT NULL, category INTEGER NOT NULL, kind INTEGER NOT NULL, product INTEGER NOT NULL, key_version BIGINT NOT NULL, stored_at BIGINT NOT NULL, until_at BIGINT NOT NULL, sealed BYTEA NOT NULL);
     CREATE INDEX IF NOT EXISTS held_records_subject ON held_records(subject_id);
     CREATE INDEX IF NOT EXISTS held_records_until ON held_records(until_at);"#,
    // email intake ledger (N7.4), as in the SQLite store
    r#"CREATE TABLE IF NOT EXISTS email_intake(id TEXT COLLATE "C" PRIMARY KEY, body TEXT NOT NULL);"#,
];

/// How many times a migration or commit that lost a race is tried in all.
const MIGRATE_TRIES: u32 = 10;
const COMMIT_TRIES: u32 = 3;
/// Audit rows read per query by [`AuditStore::audit_scan`].
const SCAN_CHUNK: i64 = 4096;
/// Records per `INSERT ... UNNEST` statement.
const RECORD_CHUNK: usize = 20_000;
/// From this many records in one commit on, records go by binary COPY.
const COPY_MIN_RECORDS: usize = 100;
/// Connect timeout when the URL gives none.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS modes of the `sslmode` option (libpq's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// Where and how to connect: parsed once, used again on every reconnect.
struct Target {
    config: Config,
    tls: Option<MakeRustlsConnect>,
    tls_mode: TlsMode,
    schema: Option<String>,
    /// Write large record batches with COPY (`record_insert=copy`, the default).
    copy_records: bool,
    /// Statements run after connecting (lock timeout, search path).
    session_sql: String,
    /// `host:port/database schema S`, for messages (never the password).
    described: String,
}

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

/// The PostgreSQL backend (production): the same tables, role traits and
/// semantics as [`SqliteStore`](crate::SqliteStore) (one conformance suite,
/// `tests/conformance.rs`, runs against both), for PostgreSQL (tested with
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
///   (loopback or Unix socket); N5.3 requires TLS everywhere else.
/// * `prefer`: TLS when the server offers it, else plain text. Not
///   compliant with N5.3 on its own; prefer `require` or stricter.
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
/// | class 23 (unique, check, not-null violation) | [`Conflict`](StoreError::Conflict) |
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

fn config_err(what: impl Into<String>) -> StoreError {
    StoreError::Config(what.into())
}

/// Decodes `%XX` escapes of a URL query component.
fn percent_decode(s: &str) -> Result<String, StoreError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    config_err("a `%` in the PostgreSQL URL's options is not followed by two hex digits: percent-encode it as %25")
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| config_err("a PostgreSQL URL option decodes to bytes that are not UTF-8"))
}

/// A schema name Steward accepts: a plain SQL identifier, so that it needs
/// no escaping and reads the same quoted or not.
fn valid_schema(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 63
}

/// Verifies handshake signatures but not the certificate: libpq's
/// `sslmode=require` without a root certificate (encryption only).
struct EncryptOnly {
    algs: WebPkiSupportedAlgorithms,
}

impl std::fmt::Debug for EncryptOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptOnly")
    }
}

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// Verifies the certificate chain against the roots but not the host name:
/// libpq's `sslmode=verify-ca`. rustls's WebPKI verifier checks the chain
/// (and revocation, expiry) before the name, so a name mismatch means the
/// chain was good.
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
}

impl std::fmt::Debug for ChainOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainOnly")
    }
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Reads the PEM CA file of `sslrootcert`.
fn load_roots(path: &PathBuf) -> Result<RootCertStore, StoreError> {
    let bad = |e: String| {
        config_err(format!(
            "sslrootcert {}: {e}; give a PEM file holding the CA certificate(s) that signed the server's certificate",
            path.display()
        ))
    };
    let mut roots = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))?;
    for cert in certs {
        let cert = cert.map_err(|e| bad(e.to_string()))?;
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(bad("no certificate in the file".into()));
    }
    Ok(roots)
}

/// The rustls client configuration for `mode` (ring provider).
fn tls_config(mode: TlsMode, roots: Option<RootCertStore>) -> Result<ClientConfig, StoreError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| config_err(format!("TLS: {e}")))?;
    let verified = |roots: RootCertStore| {
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| config_err(format!("sslrootcert: {e}")))
    };
    Ok(match (mode, roots) {
        (TlsMode::VerifyFull, Some(roots)) => builder
            .with_webpki_verifier(verified(roots)?)
            .with_no_client_auth(),
        (TlsMode::Require | TlsMode::Prefer | TlsMode::VerifyCa, Some(roots)) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnly {
                inner: verified(roots)?,
            }))
            .with_no_client_auth(),
        (TlsMode::Require | TlsMode::Prefer, None) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly {
                algs: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth(),
        (TlsMode::VerifyCa | TlsMode::VerifyFull, None) => {
            return Err(config_err(
                "sslmode=verify-ca and sslmode=verify-full need sslrootcert=PATH (a PEM file of the CA certificates to trust)",
            ));
        }
        (TlsMode::Disable, _) => {
            return Err(config_err("TLS configuration asked for sslmode=disable"));
        }
    })
}

impl Target {
    /// Parses a `postgres://` URL (see [`PostgresStore`]).
    fn parse(url: &str, lock_timeout_ms: u64) -> Result<Self, StoreError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(config_err(
                "a PostgreSQL store URL starts with postgres:// or postgresql://",
            ));
        }
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (url, None),
        };
        let mut kept: Vec<&str> = Vec::new();
        let (mut schema, mut sslmode, mut rootcert, mut record_insert) = (None, None, None, None);
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let Some((k, v)) = pair.split_once('=') else {
                return Err(config_err(format!(
                    "PostgreSQL URL option `{}` has no `=VALUE`",
                    pair.chars().take(40).collect::<String>()
                )));
            };
            match percent_decode(k)?.as_str() {
                "schema" => schema = Some(percent_decode(v)?),
                "sslmode" => sslmode = Some(percent_decode(v)?),
                "sslrootcert" => rootcert = Some(PathBuf::from(percent_decode(v)?)),
                "record_insert" => record_insert = Some(percent_decode(v)?),
                _ => kept.push(pair),
            }
        }
        let rebuilt = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config = Config::from_str(&rebuilt)
            .map_err(|e| config_err(format!("invalid PostgreSQL URL: {e}")))?;
        if let Some(s) = &schema
            && !valid_schema(s)
        {
            return Err(config_err(format!(
                "schema `{}` in the PostgreSQL URL is not a plain identifier: use 1 to 63 ASCII letters, digits or `_`, not starting with a digit",
                s.chars().take(80).collect::<String>()
            )));
        }
        let tls_mode = match sslmode.as_deref() {
            None | Some("disable") => TlsMode::Disable,
            Some("prefer") => TlsMode::Prefer,
            Some("require") => TlsMode::Require,
            Some("verify-ca") => TlsMode::VerifyCa,
            Some("verify-full") => TlsMode::VerifyFull,
            Some(other) => {
                return Err(config_err(format!(
                    "sslmode `{}` is not supported: use disable, prefer, require, verify-ca or verify-full",
                    other.chars().take(40).collect::<String>()
                )));
            }
        };
        let copy_records = match record_insert.as_deref() {
            None | Some("copy") => true,
            Some("unnest") => false,
            Some(other) => {
                return Err(config_err(format!(
                    "record_insert `{}` is not supported: use copy or unnest",
                    other.chars().take(40).collect::<String>()
                )));
            }
        };
        let roots = rootcert.as_ref().map(load_roots).transpose()?;
        let tls = match tls_mode {
            TlsMode::Disable => None,
            mode => Some(MakeRustlsConnect::new(tls_config(mode, roots)?)),
        };
        config.ssl_mode(match tls_mode {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            _ => SslMode::Require,
        });
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        let host = config
            .get_hosts()
            .first()
            .map(|h| match h {
                Host::Tcp(h) => h.clone(),
                Host::Unix(p) => p.display().to_string(),
            })
            .unwrap_or_else(|| "localhost".into());
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let db = config
            .get_dbname()
            .or(config.get_user())
            .unwrap_or("postgres")
            .to_owned();
        let described = match &schema {
            Some(s) => format!("{host}:{port}/{db} schema {s}"),
            None => format!("{host}:{port}/{db}"),
        };
        let mut session_sql = format!(
            "SET lock_timeout = {};",
            lock_timeout_ms.clamp(1, i32::MAX as u64)
        );
        if let Some(s) = &schema {
            session_sql.push_str(&format!(" SET search_path TO \"{s}\";"));
        }
        Ok(Target {
            config,
            tls,
            tls_mode,
            schema,
            copy_records,
            session_sql,
            described,
        })
    }

    /// Opens a connection and applies the session settings.
    fn connect(&self) -> Result<Conn, StoreError> {
        let connected = match &self.tls {
            None => self.config.connect(NoTls),
            Some(tls) => self.config.connect(tls.clone()),
        };
        let mut client = connected.map_err(|e| StoreError::Unwritable {
            reason: format!(
                "cannot connect to PostgreSQL at {}: {}",
                self.described,
                pg_message(&e)
            ),
        })?;
        client
            .batch_execute(&self.session_sql)
            .map_err(|e| map_pg(&e, 0))?;
        // Durable commits (DESIGN "Storage"), and READ COMMITTED so that the
        // head row's FOR UPDATE waits instead of failing when the server's
        // default is stricter. Best effort: engines that lack a setting
        // (CockroachDB replicates every commit; its transactions may stay
        // SERIALIZABLE) are served by the commit's retry.
        let _ = client.batch_execute("SET synchronous_commit = on");
        let _ = client.batch_execute("SET default_transaction_isolation = 'read committed'");
        Ok(Conn {
            client,
            stmts: HashMap::new(),
        })
    }
}

/// PostgreSQL's primary message (never its DETAIL, which can quote key
/// values), or the client error.
fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => with_causes(e),
    }
}

/// An error and its causes (`error connecting to server: Connection refused`).
fn with_causes(e: &postgres::Error) -> String {
    let mut out = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// Whether `e` means the session is over: closed, an I/O failure, a
/// connection exception (class 08) or a server shutdown (57P01-57P03).
fn connection_gone(e: &postgres::Error) -> bool {
    if e.is_closed() || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()) {
        return true;
    }
    match e.code() {
        Some(c) => {
            c.code().starts_with("08")
                || *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
        }
        None => false,
    }
}

fn is_retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

/// Maps a PostgreSQL error onto the store's error kinds (table in the
/// [`PostgresStore`] documentation).
fn map_pg(e: &postgres::Error, busy_ms: u64) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        let msg = db.message().to_owned();
        if *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
            || *code == SqlState::LOCK_NOT_AVAILABLE
            || *code == SqlState::QUERY_CANCELED
        {
            return StoreError::Locked { waited_ms: busy_ms };
        }
        if *code == SqlState::READ_ONLY_SQL_TRANSACTION || *code == SqlState::INSUFFICIENT_PRIVILEGE
        {
            return StoreError::Unwritable { reason: msg };
        }
        return match code.code().get(..2) {
            Some("23") => StoreError::Conflict(msg),
            Some("08" | "28" | "3D" | "53" | "57") => StoreError::Unwritable {
                reason: format!("{msg} (SQLSTATE {})", code.code()),
            },
            _ => StoreError::Database(format!("{msg} (SQLSTATE {})", code.code())),
        };
    }
    let io = std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>());
    if e.is_closed() || io {
        return StoreError::Unwritable {
            reason: format!("the connection to PostgreSQL was lost: {}", with_causes(e)),
        };
    }
    StoreError::Database(with_causes(e))
}

/// Category codes as stored ([`Category::code`]), as in the SQLite store.
fn category_code(name: &str) -> Result<i32, StoreError> {
    name.parse::<Category>()
        .map(|c| i32::from(c.code()))
        .map_err(|e| StoreError::Database(e.to_string()))
}

fn category_name(code: i32) -> Result<&'static str, StoreError> {
    u8::try_from(code)
        .ok()
        .and_then(Category::from_code)
        .map(|c| c.as_str())
        .ok_or_else(|| StoreError::Corrupt(format!("records.category holds unknown code {code}")))
}

/// Kind and product codes ([`steward_domain::Kind::code`], [`steward_domain::Product::code`]).
fn code_of<T: std::str::FromStr>(name: &str, code: impl Fn(T) -> i32) -> Result<i32, StoreError>
where
    T::Err: std::fmt::Display,
{
    name.parse::<T>()
        .map(code)
        .map_err(|e| StoreError::Database(e.to_string()))
}

fn u32_col(v: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} holds {v}, not a u32")))
}

fn record_from(r: &Row, region: &str) -> Result<RecordRow, Fail> {
    let kind: i32 = r.try_get(3)?;
    let product: i32 = r.try_get(4)?;
    Ok(RecordRow {
        id: RecordId(r.try_get(0)?),
        subject: SubjectId(r.try_get(1)?),
        category: std::borrow::Cow::Borrowed(category_name(r.try_get(2)?)?),
        kind: std::borrow::Cow::Borrowed(crate::kind_name(i64::from(kind)).ok_or_else(|| {
            StoreError::Corrupt(format!("records.kind holds unknown code {kind}"))
        })?),
        product: std::borrow::Cow::Borrowed(crate::product_name(i64::from(product)).ok_or_else(
            || StoreError::Corrupt(format!("records.product holds unknown code {product}")),
        )?),
        region: std::borrow::Cow::Owned(region.to_owned()),
        key_version: u32_col(r.try_get(5)?, "records.key_version")?,
        stored_at_ms: r.try_get(6)?,
        sealed: r.try_get(7)?,
    })
}

fn key_from(r: &Row) -> Result<WrappedKeyRow, Fail> {
    Ok(WrappedKeyRow {
        subject: SubjectId(r.try_get(0)?),
        kek_version: u32_col(r.try_get(1)?, "subject_keys.kek_version")?,
        key_version: u32_col(r.try_get(2)?, "subject_keys.key_version")?,
        wrapped: r.try_get(3)?,
    })
}

fn subject_from(r: &Row) -> Result<SubjectRow, Fail> {
    Ok(SubjectRow {
        id: SubjectId(r.try_get(0)?),
        region: r.try_get(1)?,
        created_at_ms: r.try_get(2)?,
        erased_at_ms: r.try_get(3)?,
    })
}

const RECORD_SELECT: &str = "SELECT r.id, s.id, r.category, r.kind, r.product, r.key_version, r.stored_at, r.sealed FROM records r JOIN subjects s ON s.key = r.subject_key";
const HEAD_FOR_UPDATE: &str = "SELECT size, last_leaf, frontier, checkpoint_size, checkpoint_at FROM audit_head WHERE id = 1 FOR UPDATE";

/// Appends `drafts` (and a due checkpoint) inside `tx`, locking the head row.
fn append_audit(
    tx: &mut postgres::Transaction<'_>,
    opts: &StoreOptions,
    drafts: Vec<AuditDraft>,
    force_checkpoint: bool,
) -> Result<Committed, Fail> {
    let r = tx.query_one(HEAD_FOR_UPDATE, &[])?;
    let head = HeadRow {
        size: r.try_get(0)?,
        last_leaf: r.try_get(1)?,
        frontier: r.try_get(2)?,
        checkpoint_size: r.try_get(3)?,
        checkpoint_at: r.try_get(4)?,
    };
    let plan = append::plan(head, opts, drafts, force_checkpoint, now_ms())
        .map_err(|what| StoreError::Corrupt(what.to_owned()))?;
    if !plan.entries.is_empty() {
        let idx: Vec<i64> = plan.entries.iter().map(|e| e.idx).collect();
        let entry: Vec<&[u8]> = plan.entries.iter().map(|e| e.entry.as_slice()).collect();
        let leaf: Vec<&[u8]> = plan.entries.iter().map(|e| &e.leaf_hash[..]).collect();
        tx.execute(
            "INSERT INTO audit_entries(idx, entry, leaf_hash) SELECT * FROM UNNEST($1::int8[], $2::bytea[], $3::bytea[])",
            &[&idx, &entry, &leaf],
        )?;
    }
    if let Some(cp) = &plan.checkpoint {
        tx.execute(
            "INSERT INTO audit_checkpoints(size, note, created_at) VALUES ($1, $2, $3)",
            &[&cp.size, &cp.note, &cp.created_at],
        )?;
    }
    let h = &plan.head;
    tx.execute(
        "UPDATE audit_head SET size = $1, last_leaf = $2, frontier = $3, checkpoint_size = $4, checkpoint_at = $5 WHERE id = 1",
        &[&h.size, &h.last_leaf, &h.frontier, &h.checkpoint_size, &h.checkpoint_at],
    )?;
    Ok(plan.committed)
}

/// One attempt at a commit: everything in one transaction.
fn commit_once(
    conn: &mut Conn,
    opts: &StoreOptions,
    copy: bool,
    c: &ChangeSet,
    drafts: Vec<AuditDraft>,
) -> Result<Committed, Fail> {
    // Encode records first: a bad category, kind or product fails before
    // anything is sent.
    let n = c.records.len();
    let mut rec_id = Vec::with_capacity(n);
    let mut rec_cat = Vec::with_capacity(n);
    let mut rec_kind = Vec::with_capacity(n);
    let mut rec_product = Vec::with_capacity(n);
    let mut rec_kv = Vec::with_capacity(n);
    let mut rec_at = Vec::with_capacity(n);
    let mut rec_sealed: Vec<&[u8]> = Vec::with_capacity(n);
    for r in &c.records {
        rec_id.push(r.id.0);
        rec_cat.push(category_code(&r.category)?);
        rec_kind.push(code_of::<steward_domain::Kind>(&r.kind, |k| {
            i32::from(k.code())
        })?);
        rec_product.push(code_of::<steward_domain::Product>(&r.product, |p| {
            i32::from(p.code())
        })?);
        rec_kv.push(i64::from(r.key_version));
        rec_at.push(r.stored_at_ms);
        rec_sealed.push(&r.sealed);
    }

    let st_subjects = conn.stmt("INSERT INTO subjects(key, id, region, created_at, erased_at) SELECT u.id, u.id, u.region, u.created_at, u.erased_at FROM UNNEST($1::int8[], $2::text[], $3::int8[], $4::int8[]) AS u(id, region, created_at, erased_at)")?;
    let st_keys = conn.stmt("INSERT INTO subject_keys(subject_id, kek_version, key_version, wrapped) SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::bytea[]) ON CONFLICT (subject_id) DO UPDATE SET kek_version = EXCLUDED.kek_version, key_version = EXCLUDED.key_version, wrapped = EXCLUDED.wrapped")?;
    let st_idents = conn.stmt("INSERT INTO identifiers(blind, subject_id, kind, sealed) SELECT * FROM UNNEST($1::bytea[], $2::int8[], $3::text[], $4::bytea[]) ON CONFLICT (blind) DO NOTHING")?;
    let st_keys_of = conn.stmt("SELECT id, key FROM subjects WHERE id = ANY($1::int8[])")?;
    let st_records = conn.stmt("INSERT INTO records(id, subject_key, category, kind, product, key_version, stored_at, sealed) SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::int4[], $4::int4[], $5::int4[], $6::int8[], $7::int8[], $8::bytea[])")?;
    let st_principal = conn.stmt("INSERT INTO principals(name, body, revoked) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET body = EXCLUDED.body, revoked = EXCLUDED.revoked")?;

    let mut tx = conn.client.transaction()?;
    if !c.guards.is_empty() {
        // Optimistic-concurrency guards: take the head row lock every commit
        // takes (so guarded commits of one store serialize and each sees the
        // last one's write, READ COMMITTED), then lock and compare each row.
        tx.query_one(HEAD_FOR_UPDATE, &[])?;
        for g in &c.guards {
            let now: Option<String> = tx
                .query_opt(
                    &format!(
                        "SELECT body FROM {} WHERE id = $1 FOR UPDATE",
                        g.table.table()
                    ),
                    &[&g.id],
                )?
                .map(|r| r.try_get(0))
                .transpose()?;
            if now != g.expected {
                return Err(Fail::Store(StoreError::GuardConflict {
                    table: g.table.table(),
                    id: g.id.clone(),
                }));
            }
        }
    }
    if !c.subjects.is_empty() {
        let id: Vec<i64> = c.subjects.iter().map(|s| s.id.0).collect();
        let region: Vec<&str> = c.subjects.iter().map(|s| s.region.as_str()).collect();
        let created: Vec<i64> = c.subjects.iter().map(|s| s.created_at_ms).collect();
        let erased: Vec<Option<i64>> = c.subjects.iter().map(|s| s.erased_at_ms).collect();
        tx.execute(&st_subjects, &[&id, &region, &created, &erased])?;
    }
    if !c.keys.is_empty() {
        // INSERT OR REPLACE semantics: the last key given for a subject wins.
        let mut last: HashMap<i64, usize> = HashMap::with_capacity(c.keys.len());
        for (i, k) in c.keys.iter().enumerate() {
            last.insert(k.subject.0, i);
        }
        let keys: Vec<&WrappedKeyRow> = c
            .keys
            .iter()
            .enumerate()
            .filter(|(i, k)| last.get(&k.subject.0) == Some(i))
            .map(|(_, k)| k)
            .collect();
        let subject: Vec<i64> = keys.iter().map(|k| k.subject.0).collect();
        let kek: Vec<i64> = keys.iter().map(|k| i64::from(k.kek_version)).collect();
        let ver: Vec<i64> = keys.iter().map(|k| i64::from(k.key_version)).collect();
        let wrapped: Vec<&[u8]> = keys.iter().map(|k| k.wrapped.as_slice()).collect();
        tx.execute(&st_keys, &[&subject, &kek, &ver, &wrapped])?;
    }
    if !c.identifiers.is_empty() {
        let blind: Vec<&[u8]> = c.identifiers.iter().map(|i| &i.blind[..]).collect();
        let subject: Vec<i64> = c.identifiers.iter().map(|i| i.subject.0).collect();
        let kind: Vec<&str> = c.identifiers.iter().map(|i| i.kind.as_str()).collect();
        let sealed: Vec<&[u8]> = c.identifiers.iter().map(|i| i.sealed.as_slice()).collect();
        tx.execute(&st_idents, &[&blind, &subject, &kind, &sealed])?;
    }
    if n > 0 {
        // Records point at the subject's row key (see the SQLite store); a
        // record of a subject the store does not hold is refused.
        let mut wanted: Vec<i64> = c.records.iter().map(|r| r.subject.0).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut keys: HashMap<i64, i64> = HashMap::with_capacity(wanted.len());
        for row in tx.query(&st_keys_of, &[&wanted])? {
            keys.insert(row.try_get(0)?, row.try_get(1)?);
        }
        let mut rec_key = Vec::with_capacity(n);
        for r in &c.records {
            let key = keys.get(&r.subject.0).copied().ok_or_else(|| {
                StoreError::Database(
                    "a record refers to a subject that is not in this store; add the subject in the same or an earlier ChangeSet".into(),
                )
            })?;
            rec_key.push(key);
        }
        if copy && n >= COPY_MIN_RECORDS {
            // One binary COPY: the fastest path PostgreSQL has; `WITH BINARY`
            // is the spelling PostgreSQL, CockroachDB and YugabyteDB share.
            let sink = tx.copy_in(
                "COPY records(id, subject_key, category, kind, product, key_version, stored_at, sealed) FROM STDIN WITH BINARY",
            )?;
            let mut w = BinaryCopyInWriter::new(
                sink,
                &[
                    Type::INT8,
                    Type::INT8,
                    Type::INT4,
                    Type::INT4,
                    Type::INT4,
                    Type::INT8,
                    Type::INT8,
                    Type::BYTEA,
                ],
            );
            for j in 0..n {
                w.write(&[
                    &rec_id[j],
                    &rec_key[j],
                    &rec_cat[j],
                    &rec_kind[j],
                    &rec_product[j],
                    &rec_kv[j],
                    &rec_at[j],
                    &rec_sealed[j],
                ])?;
            }
            w.finish()?;
        } else {
            let mut at = 0;
            while at < n {
                let end = (at + RECORD_CHUNK).min(n);
                let r = at..end;
                tx.execute(
                    &st_records,
                    &[
                        &&rec_id[r.clone()],
                        &&rec_key[r.clone()],
                        &&rec_cat[r.clone()],
                        &&rec_kind[r.clone()],
                        &&rec_product[r.clone()],
                        &&rec_kv[r.clone()],
                        &&rec_at[r.clone()],
                        &&rec_sealed[r],
                    ],
                )?;
                at = end;
            }
        }
    }
    // N3.7 legal holds: records move under the subject's hold key (and out
    // of the live records) before any shredding below; N7.2/N8.8 deletions.
    for k in &c.hold_keys {
        tx.execute(
            "INSERT INTO hold_keys(subject_id, kek_version, key_version, wrapped) VALUES ($1, $2, $3, $4) ON CONFLICT (subject_id) DO UPDATE SET kek_version = EXCLUDED.kek_version, key_version = EXCLUDED.key_version, wrapped = EXCLUDED.wrapped",
            &[&k.subject.0, &i64::from(k.kek_version), &i64::from(k.key_version), &k.wrapped],
        )?;
    }
    for h in &c.held {
        let r = &h.record;
        tx.execute(
            "INSERT INTO held_records(id, subject_id, category, kind, product, key_version, stored_at, until_at, sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &r.id.0,
                &r.subject.0,
                &category_code(&r.category)?,
                &code_of::<steward_domain::Kind>(&r.kind, |k| i32::from(k.code()))?,
                &code_of::<steward_domain::Product>(&r.product, |p| i32::from(p.code()))?,
                &i64::from(r.key_version),
                &r.stored_at_ms,
                &h.until_ms,
                &r.sealed,
            ],
        )?;
    }
    let live_gone: Vec<i64> = c
        .held
        .iter()
        .map(|h| h.record.id.0)
        .chain(c.delete_records.iter().map(|id| id.0))
        .collect();
    if !live_gone.is_empty() {
        let n = tx.execute(
            "DELETE FROM records WHERE id = ANY($1::int8[])",
            &[&live_gone],
        )?;
        if n != live_gone.len() as u64 {
            return Err(Fail::Store(not_stored(
                "record",
                live_gone.len() as u64 - n,
            )));
        }
    }
    if !c.delete_held.is_empty() {
        let ids: Vec<i64> = c.delete_held.iter().map(|id| id.0).collect();
        let n = tx.execute(
            "DELETE FROM held_records WHERE id = ANY($1::int8[])",
            &[&ids],
        )?;
        if n != ids.len() as u64 {
            return Err(Fail::Store(not_stored("held record", ids.len() as u64 - n)));
        }
        // A hold key goes with its subject's last held record.
        tx.execute(
            "DELETE FROM hold_keys WHERE subject_id NOT IN (SELECT subject_id FROM held_records)",
            &[],
        )?;
    }
    if !c.shred.is_empty() {
        // N8.8 crypto-shredding: the wrapped DEK and the identifiers go; records become unreadable.
        let ids: Vec<i64> = c.shred.iter().map(|s| s.0).collect();
        let now = now_ms();
        tx.execute(
            "DELETE FROM subject_keys WHERE subject_id = ANY($1::int8[])",
            &[&ids],
        )?;
        tx.execute(
            "DELETE FROM identifiers WHERE subject_id = ANY($1::int8[])",
            &[&ids],
        )?;
        tx.execute(
            "UPDATE subjects SET erased_at = $2 WHERE id = ANY($1::int8[])",
            &[&ids, &now],
        )?;
    }
    for (name, body, revoked) in &c.principals {
        tx.execute(&st_principal, &[name, body, revoked])?;
    }
    for (t, id, body) in &c.registry {
        tx.execute(
            &format!(
                "INSERT INTO {}(id, body) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body",
                t.table()
            ),
            &[id, body],
        )?;
    }
    let out = append_audit(&mut tx, opts, drafts, false)?;
    tx.commit()?;
    Ok(out)
}

/// One attempt at the migrations (see [`PostgresStore`]).
fn migrate_once(conn: &mut Conn, schema: Option<&str>) -> Result<(), Fail> {
    let mut tx = conn.client.transaction()?;
    if let Some(s) = schema {
        // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE
        // privilege on the database even when the schema exists.
        let present = tx
            .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&s])?
            .is_some();
        if !present {
            tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{s}\""))?;
        }
    }
    let missing = |tx: &mut postgres::Transaction<'_>, table: &str| -> Result<bool, Fail> {
        Ok(tx
            .query_one("SELECT to_regclass($1::text) IS NULL", &[&table])?
            .try_get(0)?)
    };
    if missing(&mut tx, "steward_schema_version")? {
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS steward_schema_version(id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)",
        )?;
    }
    tx.execute(
        "INSERT INTO steward_schema_version(id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
        &[],
    )?;
    // The row lock serializes concurrent migrators (no advisory lock).
    let version: i64 = tx
        .query_one(
            "SELECT version FROM steward_schema_version WHERE id = 1 FOR UPDATE",
            &[],
        )?
        .try_get(0)?;
    let done = usize::try_from(version).unwrap_or(usize::MAX);
    for (i, m) in MIGRATIONS.iter().enumerate().skip(done) {
        tx.batch_execute(m)?;
        tx.execute(
            "UPDATE steward_schema_version SET version = $1 WHERE id = 1",
            &[&((i + 1) as i64)],
        )?;
    }
    // Every registry table exists, also one added to `RegistryTable` before
    // its migration was written here.
    for t in RegistryTable::ALL {
        if missing(&mut tx, t.table())? {
            tx.batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {}(id TEXT COLLATE \"C\" PRIMARY KEY, body TEXT NOT NULL)",
                t.table()
            ))?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// SQLSTATEs of a migrator that lost a race with another one.
fn lost_migration_race(e: &postgres::Error) -> bool {
    is_retryable(e)
        || matches!(e.code(), Some(c) if *c == SqlState::UNIQUE_VIOLATION
            || *c == SqlState::DUPLICATE_TABLE
            || *c == SqlState::DUPLICATE_SCHEMA
            || *c == SqlState::DUPLICATE_OBJECT)
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
    /// certificate file; [`StoreError::Unwritable`] when the server cannot
    /// be reached, refuses the login or the TLS handshake fails;
    /// [`StoreError::Database`] / [`StoreError::Locked`] when a migration fails.
    pub fn open(url: &str, opts: StoreOptions) -> Result<Self, StoreError> {
        let target = Target::parse(url, opts.busy_timeout_ms)?;
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
        Ok(Target::parse(url, 5000)?.connect()?.client)
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

impl SubjectStore for PostgresStore {
    fn subject_by_blind(&self, blind: &[u8; 32]) -> Result<Option<SubjectId>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT subject_id FROM identifiers WHERE blind = $1")?;
            Ok(match c.client.query_opt(&st, &[&&blind[..]])? {
                Some(r) => Some(SubjectId(r.try_get(0)?)),
                None => None,
            })
        })
    }

    fn subject(&self, id: SubjectId) -> Result<Option<SubjectRow>, StoreError> {
        self.with_conn(|c| {
            let st =
                c.stmt("SELECT id, region, created_at, erased_at FROM subjects WHERE id = $1")?;
            c.client
                .query_opt(&st, &[&id.0])?
                .map(|r| subject_from(&r))
                .transpose()
        })
    }

    fn subjects(&self) -> Result<Vec<SubjectRow>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt(
                "SELECT id, region, created_at, erased_at FROM subjects ORDER BY created_at, id",
            )?;
            c.client.query(&st, &[])?.iter().map(subject_from).collect()
        })
    }

    fn identifiers(&self, id: SubjectId) -> Result<Vec<IdentifierRow>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT blind, subject_id, kind, sealed FROM identifiers WHERE subject_id = $1 ORDER BY kind, blind")?;
            c.client
                .query(&st, &[&id.0])?
                .iter()
                .map(|r| {
                    Ok(IdentifierRow {
                        blind: hash32(r.try_get(0)?, "identifiers.blind")?,
                        subject: SubjectId(r.try_get(1)?),
                        kind: r.try_get(2)?,
                        sealed: r.try_get(3)?,
                    })
                })
                .collect()
        })
    }

    fn wrapped_key(&self, id: SubjectId) -> Result<Option<WrappedKeyRow>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT subject_id, kek_version, key_version, wrapped FROM subject_keys WHERE subject_id = $1")?;
            c.client
                .query_opt(&st, &[&id.0])?
                .map(|r| key_from(&r))
                .transpose()
        })
    }

    fn wrapped_keys(&self) -> Result<Vec<WrappedKeyRow>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT subject_id, kek_version, key_version, wrapped FROM subject_keys ORDER BY subject_id")?;
            c.client.query(&st, &[])?.iter().map(key_from).collect()
        })
    }
}

impl RecordStore for PostgresStore {
    fn records(
        &self,
        subject: SubjectId,
        category: Option<&str>,
    ) -> Result<Vec<RecordRow>, StoreError> {
        let region = self.opts.region.as_str();
        self.with_conn(|c| {
            let rows = match category {
                Some(cat) => {
                    let code = category_code(cat)?;
                    let st = c.stmt(&format!("{RECORD_SELECT} WHERE r.subject_key = (SELECT key FROM subjects WHERE id = $1) AND r.category = $2 ORDER BY r.id"))?;
                    c.client.query(&st, &[&subject.0, &code])?
                }
                None => {
                    let st = c.stmt(&format!("{RECORD_SELECT} WHERE r.subject_key = (SELECT key FROM subjects WHERE id = $1) ORDER BY r.id"))?;
                    c.client.query(&st, &[&subject.0])?
                }
            };
            rows.iter().map(|r| record_from(r, region)).collect()
        })
    }

    fn record_counts(&self, subject: SubjectId) -> Result<Vec<(String, u64)>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT category, COUNT(*) FROM records WHERE subject_key = (SELECT key FROM subjects WHERE id = $1) GROUP BY category ORDER BY category")?;
            c.client
                .query(&st, &[&subject.0])?
                .iter()
                .map(|r| {
                    Ok((
                        category_name(r.try_get(0)?)?.to_owned(),
                        r.try_get::<_, i64>(1)? as u64,
                    ))
                })
                .collect()
        })
    }

    fn sweep_shredded(&mut self) -> Result<u64, StoreError> {
        self.with_conn(|c| {
            Ok(c.client.execute(
                "DELETE FROM records WHERE subject_key IN (SELECT key FROM subjects WHERE erased_at IS NOT NULL)",
                &[],
            )?)
        })
    }

    fn records_stored_before(
        &self,
        before_ms: i64,
        after: RecordId,
        limit: usize,
    ) -> Result<Vec<RecordMeta>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with_conn(|c| {
            let st = c.stmt("SELECT r.id, s.id, r.category, r.kind, r.stored_at FROM records r JOIN subjects s ON s.key = r.subject_key WHERE r.id > $1 AND r.stored_at <= $2 ORDER BY r.id LIMIT $3")?;
            c.client
                .query(&st, &[&after.0, &before_ms, &limit])?
                .iter()
                .map(|r| meta_from(r, false))
                .collect()
        })
    }

    fn held_records(&self, subject: SubjectId) -> Result<Vec<HeldRecordRow>, StoreError> {
        let region = self.opts.region.as_str();
        self.with_conn(|c| {
            let st = c.stmt("SELECT id, subject_id, category, kind, product, key_version, stored_at, sealed, until_at FROM held_records WHERE subject_id = $1 ORDER BY id")?;
            c.client
                .query(&st, &[&subject.0])?
                .iter()
                .map(|r| {
                    Ok(HeldRecordRow {
                        record: record_from(r, region)?,
                        until_ms: r.try_get(8)?,
                    })
                })
                .collect()
        })
    }

    fn held_due(&self, at_ms: i64) -> Result<Vec<RecordMeta>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT id, subject_id, category, kind, stored_at, until_at FROM held_records WHERE until_at <= $1 ORDER BY id")?;
            c.client
                .query(&st, &[&at_ms])?
                .iter()
                .map(|r| meta_from(r, true))
                .collect()
        })
    }

    fn hold_key(&self, subject: SubjectId) -> Result<Option<WrappedKeyRow>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT subject_id, kek_version, key_version, wrapped FROM hold_keys WHERE subject_id = $1")?;
            c.client
                .query_opt(&st, &[&subject.0])?
                .map(|r| key_from(&r))
                .transpose()
        })
    }

    fn hold_keys(&self) -> Result<Vec<WrappedKeyRow>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT subject_id, kek_version, key_version, wrapped FROM hold_keys ORDER BY subject_id")?;
            c.client.query(&st, &[])?.iter().map(key_from).collect()
        })
    }

    fn record(&self, id: RecordId) -> Result<Option<RecordRow>, StoreError> {
        let region = self.opts.region.as_str();
        self.with_conn(|c| {
            let st = c.stmt(&format!("{RECORD_SELECT} WHERE r.id = $1"))?;
            c.client
                .query_opt(&st, &[&id.0])?
                .map(|r| record_from(&r, region))
                .transpose()
        })
    }

    fn records_page(
        &self,
        subject: SubjectId,
        category: Option<&str>,
        after: Option<RecordId>,
        limit: usize,
    ) -> Result<Vec<RecordRow>, StoreError> {
        let region = self.opts.region.as_str();
        let after = after.map(|r| r.0).unwrap_or(i64::MIN);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with_conn(|c| {
            let rows = match category {
                Some(cat) => {
                    let code = category_code(cat)?;
                    let st = c.stmt(&format!("{RECORD_SELECT} WHERE r.subject_key = (SELECT key FROM subjects WHERE id = $1) AND r.category = $2 AND r.id > $3 ORDER BY r.id LIMIT $4"))?;
                    c.client.query(&st, &[&subject.0, &code, &after, &limit])?
                }
                None => {
                    let st = c.stmt(&format!("{RECORD_SELECT} WHERE r.subject_key = (SELECT key FROM subjects WHERE id = $1) AND r.id > $2 ORDER BY r.id LIMIT $3"))?;
                    c.client.query(&st, &[&subject.0, &after, &limit])?
                }
            };
            rows.iter().map(|r| record_from(r, region)).collect()
        })
    }
}

impl AuditStore for PostgresStore {
    fn audit_size(&self) -> Result<u64, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT size FROM audit_head WHERE id = 1")?;
            Ok(c.client.query_one(&st, &[])?.try_get::<_, i64>(0)? as u64)
        })
    }

    fn audit_scan(
        &self,
        from: u64,
        to: u64,
        f: &mut dyn FnMut(AuditRow) -> bool,
    ) -> Result<(), StoreError> {
        // Read in chunks so that memory stays bounded and `f` runs while no
        // query holds the connection (it may call the store).
        let end = to.min(i64::MAX as u64) as i64;
        let mut next = from.min(i64::MAX as u64) as i64;
        while next < end {
            let rows: Vec<AuditRow> = self.with_conn(|c| {
                let st = c.stmt("SELECT idx, entry, leaf_hash FROM audit_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx LIMIT $3")?;
                c.client
                    .query(&st, &[&next, &end, &SCAN_CHUNK])?
                    .iter()
                    .map(|r| {
                        let idx: i64 = r.try_get(0)?;
                        let leaf: &[u8] = r.try_get(2)?;
                        // A stored leaf hash of the wrong length is reported by the verifier as a mismatch.
                        let mut leaf_hash = [0u8; 32];
                        if leaf.len() == 32 {
                            leaf_hash.copy_from_slice(leaf);
                        }
                        Ok(AuditRow {
                            index: idx as u64,
                            entry: r.try_get(1)?,
                            leaf_hash,
                        })
                    })
                    .collect()
            })?;
            let full = rows.len() as i64 == SCAN_CHUNK;
            for row in rows {
                next = (row.index as i64).saturating_add(1);
                if !f(row) {
                    return Ok(());
                }
            }
            if !full {
                break;
            }
        }
        Ok(())
    }

    fn checkpoints(&self) -> Result<Vec<(u64, String)>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT size, note FROM audit_checkpoints ORDER BY size")?;
            c.client
                .query(&st, &[])?
                .iter()
                .map(|r| Ok((r.try_get::<_, i64>(0)? as u64, r.try_get(1)?)))
                .collect()
        })
    }

    fn audit_head(&self) -> Result<(u64, [u8; 32]), StoreError> {
        let (size, frontier): (i64, Vec<u8>) = self.with_conn(|c| {
            let st = c.stmt("SELECT size, frontier FROM audit_head WHERE id = 1")?;
            let r = c.client.query_one(&st, &[])?;
            Ok((r.try_get(0)?, r.try_get(1)?))
        })?;
        append::head_root(size, &frontier)
    }

    fn cut_checkpoint(&mut self) -> Result<u64, StoreError> {
        let opts = self.opts.clone();
        self.write(|conn, _| {
            let mut tx = conn.client.transaction()?;
            let c = append_audit(&mut tx, &opts, Vec::new(), true)?;
            tx.commit()?;
            Ok(c.audit_size)
        })
    }

    fn import_audit(
        &mut self,
        rows: &[AuditRow],
        checkpoints: &[(u64, String)],
    ) -> Result<(), StoreError> {
        let plan = crate::copy::import_plan(rows, checkpoints)?;
        self.write(|conn, _| {
            let mut tx = conn.client.transaction()?;
            let size: i64 = tx.query_one(HEAD_FOR_UPDATE, &[])?.try_get(0)?;
            if size != 0 {
                return Err(StoreError::Conflict(format!(
                    "the target audit log already holds {size} entries"
                ))
                .into());
            }
            for chunk in rows.chunks(RECORD_CHUNK) {
                let idx: Vec<i64> = chunk.iter().map(|r| r.index as i64).collect();
                let entry: Vec<&[u8]> = chunk.iter().map(|r| r.entry.as_slice()).collect();
                let leaf: Vec<&[u8]> = chunk.iter().map(|r| &r.leaf_hash[..]).collect();
                tx.execute(
                    "INSERT INTO audit_entries(idx, entry, leaf_hash) SELECT * FROM UNNEST($1::int8[], $2::bytea[], $3::bytea[])",
                    &[&idx, &entry, &leaf],
                )?;
            }
            for (size, note) in checkpoints {
                tx.execute(
                    "INSERT INTO audit_checkpoints(size, note, created_at) VALUES ($1, $2, $3)",
                    &[&(*size as i64), note, &plan.now],
                )?;
            }
            tx.execute(
                "UPDATE audit_head SET size = $1, last_leaf = $2, frontier = $3, checkpoint_size = $4, checkpoint_at = $5 WHERE id = 1",
                &[&plan.size, &plan.last_leaf, &plan.frontier, &plan.checkpoint_size, &plan.now],
            )?;
            tx.commit()?;
            Ok(())
        })
    }
}

impl PrincipalStore for PostgresStore {
    fn principal(&self, name: &str) -> Result<Option<(String, bool)>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT body, revoked FROM principals WHERE name = $1")?;
            Ok(match c.client.query_opt(&st, &[&name])? {
                Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
                None => None,
            })
        })
    }

    fn principals(&self) -> Result<Vec<(String, String, bool)>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT name, body, revoked FROM principals ORDER BY name")?;
            c.client
                .query(&st, &[])?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .collect()
        })
    }
}

impl RegistryStore for PostgresStore {
    fn registry_get(&self, table: RegistryTable, id: &str) -> Result<Option<String>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt(&format!("SELECT body FROM {} WHERE id = $1", table.table()))?;
            Ok(match c.client.query_opt(&st, &[&id])? {
                Some(r) => Some(r.try_get(0)?),
                None => None,
            })
        })
    }

    fn registry_list(&self, table: RegistryTable) -> Result<Vec<(String, String)>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt(&format!(
                "SELECT id, body FROM {} ORDER BY id",
                table.table()
            ))?;
            c.client
                .query(&st, &[])?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect()
        })
    }
}

/// A change that names records the store does not hold (deleted or moved by
/// another writer): the whole commit is refused as a conflict.
fn not_stored(what: &str, missing: u64) -> StoreError {
    StoreError::Conflict(format!(
        "{missing} {what}(s) named by the change are not stored (deleted or changed by another writer); nothing was written: read them again and retry"
    ))
}

/// A record's metadata (retention, N8.8): id, subject id, category, kind,
/// stored_at and, for held records, until_at.
fn meta_from(r: &Row, held: bool) -> Result<RecordMeta, Fail> {
    let kind: i32 = r.try_get(3)?;
    Ok(RecordMeta {
        id: RecordId(r.try_get(0)?),
        subject: SubjectId(r.try_get(1)?),
        category: std::borrow::Cow::Borrowed(category_name(r.try_get(2)?)?),
        kind: std::borrow::Cow::Borrowed(
            crate::kind_name(i64::from(kind))
                .ok_or_else(|| StoreError::Corrupt(format!("kind holds unknown code {kind}")))?,
        ),
        stored_at_ms: r.try_get(4)?,
        until_ms: if held { Some(r.try_get(5)?) } else { None },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_options_are_split_between_steward_and_the_driver() {
        let t = Target::parse(
            "postgres://steward:secret@db.example:6432/prod?schema=jp&application_name=steward&connect_timeout=3",
            2000,
        )
        .unwrap();
        assert_eq!(t.schema.as_deref(), Some("jp"));
        assert_eq!(t.tls_mode, TlsMode::Disable);
        assert_eq!(t.config.get_ssl_mode(), SslMode::Disable);
        assert_eq!(t.config.get_application_name(), Some("steward"));
        assert_eq!(
            t.config.get_connect_timeout(),
            Some(&Duration::from_secs(3))
        );
        assert_eq!(t.described, "db.example:6432/prod schema jp");
        assert!(!format!("{:?}", t.described).contains("secret"));
        assert_eq!(
            t.session_sql,
            "SET lock_timeout = 2000; SET search_path TO \"jp\";"
        );
    }

    #[test]
    fn bad_urls_are_config_errors_that_say_how_to_fix() {
        for (url, needle) in [
            ("mysql://x/y", "starts with postgres://"),
            ("postgres://h/db?schema=1abc", "not a plain identifier"),
            ("postgres://h/db?schema=a%22b", "not a plain identifier"),
            (
                "postgres://h/db?sslmode=allow",
                "use disable, prefer, require",
            ),
            ("postgres://h/db?sslmode=verify-full", "need sslrootcert"),
            (
                "postgres://h/db?sslrootcert=/nonexistent/ca.pem&sslmode=verify-ca",
                "sslrootcert /nonexistent/ca.pem",
            ),
            ("postgres://h/db?bogus=1", "invalid PostgreSQL URL"),
            ("postgres://h/db?schema", "has no `=VALUE`"),
            ("postgres://h/db?schema=%zz", "two hex digits"),
        ] {
            match Target::parse(url, 1000) {
                Err(StoreError::Config(m)) => assert!(m.contains(needle), "{url}: {m}"),
                Err(e) => panic!("{url}: wrong error {e}"),
                Ok(_) => panic!("{url}: accepted"),
            }
        }
    }

    #[test]
    fn tls_modes_n5_3() {
        let t = Target::parse("postgresql://h/db?sslmode=require", 1000).unwrap();
        assert_eq!(t.tls_mode, TlsMode::Require);
        assert_eq!(t.config.get_ssl_mode(), SslMode::Require);
        assert!(t.tls.is_some());
        let t = Target::parse("postgres://h/db?sslmode=prefer", 1000).unwrap();
        assert_eq!(t.config.get_ssl_mode(), SslMode::Prefer);
        let t = Target::parse("postgres://h/db?sslmode=disable", 1000).unwrap();
        assert!(t.tls.is_none());
    }

    #[test]
    fn schema_names() {
        assert!(valid_schema("steward_test_0a1b"));
        assert!(valid_schema("_x"));
        assert!(!valid_schema(""));
        assert!(!valid_schema("9x"));
        assert!(!valid_schema("a-b"));
        assert!(!valid_schema(&"a".repeat(64)));
        assert!(valid_schema(&"a".repeat(63)));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Fb%20c").unwrap(), "a/b c");
        assert!(percent_decode("%").is_err());
        assert!(percent_decode("%ff").is_err()); // not UTF-8
    }
}
