//! Principals: who asks the gate for Service Data (N5.5, N6.1, N6.5).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::error::DomainError;

/// What kind of principal is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// Provider employee (N5.5).
    Employee,
    /// Provider contractor (N5.5); has an engagement end date.
    Contractor,
    /// Provider agent (N5.5); has an engagement end date.
    Agent,
    /// Staff of a provider affiliate, bound by the same policy (N6.1).
    AffiliateStaff,
    /// A customer's administrator (N6.5).
    CustomerAdmin,
    /// An authorised reseller (N1.2, N6.5).
    Reseller,
    /// The data subject, for their own data (N7).
    DataSubject,
    /// A third-party application granted access (N6.3).
    ThirdPartyApp,
    /// A registered processor (N6.6).
    Processor,
    /// An internal platform service.
    Service,
}

impl PrincipalKind {
    /// All kinds.
    pub const ALL: [PrincipalKind; 10] = [
        PrincipalKind::Employee,
        PrincipalKind::Contractor,
        PrincipalKind::Agent,
        PrincipalKind::AffiliateStaff,
        PrincipalKind::CustomerAdmin,
        PrincipalKind::Reseller,
        PrincipalKind::DataSubject,
        PrincipalKind::ThirdPartyApp,
        PrincipalKind::Processor,
        PrincipalKind::Service,
    ];
    /// The snake_case key.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Employee => "employee",
            PrincipalKind::Contractor => "contractor",
            PrincipalKind::Agent => "agent",
            PrincipalKind::AffiliateStaff => "affiliate_staff",
            PrincipalKind::CustomerAdmin => "customer_admin",
            PrincipalKind::Reseller => "reseller",
            PrincipalKind::DataSubject => "data_subject",
            PrincipalKind::ThirdPartyApp => "third_party_app",
            PrincipalKind::Processor => "processor",
            PrincipalKind::Service => "service",
        }
    }
    /// Whether this kind is the provider's (or an affiliate's) staff, who must
    /// hold a current confidentiality obligation and training (N5.5, N8.6, N6.1).
    pub fn is_staff(self) -> bool {
        matches!(
            self,
            PrincipalKind::Employee
                | PrincipalKind::Contractor
                | PrincipalKind::Agent
                | PrincipalKind::AffiliateStaff
        )
    }
    /// Whether this kind has an engagement end date (contractors and agents, N5.5).
    pub fn has_end_date(self) -> bool {
        matches!(self, PrincipalKind::Contractor | PrincipalKind::Agent)
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PrincipalKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PrincipalKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DomainError::UnknownPrincipalKind { name: s.to_owned() })
    }
}

/// A staff team (N5.5: need to know).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Team {
    /// Technical support (N3.5).
    Support,
    /// Billing (N3.1).
    Billing,
    /// Security (N3.6).
    Security,
    /// Legal (N3.7).
    Legal,
    /// Privacy office: data subject requests, reviews (N5.4, N7).
    Privacy,
    /// Engineering (N3.3).
    Engineering,
    /// Incident response (N8.5).
    IncidentResponse,
}

impl Team {
    /// All teams.
    pub const ALL: [Team; 7] = [
        Team::Support,
        Team::Billing,
        Team::Security,
        Team::Legal,
        Team::Privacy,
        Team::Engineering,
        Team::IncidentResponse,
    ];
    /// The snake_case key.
    pub fn as_str(self) -> &'static str {
        match self {
            Team::Support => "support",
            Team::Billing => "billing",
            Team::Security => "security",
            Team::Legal => "legal",
            Team::Privacy => "privacy",
            Team::Engineering => "engineering",
            Team::IncidentResponse => "incident_response",
        }
    }
}

impl fmt::Display for Team {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Team {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Team::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| DomainError::UnknownTeam { name: s.to_owned() })
    }
}

/// A principal known to Steward (N5.5, N8.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// Unique name, e.g. `alice` or `svc-billing`.
    pub name: String,
    /// The principal's kind.
    pub kind: PrincipalKind,
    /// Staff teams (empty for non-staff).
    pub teams: Vec<Team>,
    /// Date the confidentiality obligation was signed (staff, N5.5).
    pub confidentiality_signed_on: Option<Date>,
    /// Date the privacy training expires (staff, N8.6).
    pub training_expires_on: Option<Date>,
    /// Date the engagement ends (contractors and agents, N5.5).
    pub engagement_ends_on: Option<Date>,
    /// For a `data_subject` principal: the subject they are (opaque id).
    pub subject: Option<crate::ids::SubjectId>,
    /// For customer administrators and resellers: organisations they manage (N6.5).
    pub organisations: Vec<String>,
    /// Revoked principals are denied everything from the next request on (N5.5).
    pub revoked: bool,
}
