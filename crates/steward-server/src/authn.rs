//! Authentication (N5.1, N5.5): bearer tokens checked on every request,
//! brute-force lockout per client address, and a rate limit per principal.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use steward_core::Authenticated;

use crate::api::AppState;
use crate::problem::ApiError;

/// Where the lockout and the rate limit read the time (N5.1): the system's
/// monotonic clock, or a manual clock that only moves when told to, so that
/// tests decide exactly how much time passes between two requests.
#[derive(Debug, Clone, Default)]
pub enum LimitsClock {
    /// [`Instant::now`].
    #[default]
    System,
    /// A frozen instant, moved on by [`LimitsClock::advance`].
    Manual(Arc<Mutex<Instant>>),
}

impl LimitsClock {
    /// A manual clock standing at the present instant.
    pub fn manual() -> LimitsClock {
        LimitsClock::Manual(Arc::new(Mutex::new(Instant::now())))
    }

    /// The current instant of this clock.
    pub fn now(&self) -> Instant {
        match self {
            LimitsClock::System => Instant::now(),
            LimitsClock::Manual(at) => match at.lock() {
                Ok(t) => *t,
                Err(poisoned) => *poisoned.into_inner(),
            },
        }
    }

    /// Moves a manual clock on by `by` (every clone sees it); the system
    /// clock is left alone.
    pub fn advance(&self, by: Duration) {
        if let LimitsClock::Manual(at) = self {
            let mut t = match at.lock() {
                Ok(t) => t,
                Err(poisoned) => poisoned.into_inner(),
            };
            *t += by;
        }
    }
}

/// Failed authentications of one address.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
    locked_until: Option<Instant>,
}

/// A token bucket of one principal.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Lockout and rate-limit state (in memory, per node).
#[derive(Debug)]
pub(crate) struct Limits {
    failures: Mutex<HashMap<IpAddr, Failures>>,
    buckets: Mutex<HashMap<String, Bucket>>,
    lockout_after: u32,
    lockout_for: Duration,
    rate: f64,
    clock: LimitsClock,
}

/// Map entries kept before expired ones are swept.
const SWEEP_AT: usize = 10_000;

impl Limits {
    pub fn new(lockout_after: u32, lockout_for: Duration, rate: u32, clock: LimitsClock) -> Self {
        Limits {
            failures: Mutex::new(HashMap::new()),
            buckets: Mutex::new(HashMap::new()),
            lockout_after: lockout_after.max(1),
            lockout_for,
            rate: f64::from(rate.max(1)),
            clock,
        }
    }

    /// The limits a server is configured with: its lockout, rate and clock.
    pub fn from_options(o: &crate::ServeOptions) -> Self {
        Limits::new(
            o.lockout_after,
            o.lockout_for,
            o.rate_per_principal,
            o.limits_clock.clone(),
        )
    }

    /// Seconds left of a lockout of `ip`, if locked out.
    pub fn locked(&self, ip: IpAddr) -> Option<u64> {
        let now = self.clock.now();
        let map = self.failures.lock().ok()?;
        let until = map.get(&ip)?.locked_until?;
        (until > now).then(|| (until - now).as_secs().max(1))
    }

    /// Record a failed authentication from `ip`; returns true when this
    /// failure starts a lockout.
    pub fn fail(&self, ip: IpAddr) -> bool {
        let now = self.clock.now();
        let Ok(mut map) = self.failures.lock() else {
            return false;
        };
        if map.len() >= SWEEP_AT {
            let window = self.lockout_for;
            map.retain(|_, f| {
                f.locked_until.is_some_and(|u| u > now) || now.duration_since(f.since) < window
            });
        }
        let f = map.entry(ip).or_insert(Failures {
            count: 0,
            since: now,
            locked_until: None,
        });
        if now.duration_since(f.since) >= self.lockout_for {
            *f = Failures {
                count: 0,
                since: now,
                locked_until: None,
            };
        }
        f.count += 1;
        if f.count >= self.lockout_after && f.locked_until.is_none_or(|u| u <= now) {
            f.locked_until = Some(now + self.lockout_for);
            f.count = 0;
            f.since = now;
            return true;
        }
        false
    }

