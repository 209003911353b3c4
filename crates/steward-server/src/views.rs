//! Response bodies more than one feature returns: records opened by the
//! gate, principals, users and tokens as shown (never a secret).

use serde::Serialize;
use steward_core::OpenedRecord;
use steward_domain::Principal;
use utoipa::ToSchema;

/// A record opened by the gate.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordOut {
    /// Record id.
    pub record_id: String,
    /// Category (N2).
    pub category: String,
    /// Kind.
    pub kind: String,
    /// Product (N1.1).
    pub product: String,
    /// Storage region (N4.1).
    pub region: String,
    /// When it happened (RFC 3339), if known.
    pub occurred_at: Option<String>,
    /// The fields of the kind's closed schema.
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
}

/// Records read through the gate, and the decision that allowed it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordsOut {
    /// The opaque subject id, when the identifier names a subject.
    pub subject: Option<String>,
    /// The audit entry that records the allowed access.
    pub audit_index: u64,
    /// The gate's request id.
    pub gate_request_id: String,
    /// The deciding policy ids.
    pub policy_ids: Vec<String>,
    /// Their clause ids.
    pub clause_ids: Vec<String>,
    /// The justification the read cited, as verified (issue 17, N3.8):
    /// `case:<id>`, `obligation:<id>`, `grant:<id>`, comma-separated;
    /// absent when none was cited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// The records.
    pub records: Vec<RecordOut>,
}

pub(crate) fn records_out(opened: &steward_core::Opened, records: Vec<OpenedRecord>) -> RecordsOut {
    RecordsOut {
        subject: opened.subject.map(|s| s.to_string()),
        audit_index: opened.audit_index,
        gate_request_id: opened.request_id.clone(),
        policy_ids: opened.decision.policy_ids.clone(),
        clause_ids: opened.decision.clause_ids.clone(),
        justification: opened.decision.justification.clone(),
        records: records
            .into_iter()
            .map(|r| RecordOut {
                record_id: r.id.to_string(),
                category: r.category,
                kind: r.kind,
                product: r.product,
                region: r.region,
                occurred_at: r.body["occurred_at"].as_str().map(str::to_owned),
                fields: r.body["fields"].clone(),
            })
            .collect(),
    }
}

/// A principal as shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrincipalOut {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Teams.
    pub teams: Vec<String>,
    /// Organisations managed (administrators, resellers).
    pub organisations: Vec<String>,
    /// The subject (data subjects).
    pub subject: Option<String>,
    /// Revoked or suspended.
    pub revoked: bool,
}

impl From<&Principal> for PrincipalOut {
    fn from(p: &Principal) -> Self {
        PrincipalOut {
            name: p.name.clone(),
            kind: p.kind.as_str().into(),
            teams: p.teams.iter().map(|t| t.as_str().to_owned()).collect(),
            organisations: p.organisations.clone(),
            subject: p.subject.map(|s| s.to_string()),
            revoked: p.revoked,
        }
    }
}

/// A user (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    /// The user's principal name.
    pub name: String,
    /// Organisation.
    pub organisation: String,
    /// Opaque subject id.
    pub subject: String,
    /// Suspended (N6.5c).
    pub suspended: bool,
    /// May not edit their information (N6.5e).
    pub restricted_edit: bool,
    /// May not delete their information (N6.5e).
    pub restricted_delete: bool,
    /// Whether a password is set.
    pub has_password: bool,
}

impl From<steward_core::UserAccount> for UserOut {
    fn from(u: steward_core::UserAccount) -> Self {
        UserOut {
            name: u.name,
            organisation: u.organisation,
            subject: u.subject,
            suspended: u.suspended,
            restricted_edit: u.restrictions.edit,
            restricted_delete: u.restrictions.delete,
            has_password: u.password_hash.is_some(),
        }
    }
}

/// A token's description (never the token itself).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    /// Token id.
    pub id: String,
    /// Principal.
    pub principal: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Issued (Unix seconds).
    pub created_at: i64,
    /// Expires (Unix seconds).
    pub expires_at: i64,
    /// Revoked.
    pub revoked: bool,
    /// Who issued it.
    pub issued_by: String,
}

impl From<steward_core::TokenInfo> for TokenOut {
    fn from(t: steward_core::TokenInfo) -> Self {
        TokenOut {
            id: t.id,
            principal: t.principal,
            scopes: t.scopes,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked: t.revoked,
            issued_by: t.issued_by,
        }
    }
}

/// A newly issued token: `token` is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedOut {
    /// The bearer token. Only its SHA-256 is stored.
    pub token: String,
    /// Its description.
    pub info: TokenOut,
}
