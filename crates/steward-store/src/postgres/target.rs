//! Where and how to connect: the `postgres://` URL and its options
//! (see [`PostgresStore`](super::PostgresStore)), parsed once and used again on every reconnect.

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use postgres::config::{Host, SslMode};
use postgres::{Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::Conn;
use super::errors::{config_err, map_pg, pg_message};
use super::tls::{TlsMode, load_roots, tls_config};
use crate::types::StoreError;

/// Connect timeout when the URL gives none.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Pooled connections when the URL gives no `pool_max_size`.
pub(super) const DEFAULT_POOL_MAX_SIZE: u32 = 8;
/// The largest `pool_max_size` accepted (PostgreSQL's default
/// `max_connections` is 100, shared by every node and region).
const MAX_POOL_MAX_SIZE: u32 = 1000;

/// Where and how to connect: parsed once, used again on every reconnect.
pub(super) struct Target {
    pub(super) config: Config,
    pub(super) tls: Option<MakeRustlsConnect>,
    pub(super) tls_mode: TlsMode,
    pub(super) schema: Option<String>,
    /// Write large record batches with COPY (`record_insert=copy`, the default).
    pub(super) copy_records: bool,
    /// The most connections the store's pool holds (`pool_max_size`).
    pub(super) pool_max_size: u32,
    /// Statements run after connecting (lock timeout, search path).
    pub(super) session_sql: String,
    /// `host:port/database schema S`, for messages (never the password).
    pub(super) described: String,
    /// How the connection travels, for the log: TLS and its mode, or
    /// plain text and why that was allowed (N5.3).
    pub(super) transport: String,
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

/// The first host of `config` that is neither loopback nor a Unix socket
/// (`hostaddr` first: it is what is connected to), if any.
fn remote_host(config: &Config) -> Option<String> {
    if let Some(a) = config.get_hostaddrs().iter().find(|a| !a.is_loopback()) {
        return Some(a.to_string());
    }
    if !config.get_hostaddrs().is_empty() {
        return None;
    }
    config.get_hosts().iter().find_map(|h| match h {
        Host::Tcp(name) => {
            let loopback = name.eq_ignore_ascii_case("localhost")
                || name
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            (!loopback).then(|| name.clone())
        }
        Host::Unix(_) => None,
    })
}

/// How a connection to `config` travels, for the log; refused (N5.3, issue
/// 14 item 9) when it may be plain text to a host that is not on this
/// machine and the configuration did not allow that.
fn transport(
    config: &Config,
    mode: TlsMode,
    allow_plaintext: bool,
    sslmode: Option<&str>,
) -> Result<String, StoreError> {
    let given = sslmode.unwrap_or("absent");
    if !matches!(mode, TlsMode::Disable | TlsMode::Prefer) {
        return Ok(format!("TLS (sslmode={given})"));
    }
    match remote_host(config) {
        None => Ok(format!("plain text allowed on loopback (sslmode={given})")),
        Some(_) if allow_plaintext => Ok(format!(
            "plain text to a remote host (sslmode={given}), allowed by allow_plaintext_store = true"
        )),
        Some(host) => Err(config_err(format!(
            "the PostgreSQL store at {} is not on a loopback address and its URL does not require TLS (sslmode {given}): add `sslmode=verify-full&sslrootcert=PATH` (recommended) or at least `sslmode=require` to the URL, or set `allow_plaintext_store = true` in the configuration to connect in clear (N5.3)",
            host.chars().take(80).collect::<String>()
        ))),
    }
}

impl Target {
    /// Parses a `postgres://` URL (see [`PostgresStore`](super::PostgresStore)).
    /// A URL that does not require TLS (`sslmode` absent, `disable` or
    /// `prefer`) is refused for a host that is not loopback or a Unix
    /// socket, unless `allow_plaintext` (N5.3, issue 14 item 9).
    pub(super) fn parse(
        url: &str,
        lock_timeout_ms: u64,
        allow_plaintext: bool,
    ) -> Result<Self, StoreError> {
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
        let mut pool_max_size = None;
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
                "pool_max_size" => pool_max_size = Some(percent_decode(v)?),
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
        let pool_max_size = match pool_max_size.as_deref() {
            None => DEFAULT_POOL_MAX_SIZE,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_POOL_MAX_SIZE).contains(n))
                .ok_or_else(|| {
                    config_err(format!(
                        "pool_max_size `{}` in the PostgreSQL URL is not a number of connections from 1 to {MAX_POOL_MAX_SIZE}: give e.g. pool_max_size={DEFAULT_POOL_MAX_SIZE}",
                        v.chars().take(40).collect::<String>()
                    ))
                })?,
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
        let transport = transport(&config, tls_mode, allow_plaintext, sslmode.as_deref())?;
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
            pool_max_size,
            session_sql,
            described,
            transport,
        })
    }

    /// Opens a connection and applies the session settings.
    pub(super) fn connect(&self) -> Result<Conn, StoreError> {
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
            broken: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_options_are_split_between_steward_and_the_driver() {
        let t = Target::parse(
            "postgres://steward:secret@db.example:6432/prod?schema=jp&application_name=steward&connect_timeout=3",
            2000,
            true,
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

    /// `pool_max_size` (issue 21 item 5): 8 when absent, 1 to 1000 given,
    /// kept from the driver, anything else refused with the fix.
    #[test]
    fn pool_max_size_option() {
        let parse = |q: &str| Target::parse(&format!("postgres://s@127.0.0.1/db{q}"), 1, false);
        assert_eq!(parse("").unwrap().pool_max_size, 8);
        let t = parse("?pool_max_size=3&application_name=x").unwrap();
        assert_eq!(t.pool_max_size, 3);
        assert_eq!(t.config.get_application_name(), Some("x"));
        assert_eq!(parse("?pool_max_size=1000").unwrap().pool_max_size, 1000);
        for bad in ["0", "1001", "-1", "eight", ""] {
            match parse(&format!("?pool_max_size={bad}")).err() {
                Some(StoreError::Config(m)) => {
                    assert!(
                        m.contains("pool_max_size") && m.contains("from 1 to 1000"),
                        "{m}"
                    )
                }
                other => panic!("pool_max_size={bad}: {other:?}"),
            }
        }
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
            match Target::parse(url, 1000, true) {
                Err(StoreError::Config(m)) => assert!(m.contains(needle), "{url}: {m}"),
                Err(e) => panic!("{url}: wrong error {e}"),
                Ok(_) => panic!("{url}: accepted"),
            }
        }
    }

    #[test]
    fn tls_modes_n5_3() {
        let t = Target::parse("postgresql://h/db?sslmode=require", 1000, false).unwrap();
        assert_eq!(t.tls_mode, TlsMode::Require);
        assert_eq!(t.config.get_ssl_mode(), SslMode::Require);
        assert!(t.tls.is_some());
        let t = Target::parse("postgres://h/db?sslmode=prefer", 1000, true).unwrap();
        assert_eq!(t.config.get_ssl_mode(), SslMode::Prefer);
        let t = Target::parse("postgres://h/db?sslmode=disable", 1000, true).unwrap();
        assert!(t.tls.is_none());
    }

    /// Issue 14 item 9 (N5.3): a store that is not on loopback must be
    /// reached over TLS unless the configuration allows plain text; a
    /// loopback host, `localhost` or a Unix socket may be plain text.
    #[test]
    fn plaintext_to_a_remote_store_is_refused_unless_allowed_item9_n5_3() {
        for url in [
            "postgres://steward@db.example:5432/prod",
            "postgres://steward@10.1.2.3/prod?sslmode=disable",
            "postgres://steward@db.example/prod?sslmode=prefer",
            "postgres://steward@localhost/prod?hostaddr=192.0.2.7",
            "postgres://steward@[2001:db8::1]:5432/prod",
        ] {
            match Target::parse(url, 1000, false) {
                Err(StoreError::Config(m)) => {
                    assert!(m.contains("not on a loopback address"), "{url}: {m}");
                    assert!(m.contains("allow_plaintext_store = true"), "{url}: {m}");
                    assert!(m.contains("sslmode=require"), "{url}: {m}");
                }
                Err(e) => panic!("{url}: wrong error {e}"),
                Ok(_) => panic!("{url}: plain text to a remote host accepted"),
            }
            let t = Target::parse(url, 1000, true).unwrap();
            assert!(
                t.transport.contains("allow_plaintext_store"),
                "{}",
                t.transport
            );
        }
        for url in [
            "postgres://steward@127.0.0.1:5432/test",
            "postgres://steward@localhost/test",
            "postgres://steward@[::1]/test",
            "postgres://steward@127.9.9.9/test?sslmode=disable",
            "postgres://steward@%2Fvar%2Frun%2Fpostgresql/test",
        ] {
            let t = Target::parse(url, 1000, false).unwrap();
            assert!(
                t.transport.starts_with("plain text allowed on loopback"),
                "{url}: {}",
                t.transport
            );
        }
        let t = Target::parse(
            "postgres://steward@db.example/prod?sslmode=require",
            1000,
            false,
        )
        .unwrap();
        assert_eq!(t.transport, "TLS (sslmode=require)");
    }

    /// Issue 14 item 9 (N5.3), at open: a remote store without TLS is
    /// refused before any connection is tried (`.invalid` never resolves,
    /// so a connection attempt would end as `Unwritable`, not `Config`);
    /// a loopback one connects in clear, and says so.
    #[test]
    fn a_remote_store_without_tls_is_refused_at_open_item9_n5_3() {
        let opts = crate::StoreOptions {
            region: "jp".into(),
            busy_timeout_ms: 1000,
            checkpoint_every: 10,
            checkpoint_every_secs: 60,
            origin: "steward.test/audit/jp".into(),
            key_name: "steward.test".into(),
            signing_key: std::sync::Arc::new(ed25519_dalek::SigningKey::from_bytes(&[7; 32])),
            allow_plaintext_store: false,
        };
        match super::super::PostgresStore::open("postgres://steward@db.invalid:5432/prod", opts) {
            Err(StoreError::Config(m)) => {
                assert!(m.contains("db.invalid"), "{m}");
                assert!(m.contains("not on a loopback address"), "{m}");
            }
            Err(e) => panic!("refused at open, before connecting: {e}"),
            Ok(_) => panic!("a remote store in clear was opened"),
        }
        let url = std::env::var("STEWARD_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        match super::super::PostgresStore::connect_client(&url) {
            Ok(mut c) => assert_eq!(c.query_one("SELECT 1", &[]).unwrap().get::<_, i32>(0), 1),
            Err(StoreError::Unwritable { reason }) => {
                println!("skip: no PostgreSQL at the test URL: {reason}")
            }
            Err(e) => panic!("a loopback store connects in clear: {e}"),
        }
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
