//! `steward witness`: a minimal witness (c2sp.org/tlog-witness) over HTTP,
//! for tests and small deployments. One route, `POST /add-checkpoint`; the
//! decision and the state file are steward-core's [`WitnessService`]. It
//! handles checkpoints only (no Service Data), so it may listen on any
//! address over plain HTTP: clients trust its cosignature, not the channel.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use steward_core::WitnessService;
use tokio::net::TcpListener;

use crate::ServerError;

/// Largest add-checkpoint body: 63 proof lines and a note with a few signatures.
const BODY_LIMIT: usize = 16 * 1024;

async fn add_checkpoint(State(svc): State<Arc<WitnessService>>, body: String) -> Response {
    let answer = tokio::task::spawn_blocking(move || svc.answer(&body)).await;
    match answer {
        Ok(a) => (
            StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            [(header::CONTENT_TYPE, a.content_type)],
            a.body,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The witness's router.
pub fn witness_router(svc: Arc<WitnessService>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(svc)
}

/// Binds `listen` and serves the witness in the background; returns the
/// bound address (a real port when 0 was asked) and the task.
///
/// # Errors
/// [`ServerError::Bind`].
pub async fn start_witness(
    svc: Arc<WitnessService>,
    listen: SocketAddr,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), ServerError> {
    let bind_err = |e: std::io::Error| ServerError::Bind {
        addr: listen,
        reason: e.to_string(),
    };
    let listener = TcpListener::bind(listen).await.map_err(bind_err)?;
    let addr = listener.local_addr().map_err(bind_err)?;
    let app = witness_router(svc);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, task))
}

/// `steward witness`: serve until Ctrl-C, printing the address and the key
/// string logs pin in `audit.witnesses`.
///
/// # Errors
/// [`ServerError::Runtime`], [`ServerError::Bind`].
pub fn run_witness(svc: WitnessService, listen: SocketAddr) -> Result<(), ServerError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ServerError::Runtime(e.to_string()))?;
    rt.block_on(async move {
        let key = svc.key_string();
        let (addr, _task) = start_witness(Arc::new(svc), listen).await?;
        println!("steward witness: serving http://{addr}/add-checkpoint");
        println!("steward witness: key {key}");
        let _ = tokio::signal::ctrl_c().await;
        println!("steward witness: shutting down");
        Ok(())
    })
}
