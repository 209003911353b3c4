//! The API's routes, one file per feature. Each feature file declares its
//! routes (`router()`), the token scope they need beside them
//! (`needs_scope`, N5.1), and its part of the OpenAPI document (`Doc`: the
//! paths of its handlers). Adding a feature is one file here and one name in
//! the list below, which builds both the router and the document.

use axum::Router;

use crate::state::AppState;

/// Declare the feature modules, and build from them the router
/// ([`router`]) and the parts of the OpenAPI document ([`docs`]).
macro_rules! features {
    ($($feature:ident),* $(,)?) => {
        $(pub(crate) mod $feature;)*

        /// Every feature's routes (the middleware and fallbacks are added by `app`).
        pub(crate) fn router() -> Router<AppState> {
            Router::new()$(.merge($feature::router()))*
        }

        /// Every feature's part of the OpenAPI document: its paths and the
        /// schemas they use (assembled by `openapi`).
        pub(crate) fn docs() -> Vec<utoipa::openapi::OpenApi> {
            vec![$(<$feature::Doc as utoipa::OpenApi>::openapi()),*]
        }
    };
}

features![
    system,
    records,
    subjects,
    tokens,
    principals,
    obligations,
    justifications,
    processors,
    tenancy,
    users,
    me,
    requests,
    sharing,
    identity,
    incidents,
];
