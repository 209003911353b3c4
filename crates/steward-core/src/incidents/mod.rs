//! Incidents (N8.5, N5.1, N8.4): reports from several channels, assessment
//! by the dedicated team, the coordinated team's roles and tasks, the
//! regulators' clocks, pages to the on-call, and the timeline.
//!
//! One JSON row per incident in the `incidents` registry (primary region),
//! keyed `inc_` + 16 hex digits. What a report *says* is Service Data
//! (communications, N2.5): it is sealed as a record of the reporter's
//! subject (a staff reporter: the subject of username `principal:<name>`;
//! an email: the sender's subject, through the email intake ledger) and the
//! row names only the record and subject by opaque id. The row holds no
//! Service Data: kinds, scales, principal names, counts, instants.
//!
//! Every change is decided by the pack ([`ManagementAction::IncidentReport`]
//! for a report: staff and services; [`ManagementAction::IncidentManage`]
//! for everything else: the incident-response team) and committed with its
//! audit entry in one transaction, under a compare-and-set guard on the row
//! as read, so two concurrent changes cannot both win.
//!
//! Files: `crate::config::incidents` (`[incidents]`), `crate::config::clocks` (deadlines), `report.rs`
//! (reports by API and CLI), `email.rs` (reports from a maildir), `assess.rs`
//! (assessment, route, roles), `manage.rs` (roles, tasks, notices, pages,
//! the due list), `timeline.rs` (JSON and HTML), `detect.rs` (detectors
//! over the audit stream, N5.1).

use serde::{Deserialize, Serialize};
use steward_audit::{EntryDraft, Resource, ResourceKind};
use steward_domain::{
    AppiReportableKind, Category, IncidentKind, IncidentRole, IncidentState, Priority,
    ReportChannel, Route, Severity,
};
use steward_store::{ChangeSet, RegistryGuard, RegistryTable};

use crate::authorize::{ManagementAction, Target, stamp};
use crate::entry::token;
use crate::rows::{parse_row, row_json};
use crate::{CoreError, Steward};

mod assess;
/// The regulators' clocks (in `crate::config`, which this module reads).
pub use crate::config::clocks;
pub mod detect;
mod email;
mod manage;
mod report;
mod timeline;

pub use crate::config::clocks::{ClockRule, ClocksConfig, Deadline};
pub use crate::config::incidents::{DetectorConfig, IncidentsConfig, RoleRule};
pub use assess::AssessmentInput;
pub use detect::{AuditSummary, Detector, Firing, SummaryDecision};
pub use manage::{DueItem, TaskInput};
pub use report::NewReport;

/// Where a report's text is sealed: the reporter's subject and the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedReport {
    /// The subject it is sealed under (`sub_…`).
    pub subject: String,
    /// The record (`rec_…`, communications).
    pub record: String,
}

/// The dedicated team's assessment (N8.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// Severity (closed scale).
    pub severity: Severity,
    /// Priority (closed scale).
    pub priority: Priority,
    /// The route from the configured severity x priority table.
    pub route: Route,
    /// The APPI reportable kinds that apply (Enforcement Rules Art. 7).
    pub appi_kinds: Vec<AppiReportableKind>,
    /// Whether the data was strongly encrypted (APPI's exemption).
    pub strongly_encrypted: bool,
    /// Whether it must be reported under APPI: a reportable kind applies
    /// and the exemption does not.
    pub appi_reportable: bool,
    /// Whether subjects in the EEA are affected (GDPR Art. 33).
    pub gdpr: bool,
    /// The kinds of data affected (`account.profile`, ...).
    pub data_items: Vec<String>,
    /// Their categories.
    pub categories: Vec<Category>,
    /// How many people are affected: distinct opaque subject ids given, or
    /// counted from the audit log, or the estimate given, whichever is most.
    pub people: u64,
    /// Who assessed.
    pub by: String,
    /// When (RFC 3339 UTC).
    pub at: String,
}

/// One assumption or handoff of a role (N8.5 "a coordinated team").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleEvent {
    /// The role.
    pub role: IncidentRole,
    /// Who holds it from `at` on.
    pub member: String,
    /// Who held it before (a handoff), if anyone.
    pub from: Option<String>,
    /// When (RFC 3339 UTC).
    pub at: String,
    /// Who recorded it (a principal, or `rule` at assessment).
    pub by: String,
}

/// A task of the response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// `t1`, `t2`, ...
    pub id: String,
    /// What to do (staff's words; no identifiers of people).
    pub title: String,
    /// Who owns it.
    pub owner: String,
    /// Due (RFC 3339 UTC).
    pub due_at: String,
    /// Done (RFC 3339 UTC), if done.
    pub done_at: Option<String>,
}

