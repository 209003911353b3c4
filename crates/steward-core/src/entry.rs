//! Audit entry helpers shared by the gate and the workflows: request ids,
//! tokens, timestamps, record references and the entry of an operation that
//! is not a gate decision. A module of its own so a workflow that writes its
//! own audit entries (sharing, incidents) need not import the gate, and the
//! gate, which calls into workflows' checks, does not import them back.

use rand::RngCore;
use steward_audit::{
    Decision as AuditDecision, EntryDraft, RecordRef, Resource, ResourceKind, Timestamp, Token,
};
use steward_domain::RecordId;

/// A new request id: `req-` and 16 hex digits.
pub(crate) fn new_request_id() -> String {
    format!("req-{}", hex::encode(random_id_bits()))
}

/// 64 random bits for a new id (workflow ids, request ids).
pub(crate) fn random_id_bits() -> [u8; 8] {
    let mut b = [0u8; 8];
    rand::rng().fill_bytes(&mut b);
    b
}

/// `s` as an audit token (a safe placeholder when `s` is not one).
pub(crate) fn token(s: &str) -> Token {
    // INVARIANT: callers pass Steward-made names; anything else becomes a safe placeholder.
    Token::new(s).unwrap_or_else(|_| Token::new("invalid-token").expect("literal token"))
}

/// Now, as an audit timestamp.
pub(crate) fn now_ts() -> Timestamp {
    Timestamp::now()
        .unwrap_or_else(|_| Timestamp::parse("1970-01-01T00:00:00Z").expect("literal timestamp"))
}

/// A record id as an audit record reference.
pub(crate) fn record_ref(id: RecordId) -> RecordRef {
    RecordRef::new(id.0 as u64)
}

/// An audit entry for an operation that is not a gate decision (bootstrap,
/// key operations, principal changes).
pub(crate) fn system_entry(action: &str, id: &str, _why: &str, policy_version: &str) -> EntryDraft {
    EntryDraft {
        action: token(action),
        clause_ids: vec![],
        decision: AuditDecision::Done,
        policy_ids: vec![],
        policy_version: token(policy_version),
        principal: token("steward"),
        purpose: None,
        reason: None,
        region: token("-"),
        request_id: token(&new_request_id()),
        resource: Resource::new(ResourceKind::Principal).id(token(id)),
        time: now_ts(),
    }
}
