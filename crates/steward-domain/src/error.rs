//! Domain errors. Messages say what was wrong, where, and how to fix it; they
//! never carry a field *value* (Service Data), only names from the schema.

use std::fmt;

use thiserror::Error;

use crate::identifier_kind::IdentifierKind;

/// Where in the input a problem was found: `file:line`, or a JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldPath(pub String);

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An error in domain input: an unknown name from a closed vocabulary, or a
/// record that does not fit its kind's schema.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DomainError {
    /// The category is not one of the five of N2.
    #[error(
        "unknown category `{name}`: expected one of account, billing, configuration, usage, communications (N2)"
    )]
    UnknownCategory {
        /// The name given.
        name: String,
    },
    /// The kind is not in the closed table.
    #[error("unknown kind `{name}`: expected one of {known} (N1.3)")]
    UnknownKind {
        /// The name given.
        name: String,
        /// The kinds that exist in that category.
        known: String,
    },
    /// A field not in the kind's closed schema (N1.3).
    #[error(
        "unknown field `{field}` for kind {kind}: allowed fields are {allowed} (N1.3: only Service Data is stored)"
    )]
    UnknownField {
        /// The field name given.
        field: String,
        /// The record's kind.
        kind: String,
        /// The kind's fields.
        allowed: String,
    },
    /// A field value that is an object or array.
    #[error("field `{field}` must be a string, number, boolean or null")]
    NonScalarField {
        /// The field name.
        field: String,
    },
    /// The purpose is not one of N3.
    #[error(
        "unknown purpose `{name}`: expected one of provide_services, recommendations, maintain_improve, other_services, assist, protect, comply, internal_reporting (N3)"
    )]
    UnknownPurpose {
        /// The name given.
        name: String,
    },
    /// The disclosure basis is not one of N6.3-N6.7.
    #[error(
        "unknown disclosure basis `{name}`: expected one of third_party_service, consent, administrator, external_processing, legal (N6.2; there is no sale basis, N6.6)"
    )]
    UnknownDisclosureBasis {
        /// The name given.
        name: String,
    },
    /// A term of one of the sharing vocabularies (recipient kind, recipient
    /// role, consent method, consent state, grant state, app admin policy;
    /// N6) is not in its closed set.
    #[error("unknown {vocabulary} `{name}`: expected one of {expected} (N6)")]
    UnknownSharingTerm {
        /// Which vocabulary (e.g. `recipient kind`).
        vocabulary: &'static str,
        /// The name given (at most 64 characters).
        name: String,
        /// The closed set, comma-separated.
        expected: String,
    },
    /// The data subject request type is not one of the six Steward answers (N7.2, N7.4).
    #[error(
        "unknown request type `{name}`: expected one of access, export, rectification, erasure, restriction, objection (N7.2)"
    )]
    UnknownRequestType {
        /// The name given.
        name: String,
    },
    /// The request state is not one of the lifecycle's states.
    #[error(
        "unknown request state `{name}`: expected one of received, verified, in_progress, completed, rejected, failed"
    )]
    UnknownRequestState {
        /// The name given.
        name: String,
    },
    /// The support case kind is not one of the three (N3.5, N3.8).
    #[error(
        "unknown support case kind `{name}`: expected one of technical, account, billing (N3.5, N3.8)"
    )]
    UnknownCaseKind {
        /// The name given.
        name: String,
    },
    /// The legal obligation kind is not one of N3.7's.
    #[error(
        "unknown obligation kind `{name}`: expected one of legal_request, government_request, record_keeping, data_subject_request (N3.7)"
    )]
    UnknownObligationKind {
        /// The name given.
        name: String,
    },
    /// The product is not one of N1.1.
    #[error(
        "unknown product `{name}`: expected one of workspace, cloud_platform, marketplace, cloud_identity, implementation_services (N1.1)"
    )]
    UnknownProduct {
        /// The name given.
        name: String,
    },
    /// Unknown principal kind.
    #[error(
        "unknown principal kind `{name}`: expected one of employee, contractor, agent, affiliate_staff, customer_admin, reseller, data_subject, third_party_app, processor, service"
    )]
    UnknownPrincipalKind {
        /// The name given.
        name: String,
    },
    /// Unknown team.
    #[error(
        "unknown team `{name}`: expected one of support, billing, security, legal, privacy, engineering, incident_response"
    )]
    UnknownTeam {
        /// The name given.
        name: String,
    },
    /// A term of a closed incident or on-call scale (N8.5, N5.1) that is not on it.
    #[error("unknown {scale} `{name}`: expected one of {expected} (N8.5)")]
    UnknownScaleTerm {
        /// The scale (`severity`, `priority`, `route`, ...).
        scale: &'static str,
        /// The name given (at most 64 characters).
        name: String,
        /// The scale's terms, comma-separated.
        expected: &'static str,
    },
    /// Unknown identifier kind.
    #[error(
        "unknown identifier kind `{name}`: expected one of username, email, ip, device_id, billing_account"
    )]
    UnknownIdentifierKind {
        /// The name given.
        name: String,
    },
    /// An identifier value that cannot be used.
    #[error("bad {kind} identifier: {reason}")]
    BadIdentifier {
        /// The identifier kind.
        kind: IdentifierKind,
        /// Why.
        reason: &'static str,
    },
    /// A string that is not a workflow id of the kind expected (issue 12).
    #[error("`{given}` is not a {what}: expected {expected}")]
    BadWorkflowId {
        /// What kind of id was expected.
        what: &'static str,
        /// The text given (at most 40 characters).
        given: String,
        /// The shape expected.
        expected: &'static str,
    },
    /// A string that is not a subject id.
    #[error("`{given}` is not a subject id: expected sub_ followed by 16 hex digits")]
    BadSubjectId {
        /// The text given (at most 40 characters).
        given: String,
    },
    /// A record names no way to find its data subject.
    #[error(
        "record of kind {kind} names no data subject: give `subject` or a field that identifies one ({fields})"
    )]
    NoSubject {
        /// The kind.
        kind: String,
        /// Identifier fields of that kind.
        fields: String,
    },
}
