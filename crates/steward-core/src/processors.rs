//! Processors on instruction (N6.6 "we share Service Data with our third
//! party providers ... when you request technical support services (we
//! share the information you provide in the support ticket ...) and
//! professional services (we share your contact details ...)"; issue 17
//! item 4): a processor principal reaches only what its registration and
//! its current instrument cover.
//!
//! - The registration: the subprocessor recipient the principal acts as
//!   (`Recipient::principal`), with its `service` (`support_ticket` or
//!   `professional_services`, steward-domain [`ProcessorService`]) and the
//!   categories it may receive, in effect once its change notice's lead
//!   time passed.
//! - A support provider's instrument: an open support case assigned to it
//!   ([`Steward::assign_case`], decided as [`ManagementAction::CaseAssign`]).
//! - A professional-services provider's instrument: a current engagement
//!   ([`Steward::record_engagement`], [`Steward::end_engagement`], decided
//!   as [`ManagementAction::EngagementRecord`] and
//!   [`ManagementAction::EngagementEnd`]), covering an organisation or named
//!   subjects and categories from its first to its last day.
//!
//! The gate turns these into the decision's context
//! ([`Steward::processor_facts`]); the pack's `processor-*` permits decide.

use serde::{Deserialize, Serialize};
use steward_audit::SubjectRef;
use steward_domain::{CaseStatus, Category, PrincipalKind, ProcessorService, SubjectId};
use steward_store::{ChangeSet, RegistryTable};
use time::Date;

use crate::authorize::{ManagementAction, Target};
use crate::cases::SupportCase;
use crate::gate::{AccessRequest, token};
use crate::rows::{parse_row, row_json};
use crate::sharing::Recipient;
use crate::{CoreError, Steward};

/// The longest an engagement may run, in days (first to last day).
pub const MAX_ENGAGEMENT_DAYS: i64 = 366;

/// A professional-services engagement (N6.6): processor `processor` may
/// read the contact details of the subjects it covers from `starts_on` to
/// `ends_on` (inclusive, UTC days) unless ended earlier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engagement {
    /// Id (`eng_` and 16 hex digits).
    pub id: String,
    /// The processor principal engaged.
    pub processor: String,
    /// The customer organisation whose users it covers (N1.2), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// The subjects (opaque `sub_` ids) it covers besides the organisation's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    /// The categories (N2) it covers: a subset of the registration's.
    pub categories: Vec<Category>,
    /// First day (UTC, `YYYY-MM-DD`).
    pub starts_on: Date,
    /// Last day (UTC), inclusive.
    pub ends_on: Date,
    /// The statement of work or contract reference, 1 to 200 characters.
    pub reference: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// The day it was ended early ([`Steward::end_engagement`]); from then
    /// it covers nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_on: Option<Date>,
}

/// What [`Steward::record_engagement`] is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEngagement {
    /// The processor principal (kind `processor`, acting as a subprocessor
    /// registered for `professional_services`).
    pub processor: String,
    /// The organisation whose users it covers.
    #[serde(default)]
    pub organisation: Option<String>,
    /// Subjects it covers, as identifiers (`username:ann`, `sub_…`).
    #[serde(default)]
    pub subjects: Vec<String>,
    /// Categories, at least one, each registered for the subprocessor.
    pub categories: Vec<Category>,
    /// First day.
    pub starts_on: Date,
    /// Last day, not before today nor `starts_on`, at most
    /// [`MAX_ENGAGEMENT_DAYS`] after `starts_on`.
    pub ends_on: Date,
    /// Statement of work or contract reference.
    pub reference: String,
}

/// What the gate establishes about a processor's request (N6.6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProcessorFacts {
    /// The registration's service, when in effect and listing the category.
    pub service: Option<ProcessorService>,
    /// The cited open case about the subject is assigned to the principal.
    pub assigned: bool,
    /// The id of a current engagement covering subject and category.
    pub engagement: Option<String>,
}

fn input(field: &str, why: impl std::fmt::Display) -> CoreError {
    CoreError::Input(format!("{field}: {why}"))
}

impl Steward {
    /// The subprocessor registration principal `name` acts as, provided
    /// `service`: the processor must exist, be of kind `processor`, not be
    /// revoked, and act as a subprocessor registered for `service`.
    fn registered_processor(
        &self,
        field: &str,
        name: &str,
        service: ProcessorService,
    ) -> Result<Recipient, CoreError> {
        let p = self.principal(name)?;
        if p.kind != PrincipalKind::Processor || p.revoked {
            return Err(input(
                field,
                format!("`{name}` is not a current processor principal (N6.6)"),
            ));
        }
        match self.recipient_of_principal(name)? {
            Some(r) if r.service == Some(service) => Ok(r),
            _ => Err(input(
                field,
                format!(
                    "`{name}` acts as no subprocessor registered for {service}; register it with `steward recipients add --kind subprocessor --principal {name} --service {service}` (N6.6)"
                ),
            )),
        }
    }

