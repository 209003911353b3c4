//! API tokens (N5.1, N5.5): how the HTTP API authenticates a principal.
//!
//! A token is `stw_<id>_<secret>`: `id` is 16 lowercase hex digits (the
//! registry key, safe to log and to name in revocations), `secret` is 256
//! random bits in unpadded base64url. Only the SHA-256 of the whole token is
//! stored (`api_tokens` registry); the token itself is shown once, when it is
//! issued. A token is scoped to one principal, expires, and can be revoked:
//! revocation, and the revocation or suspension of its principal, take
//! effect on the next request (N5.5, N6.5c).

use base64::Engine as _;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use steward_audit::{Resource, ResourceKind};
use steward_domain::{Principal, Purpose};
use steward_policy::{Action, DecisionRequest, RequestContext};
use steward_store::{ChangeSet, RegistryTable};

use crate::gate::{system_entry, token};
use crate::{CoreError, Steward, today};

/// The registry key of the marker row written with the bootstrap token.
const BOOTSTRAP_MARKER: &str = "bootstrap-issued";

/// The longest token lifetime: 366 days.
pub const MAX_TOKEN_TTL_SECS: u64 = 366 * 24 * 3600;

/// A token as stored: its hash, never the token (N5.1).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct TokenRow {
    id: String,
    principal: String,
    /// Hex SHA-256 of the whole token.
    hash: String,
    scopes: Vec<String>,
    created_at: i64,
    expires_at: i64,
    revoked: bool,
    bootstrap: bool,
    issued_by: String,
}

/// What is known about a token (never the token itself).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TokenInfo {
    /// Token id (`0123456789abcdef`): safe to show and log.
    pub id: String,
    /// The principal the token authenticates.
    pub principal: String,
    /// Scopes, from [`TOKEN_SCOPES`]; empty means every endpoint (what the
    /// principal may then do is still decided by policy).
    pub scopes: Vec<String>,
    /// Issued, seconds since the Unix epoch.
    pub created_at: i64,
    /// Expires, seconds since the Unix epoch.
    pub expires_at: i64,
    /// Revoked.
    pub revoked: bool,
    /// The one-time bootstrap token of the first operator.
    pub bootstrap: bool,
    /// Who issued it.
    pub issued_by: String,
}

impl From<&TokenRow> for TokenInfo {
    fn from(r: &TokenRow) -> Self {
        TokenInfo {
            id: r.id.clone(),
            principal: r.principal.clone(),
            scopes: r.scopes.clone(),
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked: r.revoked,
            bootstrap: r.bootstrap,
            issued_by: r.issued_by.clone(),
        }
    }
}

/// The closed set of token scopes (N5.1, N5.5: least privilege for
/// credentials). A token with scopes reaches only the endpoints of those
/// scopes; a token without scopes reaches every endpoint. Either way every
/// access to Service Data is still decided by policy at the gate.
///
/// | scope | endpoints |
/// |---|---|
/// | `ingest` | record, batch and CloudEvents ingest |
/// | `read` | a subject's records for a purpose |
/// | `export` | a subject's export |
/// | `admin` | administrator and reseller powers over users (N6.5) |
/// | `manage` | tokens, principals, obligations, partners, organisations |
/// | `self` | the `/v1/me` self-service endpoints (N7) |
/// | `requests` | data subject requests |
pub const TOKEN_SCOPES: [&str; 7] = [
    "ingest", "read", "export", "admin", "manage", "self", "requests",
];

/// Whether a token with `scopes` may call an endpoint of scope `needed`
/// (one of [`TOKEN_SCOPES`]): an empty scope list allows every endpoint.
pub fn scope_allows(scopes: &[String], needed: &str) -> bool {
    scopes.is_empty() || scopes.iter().any(|s| s == needed)
}

/// A newly issued token: the secret is here once and never again.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The bearer token (`stw_<id>_<secret>`). Show it once; it is not stored.
    pub token: String,
    /// Its stored description.
    pub info: TokenInfo,
}

/// An authenticated request's principal.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The principal, as loaded now.
    pub principal: Principal,
    /// The token id.
    pub token_id: String,
    /// The token's scopes.
    pub scopes: Vec<String>,
}

