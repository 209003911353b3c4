//! Steward's HTTP API (`steward serve`).
//!
//! HTTPS with rustls (HTTP/1.1 and HTTP/2, N5.3); with no certificate
//! configured, a self-signed development certificate is made on first start
//! in the data directory and its SHA-256 fingerprint printed. Plain HTTP only
//! with `--insecure-http`, and then only on a loopback address.
//!
//! Every request but `/healthz` and `/.well-known/gpc.json` needs
//! `Authorization: Bearer <token>` (N5.1, N5.5). Every path that returns or
//! changes Service Data calls steward-core's gate, which decides by policy
//! and records the decision in the audit log before anything is decrypted.
//! Errors are RFC 9457 `application/problem+json` and never carry Service
//! Data; an internal error is a bare 500 whose detail goes to the log under
//! the request id. Logs are JSON lines on standard error that name the
//! matched route (never the raw path, which may hold an identifier).
//!
//! Steward's core is synchronous and holds a mutex per store: handlers call
//! it on tokio's blocking pool with an `Arc<Steward>`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod api;
mod authn;
mod docs_page;
mod log;
mod metrics;
pub mod openapi;
mod problem;
mod requests_api;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use steward_core::Steward;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use authn::LimitsClock;
pub use tls::fingerprint_hex;

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on (`127.0.0.1:8443`; port 0 picks a free port).
    pub listen: SocketAddr,
    /// Serve plain HTTP. Only on a loopback address (N5.3).
    pub insecure_http: bool,
    /// PEM certificate chain; with `tls_key`. Default: the development
    /// certificate `<data-dir>/tls/dev-cert.pem`, made on first start.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<PathBuf>,
    /// Largest request body accepted, in bytes (413 beyond).
    pub body_limit: usize,
    /// Longest time a request may take (503 beyond).
    pub request_timeout: Duration,
    /// Lifetime of the one-time bootstrap token, in seconds.
    pub bootstrap_ttl_secs: u64,
    /// Requests per second allowed per principal (N5.1); bursts up to twice this.
    pub rate_per_principal: u32,
    /// Failed authentications from one address before it is locked out (N5.1).
    pub lockout_after: u32,
    /// How long a lockout lasts.
    pub lockout_for: Duration,
    /// The clock of the lockout and the rate limit: the system clock, or a
    /// manual one in tests (N5.1).
    pub limits_clock: LimitsClock,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            insecure_http: false,
            tls_cert: None,
            tls_key: None,
            body_limit: 4 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            bootstrap_ttl_secs: 7 * 24 * 3600,
            rate_per_principal: 200,
            lockout_after: 10,
            lockout_for: Duration::from_secs(60),
            limits_clock: LimitsClock::System,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServerError {
    /// `--insecure-http` on an address that is not loopback (N5.3).
    #[error(
        "--insecure-http serves plain HTTP and may only listen on a loopback address (127.0.0.0/8 or ::1), not {0}: drop --insecure-http to serve HTTPS, or listen on 127.0.0.1 (N5.3)"
    )]
    InsecureNotLoopback(SocketAddr),
    /// Only one of the certificate and the key was given.
    #[error(
        "give both --tls-cert and --tls-key, or neither (then a development certificate is used)"
    )]
    HalfTlsConfig,
    /// The certificate or key could not be read, made or used.
    #[error("TLS: {0}")]
    Tls(String),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
    /// Steward's core failed at start (bootstrap token).
    #[error("{0}")]
    Core(#[from] steward_core::CoreError),
    /// The async runtime could not be built.
    #[error("runtime: {0}")]
    Runtime(String),
}