    /// Assign open support case `case_id` to the support-ticket processor
    /// `processor`, as `by` (N6.6, N3.5): the processor may then read the
    /// ticket content (`communications.support`) of the case's subject for
    /// `assist`, citing the case. Decided by the pack first
    /// ([`ManagementAction::CaseAssign`], `manage_cases` for `assist`:
    /// support staff, the configured operator), audited with the change.
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::Input`] for an
    /// unknown or closed case, or a processor that is not a current
    /// processor principal acting as a subprocessor registered for
    /// `support_ticket` (nothing stored).
    pub fn assign_case(
        &self,
        by: &str,
        case_id: &str,
        processor: &str,
    ) -> Result<SupportCase, CoreError> {
        let body = self
            .store()?
            .registry_get(RegistryTable::SupportCases, case_id)?;
        let case = body
            .map(|b| parse_row::<SupportCase>(RegistryTable::SupportCases, case_id, &b))
            .transpose()?;
        let mut target = Target::named(case_id);
        target.case_kind = case.as_ref().map(|c| c.kind);
        let principal = self.principal(by)?;
        let (_decision, mut entry) =
            self.decide_management(&principal, ManagementAction::CaseAssign, target)?;
        let mut case = case.ok_or_else(|| {
            input(
                "case",
                format!(
                    "no support case `{}`",
                    case_id.chars().take(40).collect::<String>()
                ),
            )
        })?;
        if case.status != CaseStatus::Open {
            return Err(input("case", format!("{} is closed", case.id)));
        }
        self.registered_processor("processor", processor, ProcessorService::SupportTicket)?;
        case.assignee = Some(processor.to_owned());
        entry.clause_ids.push(token("N6.6"));
        entry.resource = entry.resource.id(token(&format!("assignee:{processor}")));
        if let Ok(s) = case.subject.parse::<SubjectId>() {
            entry.resource = entry.resource.subject(SubjectRef::new(s.0 as u64));
        }
        self.store()?
            .commit(ChangeSet {
                registry: vec![(
                    RegistryTable::SupportCases,
                    case.id.to_string(),
                    row_json(&case)?,
                )],
                audit: vec![entry],
                ..Default::default()
            })
            .map_err(|e| CoreError::AuditUnavailable(e.to_string()))?;
        Ok(case)
    }

    /// Record a professional-services engagement (N6.6), as `by`: decided
    /// by the pack first ([`ManagementAction::EngagementRecord`],
    /// `manage_transfers` for `protect`: legal and privacy staff, who
    /// register the subprocessors, N8.9), audited with the row.
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::Input`] naming
    /// the field (nothing stored): a processor that is not a current
    /// processor principal acting as a subprocessor registered for
    /// `professional_services`; neither an organisation nor a subject, an
    /// unknown organisation, an identifier matching no subject; no
    /// category or one its registration lacks; days out of order, a last
    /// day in the past or more than [`MAX_ENGAGEMENT_DAYS`] after the first;
    /// a reference empty or over 200 characters.
    pub fn record_engagement(
        &self,
        by: &str,
        new: &NewEngagement,
    ) -> Result<Engagement, CoreError> {
        let principal = self.principal(by)?;
        let (_decision, mut entry) = self.decide_management(
            &principal,
            ManagementAction::EngagementRecord,
            Target::named("engagements"),
        )?;
        let e = self.checked_engagement(by, new)?;
        entry.clause_ids.push(token("N6.6"));
        entry.resource = entry
            .resource
            .id(token(&e.id))
            .id(token(&format!("processor:{}", e.processor)));
        self.commit_engagement(&e, entry)?;
        Ok(e)
    }

    /// `new` checked and resolved (module docs, [`Steward::record_engagement`]).
    fn checked_engagement(&self, by: &str, new: &NewEngagement) -> Result<Engagement, CoreError> {
        let reg = self.registered_processor(
            "processor",
            &new.processor,
            ProcessorService::ProfessionalServices,
        )?;
        if new.organisation.is_none() && new.subjects.is_empty() {
            return Err(input(
                "organisation",
                "name the organisation or the subjects the engagement covers",
            ));
        }
        if let Some(o) = &new.organisation
            && self.organisation(o)?.is_none()
        {
            return Err(input(
                "organisation",
                format!(
                    "no organisation `{}`",
                    o.chars().take(40).collect::<String>()
                ),
            ));
        }
        let mut subjects = Vec::new();
        for (i, s) in new.subjects.iter().enumerate() {
            let id = self.find(s)?.ok_or_else(|| {
                input(
                    &format!("subjects[{i}]"),
                    "the identifier matches no data subject",
                )
            })?;
            subjects.push(id.to_string());
        }
        if new.categories.is_empty() {
            return Err(input("categories", "name at least one category (N2)"));
        }
        if let Some(c) = new.categories.iter().find(|c| !reg.categories.contains(c)) {
            return Err(input(
                "categories",
                format!("{c} is not registered for subprocessor {} (N6.6)", reg.id),
            ));
        }
        let today = self.clock.today();
        if new.ends_on < new.starts_on
            || new.ends_on < today
            || new.ends_on - new.starts_on > time::Duration::days(MAX_ENGAGEMENT_DAYS)
        {
            return Err(input(
                "ends_on",
                format!(
                    "{} must be on or after starts_on ({}) and today ({today}), at most {MAX_ENGAGEMENT_DAYS} days after starts_on",
                    new.ends_on, new.starts_on
                ),
            ));
        }
        if new.reference.trim().is_empty() || new.reference.chars().count() > 200 {
            return Err(input("reference", "1 to 200 characters"));
        }
        let mut categories = new.categories.clone();
        categories.sort();
        categories.dedup();
        Ok(Engagement {
            id: crate::sharing::new_id("eng"),
            processor: new.processor.clone(),
            organisation: new.organisation.clone(),
            subjects,
            categories,
            starts_on: new.starts_on,
            ends_on: new.ends_on,
            reference: new.reference.clone(),
            recorded_by: by.to_owned(),
            ended_on: None,
        })
    }

    fn commit_engagement(
        &self,
        e: &Engagement,
        entry: steward_audit::EntryDraft,
    ) -> Result<(), CoreError> {
        self.store()?
            .commit(ChangeSet {
                registry: vec![(RegistryTable::Engagements, e.id.clone(), row_json(e)?)],
                audit: vec![entry],
                ..Default::default()
            })
            .map_err(|err| CoreError::AuditUnavailable(err.to_string()))?;
        Ok(())
    }

    /// End engagement `id` today, as `by` (N6.6): from now on it covers
    /// nothing. Decided as [`ManagementAction::EngagementEnd`] (like
    /// recording one), audited with the change.
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::Input`] for an
    /// unknown or already ended engagement.
    pub fn end_engagement(&self, by: &str, id: &str) -> Result<Engagement, CoreError> {
        let principal = self.principal(by)?;
        let (_decision, mut entry) = self.decide_management(
            &principal,
            ManagementAction::EngagementEnd,
            Target::named(id),
        )?;
        let body = self
            .store()?
            .registry_get(RegistryTable::Engagements, id)?
            .ok_or_else(|| {
                input(
                    "engagement",
                    format!(
                        "no engagement `{}`; list them with `steward engagements list`",
                        id.chars().take(40).collect::<String>()
                    ),
                )
            })?;
        let mut e: Engagement = parse_row(RegistryTable::Engagements, id, &body)?;
        if let Some(d) = e.ended_on {
            return Err(input("engagement", format!("{} ended on {d}", e.id)));
        }
        e.ended_on = Some(self.clock.today());
        entry.clause_ids.push(token("N6.6"));
        self.commit_engagement(&e, entry)?;
        Ok(e)
    }

    /// Every recorded engagement, by id (ids, names and days only).
    pub fn engagements(&self) -> Result<Vec<Engagement>, CoreError> {
        self.store_read()?
            .registry_list(RegistryTable::Engagements)?
            .into_iter()
            .map(|(k, b)| parse_row(RegistryTable::Engagements, &k, &b))
            .collect()
    }

    /// What the gate knows about a processor's request `req` about
    /// `subject` (N6.6): the service of the registration the principal acts
    /// as (when in effect and listing the category), whether the cited
    /// open case about the subject is assigned to it (`assignee`: that
    /// case's assignee, as the gate read it), and a current
    /// engagement of it covering the subject and category. All empty for a
    /// principal that is not a processor.
    pub(crate) fn processor_facts(
        &self,
        kind: PrincipalKind,
        req: &AccessRequest,
        subject: Option<SubjectId>,
        assignee: Option<&str>,
    ) -> Result<ProcessorFacts, CoreError> {
        let mut f = ProcessorFacts::default();
        if kind != PrincipalKind::Processor {
            return Ok(f);
        }
        let (Some(reg), Some(category), Some(subject)) = (
            self.recipient_of_principal(&req.principal)?,
            req.category,
            subject,
        ) else {
            return Ok(f);
        };
        let now = crate::sharing::now_ms(self);
        if reg.receives_from_ms.is_none_or(|t| t > now) || !reg.categories.contains(&category) {
            return Ok(f);
        }
        f.service = reg.service;
        f.assigned = assignee == Some(req.principal.as_str());
        let today = self.clock.today();
        let me = subject.to_string();
        let mut organisation: Option<Option<String>> = None;
        for e in self.engagements()? {
            if e.processor != req.principal
                || e.ended_on.is_some()
                || e.starts_on > today
                || e.ends_on < today
                || !e.categories.contains(&category)
            {
                continue;
            }
            let by_org = match &e.organisation {
                Some(o) => {
                    if organisation.is_none() {
                        organisation = Some(self.organisation_of_subject(subject)?);
                    }
                    organisation.as_ref().is_some_and(|s| s.as_ref() == Some(o))
                }
                None => false,
            };
            if by_org || e.subjects.contains(&me) {
                f.engagement = Some(e.id);
                break;
            }
        }
        Ok(f)
    }
}
