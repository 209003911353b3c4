//! Calling Steward's core from a handler: the core is synchronous and holds
//! a mutex per store, so every call runs on tokio's blocking pool with an
//! `Arc<Steward>`; its error becomes the API's problem response.

use std::sync::atomic::Ordering::Relaxed;

use steward_core::{CoreError, Steward};

use crate::problem::ApiError;
use crate::state::AppState;

/// Run `f` on the blocking pool with Steward.
pub(crate) async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Steward) -> Result<T, CoreError> + Send + 'static,
{
    let st = state.steward.clone();
    tokio::task::spawn_blocking(move || f(&st))
        .await
        .map_err(|e| ApiError::Internal(format!("blocking task: {e}")))?
        .map_err(ApiError::from)
}

/// [`blocking`] for a call that asks the gate: counts the decision.
pub(crate) async fn gated<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Steward) -> Result<T, CoreError> + Send + 'static,
{
    let r = blocking(state, f).await;
    match &r {
        Ok(_) => state.metrics.gate_allow.fetch_add(1, Relaxed),
        Err(ApiError::Denied(_)) => state.metrics.gate_deny.fetch_add(1, Relaxed),
        Err(_) => 0,
    };
    r
}
