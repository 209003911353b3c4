//! The accept loop: TLS (rustls, ALPN) when configured, then HTTP/1.1 or
//! HTTP/2 on each connection, until shutdown.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use tower::ServiceExt as _;

/// Accept connections until `shutdown`: TLS (when `acceptor`) with ALPN,
/// then HTTP/1.1 or HTTP/2 on each.
pub(crate) async fn accept_loop(
    listener: tokio::net::TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    app: Router,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    crate::log::event("warn", "accept failed", serde_json::json!({"error": e.to_string()}));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let app = app.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let svc = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                    app.clone().oneshot(req)
                },
            );
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10));
            builder
                .http2()
                .timer(TokioTimer::new())
                .max_concurrent_streams(128);
            match acceptor {
                Some(a) => {
                    match tokio::time::timeout(Duration::from_secs(10), a.accept(tcp)).await {
                        Ok(Ok(s)) => {
                            let r = builder.serve_connection(TokioIo::new(s), svc).await;
                            log_connection_end(r);
                        }
                        Ok(Err(e)) => crate::log::event(
                            "debug",
                            "TLS handshake failed",
                            serde_json::json!({ "error": e.to_string() }),
                        ),
                        Err(_) => crate::log::event(
                            "debug",
                            "TLS handshake timed out",
                            serde_json::json!({ "after_s": 10 }),
                        ),
                    }
                }
                None => {
                    let r = builder.serve_connection(TokioIo::new(tcp), svc).await;
                    log_connection_end(r);
                }
            }
        });
    }
}

/// Log a connection that ended with an error (the error's text from hyper,
/// which names the protocol fault, never request content).
fn log_connection_end(r: Result<(), Box<dyn std::error::Error + Send + Sync>>) {
    if let Err(e) = r {
        let mut chain = e.to_string();
        let mut src = e.source();
        while let Some(s) = src {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            src = s.source();
        }
        crate::log::event(
            "debug",
            "connection ended with an error",
            serde_json::json!({ "error": crate::log::redact_quoted(&chain) }),
        );
    }
}
