//! Third-party app grants (N6.3; issue 19 item 3). An organisation's
//! administrator grants a registered app a set of scopes (category x
//! purpose) for the organisation's users, optionally only named users. The
//! app is a principal whose disclosures are decided with the grant state
//! the gate establishes ([`grant_state`]): in scope, out of scope, none, or
//! revoked (also when the organisation's app admin policy is `blocked`).
//! Revoking takes effect on the app's next request.

use serde::{Deserialize, Serialize};
use steward_domain::{AppAdminPolicy, Category, GrantState, Purpose, RecipientKind, SubjectId};
use steward_store::{ChangeSet, RegistryField, RegistryQuery, RegistryTable};

use super::{new_id, now_ms, rfc3339};
use crate::authorize::{ManagementAction, Target};
use crate::entry::token;
use crate::rows::{parse_row, row_json};
use crate::{CoreError, Steward};

/// One scope: a category for a purpose (closed vocabularies, N2, N3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// The category (N2).
    pub category: Category,
    /// The purpose (N3).
    pub purpose: Purpose,
}

/// A grant, as stored in `app_grants` (key `grt_…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppGrant {
    /// Id (`grt_…`).
    pub id: String,
    /// The app's recipient id (`rcp_…`).
    pub recipient: String,
    /// The app's principal name.
    pub app: String,
    /// The customer organisation whose users it covers (N1.2).
    pub organisation: String,
    /// What it covers.
    pub scopes: Vec<Scope>,
    /// Only these users (opaque `sub_` ids); empty: every user of the organisation.
    pub users: Vec<String>,
    /// Who granted it.
    pub granted_by: String,
    /// When, ms since the epoch.
    pub granted_at_ms: i64,
    /// When it was revoked, if it was.
    pub revoked_at_ms: Option<i64>,
    /// Who revoked it.
    pub revoked_by: Option<String>,
}

/// What [`Steward::grant_app`] is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewGrant {
    /// The app's recipient id.
    pub recipient: String,
    /// The organisation.
    pub organisation: String,
    /// The scopes (at least one).
    pub scopes: Vec<Scope>,
    /// Only these users (`sub_` ids of the organisation); empty: all.
    #[serde(default)]
    pub users: Vec<String>,
}

/// One line of the grant review (N6.3): the grant, its last use and what
/// it disclosed, from the disclosure ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantReview {
    /// The grant.
    pub grant: AppGrant,
    /// The last disclosure under it (RFC 3339), if any.
    pub last_used: Option<String>,
    /// Disclosures under it.
    pub disclosures: u64,
    /// Records disclosed under it.
    pub records_disclosed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PolicyRow {
    organisation: String,
    policy: AppAdminPolicy,
    set_by: String,
    set_at_ms: i64,
}

fn policy_key(org: &str) -> String {
    format!("policy:{org}")
}

/// The grant state of `app` (recipient `recipient`) for `subject` of
/// `organisation`, `category` and `purpose` now, and the grant that
/// decides it (N6.3).
pub(crate) fn grant_state(
    st: &Steward,
    recipient: &str,
    organisation: Option<&str>,
    subject: Option<SubjectId>,
    category: Option<Category>,
    purpose: Option<Purpose>,
) -> Result<(GrantState, Option<String>), CoreError> {
    let Some(org) = organisation else {
        return Ok((GrantState::None, None));
    };
    if st.app_policy(org)? == AppAdminPolicy::Blocked {
        return Ok((GrantState::Revoked, None));
    }
    let subject = subject.map(|s| s.to_string());
    let mut state = (GrantState::None, None);
    for g in st
        .grants_of(org)?
        .into_iter()
        .filter(|g| g.recipient == recipient)
    {
        if g.revoked_at_ms.is_some() {
            if state.0 == GrantState::None {
                state = (GrantState::Revoked, Some(g.id));
            }
            continue;
        }
        let user_ok = g.users.is_empty() || subject.as_ref().is_some_and(|s| g.users.contains(s));
        let scope_ok = g
            .scopes
            .iter()
            .any(|s| Some(s.category) == category && Some(s.purpose) == purpose);
        if user_ok && scope_ok {
            return Ok((GrantState::InScope, Some(g.id)));
        }
        state = (GrantState::OutOfScope, Some(g.id));
    }
    Ok(state)
}

