//! The administrator and reseller powers over the users of the
//! organisations they manage, and the self-service of users, each
//! decided by the gate with the subject's organisation in the request.

use steward_audit::{Decision as AuditDecision, EntryDraft, Resource, ResourceKind, SubjectRef};
use steward_domain::{Category, Principal, Purpose, SubjectId};
use steward_policy::Action;
use steward_store::ChangeSet;

use crate::authorize::{ManagementAction, Target};
use crate::gate::{new_request_id, now_ts, token};
use crate::{AccessRequest, CoreError, Denied, Opened, OpenedRecord, Steward};

use super::{Membership, Organisation, Restrictions, UserAccount, check_password_length, corrupt};
use crate::rows::row_json;

impl Steward {
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
            registry: vec![Self::tenancy_row(format!("user:{}", user.name), user)?],
            audit: vec![e],
            ..Default::default()
        };
        if let Some(p) = principal {
            cs.principals
                .push((p.name.clone(), row_json(p)?, p.revoked));
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
    /// Otherwise the gate decides: `rectify` of account for
    /// `provide_services` (N7.2); `erase` for `provide_services` (policy
    /// `subject-own-erase`, N7.2, issue 17 item 6), done as every erasure
    /// is, legal holds keeping what they must (N3.7, N8.8). Returns the
    /// decision's audit index.
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
        if delete {
            // N7.2, N6.5e: the user's own erasure, holds applying (N3.7).
            let receipt = self.erase_own(&u.name, &u.subject)?;
            return Ok(receipt.audit_index);
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
            grant_id: None,
            incident_id: None,
            organisation: Some(u.organisation),
            kind: None,
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
