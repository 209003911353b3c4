//! What a human's read of one subject's records cites as its reason (N3.8:
//! "manual review of Service Data (such as when you interact directly with
//! our billing or support teams)"; N3.7: "comply with our legal
//! obligations"): the kind of a support case and of a legal obligation.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// What a support case is about (N3.5, N3.8). The kind decides what staff
/// may read citing the case: a `technical` case reaches usage and
/// configuration (technical support, N3.5), an `account` case account and
/// communications, a `billing` case is the billing interaction that lets
/// billing staff read the subject's billing (N3.1, N3.8).
///
/// The default, `account`, is the kind of a case recorded before kinds
/// existed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// Technical support: errors, configuration, operation (N3.5).
    Technical,
    /// The account: access, contact details, settings (N3.5).
    #[default]
    Account,
    /// A billing interaction: charges, payments, billing issues (N3.1, N3.8).
    Billing,
}

impl CaseKind {
    /// All kinds.
    pub const ALL: [CaseKind; 3] = [CaseKind::Technical, CaseKind::Account, CaseKind::Billing];

    /// The snake_case key (the Cedar context's `case_kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Technical => "technical",
            CaseKind::Account => "account",
            CaseKind::Billing => "billing",
        }
    }
}

/// Where a support case stands (N3.5): only an `open` case justifies a
/// read that cites it (N3.8) or an assignment to a processor (N6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Open: reads citing it may be justified.
    Open,
    /// Closed: reads citing it are denied from then on.
    Closed,
}

impl CaseStatus {
    /// The snake_case key, as stored and shown (`open`, `closed`).
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Closed => "closed",
        }
    }
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CaseKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CaseKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DomainError::UnknownCaseKind {
                name: s.chars().take(64).collect(),
            })
    }
}

/// What a recorded legal obligation is (N3.7: "responding to legal process
/// or an enforceable governmental request, or meeting our financial
/// record-keeping obligations"; N7.2: a data subject request). The kind
/// decides who may cite it for what: a data subject request is fulfilled
/// by privacy staff and is not a legal request legal staff read under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObligationKind {
    /// Legal process (a court order, a subpoena).
    LegalRequest,
    /// An enforceable governmental request.
    GovernmentRequest,
    /// A (financial) record-keeping duty.
    RecordKeeping,
    /// A data subject request being fulfilled (N7.2).
    DataSubjectRequest,
}

impl ObligationKind {
    /// All kinds.
    pub const ALL: [ObligationKind; 4] = [
        ObligationKind::LegalRequest,
        ObligationKind::GovernmentRequest,
        ObligationKind::RecordKeeping,
        ObligationKind::DataSubjectRequest,
    ];

    /// The snake_case key (the Cedar context's `obligation_kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            ObligationKind::LegalRequest => "legal_request",
            ObligationKind::GovernmentRequest => "government_request",
            ObligationKind::RecordKeeping => "record_keeping",
            ObligationKind::DataSubjectRequest => "data_subject_request",
        }
    }
}

impl fmt::Display for ObligationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ObligationKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ObligationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DomainError::UnknownObligationKind {
                name: s.chars().take(64).collect(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_obligation_kinds_round_trip_and_unknown_is_named_n3_7() {
        for k in CaseKind::ALL {
            assert_eq!(k.as_str().parse::<CaseKind>().unwrap(), k);
        }
        for k in ObligationKind::ALL {
            assert_eq!(k.as_str().parse::<ObligationKind>().unwrap(), k);
        }
        let e = "gossip".parse::<CaseKind>().unwrap_err().to_string();
        assert!(e.contains("`gossip`") && e.contains("technical"), "{e}");
        let e = "whim".parse::<ObligationKind>().unwrap_err().to_string();
        assert!(e.contains("`whim`") && e.contains("record_keeping"), "{e}");
    }
}
