//! Tenancy (N1.2): partners (authorised resellers) -> customer organisations
//! -> users (data subjects), and the administrator and reseller powers of
//! N6.5a-e over the users of the organisations they manage.
//!
//! Kept as rows of the `tenancy` registry, keyed `partner:ID`, `org:ID`,
//! `user:NAME` and `member:sub_…` (the organisation a subject belongs to).
//! A user is a `data_subject` principal whose name is opaque (`u-…`), never
//! an identifier: principal names go to the audit log in clear. Password
//! hashes are argon2id PHC strings made here from the password given
//! ([`crate::hash_password`]); no password is stored or logged.
//!
//! Every N6.5 power is decided by the gate with the subject's organisation
//! in the request, so an administrator or reseller acts on exactly the
//! organisations in its principal's `organisations`, and every decision,
//! allowed or denied, is in the audit log.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use steward_audit::{EntryDraft, SubjectRef};
use steward_domain::{Principal, PrincipalKind, SubjectId};
use steward_store::{ChangeSet, RegistryQuery, RegistryTable, StoreError};

use crate::authorize::{ManagementAction, Target};
use crate::gate::{system_entry, token};
use crate::rows::row_json;
use crate::{CoreError, Steward};

mod admin;

/// A password must be 12 to 1024 characters ([`crate::PASSWORD_CHARS`]).
fn check_password_length(p: &str) -> Result<(), CoreError> {
    if !crate::PASSWORD_CHARS.contains(&p.chars().count()) {
        return Err(CoreError::Input("password: 12 to 1024 characters".into()));
    }
    Ok(())
}

/// An authorised reseller (N1.2).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Partner {
    /// Id (`A-Z a-z 0-9 . _ -`, 1 to 64).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The reseller principals acting for this partner.
    pub resellers: Vec<String>,
}

/// A customer organisation (N1.2).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Organisation {
    /// Id (`A-Z a-z 0-9 . _ -`, 1 to 64).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The authorised partner it buys through, if any.
    pub partner: Option<String>,
    /// Whether its users may access and export their own data (N7.1).
    pub users_may_export: bool,
}

/// What an administrator has restricted a user from doing (N6.5e).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Restrictions {
    /// The user may not edit their information or privacy settings.
    pub edit: bool,
    /// The user may not delete their information.
    pub delete: bool,
}

/// A user of an organisation: a data subject with a login (N1.2, N7).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserAccount {
    /// The user's principal name (opaque, `u-…`).
    pub name: String,
    /// The organisation.
    pub organisation: String,
    /// The data subject (opaque `sub_` id).
    pub subject: String,
    /// PHC string of the password hash (argon2id), if a password is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Suspended or terminated (N6.5c): tokens refused, principal revoked.
    pub suspended: bool,
    /// Restrictions set by an administrator (N6.5e).
    pub restrictions: Restrictions,
    /// Who set the restrictions.
    #[serde(default)]
    pub restricted_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Membership {
    organisation: String,
    user: String,
}

/// A tenancy id: 1 to 64 characters of `A-Z a-z 0-9 . _ -`.
fn valid_id(what: &str, id: &str) -> Result<(), CoreError> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(CoreError::Input(format!(
            "{what} must be 1 to 64 characters of A-Z a-z 0-9 . _ -"
        )));
    }
    Ok(())
}

fn corrupt(key: &str, e: impl std::fmt::Display) -> CoreError {
    CoreError::Store(StoreError::Corrupt(format!("tenancy {key}: {e}")))
}

impl Steward {
    fn tenancy_get<T: for<'de> Deserialize<'de>>(&self, key: &str) -> Result<Option<T>, CoreError> {
        match self
            .store_read()?
            .registry_get(RegistryTable::Tenancy, key)?
        {
            Some(b) => serde_json::from_str(&b)
                .map(Some)
                .map_err(|e| corrupt(key, e)),
            None => Ok(None),
        }
    }

