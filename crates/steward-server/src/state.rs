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
    /// Request bodies of authenticated requests held in memory at once, in
    /// KiB.
    pub body_budget: Arc<tokio::sync::Semaphore>,
    /// The largest body of a request without a valid credential.
    pub anon_body_limit: usize,
    /// Request bodies of requests without a valid credential held at
    /// once, in KiB: a budget of their own, so that they cannot starve
    /// authenticated clients (issue 14 item 4).
    pub anon_budget: Arc<tokio::sync::Semaphore>,
    /// Longest time a client may take to send a body.
    pub body_read_timeout: std::time::Duration,
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
            anon_body_limit: opts.unauthenticated_body_limit.min(opts.body_limit),
            anon_budget: Arc::new(tokio::sync::Semaphore::new(anon_budget_kib(
                opts.unauthenticated_body_limit.min(opts.body_limit),
            ))),
            body_read_timeout: opts.body_read_timeout,
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

/// The budget for bodies of requests without a valid credential, in KiB:
/// sixteen bodies of the largest size they may send, at least 1 MiB.
fn anon_budget_kib(anon_body_limit: usize) -> usize {
    1024usize
        .max(anon_body_limit.div_ceil(1024).saturating_mul(16))
        .min(u32::MAX as usize)
}
