//! What a disclosure asks of the gate besides an access (N6.2): a type of
//! its own, read by the checks and by `disclose.rs`, so neither imports the
//! other.

use steward_domain::DisclosureBasis;

use crate::sharing::Recipient;

/// What a disclosure asks besides an access: its basis and its recipient.
#[derive(Debug, Clone)]
pub struct DisclosureAsk {
    /// The basis (N6.3-N6.7).
    pub basis: DisclosureBasis,
    /// The registered recipient.
    pub recipient: Recipient,
}