    fn tenancy_list<T: for<'de> Deserialize<'de>>(
        &self,
        prefix: &str,
    ) -> Result<Vec<T>, CoreError> {
        // Read on every gated read (the organisations an identifier may be
        // scoped to): through a reading handle, not the writer's.
        self.store_read()?
            .registry_find(RegistryTable::Tenancy, RegistryQuery::IdPrefix(prefix))?
            .into_iter()
            .map(|(k, b)| serde_json::from_str(&b).map_err(|e| corrupt(&k, e)))
            .collect()
    }

    fn tenancy_row<T: Serialize>(
        key: String,
        v: &T,
    ) -> Result<(RegistryTable, String, String), CoreError> {
        Ok((RegistryTable::Tenancy, key, row_json(v)?))
    }

    fn tenancy_entry(&self, by: &str, action: &str, id: &str) -> EntryDraft {
        let mut e = system_entry(action, id, "", self.policy.version());
        e.principal = token(by);
        e.clause_ids = vec![token("N1.2")];
        e
    }

    /// A partner (authorised reseller), if known.
    pub fn partner(&self, id: &str) -> Result<Option<Partner>, CoreError> {
        self.tenancy_get(&format!("partner:{id}"))
    }

    /// An organisation, if known.
    pub fn organisation(&self, id: &str) -> Result<Option<Organisation>, CoreError> {
        self.tenancy_get(&format!("org:{id}"))
    }

    /// Every organisation.
    pub fn organisations(&self) -> Result<Vec<Organisation>, CoreError> {
        self.tenancy_list("org:")
    }

    /// A user, if known.
    pub fn user(&self, name: &str) -> Result<Option<UserAccount>, CoreError> {
        self.tenancy_get(&format!("user:{name}"))
    }

    /// The users of an organisation.
    pub fn users_of(&self, organisation: &str) -> Result<Vec<UserAccount>, CoreError> {
        Ok(self
            .tenancy_list::<UserAccount>("user:")?
            .into_iter()
            .filter(|u| u.organisation == organisation)
            .collect())
    }

    /// The organisation a subject belongs to (N1.2), if any.
    pub fn organisation_of_subject(&self, subject: SubjectId) -> Result<Option<String>, CoreError> {
        Ok(self
            .tenancy_get::<Membership>(&format!("member:{subject}"))?
            .map(|m| m.organisation))
    }

    /// The organisation of the subject an identifier names (through the
    /// blind index), if it names exactly one that belongs to an
    /// organisation (an ambiguous identifier is left to the gate).
    pub fn organisation_of_identifier(
        &self,
        identifier: &str,
    ) -> Result<Option<String>, CoreError> {
        match self.find_before_gate(identifier)? {
            Some(s) => self.organisation_of_subject(s),
            None => Ok(None),
        }
    }

    /// Create a partner (an authorised reseller, N1.2), as `by`: decided by
    /// the pack first ([`ManagementAction::PartnerCreate`],
    /// `manage_tenancy`), audited.
    pub fn create_partner(&self, by: &str, id: &str, name: &str) -> Result<Partner, CoreError> {
        valid_id("partner id", id)?;
        self.authorize_management(by, ManagementAction::PartnerCreate, Target::named(id))?;
        if self.partner(id)?.is_some() {
            return Err(CoreError::Input(format!("partner `{id}` already exists")));
        }
        let p = Partner {
            id: id.into(),
            name: name.chars().take(200).collect(),
            resellers: vec![],
        };
        self.store()?.commit(ChangeSet {
            registry: vec![Self::tenancy_row(format!("partner:{id}"), &p)?],
            audit: vec![self.tenancy_entry(by, "partner_create", id)],
            ..Default::default()
        })?;
        Ok(p)
    }