impl Steward {
    /// The organisation's app admin policy (default `limited`).
    pub fn app_policy(&self, org: &str) -> Result<AppAdminPolicy, CoreError> {
        let key = policy_key(org);
        Ok(
            match self.store()?.registry_get(RegistryTable::AppGrants, &key)? {
                Some(b) => parse_row::<PolicyRow>(RegistryTable::AppGrants, &key, &b)?.policy,
                None => AppAdminPolicy::Limited,
            },
        )
    }

    /// The grants of organisation `org`, revoked ones included.
    pub(crate) fn grants_of(&self, org: &str) -> Result<Vec<AppGrant>, CoreError> {
        let mut out = Vec::new();
        for (k, b) in self.store()?.registry_find(
            RegistryTable::AppGrants,
            RegistryQuery::Equals(RegistryField::Organisation, org),
        )? {
            if k.starts_with("grt_") {
                let g: AppGrant = parse_row(RegistryTable::AppGrants, &k, &b)?;
                if g.organisation == org {
                    out.push(g);
                }
            }
        }
        Ok(out)
    }

    /// Set organisation `org`'s app admin policy, as `by` (decided as
    /// [`ManagementAction::AppPolicySet`]: its administrators and
    /// resellers, N6.3, N6.5), audited with the change.
    pub fn set_app_policy(
        &self,
        by: &str,
        org: &str,
        policy: AppAdminPolicy,
    ) -> Result<(), CoreError> {
        let principal = self.principal(by)?;
        if self.organisation(org)?.is_none() {
            return Err(CoreError::Input(format!(
                "organisation: `{org}` does not exist"
            )));
        }
        let (_, mut entry) = self.decide_management(
            &principal,
            ManagementAction::AppPolicySet,
            Target::named("app_grants").in_organisation(org),
        )?;
        entry.resource = entry
            .resource
            .id(token(&format!("app_policy:{}", policy.as_str())));
        let row = PolicyRow {
            organisation: org.into(),
            policy,
            set_by: by.into(),
            set_at_ms: now_ms(self),
        };
        self.store()?
            .commit(ChangeSet {
                registry: vec![(RegistryTable::AppGrants, policy_key(org), row_json(&row)?)],
                audit: vec![entry],
                ..Default::default()
            })
            .map_err(|e| CoreError::AuditUnavailable(e.to_string()))?;
        Ok(())
    }

    /// Grant a registered third-party app scopes in an organisation, as
    /// `by` (decided as [`ManagementAction::AppGrant`]: the organisation's
    /// administrators and resellers; N6.3), audited with the grant.
    ///
    /// Errors ([`CoreError::Input`], nothing stored): an unknown recipient
    /// or one that is not a third-party app; an unknown organisation; no
    /// scope; a scope the organisation's policy does not allow (`limited`:
    /// provide_services and other_services, never communications;
    /// `blocked`: none); a named user who is not a `sub_` id of that
    /// organisation. [`CoreError::Denied`] (audited) for a principal who
    /// does not manage the organisation.
    pub fn grant_app(&self, by: &str, new: NewGrant) -> Result<AppGrant, CoreError> {
        let principal = self.principal(by)?;
        let rcp = self.recipient(&new.recipient)?;
        let Some(app) = rcp
            .principal
            .clone()
            .filter(|_| rcp.kind == RecipientKind::ThirdPartyApp)
        else {
            return Err(CoreError::Input(format!(
                "recipient: `{}` is a {}, and only a third-party app is granted scopes (N6.3)",
                rcp.id, rcp.kind
            )));
        };
        let org = new.organisation.as_str();
        if self.organisation(org)?.is_none() {
            return Err(CoreError::Input(format!(
                "organisation: `{org}` does not exist"
            )));
        }
        let (_, mut entry) = self.decide_management(
            &principal,
            ManagementAction::AppGrant,
            Target::named("app_grants").in_organisation(org),
        )?;
        self.check_grant(&new)?;
        let g = AppGrant {
            id: new_id("grt"),
            recipient: rcp.id,
            app,
            organisation: new.organisation,
            scopes: new.scopes,
            users: new.users,
            granted_by: by.into(),
            granted_at_ms: now_ms(self),
            revoked_at_ms: None,
            revoked_by: None,
        };
        entry.resource = entry.resource.id(token(&g.id));
        self.store()?
            .commit(ChangeSet {
                registry: vec![(RegistryTable::AppGrants, g.id.clone(), row_json(&g)?)],
                audit: vec![entry],
                ..Default::default()
            })
            .map_err(|e| CoreError::AuditUnavailable(e.to_string()))?;
        Ok(g)
    }