/// A page sent about the incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRecord {
    /// `pg1`, `pg2`, ...
    pub id: String,
    /// Who was paged.
    pub to: String,
    /// Why (see [`crate::oncall::Page::reason`]).
    pub reason: String,
    /// When (RFC 3339 UTC).
    pub at: String,
    /// When acknowledged, if.
    pub acked_at: Option<String>,
    /// The page this one escalated, if it is an escalation.
    pub escalates: Option<String>,
}

/// The regulator's report form's items (APPI Enforcement Rules Art. 8(1)):
/// the draft the legal role fills in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportDraft {
    /// Summary of the incident.
    pub summary: String,
    /// The personal data items affected.
    pub items: String,
    /// The number of people.
    pub people: String,
    /// The cause.
    pub cause: String,
    /// Whether there is secondary harm, and its nature.
    pub secondary_harm: String,
    /// The response to the people affected.
    pub response_to_people: String,
    /// Publication.
    pub publication: String,
    /// Measures against recurrence.
    pub prevention: String,
}

/// Notices to the individuals affected (APPI Art. 26(2), GDPR Art. 34).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndividualNotices {
    /// How many people were notified so far.
    pub sent: u64,
    /// When the last notices went (RFC 3339 UTC).
    pub last_at: Option<String>,
}

/// One line of the incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// When (RFC 3339 UTC).
    pub at: String,
    /// Who (a principal, `rule`, or `detector`).
    pub by: String,
    /// What happened, in Steward's words.
    pub what: String,
}

/// An incident (registry `incidents`): no Service Data (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// `inc_` + 16 hex digits.
    pub id: String,
    /// Kind.
    pub kind: IncidentKind,
    /// State.
    pub state: IncidentState,
    /// How it was reported.
    pub channel: ReportChannel,
    /// Who reported it: a principal (API, CLI), the intake principal
    /// (email), `detector` (N5.1).
    pub reporter: String,
    /// When it was reported (RFC 3339 UTC).
    pub reported_at: String,
    /// When the provider became aware (RFC 3339 UTC): the clocks start here.
    pub aware_at: String,
    /// The sealed report text, when it has one.
    pub report: Option<SealedReport>,
    /// A detector's cause (`<detector>:<principal or region>`): a later
    /// firing of the same cause adds to this incident while it is open.
    pub cause: Option<String>,
    /// How many detector firings it holds.
    pub firings: u32,
    /// Who was on call at `aware_at` under the configured schedule.
    pub on_call: Option<String>,
    /// The assessment, once assessed.
    pub assessment: Option<Assessment>,
    /// The regulators' deadlines.
    pub deadlines: Vec<Deadline>,
    /// Notices to individuals.
    pub notices: IndividualNotices,
    /// The regulator's report draft.
    pub draft: ReportDraft,
    /// Role assumptions and handoffs, in order.
    pub roles: Vec<RoleEvent>,
    /// Tasks.
    pub tasks: Vec<Task>,
    /// Pages sent.
    pub pages: Vec<PageRecord>,
    /// Everything that happened, in order.
    pub events: Vec<TimelineEvent>,
    /// The data subjects it concerns, by opaque id (`sub_…`, never an
    /// identifier): while it is open, a security or incident-response
    /// read of one of them for `protect` may cite it (N3.8, N8.5).
    #[serde(default)]
    pub subjects: Vec<String>,
}

impl Incident {
    /// Who holds `role` now, if anyone.
    pub fn holder(&self, role: IncidentRole) -> Option<&str> {
        self.roles
            .iter()
            .rev()
            .find(|r| r.role == role)
            .map(|r| r.member.as_str())
    }

    pub(crate) fn log(&mut self, at: &str, by: &str, what: String) {
        self.events.push(TimelineEvent {
            at: at.into(),
            by: by.into(),
            what,
        });
    }
}

/// A new incident id.
fn new_id() -> String {
    let mut b = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut b);
    format!("inc_{}", hex::encode(b))
}

/// Now, RFC 3339 UTC (whole seconds).
pub(crate) fn now(st: &Steward) -> String {
    crate::oncall::rotation::utc(st.jiff_now())
}

impl Steward {
    /// Now by the services' clock ([`crate::Clock`]), as a `jiff` instant
    /// (the incident clocks and rotations compute in `jiff`).
    pub(crate) fn jiff_now(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_nanosecond(self.clock.now().unix_timestamp_nanos())
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }
}

/// An instant from the caller; the error names `field`.
pub(crate) fn instant(field: &str, s: &str) -> Result<jiff::Timestamp, CoreError> {
    crate::oncall::rotation::parse_instant(field, s).map_err(CoreError::Input)
}

impl Steward {
    /// The incidents configuration.
    pub(crate) fn incidents_config(&self) -> &IncidentsConfig {
        &self.config.incidents
    }