/// A server that is running.
#[derive(Debug)]
pub struct Running {
    /// The bound address (the port is real when 0 was asked).
    pub addr: SocketAddr,
    /// Whether it serves HTTPS.
    pub tls: bool,
    /// The certificate (DER) clients should expect: pin it.
    pub cert_der: Option<Vec<u8>>,
    /// Its SHA-256 fingerprint, `AB:CD:…`.
    pub fingerprint: Option<String>,
    /// Whether the development certificate was made on this start.
    pub cert_created: bool,
    /// The one-time bootstrap token of the first operator: `Some` only on the
    /// first start of a store, never again.
    pub bootstrap_token: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stop accepting connections and wait for the accept loop to end.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Wait until the server stops (it stops only on [`Running::shutdown`]).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Check the listening options (N5.3): plain HTTP on loopback only, and a
/// certificate with its key or neither.
pub fn check_options(opts: &ServeOptions) -> Result<(), ServerError> {
    if opts.insecure_http && !opts.listen.ip().is_loopback() {
        return Err(ServerError::InsecureNotLoopback(opts.listen));
    }
    if opts.tls_cert.is_some() != opts.tls_key.is_some() {
        return Err(ServerError::HalfTlsConfig);
    }
    Ok(())
}

/// Start serving on the current tokio runtime: check the options, load or
/// make the certificate, issue the one-time bootstrap token on a new store,
/// mark data subject requests left `in_progress` by a stopped process as
/// failed (`interrupted`; again every minute while serving), bind, and
/// accept connections in a background task.
pub async fn start(steward: Arc<Steward>, opts: ServeOptions) -> Result<Running, ServerError> {
    check_options(&opts)?;
    let tls = if opts.insecure_http {
        None
    } else {
        Some(tls::load_or_create(
            steward.data_dir(),
            opts.tls_cert.as_deref(),
            opts.tls_key.as_deref(),
        )?)
    };
    let ttl = opts.bootstrap_ttl_secs;
    let st = steward.clone();
    let bootstrap = tokio::task::spawn_blocking(move || st.bootstrap_token(ttl))
        .await
        .map_err(|e| ServerError::Runtime(e.to_string()))??;
    let listener = TcpListener::bind(opts.listen)
        .await
        .map_err(|e| ServerError::Bind {
            addr: opts.listen,
            reason: e.to_string(),
        })?;
    let addr = listener.local_addr().map_err(|e| ServerError::Bind {
        addr: opts.listen,
        reason: e.to_string(),
    })?;
    let state = api::AppState::new(steward.clone(), &opts);
    let app = api::router(state, &opts);
    let (tx, rx) = oneshot::channel();
    let acceptor = tls
        .as_ref()
        .map(|t| tokio_rustls::TlsAcceptor::from(t.config.clone()));
    // Requests left `in_progress` by a process that stopped (issue 6):
    // marked failed, `interrupted`, now and every minute while serving
    // (those younger than `dsr.interrupted_after_secs` wait for a later pass).
    resume_interrupted(&steward).await;
    let resumer = {
        let st = steward.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(RESUME_EVERY).await;
                resume_interrupted(&st).await;
            }
        })
    };
    let task = tokio::spawn(async move {
        api::accept_loop(listener, acceptor, app, rx).await;
        resumer.abort();
    });
    log::event(
        "info",
        "listening",
        serde_json::json!({"addr": addr.to_string(), "tls": tls.is_some()}),
    );
    Ok(Running {
        addr,
        tls: tls.is_some(),
        cert_der: tls.as_ref().map(|t| t.cert_der.clone()),
        fingerprint: tls.as_ref().map(|t| fingerprint_hex(&t.cert_der)),
        cert_created: tls.as_ref().is_some_and(|t| t.created),
        bootstrap_token: bootstrap.map(|b| b.token),
        shutdown: Some(tx),
        task,
    })
}

/// How often a running server looks for interrupted data subject requests.
const RESUME_EVERY: Duration = Duration::from_secs(60);

/// One pass of [`Steward::resume_in_progress`], logged: the request ids
/// marked failed (`interrupted`), or why the pass could not run.
async fn resume_interrupted(steward: &Arc<Steward>) {
    let st = steward.clone();
    match tokio::task::spawn_blocking(move || st.resume_in_progress()).await {
        Ok(Ok(ids)) => {
            for id in ids {
                log::event(
                    "warn",
                    "request interrupted: marked failed; approve it again to re-run it",
                    serde_json::json!({ "dsr_request": id }),
                );
            }
        }
        Ok(Err(e)) => log::event(
            "warn",
            "could not look for interrupted requests",
            serde_json::json!({ "error": crate::log::redact_quoted(&e.to_string()) }),
        ),
        Err(e) => log::event(
            "warn",
            "could not look for interrupted requests",
            serde_json::json!({ "error": e.to_string() }),
        ),
    }
}

/// `steward serve`: build a multi-threaded runtime, start, print the
/// address, the certificate fingerprint and (on the first start only) the
/// bootstrap token on standard output, and serve until Ctrl-C.
pub fn run(steward: Steward, opts: ServeOptions) -> Result<(), ServerError> {
    check_options(&opts)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ServerError::Runtime(e.to_string()))?;
    rt.block_on(async move {
        let running = start(Arc::new(steward), opts).await?;
        let scheme = if running.tls { "https" } else { "http" };
        println!("steward: serving {scheme}://{}", running.addr);
        if let Some(fp) = &running.fingerprint {
            if running.cert_created {
                println!("steward: created a self-signed development certificate");
            }
            println!("steward: TLS certificate SHA-256 fingerprint {fp}");
        } else {
            println!("steward: WARNING plain HTTP (--insecure-http), loopback only");
        }
        if let Some(t) = &running.bootstrap_token {
            println!(
                "steward: bootstrap API token for the first operator (shown once, only its hash is stored):\n{t}"
            );
        }
        let _ = tokio::signal::ctrl_c().await;
        println!("steward: shutting down");
        running.shutdown().await;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_http_refuses_a_non_loopback_address_n5_3() {
        let opts = ServeOptions {
            listen: "0.0.0.0:8080".parse().unwrap(),
            insecure_http: true,
            ..Default::default()
        };
        let e = check_options(&opts).unwrap_err().to_string();
        assert!(e.contains("loopback") && e.contains("0.0.0.0:8080"), "{e}");
        for ok in ["127.0.0.1:8080", "[::1]:8080", "127.1.2.3:1"] {
            let opts = ServeOptions {
                listen: ok.parse().unwrap(),
                insecure_http: true,
                ..Default::default()
            };
            assert!(check_options(&opts).is_ok(), "{ok}");
        }
        // HTTPS may listen anywhere.
        let opts = ServeOptions {
            listen: "0.0.0.0:8443".parse().unwrap(),
            ..Default::default()
        };
        assert!(check_options(&opts).is_ok());
    }

    #[test]
    fn certificate_and_key_come_together() {
        let opts = ServeOptions {
            tls_cert: Some("c.pem".into()),
            ..Default::default()
        };
        assert!(matches!(
            check_options(&opts),
            Err(ServerError::HalfTlsConfig)
        ));
    }
}