/// Why a token did not authenticate (for logs and metrics; a client is told
/// only that its credential is not valid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Not of the form `stw_<id>_<secret>`.
    Malformed,
    /// No token with that id, or the secret does not match.
    Unknown,
    /// Past its expiry.
    Expired,
    /// Revoked.
    Revoked,
    /// Its principal is revoked or suspended (N5.5, N6.5c).
    PrincipalRevoked,
}

impl AuthFailure {
    /// A stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::Malformed => "malformed",
            AuthFailure::Unknown => "unknown",
            AuthFailure::Expired => "expired",
            AuthFailure::Revoked => "revoked",
            AuthFailure::PrincipalRevoked => "principal_revoked",
        }
    }
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn hash_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time equality of two byte strings of equal length.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Split `stw_<16 hex>_<43 base64url>` into its id, or `None`.
fn token_id(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("stw_")?;
    let (id, secret) = rest.split_once('_')?;
    let id_ok = id.len() == 16 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let secret_ok = secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (id_ok && secret_ok).then_some(id)
}

impl Steward {
    fn token_row(&self, id: &str) -> Result<Option<TokenRow>, CoreError> {
        let Some(body) = self.store()?.registry_get(RegistryTable::ApiTokens, id)? else {
            return Ok(None);
        };
        serde_json::from_str(&body).map(Some).map_err(|e| {
            CoreError::Store(steward_store::StoreError::Corrupt(format!(
                "api token {id}: {e}"
            )))
        })
    }