    /// Create a customer organisation, optionally under an authorised
    /// partner, as `by`. The partner's resellers are authorised for it at
    /// once (their principals' `organisations`, N6.5). Decided by the pack
    /// first ([`ManagementAction::OrganisationCreate`], `manage_tenancy`),
    /// audited.
    pub fn create_organisation(
        &self,
        by: &str,
        id: &str,
        name: &str,
        partner: Option<&str>,
        users_may_export: bool,
    ) -> Result<Organisation, CoreError> {
        valid_id("organisation id", id)?;
        self.authorize_management(
            by,
            ManagementAction::OrganisationCreate,
            Target::named(id).in_organisation(id),
        )?;
        if self.organisation(id)?.is_some() {
            return Err(CoreError::Input(format!(
                "organisation `{id}` already exists"
            )));
        }
        let mut cs = ChangeSet::default();
        if let Some(pid) = partner {
            let p = self
                .partner(pid)?
                .ok_or_else(|| CoreError::Input(format!("no partner `{pid}`")))?;
            for r in &p.resellers {
                let mut rp = self.principal(r)?;
                if !rp.organisations.iter().any(|o| o == id) {
                    rp.organisations.push(id.to_owned());
                }
                cs.principals
                    .push((rp.name.clone(), row_json(&rp)?, rp.revoked));
            }
        }
        let org = Organisation {
            id: id.into(),
            name: name.chars().take(200).collect(),
            partner: partner.map(str::to_owned),
            users_may_export,
        };
        cs.registry
            .push(Self::tenancy_row(format!("org:{id}"), &org)?);
        cs.audit
            .push(self.tenancy_entry(by, "organisation_create", id));
        self.store()?.commit(cs)?;
        Ok(org)
    }

