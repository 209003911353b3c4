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
use steward_domain::Principal;
use steward_store::{ChangeSet, RegistryField, RegistryQuery, RegistryTable};

use crate::authorize::{ManagementAction, Target};
use crate::gate::{system_entry, token};
use crate::rows::row_json;
use crate::{CoreError, Steward};

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
/// | `operate` | `/metrics`, `/openapi.json` and `/docs` |
///
/// Only `/healthz` and `/.well-known/gpc.json` take no token and are
/// outside every scope.
pub const TOKEN_SCOPES: [&str; 8] = [
    "ingest", "read", "export", "admin", "manage", "self", "requests", "operate",
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

fn hash_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time equality of two byte strings of equal length.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `id` has the shape of a token id (16 lowercase hex digits).
fn is_token_id(id: &str) -> bool {
    id.len() == 16 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Split `stw_<16 hex>_<43 base64url>` into its id, or `None`.
fn token_id(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("stw_")?;
    let (id, secret) = rest.split_once('_')?;
    let id_ok = is_token_id(id);
    let secret_ok = secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (id_ok && secret_ok).then_some(id)
}

impl Steward {
    fn token_row(&self, id: &str) -> Result<Option<TokenRow>, CoreError> {
        let Some(body) = self
            .store_read()?
            .registry_get(RegistryTable::ApiTokens, id)?
        else {
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
        let now = self.clock.unix_seconds();
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

    fn token_change(&self, row: &TokenRow, by: &str, action: &str) -> Result<ChangeSet, CoreError> {
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
        Ok(ChangeSet {
            registry: vec![(RegistryTable::ApiTokens, row.id.clone(), row_json(row)?)],
            audit: vec![e],
            ..Default::default()
        })
    }

    /// Issue an API token for `principal`, valid `ttl_secs` seconds, as `by`
    /// (recorded in the audit log). Only the token's hash is stored.
    /// Decided by the pack first ([`ManagementAction::TokenIssue`]:
    /// `manage_principals` for `protect`, N5.5), audited.
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::Input`] for an
    /// unknown or revoked principal, a lifetime outside 1 s to 366 days, or
    /// a malformed scope.
    pub fn issue_token(
        &self,
        by: &str,
        principal: &str,
        ttl_secs: u64,
        scopes: Vec<String>,
    ) -> Result<IssuedToken, CoreError> {
        self.authorize_management(by, ManagementAction::TokenIssue, Target::named(principal))?;
        let (tok, row) = self.new_token_row(by, principal, ttl_secs, scopes, false)?;
        self.store()?
            .commit(self.token_change(&row, by, "token_issue")?)?;
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
        let mut cs = self.token_change(&row, "steward", "token_issue")?;
        cs.registry.push((
            RegistryTable::ApiTokens,
            BOOTSTRAP_MARKER.to_owned(),
            serde_json::json!({"token": row.id, "created_at": row.created_at}).to_string(),
        ));
        // Issue 21: nodes started together on an empty store race here; the
        // marker must not exist at commit, so exactly one issues the token
        // and the others write nothing.
        cs.guards.push(steward_store::RegistryGuard {
            table: RegistryTable::ApiTokens,
            id: BOOTSTRAP_MARKER.to_owned(),
            expected: None,
        });
        match self.store()?.commit(cs) {
            Ok(_) => {}
            Err(steward_store::StoreError::GuardConflict { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
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
        if self.clock.unix_seconds() >= row.expires_at {
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

    /// Revoke token `id` as `by`: refused from the next request on. A
    /// principal may revoke its own tokens; any other token's revocation,
    /// or that of an id that names no token, is decided by the pack
    /// ([`ManagementAction::TokenRevoke`], `manage_principals`, N5.5),
    /// audited. Returns whether the token existed (asked only of an
    /// allowed principal).
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::Input`] for an
    /// unknown `by`.
    pub fn revoke_token(&self, by: &str, id: &str) -> Result<bool, CoreError> {
        let row = if is_token_id(id) {
            self.token_row(id)?
        } else {
            None
        };
        // Another principal's token, or an id that names none, is decided
        // first (audited): a refusal does not tell whether the id exists
        // (issue 14 item 8).
        if row.as_ref().is_none_or(|r| r.principal != by) {
            let what = if is_token_id(id) {
                format!("token:{id}")
            } else {
                "token:malformed".to_owned()
            };
            self.authorize_management(by, ManagementAction::TokenRevoke, Target::named(&what))?;
        }
        let Some(mut row) = row else {
            return Ok(false);
        };
        row.revoked = true;
        self.store()?
            .commit(self.token_change(&row, by, "token_revoke")?)?;
        Ok(true)
    }

    /// The tokens (descriptions only) of `principal`, as `by`: a principal
    /// sees its own; another's, or every token (`None`), is decided by the
    /// pack ([`ManagementAction::TokenList`], `manage_principals`, N5.5),
    /// audited.
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::Input`] for an
    /// unknown `by`; [`CoreError::Store`] for a corrupt row.
    pub fn tokens(&self, by: &str, principal: Option<&str>) -> Result<Vec<TokenInfo>, CoreError> {
        if principal != Some(by) {
            self.authorize_management(
                by,
                ManagementAction::TokenList,
                Target::named(principal.unwrap_or("tokens")),
            )?;
        }
        Ok(self
            .token_rows(principal)?
            .iter()
            .map(TokenInfo::from)
            .collect())
    }

    /// The stored token rows, optionally of one principal.
    fn token_rows(&self, principal: Option<&str>) -> Result<Vec<TokenRow>, CoreError> {
        let store = self.store()?;
        let rows = match principal {
            Some(p) => store.registry_find(
                RegistryTable::ApiTokens,
                RegistryQuery::Equals(RegistryField::Principal, p),
            )?,
            None => store.registry_list(RegistryTable::ApiTokens)?,
        };
        let mut out = Vec::new();
        for (id, b) in rows {
            if id == BOOTSTRAP_MARKER {
                continue;
            }
            let r: TokenRow = serde_json::from_str(&b).map_err(|e| {
                CoreError::Store(steward_store::StoreError::Corrupt(format!(
                    "api token {id}: {e}"
                )))
            })?;
            if principal.is_none_or(|p| r.principal == p) {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Revoke every token of `principal` as `by`, for an operation that has
    /// decided the change already (an administrator's suspension, N6.5c; a
    /// change of a principal's kind or teams, N5.5). Returns how many.
    pub(crate) fn revoke_tokens_of(&self, by: &str, principal: &str) -> Result<u64, CoreError> {
        let mut n = 0;
        for t in self.token_rows(Some(principal))? {
            if !t.revoked {
                let mut row = t;
                row.revoked = true;
                self.store()?
                    .commit(self.token_change(&row, by, "token_revoke")?)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Exchange a user's password for a token valid `ttl_secs` (N7.2; the
    /// user authenticates as themselves, so no policy decision is asked: the
    /// token is issued by and for the user, audited as `token_issue`).
    ///
    /// Returns `None`, the same for every reason, when there is no such
    /// user, no password is set, the user is suspended (N6.5c) or the
    /// password does not match. Every attempt does the same work, one
    /// argon2id verification (issue 14 item 5): against the user's hash, or
    /// against a fixed dummy hash of the same parameters when there is no
    /// hash to check or the user is suspended, so the time does not tell
    /// which reason it was.
    pub fn login(
        &self,
        user: &str,
        password: &str,
        ttl_secs: u64,
    ) -> Result<Option<IssuedToken>, CoreError> {
        let account = self.user(user)?;
        let hash = account
            .as_ref()
            .filter(|a| !a.suspended)
            .and_then(|a| a.password_hash.clone());
        let ok = match hash {
            Some(h) => verify_password(password, &h),
            None => {
                let _ = verify_password(password, DUMMY_HASH);
                false
            }
        };
        if !ok {
            return Ok(None);
        }
        let (tok, row) = self.new_token_row(user, user, ttl_secs, vec![], false)?;
        self.store()?
            .commit(self.token_change(&row, user, "token_issue")?)?;
        Ok(Some(IssuedToken {
            token: tok,
            info: TokenInfo::from(&row),
        }))
    }

    /// Tell the administrators of user `user`'s organisation that its logins
    /// were locked after repeated failures (N5.1, issue 14 item 6): an audit
    /// entry `login_lockout` naming the user and the organisation. Nothing
    /// is recorded for a name that is no user (the name is the client's
    /// input). Returns whether an entry was recorded.
    ///
    /// Errors: [`CoreError::Store`] when the entry cannot be written.
    pub fn record_login_lockout(&self, user: &str) -> Result<bool, CoreError> {
        let Some(account) = self.user(user)? else {
            return Ok(false);
        };
        let mut e = system_entry("login_lockout", &account.name, "", self.policy.version());
        e.clause_ids = vec![token("N5.1")];
        e.resource = Resource::new(ResourceKind::Principal)
            .id(token(&account.name))
            .id(token(&format!("organisation:{}", account.organisation)));
        self.store()?.commit(ChangeSet {
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(true)
    }
}

/// The shortest and longest password accepted, in characters.
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 12..=1024;

/// Hash a password with argon2id and a fresh random salt, as a PHC string
/// (`$argon2id$v=19$...`). Slow on purpose (tens of milliseconds): call it
/// off an async runtime's worker threads.
///
/// Errors: [`CoreError::Input`] when the password is not 12 to 1024
/// characters; [`CoreError::Config`] if argon2 fails. No error carries the
/// password.
pub fn hash_password(password: &str) -> Result<String, CoreError> {
    use argon2::PasswordHasher as _;
    let n = password.chars().count();
    if !PASSWORD_CHARS.contains(&n) {
        return Err(CoreError::Input("password: 12 to 1024 characters".into()));
    }
    count_argon2_run();
    let salt =
        argon2::password_hash::SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Config(format!("argon2: {e}")))
}

/// Whether `password` matches the PHC string `hash` (argon2id); `false` for
/// a malformed hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::PasswordVerifier as _;
    count_argon2_run();
    argon2::password_hash::PasswordHash::new(hash)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

thread_local! {
    /// argon2id runs (hashes and verifications) on this thread.
    static ARGON2_RUNS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn count_argon2_run() {
    ARGON2_RUNS.with(|n| n.set(n.get() + 1));
}

/// How many argon2id runs ([`hash_password`] and [`verify_password`])
/// this thread has made: a test hook to prove that every failed login
/// does the same work (issue 14 item 5), without timing anything.
#[doc(hidden)]
pub fn argon2_runs_on_this_thread() -> u64 {
    ARGON2_RUNS.with(std::cell::Cell::get)
}

/// An argon2id hash (argon2's default parameters, those of
/// [`hash_password`]) of a random password nobody knows, verified against
/// when there is no hash to verify, so that every failed login costs one
/// verification. A constant: nothing is hashed at the first failure.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$q6eWCc0W1wQYzjNGXWhBYA$IRjItEKw5zVHmxEnh0Et0PHBClWbNYLIC4maE52iStM";

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

    /// The dummy hash is a well-formed argon2id PHC string with the
    /// parameters [`hash_password`] uses, so verifying against it costs
    /// what verifying a real hash costs (issue 14 item 5).
    #[test]
    fn the_dummy_hash_has_the_parameters_of_real_hashes() {
        let dummy = argon2::password_hash::PasswordHash::new(DUMMY_HASH).unwrap();
        let real_text = hash_password("a password of some length").unwrap();
        let real = argon2::password_hash::PasswordHash::new(&real_text).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert_eq!(dummy.hash.map(|h| h.len()), real.hash.map(|h| h.len()));
        assert!(!verify_password("a password of some length", DUMMY_HASH));
    }

    #[test]
    fn constant_time_equality() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
