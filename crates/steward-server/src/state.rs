//! The application state every handler shares: Steward's core, the
//! counters, the authentication limits, the request-body budget and the
//! published API description.

use std::sync::Arc;

use steward_core::Steward;

use crate::limits::Limits;
use crate::metrics::Metrics;

/// The API description as served: `/openapi.json` and its HTML rendering
/// `/docs`, each made once per process (the document is fixed at compile
/// time).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ApiDocs {
    /// The OpenAPI 3.1 document, pretty-printed JSON.
    pub json: &'static str,
    /// The same document as one HTML page (no script).
    pub html: &'static str,
}

/// Shared state of the handlers.
#[derive(Clone)]
pub(crate) struct AppState {
    pub steward: Arc<Steward>,
    pub metrics: Arc<Metrics>,
    pub limits: Arc<Limits>,
    pub body_limit: usize,
    /// Request bodies held in memory at once, in KiB, across all requests
    /// (bodies are read whole before authentication: this bounds what
    /// unauthenticated clients can make the server hold).
    pub body_budget: Arc<tokio::sync::Semaphore>,
    /// The API description served by `/openapi.json` and `/docs`.
    pub docs: ApiDocs,
}

impl AppState {
    pub fn new(steward: Arc<Steward>, opts: &crate::options::ServeOptions, docs: ApiDocs) -> Self {
        AppState {
            steward,
            metrics: Arc::new(Metrics::default()),
            limits: Arc::new(Limits::new(
                opts.lockout_after,
                opts.lockout_for,
                opts.rate_per_principal,
                opts.limits_clock.clone(),
            )),
            body_limit: opts.body_limit,
            body_budget: Arc::new(tokio::sync::Semaphore::new(body_budget_kib(
                opts.body_limit,
            ))),
            docs,
        }
    }
}

/// The budget for request bodies held at once, in KiB: 64 MiB, or four
/// bodies of the largest size allowed when that is more.
fn body_budget_kib(body_limit: usize) -> usize {
    (64 * 1024)
        .max(body_limit.div_ceil(1024).saturating_mul(4))
        .min(u32::MAX as usize)
}