    fn check_grant(&self, new: &NewGrant) -> Result<(), CoreError> {
        if new.scopes.is_empty() {
            return Err(CoreError::Input(
                "scopes: name at least one category:purpose".into(),
            ));
        }
        match self.app_policy(&new.organisation)? {
            AppAdminPolicy::Blocked => {
                return Err(CoreError::Input(format!(
                    "organisation `{}` blocks third-party apps (app admin policy `blocked`): set it to limited or trusted first",
                    new.organisation
                )));
            }
            AppAdminPolicy::Limited => {
                if let Some(s) = new.scopes.iter().find(|s| {
                    s.category == Category::Communications
                        || !matches!(s.purpose, Purpose::ProvideServices | Purpose::OtherServices)
                }) {
                    return Err(CoreError::Input(format!(
                        "scopes: {}:{} is outside what organisation `{}` allows apps (policy `limited`: provide_services and other_services, not communications)",
                        s.category, s.purpose, new.organisation
                    )));
                }
            }
            AppAdminPolicy::Trusted => {}
        }
        for u in &new.users {
            let id: SubjectId = u.parse().map_err(|_| {
                CoreError::Input(
                    "users: give each user as the sub_ id of a user of the organisation".into(),
                )
            })?;
            if self.organisation_of_subject(id)?.as_deref() != Some(new.organisation.as_str()) {
                return Err(CoreError::Input(format!(
                    "users: {id} is not a user of organisation `{}`",
                    new.organisation
                )));
            }
        }
        Ok(())
    }

    /// Revoke grant `id`, as `by` (decided as
    /// [`ManagementAction::AppGrantRevoke`] for the grant's organisation),
    /// audited. The app's next request is refused (N6.3).
    ///
    /// Errors: [`CoreError::Input`] for an unknown grant;
    /// [`CoreError::Conflict`] when already revoked.
    pub fn revoke_grant(&self, by: &str, id: &str) -> Result<AppGrant, CoreError> {
        let principal = self.principal(by)?;
        let body = self
            .store()?
            .registry_get(RegistryTable::AppGrants, id)?
            .filter(|_| id.starts_with("grt_"))
            .ok_or_else(|| CoreError::Input("grant: no such grant id (grt_…)".into()))?;
        let mut g: AppGrant = parse_row(RegistryTable::AppGrants, id, &body)?;
        let (_, mut entry) = self.decide_management(
            &principal,
            ManagementAction::AppGrantRevoke,
            Target::named("app_grants").in_organisation(&g.organisation),
        )?;
        if g.revoked_at_ms.is_some() {
            return Err(CoreError::Conflict(format!(
                "grant {id} is already revoked"
            )));
        }
        g.revoked_at_ms = Some(now_ms(self));
        g.revoked_by = Some(by.into());
        entry.resource = entry.resource.id(token(&g.id));
        self.store()?
            .commit(ChangeSet {
                registry: vec![(RegistryTable::AppGrants, g.id.clone(), row_json(&g)?)],
                audit: vec![entry],
                guards: vec![steward_store::RegistryGuard {
                    table: RegistryTable::AppGrants,
                    id: id.into(),
                    expected: Some(body),
                }],
                ..Default::default()
            })
            .map_err(|e| CoreError::AuditUnavailable(e.to_string()))?;
        Ok(g)
    }

    /// The grant review of organisation `org` (N6.3): every grant with its
    /// last use and what it disclosed, as `by` (decided as
    /// [`ManagementAction::OrganisationView`]).
    pub fn grant_review(&self, by: &str, org: &str) -> Result<Vec<GrantReview>, CoreError> {
        self.authorize_management(
            by,
            ManagementAction::OrganisationView,
            Target::named("app_grants").in_organisation(org),
        )?;
        let ledger = self.disclosure_rows()?;
        Ok(self
            .grants_of(org)?
            .into_iter()
            .map(|g| {
                let used: Vec<_> = ledger
                    .iter()
                    .filter(|d| d.allowed_by.as_deref() == Some(g.id.as_str()))
                    .collect();
                GrantReview {
                    last_used: used.iter().map(|d| d.last_at_ms).max().map(rfc3339),
                    disclosures: used.len() as u64,
                    records_disclosed: used.iter().map(|d| d.record_count).sum(),
                    grant: g,
                }
            })
            .collect())
    }
}
