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

mod accept;
mod app;
mod authn;
mod call;
mod docs_page;
mod extract;
mod limits;
mod log;
mod metrics;
pub mod openapi;
mod options;
mod problem;
mod routes;
mod state;
mod tls;
mod views;
mod witness;
mod zip_stream;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use steward_core::Steward;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use limits::LimitsClock;
pub use options::{ServeOptions, ServerError, check_options};
pub use tls::fingerprint_hex;
pub use witness::{run_witness, start_witness, witness_router};

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

/// Start serving on the current tokio runtime: check the options, load or
/// make the certificate, bind, issue the one-time bootstrap token on a new
/// store (only after the bind succeeded), mark data subject requests left
/// `in_progress` by a stopped process as failed (`interrupted`; again every
/// minute while serving), and accept connections in a background task.
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
    // The bootstrap token is made only once the port is bound, so a first
    // start that cannot bind loses no token (issue 18, item 2).
    let ttl = opts.bootstrap_ttl_secs;
    let st = steward.clone();
    let bootstrap = tokio::task::spawn_blocking(move || st.bootstrap_token(ttl))
        .await
        .map_err(|e| ServerError::Runtime(e.to_string()))??;
    let state = state::AppState::new(steward.clone(), &opts, openapi::published());
    let app = app::build(state, &opts);
    let (tx, rx) = oneshot::channel();
    let acceptor = tls
        .as_ref()
        .map(|t| tokio_rustls::TlsAcceptor::from(t.config.clone()));
    // Requests left `in_progress` by a process that stopped (issue 6):
    // marked failed, `interrupted`, now and every minute while serving
    // (those whose execution lease is live, `dsr.lease_secs`, or without a
    // lease younger than `dsr.interrupted_after_secs`, wait for a later pass).
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
        accept::accept_loop(listener, acceptor, app, rx).await;
        resumer.abort();
    });
    log::event(
        "info",
        "listening",
        serde_json::json!({"addr": addr.to_string(), "tls": tls.is_some()}),
    );
    // Which way each store is reached: TLS, or the plain text allowed (N5.3).
    for (region, transport) in steward.store_transports() {
        log::event(
            "info",
            "store",
            serde_json::json!({"region": region, "transport": transport}),
        );
    }
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

/// `println!` that ignores a closed standard output: a server started with
/// its output closed serves all the same (issue 18, item 1).
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
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
    // The last reference to Steward is dropped here, after the runtime:
    // the PostgreSQL client's drop runs its own runtime, which panics inside
    // another ("Cannot start a runtime from within a runtime", issue 21).
    let steward = Arc::new(steward);
    let served = steward.clone();
    let result = rt.block_on(async move {
        let running = start(served, opts).await?;
        let scheme = if running.tls { "https" } else { "http" };
        say!("steward: serving {scheme}://{}", running.addr);
        if let Some(fp) = &running.fingerprint {
            if running.cert_created {
                say!("steward: created a self-signed development certificate");
            }
            say!("steward: TLS certificate SHA-256 fingerprint {fp}");
        } else {
            say!("steward: WARNING plain HTTP (--insecure-http), loopback only");
        }
        if let Some(t) = &running.bootstrap_token {
            say!(
                "steward: bootstrap API token for the first operator (shown once, only its hash is stored):\n{t}"
            );
        }
        let _ = tokio::signal::ctrl_c().await;
        say!("steward: shutting down");
        running.shutdown().await;
        Ok(())
    });
    drop(rt);
    drop(steward);
    result
}