    /// Change an organisation's setting whether its users may export their
    /// own data (N7.1), as `by`: decided by the pack first
    /// ([`ManagementAction::OrganisationSettings`], `manage_organisation`
    /// with the organisation: its administrators and resellers, N6.5a),
    /// audited.
    pub fn set_users_may_export(
        &self,
        by: &str,
        org: &str,
        allow: bool,
    ) -> Result<Organisation, CoreError> {
        self.authorize_management(
            by,
            ManagementAction::OrganisationSettings,
            Target::named(org).in_organisation(org),
        )?;
        let mut o = self
            .organisation(org)?
            .ok_or_else(|| CoreError::Input(format!("no organisation `{org}`")))?;
        o.users_may_export = allow;
        let mut e = self.tenancy_entry(by, "organisation_settings", org);
        e.clause_ids = vec![token("N7.1"), token("N1.2")];
        self.store()?.commit(ChangeSet {
            registry: vec![Self::tenancy_row(format!("org:{org}"), &o)?],
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(o)
    }

    /// Add an administrator principal (`customer_admin`) for one
    /// organisation (N6.5), as `by`: decided by the pack first
    /// ([`ManagementAction::OrgAdminAdd`], `manage_tenancy`), audited. A
    /// name that exists is refused, whatever its kind.
    pub fn add_org_admin(&self, by: &str, name: &str, org: &str) -> Result<Principal, CoreError> {
        valid_id("principal name", name)?;
        self.authorize_management(
            by,
            ManagementAction::OrgAdminAdd,
            Target::named(name).in_organisation(org),
        )?;
        if self.organisation(org)?.is_none() {
            return Err(CoreError::Input(format!("no organisation `{org}`")));
        }
        self.refuse_existing(name)?;
        let p = Principal {
            name: name.into(),
            kind: PrincipalKind::CustomerAdmin,
            teams: vec![],
            confidentiality_signed_on: None,
            training_expires_on: None,
            engagement_ends_on: None,
            subject: None,
            organisations: vec![org.into()],
            revoked: false,
        };
        self.put_principal(by, &p)?;
        Ok(p)
    }

    /// Add a reseller principal acting for a partner: authorised for exactly
    /// the partner's organisations (N1.2, N6.5), as `by`: decided by the
    /// pack first ([`ManagementAction::ResellerAdd`], `manage_tenancy`),
    /// audited. A name that exists is refused, whatever its kind.
    pub fn add_reseller(
        &self,
        by: &str,
        name: &str,
        partner: &str,
    ) -> Result<Principal, CoreError> {
        valid_id("principal name", name)?;
        self.authorize_management(by, ManagementAction::ResellerAdd, Target::named(name))?;
        let mut part = self
            .partner(partner)?
            .ok_or_else(|| CoreError::Input(format!("no partner `{partner}`")))?;
        self.refuse_existing(name)?;
        let orgs = self
            .organisations()?
            .into_iter()
            .filter(|o| o.partner.as_deref() == Some(partner))
            .map(|o| o.id)
            .collect();
        let p = Principal {
            name: name.into(),
            kind: PrincipalKind::Reseller,
            teams: vec![],
            confidentiality_signed_on: None,
            training_expires_on: None,
            engagement_ends_on: None,
            subject: None,
            organisations: orgs,
            revoked: false,
        };
        part.resellers.push(name.into());
        let mut e = self.tenancy_entry(by, "principal_add", name);
        e.clause_ids = vec![token("N5.5"), token("N1.2")];
        self.store()?.commit(ChangeSet {
            principals: vec![(p.name.clone(), row_json(&p)?, false)],
            registry: vec![Self::tenancy_row(format!("partner:{partner}"), &part)?],
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(p)
    }

    /// Create a user of `org` for the data subject an identifier names (the
    /// subject must already exist), as `by`: decided by the pack first
    /// ([`ManagementAction::UserCreate`], `manage_tenancy`), audited. The
    /// user's principal name is generated (`u-` and 16 hex digits). An
    /// initial `password` (12 to 1024 characters) is stored as an argon2id
    /// hash, never in clear.
    pub fn create_user(
        &self,
        by: &str,
        org: &str,
        identifier: &str,
        password: Option<&str>,
    ) -> Result<UserAccount, CoreError> {
        self.authorize_management(
            by,
            ManagementAction::UserCreate,
            Target::named("users").in_organisation(org),
        )?;
        if let Some(p) = password {
            check_password_length(p)?;
        }
        let password_hash = password.map(crate::auth::hash_password).transpose()?;
        if self.organisation(org)?.is_none() {
            return Err(CoreError::Input(format!("no organisation `{org}`")));
        }
        // Issue 15 item 2: the subject in the organisation's namespace, or
        // one of the deployment's own adopted into it (committed below).
        let mut cs = ChangeSet::default();
        let subject = self.subject_for_user(org, identifier, &mut cs)?;
        if self.organisation_of_subject(subject)?.is_some() {
            return Err(CoreError::Input(
                "subject: this data subject already belongs to an organisation".into(),
            ));
        }
        let mut b = [0u8; 8];
        rand::rng().fill_bytes(&mut b);
        let name = format!("u-{}", hex::encode(b));
        let p = Principal {
            name: name.clone(),
            kind: PrincipalKind::DataSubject,
            teams: vec![],
            confidentiality_signed_on: None,
            training_expires_on: None,
            engagement_ends_on: None,
            subject: Some(subject),
            organisations: vec![],
            revoked: false,
        };
        let user = UserAccount {
            name: name.clone(),
            organisation: org.into(),
            subject: subject.to_string(),
            password_hash,
            suspended: false,
            restrictions: Restrictions::default(),
            restricted_by: None,
        };
        let mut e = self.tenancy_entry(by, "user_create", &name);
        e.resource = e.resource.subject(SubjectRef::new(subject.0 as u64));
        cs.principals.push((p.name.clone(), row_json(&p)?, false));
        cs.registry.extend([
            Self::tenancy_row(format!("user:{name}"), &user)?,
            Self::tenancy_row(
                format!("member:{subject}"),
                &Membership {
                    organisation: org.into(),
                    user: name.clone(),
                },
            )?,
        ]);
        cs.audit.push(e);
        self.store()?.commit(cs)?;
        Ok(user)
    }
}