    /// The stored incident `id` and its body as read (for the guard).
    pub(crate) fn load_incident(&self, id: &str) -> Result<(Incident, String), CoreError> {
        let body = self
            .store()?
            .registry_get(RegistryTable::Incidents, id)?
            .ok_or_else(|| CoreError::NotFound(format!("no incident `{id}`")))?;
        Ok((parse_row(RegistryTable::Incidents, id, &body)?, body))
    }

    /// Every stored incident, by id.
    pub(crate) fn incident_rows(&self) -> Result<Vec<Incident>, CoreError> {
        self.store()?
            .registry_list(RegistryTable::Incidents)?
            .into_iter()
            .map(|(id, b)| parse_row(RegistryTable::Incidents, &id, &b))
            .collect()
    }

    /// Decide `action` on incident `id` for `by` and return the principal
    /// name and the uncommitted audit entry of the allowed decision,
    /// stamped as action `what` citing N8.5 (a denial is recorded at once).
    pub(crate) fn incident_decision(
        &self,
        by: &str,
        action: ManagementAction,
        id: &str,
        what: &str,
    ) -> Result<EntryDraft, CoreError> {
        let principal = self.acting(by)?;
        let (d, mut e) = self.decide_management(&principal, action, Target::named(id))?;
        stamp(&mut e, &d, action);
        e.action = token(what);
        e.clause_ids.insert(0, token("N8.5"));
        Ok(e)
    }

    /// Commit `incident` with audit entry `e`, guarded on the row being
    /// `before` (`None`: must not exist).
    ///
    /// Errors: [`CoreError::Conflict`] when it changed meanwhile.
    pub(crate) fn commit_incident(
        &self,
        incident: &Incident,
        before: Option<String>,
        mut e: EntryDraft,
        extra: ChangeSet,
    ) -> Result<(), CoreError> {
        e.resource = Resource::new(ResourceKind::Principal)
            .id(token(&format!("op:{}", e.action.as_str())))
            .id(token(&incident.id));
        if let Some(r) = &incident.report
            && let Ok(s) = r.subject.parse::<steward_domain::SubjectId>()
        {
            e.resource = e
                .resource
                .subject(steward_audit::SubjectRef::new(s.0 as u64));
        }
        let mut cs = extra;
        cs.registry.push((
            RegistryTable::Incidents,
            incident.id.clone(),
            row_json(incident)?,
        ));
        cs.guards.push(RegistryGuard {
            table: RegistryTable::Incidents,
            id: incident.id.clone(),
            expected: before,
        });
        cs.audit.push(e);
        match self.store()?.commit(cs) {
            Ok(_) => Ok(()),
            Err(steward_store::StoreError::GuardConflict { .. }) => Err(CoreError::Conflict(
                format!("incident {} changed meanwhile: read it again", incident.id),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Incident `id` (decided as [`ManagementAction::IncidentManage`], audited).
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::NotFound`].
    pub fn incident(&self, by: &str, id: &str) -> Result<Incident, CoreError> {
        self.authorize_management(by, ManagementAction::IncidentManage, Target::named(id))?;
        Ok(self.load_incident(id)?.0)
    }

    /// Every incident (decided, audited), by id.
    ///
    /// Errors: [`CoreError::Denied`] (audited).
    pub fn incidents(&self, by: &str) -> Result<Vec<Incident>, CoreError> {
        self.authorize_management(
            by,
            ManagementAction::IncidentManage,
            Target::named("incidents"),
        )?;
        self.incident_rows()
    }

    /// A new incident's row (not stored): ids, times, the on-call at awareness.
    pub(crate) fn new_incident(
        &self,
        kind: IncidentKind,
        channel: ReportChannel,
        reporter: &str,
        aware_at: jiff::Timestamp,
    ) -> Incident {
        let on_call = self
            .schedule_row(&self.incidents_config().schedule)
            .ok()
            .flatten()
            .and_then(|s| s.resolve().ok())
            .and_then(|r| r.on_call_at(aware_at).ok().flatten());
        let reported_at = now(self);
        let mut i = Incident {
            id: new_id(),
            kind,
            state: IncidentState::Reported,
            channel,
            reporter: reporter.into(),
            reported_at: reported_at.clone(),
            aware_at: crate::oncall::rotation::utc(aware_at),
            report: None,
            cause: None,
            firings: 0,
            on_call,
            assessment: None,
            deadlines: vec![],
            notices: IndividualNotices::default(),
            draft: ReportDraft::default(),
            roles: vec![],
            tasks: vec![],
            pages: vec![],
            events: vec![],
            subjects: vec![],
        };
        i.log(
            &reported_at,
            reporter,
            format!("reported by {} ({})", channel.as_str(), kind.as_str()),
        );
        i
    }
}
