//! Need-to-know grants (N5.5 "restricting access ... to employees,
//! contractors, and agents who need it"; issue 17 item 1): the record that
//! one person may read one subject's data of named categories for one
//! purpose, until a day. A grant is one of the justifications a person's
//! access to one subject may cite (N3.8, policy
//! `forbid-manual-review-without-justification`); the gate counts it only
//! for its grantee, its subject, its purpose, a category it names, and
//! until it expires (`context.grant_for_subject`).
//!
//! Grants are made by whoever the pack lets manage principals
//! ([`ManagementAction::GrantAdd`], `manage_principals` for `protect`:
//! security staff, the configured operator), audited, and stored in the
//! `need_to_know_grants` registry by opaque subject id only.

use serde::{Deserialize, Serialize};
use steward_audit::{Resource, ResourceKind, SubjectRef};
use steward_domain::{Category, Purpose, SubjectId};
use steward_store::{ChangeSet, RegistryTable};
use time::Date;

use crate::authorize::{ManagementAction, Target};
use crate::gate::{system_entry, token};
use crate::rows::{parse_row, row_json};
use crate::{CoreError, Steward};

/// The longest a grant may run, in days (N5.5: "grants that expire").
pub const MAX_GRANT_DAYS: i64 = 90;

/// A need-to-know grant (N5.5).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NeedToKnowGrant {
    /// Id (`grant-` and 16 hex digits), cited as `grant=`.
    pub id: String,
    /// The principal it lets read.
    pub grantee: String,
    /// The subject (opaque `sub_` id).
    pub subject: String,
    /// The purpose (N3) the reads serve.
    pub purpose: Purpose,
    /// The categories (N2) it reaches; at least one.
    pub categories: Vec<Category>,
    /// The last day it is valid (UTC, `YYYY-MM-DD`), inclusive.
    pub expires_on: Date,
    /// Why: an external reference (ticket, change request), 1 to 200
    /// characters, no Service Data.
    pub reference: String,
    /// Who granted it.
    pub granted_by: String,
}

/// What a grant is for, given when it is made ([`Steward::grant_need_to_know`]).
#[derive(Debug, Clone)]
pub struct GrantRequest {
    /// The principal who may read (staff, N5.5).
    pub grantee: String,
    /// The subject, as an identifier (`username:ann`, `sub_…`).
    pub subject: String,
    /// The purpose (N3).
    pub purpose: Purpose,
    /// The categories (N2), at least one.
    pub categories: Vec<Category>,
    /// The last valid day: today to today + [`MAX_GRANT_DAYS`].
    pub expires_on: Date,
    /// An external reference, 1 to 200 characters.
    pub reference: String,
}

impl Steward {
    /// Grant `g.grantee` need-to-know access (N5.5) to one subject's data
    /// of `g.categories` for `g.purpose` until `g.expires_on`, as `by`:
    /// decided by the pack first ([`ManagementAction::GrantAdd`]), audited
    /// (`grant_add`, the subject by opaque id, clause N5.5).
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::Input`] naming
    /// the field: an unknown or revoked grantee, a grantee who is not staff,
    /// a subject identifier that names no subject, no category, an expiry
    /// in the past or more than [`MAX_GRANT_DAYS`] days ahead, a reference
    /// that is empty or longer than 200 characters.
    pub fn grant_need_to_know(
        &self,
        by: &str,
        g: &GrantRequest,
    ) -> Result<NeedToKnowGrant, CoreError> {
        self.authorize_management(by, ManagementAction::GrantAdd, Target::named("grants"))?;
        let grantee = self.principal(&g.grantee)?;
        if grantee.revoked || !grantee.kind.is_staff() {
            return Err(CoreError::Input(format!(
                "grantee: `{}` is {}; need-to-know grants are for current staff (employees, contractors, agents, affiliate staff; N5.5)",
                g.grantee.chars().take(64).collect::<String>(),
                if grantee.revoked {
                    "revoked"
                } else {
                    grantee.kind.as_str()
                }
            )));
        }
        if g.categories.is_empty() {
            return Err(CoreError::Input(
                "categories: name at least one category (N2) the grant reaches".into(),
            ));
        }
        let t = self.clock.today();
        if g.expires_on < t || g.expires_on > t + time::Duration::days(MAX_GRANT_DAYS) {
            return Err(CoreError::Input(format!(
                "expires_on: {} is not between today ({t}) and {MAX_GRANT_DAYS} days ahead (N5.5: grants expire)",
                g.expires_on
            )));
        }
        if g.reference.is_empty() || g.reference.chars().count() > 200 {
            return Err(CoreError::Input("reference: 1 to 200 characters".into()));
        }
        let subject = self.find(&g.subject)?.ok_or_else(|| {
            CoreError::Input("subject: the identifier matches no data subject".into())
        })?;
        let mut categories = g.categories.clone();
        categories.sort();
        categories.dedup();
        let grant = NeedToKnowGrant {
            id: format!("grant-{}", &crate::gate::new_request_id()[4..]),
            grantee: grantee.name,
            subject: subject.to_string(),
            purpose: g.purpose,
            categories,
            expires_on: g.expires_on,
            reference: g.reference.clone(),
            granted_by: by.to_owned(),
        };
        let mut e = system_entry("grant_add", &grant.id, "", self.policy.version());
        e.principal = token(by);
        e.purpose = Some(token(g.purpose.as_str()));
        e.clause_ids = vec![token("N5.5"), token("N3.8")];
        e.resource = Resource::new(ResourceKind::Principal)
            .id(token(&grant.id))
            .id(token(&grant.grantee))
            .subject(SubjectRef::new(subject.0 as u64));
        self.store()?.commit(ChangeSet {
            registry: vec![(
                RegistryTable::NeedToKnowGrants,
                grant.id.clone(),
                row_json(&grant)?,
            )],
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(grant)
    }

    /// Whether grant `id` counts for a request by `principal` about
    /// `subject` for `purpose` and `category` (N5.5): it exists, names that
    /// grantee, subject and purpose, names the category (a request of no
    /// category is reached by no grant), and has not expired.
    ///
    /// Errors: [`CoreError::Store`] for a corrupt row (named).
    pub(crate) fn grant_applies(
        &self,
        id: &str,
        principal: &str,
        subject: Option<SubjectId>,
        purpose: Option<Purpose>,
        category: Option<Category>,
    ) -> Result<bool, CoreError> {
        let (Some(subject), Some(purpose), Some(category)) = (subject, purpose, category) else {
            return Ok(false);
        };
        let Some(body) = self
            .store_read()?
            .registry_get(RegistryTable::NeedToKnowGrants, id)?
        else {
            return Ok(false);
        };
        let g: NeedToKnowGrant = parse_row(RegistryTable::NeedToKnowGrants, id, &body)?;
        Ok(g.grantee == principal
            && g.subject == subject.to_string()
            && g.purpose == purpose
            && g.categories.contains(&category)
            && g.expires_on >= self.clock.today())
    }
}
