//! Steward's policy: the Cedar schema, the default policy pack that encodes
//! the privacy notice, and the decisions the gate asks for.
//!
//! ```text
//! authenticate principal -> decide (principal, action, resource, purpose, context)
//!   -> audit the decision -> decrypt -> respond
//! ```
//!
//! This crate is the `decide` step. A [`PolicyEngine`] holds a validated
//! policy pack: `pack.toml` (name, version, effective date; N6.8),
//! `schema.cedarschema`, and `.cedar` files whose every policy carries
//! `@id("…")` and `@clause("N3.5,N3.8")`, and every forbid a `@reason("…")`.
//! The default pack (`pack/` in this crate) is embedded in the binary;
//! operators may load their own with [`PolicyEngine::load_dir`]. A pack
//! loads all or nothing: a parse error, a missing annotation, or any
//! finding of Cedar's strict validator is a [`PolicyError`] naming the file,
//! the policy and Cedar's message. A forbid is never silently skipped.
//!
//! [`PolicyEngine::decide`] answers a [`DecisionRequest`] with a
//! [`Decision`]: allowed or not, the deciding policies' ids, the clause IDs
//! they enforce, and the deciding condition in plain words. It never
//! panics: no purpose, a malformed request, or a policy that fails to
//! evaluate is a denial naming the cause (fail closed).
//!
//! ```
//! use steward_domain::{Category, Principal, PrincipalKind, Purpose, Team};
//! use steward_policy::{Action, DecisionBasis, DecisionRequest, PolicyEngine, RequestContext};
//! use time::macros::date;
//!
//! let engine = PolicyEngine::default_pack()?;
//! let alice = Principal {
//!     name: "alice".into(),
//!     kind: PrincipalKind::Employee,
//!     teams: vec![Team::Support],
//!     confidentiality_signed_on: Some(date!(2023 - 03 - 01)),
//!     training_expires_on: Some(date!(2024 - 12 - 31)),
//!     engagement_ends_on: None,
//!     subject: None,
//!     organisations: vec![],
//!     revoked: false,
//! };
//! let mut req = DecisionRequest {
//!     principal: &alice,
//!     action: Action::Read,
//!     subject: Some("sub_0000000000001234"),
//!     category: Some(Category::Communications),
//!     organisation: None,
//!     kind: None,
//!     purpose: Some(Purpose::Assist),
//!     context: RequestContext::new(date!(2024 - 06 - 01)),
//! };
//! // A person's read of one subject cites a justification (N3.8): none here.
//! let denied = engine.decide(&req);
//! assert!(!denied.allowed);
//! assert_eq!(denied.policy_ids, ["forbid-manual-review-without-justification"]);
//!
//! req.context.open_case_for_subject = true;
//! let allowed = engine.decide(&req);
//! assert!(allowed.allowed);
//! assert_eq!(allowed.basis, DecisionBasis::Permit);
//! assert_eq!(allowed.policy_ids, ["staff-support-read-with-open-case"]);
//! assert_eq!(allowed.clause_ids, ["N3.5", "N3.8"]);
//! # Ok::<(), steward_policy::PolicyError>(())
//! ```
//!
//! # Model (the schema)
//!
//! - Principal `Steward::Principal`: `kind`, `teams`, `is_staff`,
//!   `confidentiality_signed_on?`, `training_expires_on?`,
//!   `engagement_ends_on?` (days since 1970-01-01), `revoked`,
//!   `organisations`, `subject?` (N5.5, N6.1, N6.5, N7, N8.6).
//! - Resource `Steward::SubjectData`: `subject` (`sub_` id or ""),
//!   `category` (N2, or ""), `organisation` (or ""), `cross_region`,
//!   `kind` (the record kind the request is limited to, or "").
//! - Actions: see [`Action`].
//! - Context: `purpose` (N3), `today` (days), `open_case_for_subject`,
//!   `case_kind`, `legal_obligation_recorded`, `obligation_kind`,
//!   `obligation_covers_category`, `grant_for_subject`,
//!   `incident_for_subject` (the justification a person's access to one
//!   subject cites, N3.8), `processor_service`,
//!   `case_assigned_to_principal`, `engagement_covers` (what a processor's
//!   registration and instruments cover, N6.6), `aggregate_only`,
//!   `configured_operator`; see
//!   [`RequestContext`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cache;
mod engine;
pub mod error;
mod guard;
mod pack;
mod request;
mod slice;

pub use engine::{ACTION_TYPE, PRINCIPAL_TYPE, PolicyEngine, RESOURCE_TYPE, days_since_epoch};
pub use error::{PolicyError, UnknownActionError, ValidationIssue};
pub use pack::{MANIFEST_FILE, PackManifest, PolicyEffect, PolicyInfo, SCHEMA_FILE};
pub use request::{
    Action, Decision, DecisionBasis, DecisionRequest, DisclosureFacts, RequestContext,
};

/// The default pack's files as embedded in the binary: (file name, text),
/// including `pack.toml` and `schema.cedarschema`. `steward policy
/// export`-style tools can write them out as a starting point for an
/// operator's pack.
pub fn default_pack_files() -> Vec<(&'static str, &'static str)> {
    let mut out = vec![
        (MANIFEST_FILE, pack::EMBEDDED_MANIFEST),
        (SCHEMA_FILE, pack::EMBEDDED_SCHEMA),
    ];
    out.extend_from_slice(pack::EMBEDDED_POLICIES);
    out
}
