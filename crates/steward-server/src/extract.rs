//! Reading requests: the JSON body extractor [`ApiJson`] (RFC 9457
//! problem+json on rejection), query parameters from a closed list, and the
//! parameter parsers the feature routes share.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{FromRequest, Query, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use steward_domain::{Category, Purpose};

use crate::problem::ApiError;
use crate::state::AppState;

/// A JSON request body decoded to `T`. Rejections are problem+json: 413
/// over the body limit, 415 unless `Content-Type: application/json`, 400
/// naming the error's category and position (never the input) when the body
/// does not decode to `T`. The body was read whole by the middleware before
/// any handler runs; this only decodes it.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> ApiJson<T> {
    /// Decode a body inside a handler, for a handler that must decide
    /// something before the body is looked at (same errors as the extractor).
    pub(crate) async fn read(
        state: &AppState,
        headers: &HeaderMap,
        body: Body,
    ) -> Result<T, ApiError> {
        let bytes = body_bytes(state, body).await?;
        json_body(headers, &bytes)
    }
}

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        Ok(ApiJson(Self::read(state, &parts.headers, body).await?))
    }
}

/// Read the whole body, refusing more than the limit (413).
pub(crate) async fn body_bytes(state: &AppState, body: Body) -> Result<Vec<u8>, ApiError> {
    axum::body::to_bytes(body, state.body_limit)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| ApiError::TooLarge(state.body_limit))
}

/// The media type of a request, lower case, without parameters.
pub(crate) fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// A JSON request body: 415 unless `Content-Type: application/json`, 400
/// naming the error's category and position (never the input) when it does
/// not decode to `T`.
fn json_body<T: DeserializeOwned>(headers: &HeaderMap, bytes: &[u8]) -> Result<T, ApiError> {
    let mt = media_type(headers);
    if mt != "application/json" {
        return Err(ApiError::UnsupportedMediaType(
            "send the body as Content-Type: application/json".into(),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        // serde_json's message may quote input; give its position and category only.
        ApiError::BadRequest(format!(
            "the body is not the expected JSON ({:?} error at line {} column {}): see /openapi.json for the shape",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

/// Query parameters as the handler receives them (never a rejection: the
/// handler answers a bad query string with [`params`]).
pub(crate) type Params =
    Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>;

/// Query parameters, refusing any not in `allowed` (400 naming it).
pub(crate) fn params(q: Params, allowed: &[&str]) -> Result<HashMap<String, String>, ApiError> {
    let Query(map) = q.map_err(|_| {
        ApiError::BadRequest(
            "the query string is not valid application/x-www-form-urlencoded".into(),
        )
    })?;
    if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        let shown: String = k.chars().take(40).collect();
        return Err(ApiError::BadRequest(format!(
            "unknown query parameter `{shown}`: this endpoint takes {}",
            if allowed.is_empty() {
                "none".to_owned()
            } else {
                allowed.join(", ")
            }
        )));
    }
    Ok(map)
}

/// The `purpose` parameter (N3), if given.
pub(crate) fn parse_purpose(v: Option<&String>) -> Result<Option<Purpose>, ApiError> {
    v.map(|p| {
        p.parse::<Purpose>().map_err(|_| {
            ApiError::BadRequest(format!(
                "purpose: not a purpose of the notice; expected one of {} (N3)",
                Purpose::ALL
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    })
    .transpose()
}

/// The `category` parameter (N2), if given.
pub(crate) fn parse_category(v: Option<&String>) -> Result<Option<Category>, ApiError> {
    v.map(|c| {
        c.parse::<Category>().map_err(|_| {
            ApiError::BadRequest(
                "category: expected one of account, billing, configuration, usage, communications (N2)".into(),
            )
        })
    })
    .transpose()
}

/// A date field `YYYY-MM-DD`, if given (400 naming the field).
pub(crate) fn date(field: &str, v: &Option<String>) -> Result<Option<time::Date>, ApiError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    v.as_ref()
        .map(|s| {
            time::Date::parse(s, &fmt)
                .map_err(|_| ApiError::BadRequest(format!("{field}: expected a date YYYY-MM-DD")))
        })
        .transpose()
}

/// 201 Created with `v` as JSON.
pub(crate) fn created<T: Serialize>(v: &T) -> Response {
    (StatusCode::CREATED, axum::Json(v)).into_response()
}