    fn new_token_row(
        &self,
        by: &str,
        principal: &str,
        ttl_secs: u64,
        scopes: Vec<String>,
        bootstrap: bool,
    ) -> Result<(String, TokenRow), CoreError> {
        if ttl_secs == 0 || ttl_secs > MAX_TOKEN_TTL_SECS {
            return Err(CoreError::Input(format!(
                "ttl_secs must be 1 to {MAX_TOKEN_TTL_SECS} seconds (366 days)"
            )));
        }
        for s in &scopes {
            if !TOKEN_SCOPES.contains(&s.as_str()) {
                return Err(CoreError::Input(format!(
                    "scopes: `{}` is not a scope: use any of {} (or none for every endpoint)",
                    s.chars().take(64).collect::<String>(),
                    TOKEN_SCOPES.join(", ")
                )));
            }
        }
        let p = self.principal(principal)?;
        if p.revoked {
            return Err(CoreError::Input(format!(
                "principal `{principal}` is revoked or suspended: no token can be issued for it"
            )));
        }
        let mut idb = [0u8; 8];
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut idb);
        rand::rng().fill_bytes(&mut secret);
        let id = hex::encode(idb);
        let tok = format!(
            "stw_{id}_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
        );
        let now = unix_now();
        let row = TokenRow {
            id: id.clone(),
            principal: principal.to_owned(),
            hash: hash_hex(&tok),
            scopes,
            created_at: now,
            expires_at: now.saturating_add(i64::try_from(ttl_secs).unwrap_or(i64::MAX)),
            revoked: false,
            bootstrap,
            issued_by: by.to_owned(),
        };
        Ok((tok, row))
    }

    fn token_change(&self, row: &TokenRow, by: &str, action: &str) -> ChangeSet {
        let mut e = system_entry(
            action,
            &format!("token:{}", row.id),
            "",
            self.policy.version(),
        );
        e.principal = token(by);
        e.clause_ids = vec![token("N5.5"), token("N5.1")];
        e.resource = Resource::new(ResourceKind::Principal)
            .id(token(&row.principal))
            .id(token(&format!("token:{}", row.id)));
        ChangeSet {
            registry: vec![(
                RegistryTable::ApiTokens,
                row.id.clone(),
                serde_json::to_string(row).unwrap_or_default(),
            )],
            audit: vec![e],
            ..Default::default()
        }
    }

    /// Issue an API token for `principal`, valid `ttl_secs` seconds, as `by`
    /// (recorded in the audit log). Only the token's hash is stored.
    ///
    /// Errors: [`CoreError::Input`] for an unknown or revoked principal, a
    /// lifetime outside 1 s to 366 days, or a malformed scope.
    pub fn issue_token(
        &self,
        by: &str,
        principal: &str,
        ttl_secs: u64,
        scopes: Vec<String>,
    ) -> Result<IssuedToken, CoreError> {
        let (tok, row) = self.new_token_row(by, principal, ttl_secs, scopes, false)?;
        self.store()?
            .commit(self.token_change(&row, by, "token_issue"))?;
        Ok(IssuedToken {
            token: tok,
            info: TokenInfo::from(&row),
        })
    }

    /// The first operator's one-time bootstrap token: issued (for
    /// `config.operator`, valid `ttl_secs`) the first time this is called on
    /// a store, `None` on every later call, so it is shown once and never
    /// again. The marker and the token's hash are committed together.
    pub fn bootstrap_token(&self, ttl_secs: u64) -> Result<Option<IssuedToken>, CoreError> {
        if self
            .store()?
            .registry_get(RegistryTable::ApiTokens, BOOTSTRAP_MARKER)?
            .is_some()
        {
            return Ok(None);
        }
        let operator = self.config.operator.clone();
        let (tok, row) = self.new_token_row("steward", &operator, ttl_secs, vec![], true)?;
        let mut cs = self.token_change(&row, "steward", "token_issue");
        cs.registry.push((
            RegistryTable::ApiTokens,
            BOOTSTRAP_MARKER.to_owned(),
            serde_json::json!({"token": row.id, "created_at": row.created_at}).to_string(),
        ));
        self.store()?.commit(cs)?;
        Ok(Some(IssuedToken {
            token: tok,
            info: TokenInfo::from(&row),
        }))
    }

    /// Authenticate a bearer token: it must exist, match its stored hash,
    /// be unexpired and unrevoked, and its principal must not be revoked or
    /// suspended. The principal is loaded afresh on every call, so a
    /// revocation or suspension takes effect on the very next request (N5.5,
    /// N6.5c).
    ///
    /// Returns `Ok(Err(reason))` when the token does not authenticate.
    pub fn authenticate_token(
        &self,
        bearer: &str,
    ) -> Result<Result<Authenticated, AuthFailure>, CoreError> {
        let Some(id) = token_id(bearer) else {
            return Ok(Err(AuthFailure::Malformed));
        };
        let Some(row) = self.token_row(id)? else {
            return Ok(Err(AuthFailure::Unknown));
        };
        if !ct_eq(hash_hex(bearer).as_bytes(), row.hash.as_bytes()) {
            return Ok(Err(AuthFailure::Unknown));
        }
        if row.revoked {
            return Ok(Err(AuthFailure::Revoked));
        }
        if unix_now() >= row.expires_at {
            return Ok(Err(AuthFailure::Expired));
        }
        let principal = match self.principal(&row.principal) {
            Ok(p) => p,
            Err(CoreError::Input(_)) => return Ok(Err(AuthFailure::PrincipalRevoked)),
            Err(e) => return Err(e),
        };
        if principal.revoked {
            return Ok(Err(AuthFailure::PrincipalRevoked));
        }
        Ok(Ok(Authenticated {
            principal,
            token_id: row.id,
            scopes: row.scopes,
        }))
    }

    /// Revoke token `id` as `by`: refused from the next request on.
    /// Returns whether the token existed.
    pub fn revoke_token(&self, by: &str, id: &str) -> Result<bool, CoreError> {
        if id == BOOTSTRAP_MARKER {
            return Ok(false);
        }
        let Some(mut row) = self.token_row(id)? else {
            return Ok(false);
        };
        row.revoked = true;
        self.store()?
            .commit(self.token_change(&row, by, "token_revoke"))?;
        Ok(true)
    }

    /// Tokens (descriptions only), optionally of one principal.
    pub fn tokens(&self, principal: Option<&str>) -> Result<Vec<TokenInfo>, CoreError> {
        let rows = self.store()?.registry_list(RegistryTable::ApiTokens)?;
        Ok(rows
            .into_iter()
            .filter(|(id, _)| id != BOOTSTRAP_MARKER)
            .filter_map(|(_, b)| serde_json::from_str::<TokenRow>(&b).ok())
            .filter(|r| principal.is_none_or(|p| r.principal == p))
            .map(|r| TokenInfo::from(&r))
            .collect())
    }

    /// Revoke every token of `principal` (suspension, N6.5c). Returns how many.
    pub fn revoke_tokens_of(&self, by: &str, principal: &str) -> Result<u64, CoreError> {
        let mut n = 0;
        for t in self.tokens(Some(principal))? {
            if !t.revoked && self.revoke_token(by, &t.id)? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Decide a system action of no single subject (`manage_principals`,
    /// `audit_read`, `keys_rotate`) for `principal` and `purpose`, and record
    /// the decision in the audit log (fail closed).
    ///
    /// Whether `principal` is the configured operator (`config.operator`,
    /// the first operator the bootstrap token is for) goes to the policy as
    /// `context.configured_operator`: the pack's `bootstrap-operator` policy
    /// lets that operator manage principals, tokens and tenancy and rotate
    /// keys for `protect` (N5.5, N5.2), subject to every principal forbid
    /// (revoked, training expired).
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::AuditUnavailable`].
    pub fn authorize_system(
        &self,
        principal: &Principal,
        action: Action,
        purpose: Purpose,
        what: &str,
    ) -> Result<(), CoreError> {
        let context = self.system_context(principal, action);
        let d = self.policy.decide(&DecisionRequest {
            principal,
            action,
            subject: None,
            category: None,
            organisation: None,
            purpose: Some(purpose),
            context,
        });
        let entry = self.decision_entry(
            &d,
            action.as_str(),
            &principal.name,
            Some(purpose),
            0,
            Resource::new(ResourceKind::Principal).id(token(what)),
        );
        if !d.allowed {
            return Err(self.record_denial(d, entry));
        }
        self.store()?
            .commit(ChangeSet {
                audit: vec![entry],
                ..Default::default()
            })
            .map_err(|e| CoreError::AuditUnavailable(e.to_string()))?;
        Ok(())
    }

    /// The context of a system decision: today, whether `principal` is the
    /// configured operator, and for `dsr_handle` a recorded legal
    /// obligation, since the data subject request register is itself the
    /// record of the obligations it handles (N3.7, N7.2).
    fn system_context(&self, principal: &Principal, action: Action) -> RequestContext {
        let mut context = RequestContext::new(today());
        context.configured_operator = principal.name == self.config.operator;
        context.legal_obligation_recorded = action == Action::DsrHandle;
        context
    }

    /// Decide whether `principal` may handle data subject requests (read
    /// the register, send and check one-time codes, approve, reject,
    /// extend; N7.2, N7.4): the pack's `dsr_handle` action for `comply`
    /// (policy `staff-privacy-handle-requests`: privacy-team staff), the
    /// decision recorded like every [`Steward::authorize_system`] one, its
    /// resource `what`: the request id, or `dsr_requests` for the register.
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::AuditUnavailable`].
    pub fn authorize_dsr_handling(
        &self,
        principal: &Principal,
        what: &str,
    ) -> Result<(), CoreError> {
        self.authorize_system(principal, Action::DsrHandle, Purpose::Comply, what)
    }

    /// The pack's decision on `dsr_handle` for `principal`, not recorded:
    /// for a choice inside an operation that records itself (whether a
    /// request opened on a subject's behalf is verified at once).
    pub(crate) fn may_handle_requests(&self, principal: &Principal) -> bool {
        let context = self.system_context(principal, Action::DsrHandle);
        self.policy
            .decide(&DecisionRequest {
                principal,
                action: Action::DsrHandle,
                subject: None,
                category: None,
                organisation: None,
                purpose: Some(Purpose::Comply),
                context,
            })
            .allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_shape_is_checked_before_any_lookup() {
        let good = format!("stw_0123456789abcdef_{}", "A".repeat(43));
        assert_eq!(token_id(&good), Some("0123456789abcdef"));
        assert_eq!(token_id("stw_0123456789ABCDEF_x"), None);
        assert_eq!(
            token_id(&format!("stw_0123456789abcdef_{}", "A".repeat(42))),
            None
        );
        assert_eq!(
            token_id(&format!("xyz_0123456789abcdef_{}", "A".repeat(43))),
            None
        );
        assert_eq!(token_id(""), None);
    }

    #[test]
    fn constant_time_equality() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
