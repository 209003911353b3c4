//! The closed vocabularies of the notice and their fideslang mapping: the one
//! table in Steward that says what Service Data may be stored (N1.3, N2), for
//! which purposes it may be processed (N3), on which bases it may be disclosed
//! (N6) and from which products it comes (N1.1).
//!
//! fideslang keys follow the fideslang default taxonomy
//! (<https://github.com/ethyca/fideslang>, `data_categories` and `data_uses`).
//! Where fideslang has no key, Steward defines an extension key under an
//! existing parent, as the taxonomy allows; they are listed in
//! [`FIDESLANG_EXTENSIONS`].
//!
//! One file per vocabulary: `terms.rs` (categories, purposes, disclosure
//! bases, products), `kinds.rs` (record kinds and their field tables),
//! `requests.rs` (data subject request types and states),
//! `justifications.rs` (support case and legal obligation kinds: what a
//! human's read of one subject cites, N3.7, N3.8), `sharing.rs`
//! (recipient kinds and roles, consent methods and states, grant states,
//! app admin policies: N6), `incidents.rs` (the incident and on-call
//! scales, N8.5, N5.1, APPI).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::IdentifierKind;

mod incidents;
mod justifications;
mod kinds;
mod requests;
mod sharing;
mod terms;

pub use incidents::*;
pub use justifications::*;
pub use kinds::*;
pub use requests::*;
pub use sharing::*;
pub use terms::*;

#[cfg(test)]
mod tests;