    /// Take one request from `principal`'s bucket (rate per second, burst
    /// twice that); `Err(seconds)` to wait when it is empty.
    pub fn take(&self, principal: &str) -> Result<(), u64> {
        let now = self.clock.now();
        let Ok(mut map) = self.buckets.lock() else {
            return Ok(());
        };
        if map.len() >= SWEEP_AT {
            map.retain(|_, b| now.duration_since(b.at) < Duration::from_secs(60));
        }
        let burst = self.rate * 2.0;
        let b = map.entry(principal.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * self.rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

/// The client address of a request, as the accept loop recorded it.
pub(crate) fn peer_ip(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Refuse a locked-out address with 429 and `Retry-After` (N5.1).
pub(crate) fn check_lockout(state: &AppState, ip: Option<IpAddr>) -> Result<(), ApiError> {
    if let Some(secs) = ip.and_then(|ip| state.limits.locked(ip)) {
        state.metrics.rate_limited.fetch_add(1, Relaxed);
        return Err(ApiError::TooManyRequests(
            "too many failed authentications from this address: try again later (N5.1)".into(),
            secs,
        ));
    }
    Ok(())
}

/// Count a failed authentication (and maybe start a lockout).
pub(crate) fn failed(state: &AppState, ip: Option<IpAddr>, why: &str) {
    state.metrics.auth_failures.fetch_add(1, Relaxed);
    let locked = ip.is_some_and(|ip| state.limits.fail(ip));
    if locked {
        state.metrics.lockouts.fetch_add(1, Relaxed);
    }
    crate::log::event(
        "warn",
        "authentication failed",
        serde_json::json!({"request_id": crate::problem::request_id(), "reason": why, "lockout_started": locked}),
    );
}

/// The authenticated caller of a request (`Authorization: Bearer <token>`).
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub Authenticated);

impl Caller {
    /// The principal's name.
    pub fn name(&self) -> &str {
        &self.0.principal.name
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ip = peer_ip(parts);
        check_lockout(state, ip)?;
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let Some(header) = header else {
            state.metrics.auth_failures.fetch_add(1, Relaxed);
            return Err(ApiError::Unauthenticated(
                "this endpoint needs a credential: send `Authorization: Bearer <token>`",
            ));
        };
        let token = match header.split_once(' ') {
            Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim().to_owned(),
            _ => {
                failed(state, ip, "not_bearer");
                return Err(ApiError::Unauthenticated(
                    "the Authorization header must be `Bearer <token>`",
                ));
            }
        };
        let st = state.steward.clone();
        let res = tokio::task::spawn_blocking(move || st.authenticate_token(&token))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??;
        match res {
            Ok(a) => {
                if let Err(secs) = state.limits.take(&a.principal.name) {
                    state.metrics.rate_limited.fetch_add(1, Relaxed);
                    return Err(ApiError::TooManyRequests(
                        "this principal is over its request rate (N5.1)".into(),
                        secs,
                    ));
                }
                // N5.1: a scoped token reaches only its scopes' endpoints.
                if let Some(needed) = endpoint_scope(parts.uri.path())
                    && !steward_core::scope_allows(&a.scopes, needed)
                {
                    return Err(ApiError::Forbidden(format!(
                        "this token's scopes ({}) do not include `{needed}`, which this endpoint needs: use a token with scope `{needed}` or without scopes",
                        a.scopes.join(", ")
                    )));
                }
                crate::api::note_principal(&a.principal.name);
                Ok(Caller(a))
            }
            Err(f) => {
                failed(state, ip, f.as_str());
                Err(ApiError::Unauthenticated(
                    "the bearer token is not valid: it is unknown, expired or revoked, or its principal is suspended",
                ))
            }
        }
    }
}

/// The token scope (one of [`steward_core::TOKEN_SCOPES`]) an endpoint
/// needs, by its path; `None` for the unauthenticated public endpoints.
pub(crate) fn endpoint_scope(path: &str) -> Option<&'static str> {
    let p = path.strip_prefix("/v1/")?;
    let first = p.split('/').next().unwrap_or("");
    Some(match first {
        "records" | "records:batch" | "cloudevents" => "ingest",
        "subjects" if p.ends_with("/export") => "export",
        "subjects" => "read",
        "users" => "admin",
        "me" => "self",
        "requests" => "requests",
        // tokens, principals, obligations, partners, organisations, and any
        // endpoint added later until it is given a scope of its own.
        _ => "manage",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_has_a_scope_from_the_closed_set_n5_1() {
        let cases = [
            ("/v1/records", "ingest"),
            ("/v1/records:batch", "ingest"),
            ("/v1/cloudevents", "ingest"),
            ("/v1/subjects/username:ann/records", "read"),
            ("/v1/subjects/username:ann/export", "export"),
            ("/v1/users/ann/suspension", "admin"),
            ("/v1/me/export", "self"),
            ("/v1/requests/dsr_1/approve", "requests"),
            ("/v1/tokens", "manage"),
            ("/v1/organisations/org-a/users", "manage"),
        ];
        for (path, scope) in cases {
            assert_eq!(endpoint_scope(path), Some(scope), "{path}");
            assert!(steward_core::TOKEN_SCOPES.contains(&scope));
        }
        assert_eq!(endpoint_scope("/healthz"), None);
        let ingest_only = vec!["ingest".to_string()];
        assert!(steward_core::scope_allows(&ingest_only, "ingest"));
        assert!(!steward_core::scope_allows(&ingest_only, "read"));
        assert!(steward_core::scope_allows(&[], "manage"));
    }

    #[test]
    fn lockout_after_repeated_failures_n5_1() {
        let clock = LimitsClock::manual();
        let l = Limits::new(3, Duration::from_secs(60), 10, clock.clone());
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(!l.fail(ip));
        assert!(!l.fail(ip));
        assert_eq!(l.locked(ip), None);
        assert!(l.fail(ip));
        assert_eq!(l.locked(ip), Some(60));
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(l.locked(other), None);
        clock.advance(Duration::from_secs(59));
        assert_eq!(l.locked(ip), Some(1));
        clock.advance(Duration::from_secs(1));
        assert_eq!(l.locked(ip), None);
    }

    #[test]
    fn rate_limit_allows_a_burst_then_refuses_n5_1() {
        let clock = LimitsClock::manual();
        let l = Limits::new(3, Duration::from_secs(60), 5, clock.clone());
        let ok = (0..10).filter(|_| l.take("p").is_ok()).count();
        assert_eq!(ok, 10);
        assert_eq!(l.take("p"), Err(1));
        assert!(l.take("q").is_ok());
        // 200 ms at 5 per second refill exactly one token.
        clock.advance(Duration::from_millis(200));
        assert_eq!(l.take("p"), Ok(()));
        assert_eq!(l.take("p"), Err(1));
    }
}
