//! Data subject request types and states (N7.1-N7.4, N8.8).

use super::*;

/// The type of a data subject request (DSR) Steward answers (N7.1-N7.4,
/// N8.8; GDPR Art. 15-18, 20, 21 use the same six).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestType {
    /// Access to the subject's Service Data (N7.2, N7.3).
    Access,
    /// Export for backup or transfer elsewhere: portability (N7.1, N7.2).
    Export,
    /// Correction of inaccurate data (N7.2 "control").
    Rectification,
    /// Deletion (N8.8), by crypto-shredding, honouring legal holds (N3.7).
    Erasure,
    /// Restriction of processing (N7.2 "control").
    Restriction,
    /// Objection to processing for a purpose (N7.2 "control").
    Objection,
}

impl RequestType {
    /// All request types.
    pub const ALL: [RequestType; 6] = [
        RequestType::Access,
        RequestType::Export,
        RequestType::Rectification,
        RequestType::Erasure,
        RequestType::Restriction,
        RequestType::Objection,
    ];
    /// The snake_case key.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestType::Access => "access",
            RequestType::Export => "export",
            RequestType::Rectification => "rectification",
            RequestType::Erasure => "erasure",
            RequestType::Restriction => "restriction",
            RequestType::Objection => "objection",
        }
    }
}

impl FromStr for RequestType {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RequestType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| DomainError::UnknownRequestType {
                name: s.chars().take(64).collect(),
            })
    }
}

/// The lifecycle state of a data subject request:
/// `received -> verified -> in_progress -> completed | rejected`, and
/// `failed` when execution could not finish (a store named in the reason);
/// a failed request may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Taken in (by API, CLI or email, N7.4); identity not yet verified.
    Received,
    /// The requester's identity is verified (one-time code or an authenticated principal).
    Verified,
    /// Execution started (recorded in the audit log before any effect).
    InProgress,
    /// Executed; the result is recorded.
    Completed,
    /// Refused, with a reason (restriction, unverified sender, policy).
    Rejected,
    /// Execution failed (e.g. a store unreachable); retryable.
    Failed,
}

impl RequestState {
    /// All states.
    pub const ALL: [RequestState; 6] = [
        RequestState::Received,
        RequestState::Verified,
        RequestState::InProgress,
        RequestState::Completed,
        RequestState::Rejected,
        RequestState::Failed,
    ];
    /// The snake_case key.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Received => "received",
            RequestState::Verified => "verified",
            RequestState::InProgress => "in_progress",
            RequestState::Completed => "completed",
            RequestState::Rejected => "rejected",
            RequestState::Failed => "failed",
        }
    }
    /// Whether the request is finished (no further transition).
    pub fn is_final(self) -> bool {
        matches!(self, RequestState::Completed | RequestState::Rejected)
    }
}

impl FromStr for RequestState {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RequestState::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| DomainError::UnknownRequestState {
                name: s.chars().take(64).collect(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_types_round_trip_and_unknown_is_named() {
        for t in RequestType::ALL {
            assert_eq!(t.as_str().parse::<RequestType>().unwrap(), t);
        }
        let e = "sale".parse::<RequestType>().unwrap_err().to_string();
        assert!(e.contains("`sale`") && e.contains("erasure"), "{e}");
        for s in RequestState::ALL {
            assert_eq!(s.as_str().parse::<RequestState>().unwrap(), s);
        }
        assert!(RequestState::Completed.is_final() && !RequestState::Failed.is_final());
    }
}
