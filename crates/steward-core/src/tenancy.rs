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
use steward_audit::{Decision as AuditDecision, EntryDraft, Resource, ResourceKind, SubjectRef};
use steward_domain::{Category, Principal, PrincipalKind, Purpose, SubjectId};
use steward_policy::Action;
use steward_store::{ChangeSet, RegistryTable, StoreError};

use crate::authorize::{ManagementAction, Target};
use crate::gate::{new_request_id, now_ts, system_entry, token};
use crate::{AccessRequest, CoreError, Denied, Opened, OpenedRecord, Steward};

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
        match self.store()?.registry_get(RegistryTable::Tenancy, key)? {
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
        self.store()?
            .registry_list(RegistryTable::Tenancy)?
            .into_iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, b)| serde_json::from_str(&b).map_err(|e| corrupt(&k, e)))
            .collect()
    }

    fn tenancy_row<T: Serialize>(key: String, v: &T) -> (RegistryTable, String, String) {
        (
            RegistryTable::Tenancy,
            key,
            serde_json::to_string(v).unwrap_or_default(),
        )
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
            registry: vec![Self::tenancy_row(format!("partner:{id}"), &p)],
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
                cs.principals.push((
                    rp.name.clone(),
                    serde_json::to_string(&rp).unwrap_or_default(),
                    rp.revoked,
                ));
            }
        }
        let org = Organisation {
            id: id.into(),
            name: name.chars().take(200).collect(),
            partner: partner.map(str::to_owned),
            users_may_export,
        };
        cs.registry
            .push(Self::tenancy_row(format!("org:{id}"), &org));
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
            registry: vec![Self::tenancy_row(format!("org:{org}"), &o)],
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
            principals: vec![(
                p.name.clone(),
                serde_json::to_string(&p).unwrap_or_default(),
                false,
            )],
            registry: vec![Self::tenancy_row(format!("partner:{partner}"), &part)],
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
        let subject = self.find(identifier)?.ok_or_else(|| {
            CoreError::Input("subject: the identifier matches no data subject; ingest an account record for it first".into())
        })?;
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
        self.store()?.commit(ChangeSet {
            principals: vec![(
                p.name.clone(),
                serde_json::to_string(&p).unwrap_or_default(),
                false,
            )],
            registry: vec![
                Self::tenancy_row(format!("user:{name}"), &user),
                Self::tenancy_row(
                    format!("member:{subject}"),
                    &Membership {
                        organisation: org.into(),
                        user: name.clone(),
                    },
                ),
            ],
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(user)
    }

    fn user_or_input(&self, name: &str) -> Result<UserAccount, CoreError> {
        self.user(name)?
            .ok_or_else(|| CoreError::Input(format!("no user `{name}`")))
    }

    /// The account an administrator's power (`action` on `category` for
    /// `purpose`) names. An unknown name is decided by the gate first, as
    /// a user of no organisation whose subject is nobody: a principal it
    /// refuses gets the same audited denial as for another organisation's
    /// user, and only an allowed principal learns that there is no such
    /// user (issue 14 item 8).
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::NotFound`].
    fn user_for_admin(
        &self,
        by: &str,
        user: &str,
        action: Action,
        category: Category,
        purpose: Purpose,
        obligation: Option<&str>,
    ) -> Result<UserAccount, CoreError> {
        if let Some(u) = self.user(user)? {
            return Ok(u);
        }
        let nobody = AccessRequest::new(by, action, SubjectId(0).to_string())
            .category(category)
            .purpose(purpose)
            .obligation(obligation);
        if !self.predecide(&nobody)? {
            return self.deny_through_gate(&nobody);
        }
        Err(CoreError::NotFound(
            "no such user: see GET /v1/organisations/{id}/users".into(),
        ))
    }

    /// The gate request of an administrator's power over a user.
    fn admin_request(
        by: &str,
        user: &UserAccount,
        action: Action,
        category: Category,
        purpose: Purpose,
        obligation: Option<&str>,
    ) -> AccessRequest {
        AccessRequest::new(by, action, user.subject.clone())
            .category(category)
            .purpose(purpose)
            .obligation(obligation)
            .organisation(user.organisation.clone())
    }

    /// Commit a user row change after an allowed gate decision.
    fn commit_user(
        &self,
        by: &str,
        user: &UserAccount,
        action: &str,
        clause: &str,
        principal: Option<&Principal>,
    ) -> Result<(), CoreError> {
        let mut e = self.tenancy_entry(by, action, &user.name);
        e.clause_ids = vec![token(clause)];
        let mut cs = ChangeSet {
            registry: vec![Self::tenancy_row(format!("user:{}", user.name), user)],
            audit: vec![e],
            ..Default::default()
        };
        if let Some(p) = principal {
            cs.principals.push((
                p.name.clone(),
                serde_json::to_string(p).unwrap_or_default(),
                p.revoked,
            ));
        }
        self.store()?.commit(cs)?;
        Ok(())
    }

    /// N6.5a: an administrator or reseller views a user's account, billing,
    /// usage or configuration records, for `provide_services`.
    pub fn admin_view(
        &self,
        by: &str,
        user: &str,
        category: Category,
    ) -> Result<(Opened, Vec<OpenedRecord>), CoreError> {
        let u = self.user_for_admin(
            by,
            user,
            Action::AdminView,
            category,
            Purpose::ProvideServices,
            None,
        )?;
        self.read(&Self::admin_request(
            by,
            &u,
            Action::AdminView,
            category,
            Purpose::ProvideServices,
            None,
        ))
    }

    /// N6.5b: an administrator or reseller changes a user's password (12
    /// to 1024 characters, stored as an argon2id hash). Decided and audited
    /// by the gate first.
    pub fn admin_change_password(
        &self,
        by: &str,
        user: &str,
        password: &str,
    ) -> Result<u64, CoreError> {
        check_password_length(password)?;
        let mut u = self.user_for_admin(
            by,
            user,
            Action::AdminChangePassword,
            Category::Account,
            Purpose::ProvideServices,
            None,
        )?;
        let opened = self.gate(
            &Self::admin_request(
                by,
                &u,
                Action::AdminChangePassword,
                Category::Account,
                Purpose::ProvideServices,
                None,
            ),
            None,
        )?;
        u.password_hash = Some(crate::auth::hash_password(password)?);
        self.commit_user(by, &u, "user_password_change", "N6.5b", None)?;
        Ok(opened.audit_index)
    }

    /// N6.5c: an administrator or reseller suspends (or restores) a user's
    /// access. Suspension revokes the user's principal and every token of
    /// it at once: the next request with any of them is refused.
    pub fn admin_suspend(&self, by: &str, user: &str, suspend: bool) -> Result<u64, CoreError> {
        let mut u = self.user_for_admin(
            by,
            user,
            Action::AdminSuspend,
            Category::Account,
            Purpose::ProvideServices,
            None,
        )?;
        let opened = self.gate(
            &Self::admin_request(
                by,
                &u,
                Action::AdminSuspend,
                Category::Account,
                Purpose::ProvideServices,
                None,
            ),
            None,
        )?;
        let mut p = self.principal(&u.name)?;
        p.revoked = suspend;
        u.suspended = suspend;
        self.commit_user(
            by,
            &u,
            if suspend {
                "user_suspend"
            } else {
                "user_restore"
            },
            "N6.5c",
            Some(&p),
        )?;
        if suspend {
            self.revoke_tokens_of(by, &u.name)?;
        }
        Ok(opened.audit_index)
    }

    /// N6.5d: an administrator or reseller reads a user's account records
    /// for `comply`, citing a recorded legal obligation.
    pub fn admin_legal_access(
        &self,
        by: &str,
        user: &str,
        obligation: Option<&str>,
    ) -> Result<(Opened, Vec<OpenedRecord>), CoreError> {
        let u = self.user_for_admin(
            by,
            user,
            Action::AdminLegalAccess,
            Category::Account,
            Purpose::Comply,
            obligation,
        )?;
        self.read(&Self::admin_request(
            by,
            &u,
            Action::AdminLegalAccess,
            Category::Account,
            Purpose::Comply,
            obligation,
        ))
    }

    /// N6.5e: an administrator or reseller restricts (or frees) a user's
    /// ability to edit or delete their information and privacy settings.
    pub fn admin_restrict(
        &self,
        by: &str,
        user: &str,
        restrictions: Restrictions,
    ) -> Result<u64, CoreError> {
        let mut u = self.user_for_admin(
            by,
            user,
            Action::AdminRestrict,
            Category::Account,
            Purpose::ProvideServices,
            None,
        )?;
        let opened = self.gate(
            &Self::admin_request(
                by,
                &u,
                Action::AdminRestrict,
                Category::Account,
                Purpose::ProvideServices,
                None,
            ),
            None,
        )?;
        u.restrictions = restrictions;
        u.restricted_by = Some(by.to_owned());
        self.commit_user(by, &u, "user_restrict", "N6.5e", None)?;
        Ok(opened.audit_index)
    }

    /// A user's own edit (`rectify`) or delete (`erase`) of their
    /// information, checked against the restrictions an administrator set
    /// (N6.5e) before the gate: a restricted attempt is denied, the denial
    /// names the restriction and who set it, and it is in the audit log.
    /// Otherwise the gate decides (`rectify` of account for
    /// `provide_services`, N7.2).
    pub fn self_service_change(&self, user: &str, delete: bool) -> Result<u64, CoreError> {
        let u = self.self_user(user)?;
        let restricted = if delete {
            u.restrictions.delete
        } else {
            u.restrictions.edit
        };
        if restricted {
            let what = if delete { "delete" } else { "edit" };
            let by = u
                .restricted_by
                .clone()
                .unwrap_or_else(|| "an administrator".into());
            return Err(self.deny_before_gate(
                &u,
                if delete { Action::Erase } else { Action::Rectify },
                "admin-restriction",
                "N6.5e",
                &format!("restricted_{what}"),
                format!(
                    "your organisation's administrator ({by}) has restricted your ability to {what} your information and privacy settings (N6.5e)"
                ),
            ));
        }
        let opened = self.gate(
            &AccessRequest {
                category: (!delete).then_some(Category::Account),
                ..AccessRequest::new(
                    u.name.clone(),
                    if delete {
                        Action::Erase
                    } else {
                        Action::Rectify
                    },
                    u.subject.clone(),
                )
                .purpose(Purpose::ProvideServices)
                .organisation(u.organisation.clone())
            },
            None,
        )?;
        Ok(opened.audit_index)
    }

    /// Record a denial decided before the gate (an organisation setting or
    /// an administrator's restriction) in the audit log, and return it.
    fn deny_before_gate(
        &self,
        u: &UserAccount,
        action: Action,
        policy_id: &str,
        clause: &str,
        reason_token: &str,
        reason: String,
    ) -> CoreError {
        let mut resource = Resource::new(ResourceKind::Subject);
        if let Ok(s) = u.subject.parse::<SubjectId>() {
            resource = resource.subject(SubjectRef::new(s.0 as u64));
        }
        let entry = EntryDraft {
            action: token(action.as_str()),
            clause_ids: vec![token(clause)],
            decision: AuditDecision::Deny,
            policy_ids: vec![token(policy_id)],
            policy_version: token(self.policy.version()),
            principal: token(&u.name),
            purpose: Some(token(Purpose::ProvideServices.as_str())),
            reason: Some(token(reason_token)),
            region: token(&self.config.home_region().name),
            request_id: token(&new_request_id()),
            resource,
            time: now_ts(),
        };
        let committed = match self.store() {
            Ok(mut s) => s.commit(ChangeSet {
                audit: vec![entry],
                ..Default::default()
            }),
            Err(e) => return e,
        };
        match committed {
            Ok(c) => CoreError::Denied(Box::new(Denied {
                reason,
                policy_ids: vec![policy_id.to_owned()],
                clause_ids: vec![clause.to_owned()],
                audit_index: c.audit_indexes.first().copied(),
            })),
            Err(e) => CoreError::AuditUnavailable(e.to_string()),
        }
    }

    /// A user's export of their own data (N7.1, N7.2) as a ZIP written to
    /// `out`: refused, naming the setting, when the user's organisation does
    /// not let its users export (audited); otherwise the gate decides
    /// (`export` for `provide_services`, own subject only).
    pub fn self_export(
        &self,
        user: &str,
        out: &std::path::Path,
    ) -> Result<crate::ExportSummary, CoreError> {
        let u = self.user_or_input(user)?;
        self.export(user, Purpose::ProvideServices, &u.subject, out, None)
    }

    /// The organisation of the subject `identifier` names, for an export of
    /// its data by `principal` (N1.2: an administrator's export is decided
    /// against it, N7.2); refused first, audited, when `principal` is that
    /// subject's user and the organisation does not let its users export
    /// (N7.1), whichever route the export came by.
    pub(crate) fn export_organisation(
        &self,
        principal: &str,
        identifier: &str,
    ) -> Result<Option<String>, CoreError> {
        let Some(s) = self.find_before_gate(identifier)? else {
            return Ok(None);
        };
        if let Some(refusal) = self.own_export_refusal(principal, s)? {
            return Err(refusal);
        }
        self.organisation_of_subject(s)
    }

    /// N7.1: when `principal` exports its own data (it is the user of
    /// `subject`) and the user's organisation does not let its users
    /// export, the refusal (audited, naming the setting); `None` otherwise.
    /// Checked by every export, whichever route it came by.
    pub(crate) fn own_export_refusal(
        &self,
        principal: &str,
        subject: SubjectId,
    ) -> Result<Option<CoreError>, CoreError> {
        let Some(m) = self.tenancy_get::<Membership>(&format!("member:{subject}"))? else {
            return Ok(None);
        };
        if m.user != principal {
            return Ok(None);
        }
        let u = self.user_or_input(&m.user)?;
        let org = self
            .organisation(&m.organisation)?
            .ok_or_else(|| corrupt(&u.name, "organisation missing"))?;
        if org.users_may_export {
            return Ok(None);
        }
        Ok(Some(self.deny_before_gate(
            &u,
            Action::Export,
            "organisation-disallows-export",
            "N7.1",
            "organisation_disallows_export",
            format!(
                "your organisation ({}) does not let its users export their own data; ask its administrator (N7.1)",
                org.id
            ),
        )))
    }

    /// The user account `by` is, for the self-service operations on one's
    /// own data (N7.2, N7.3): a principal that is no organisation's user is
    /// refused, audited (policy id `self-service-users-only`).
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::Input`] for an
    /// unknown principal.
    pub fn self_user(&self, by: &str) -> Result<UserAccount, CoreError> {
        let p = self.principal(by)?;
        match self.user(by)? {
            Some(u) if p.subject.is_some_and(|s| s.to_string() == u.subject) => Ok(u),
            _ => Err(self.refuse(
                &p,
                "self_service",
                None,
                "self-service-users-only",
                "N7.2",
                "the /v1/me data endpoints are for users (data subjects) reading their own data (N7)"
                    .into(),
            )),
        }
    }

    /// A user's own records (N7.2, N7.3), optionally of one category:
    /// through the gate as `by` for `provide_services`, with the user's
    /// organisation. Refused, audited, for a principal that is no user.
    pub fn self_records(
        &self,
        by: &str,
        category: Option<Category>,
    ) -> Result<(Opened, Vec<OpenedRecord>), CoreError> {
        let u = self.self_user(by)?;
        self.read(&AccessRequest {
            principal: by.to_owned(),
            action: Action::Read,
            subject: u.subject,
            category,
            purpose: Some(Purpose::ProvideServices),
            case_id: None,
            obligation_id: None,
            organisation: Some(u.organisation),
        })
    }

    /// An organisation's settings, as `by`: decided by the pack
    /// ([`ManagementAction::OrganisationView`], `manage_organisation` with
    /// the organisation: its administrators and resellers, N6.5a),
    /// audited. `Ok(None)` for an allowed principal when there is no such
    /// organisation.
    pub fn organisation_as(&self, by: &str, id: &str) -> Result<Option<Organisation>, CoreError> {
        self.authorize_management(
            by,
            ManagementAction::OrganisationView,
            Target::named(id).in_organisation(id),
        )?;
        self.organisation(id)
    }

    /// The users of an organisation, as `by`: decided like
    /// [`Steward::organisation_as`] ([`ManagementAction::OrganisationUsers`]).
    pub fn users_of_as(&self, by: &str, org: &str) -> Result<Vec<UserAccount>, CoreError> {
        self.authorize_management(
            by,
            ManagementAction::OrganisationUsers,
            Target::named(org).in_organisation(org),
        )?;
        self.users_of(org)
    }
}
