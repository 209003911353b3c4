//! [`IdentifierKind`]: the kinds of external identifier, apart from
//! [`crate::ids`] so that [`crate::error`] can name them without a module
//! circle (its `FromStr`, which returns a `DomainError`, is in `ids`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kinds of external identifier by which a data subject can be found (N2.1, N2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    /// An account username.
    Username,
    /// An email address (compared case-insensitively).
    Email,
    /// An IPv4 or IPv6 address (compared in canonical form).
    Ip,
    /// A device identifier.
    DeviceId,
    /// A billing account id.
    BillingAccount,
}

impl IdentifierKind {
    /// All identifier kinds, in the order a bare identifier is tried.
    pub const ALL: [IdentifierKind; 5] = [
        IdentifierKind::Username,
        IdentifierKind::Email,
        IdentifierKind::Ip,
        IdentifierKind::BillingAccount,
        IdentifierKind::DeviceId,
    ];
    /// The snake_case key, also the prefix of a typed identifier (`ip:10.0.0.1`).
    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierKind::Username => "username",
            IdentifierKind::Email => "email",
            IdentifierKind::Ip => "ip",
            IdentifierKind::DeviceId => "device_id",
            IdentifierKind::BillingAccount => "billing_account",
        }
    }
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
