//! Steward's domain: the closed vocabularies of the privacy notice, records,
//! principals and the errors that name bad input. No I/O happens here.
//!
//! Every vocabulary in this crate is *closed*: the notice names what Service
//! Data is collected (N2), why it is processed (N3), who may see it (N5.5, N6)
//! and where it lives (N4). Anything outside these sets cannot be expressed,
//! and input that names something outside them is refused (N1.3).
//!
//! The one table that maps Steward's vocabulary to the fideslang taxonomy is
//! [`vocab`]; every other crate reads it from there.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod error;
mod identifier_kind;
pub mod ids;
pub mod principal;
pub mod record;
pub mod vocab;
mod workflow_ids;

pub use error::{DomainError, FieldPath};
pub use ids::{IdentifierKind, RecordId, SubjectId, SubjectIdentifier};
pub use principal::{Principal, PrincipalKind, Team};
pub use record::{FieldValue, Fields, NewRecord};
pub use vocab::{
    AppAdminPolicy, AppiReportableKind, CaseKind, CaseStatus, Category, ConsentMethod,
    ConsentState, DetectorKind, DisclosureBasis, FIDESLANG_EXTENSIONS, FieldSpec, GrantState,
    IncidentKind, IncidentRole, IncidentState, Kind, ObligationKind, Priority, ProcessorService,
    Product, Purpose, RecipientKind, RecipientRole, ReportChannel, RequestState, RequestType,
    Route, Severity, all_kinds,
};
pub use workflow_ids::{CaseId, ObligationId, RequestId};
