//! The coordinated team's work on an incident (N8.5): roles assumed and
//! handed off with their times, tasks with owners and due times, notices
//! to individuals, the regulator's report draft and filing, pages to the
//! on-call with escalation, reminders before a deadline and escalation
//! after one is missed, and the list of what is due.

use serde::{Deserialize, Serialize};
use steward_domain::{IncidentRole, IncidentState};
use steward_store::ChangeSet;

use super::{Incident, PageRecord, ReportDraft, RoleEvent, Task, instant, now};
use crate::authorize::ManagementAction;
use crate::oncall::Page;
use crate::oncall::rotation::utc;
use crate::{CoreError, Steward};

/// A task to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskInput {
    /// What to do (1-500 characters; staff's words, no identifiers of people).
    pub title: String,
    /// Who owns it (a principal).
    pub owner: String,
    /// Due (RFC 3339).
    pub due_at: String,
}

/// One line of `steward incidents list --due`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueItem {
    /// The incident.
    pub incident: String,
    /// `appi_preliminary`, `appi_final`, `gdpr`, or `task:<id>`.
    pub what: String,
    /// Due (RFC 3339 UTC).
    pub due_at: String,
    /// Whether it is past due at the time asked.
    pub overdue: bool,
    /// Who answers for it: the commander (clocks) or the owner (tasks).
    pub owner: Option<String>,
}

impl Steward {
    /// Load incident `id`, decide `what` for `by`, apply `change`, commit
    /// with the audit entry under a guard; returns the incident as stored.
    pub(crate) fn change_incident(
        &self,
        by: &str,
        id: &str,
        what: &str,
        change: impl FnOnce(&mut Incident, &str) -> Result<(), CoreError>,
    ) -> Result<Incident, CoreError> {
        let e = self.incident_decision(by, ManagementAction::IncidentManage, id, what)?;
        let (mut inc, before) = self.load_incident(id)?;
        change(&mut inc, &now(self))?;
        self.commit_incident(&inc, Some(before), e, ChangeSet::default())?;
        Ok(inc)
    }

    /// `member` assumes `role` on incident `id` (a handoff when someone
    /// held it), recorded with its time (N8.5).
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::NotFound`];
    /// [`CoreError::Input`] for an empty member or one who holds it already.
    pub fn assign_role(
        &self,
        by: &str,
        id: &str,
        role: IncidentRole,
        member: &str,
    ) -> Result<Incident, CoreError> {
        if member.is_empty() {
            return Err(CoreError::Input("member: name the principal".into()));
        }
        self.change_incident(by, id, "incident_role", |inc, at| {
            let from = inc.holder(role).map(str::to_owned);
            if from.as_deref() == Some(member) {
                return Err(CoreError::Input(format!(
                    "{member} already holds the {role} role of {id}"
                )));
            }
            inc.roles.push(RoleEvent {
                role,
                member: member.into(),
                from: from.clone(),
                at: at.into(),
                by: by.into(),
            });
            let what = match from {
                Some(f) => format!("{role} handed off from {f} to {member}"),
                None => format!("{member} assumed the {role} role"),
            };
            inc.log(at, by, what);
            Ok(())
        })
    }

    /// Add a task to incident `id`.
    ///
    /// Errors: as [`Steward::assign_role`]; a bad title or instant.
    pub fn add_task(&self, by: &str, id: &str, t: &TaskInput) -> Result<Incident, CoreError> {
        if t.title.trim().is_empty() || t.title.chars().count() > 500 || t.owner.is_empty() {
            return Err(CoreError::Input(
                "task: give a title of 1-500 characters and an owner".into(),
            ));
        }
        let due = instant("due_at", &t.due_at)?;
        self.change_incident(by, id, "incident_task", |inc, at| {
            let tid = format!("t{}", inc.tasks.len() + 1);
            inc.tasks.push(Task {
                id: tid.clone(),
                title: t.title.clone(),
                owner: t.owner.clone(),
                due_at: utc(due),
                done_at: None,
            });
            inc.log(
                at,
                by,
                format!("task {tid} for {} due {}", t.owner, utc(due)),
            );
            Ok(())
        })
    }

    /// Mark task `task` of incident `id` done.
    ///
    /// Errors: as [`Steward::assign_role`]; an unknown or finished task.
    pub fn complete_task(&self, by: &str, id: &str, task: &str) -> Result<Incident, CoreError> {
        self.change_incident(by, id, "incident_task_done", |inc, at| {
            let t = inc
                .tasks
                .iter_mut()
                .find(|t| t.id == task && t.done_at.is_none())
                .ok_or_else(|| CoreError::Input(format!("no open task `{task}` in {id}")))?;
            t.done_at = Some(at.into());
            inc.log(at, by, format!("task {task} done"));
            Ok(())
        })
    }

    /// Record that the report of `clock` (`appi_preliminary`,
    /// `appi_final`, `gdpr`) was filed with the regulator.
    ///
    /// Errors: as [`Steward::assign_role`]; a clock the incident does not have.
    pub fn file_report(&self, by: &str, id: &str, clock: &str) -> Result<Incident, CoreError> {
        self.change_incident(by, id, "incident_report_filed", |inc, at| {
            let d = inc
                .deadlines
                .iter_mut()
                .find(|d| d.clock == clock && d.done_at.is_none())
                .ok_or_else(|| {
                    CoreError::Input(format!("clock: {id} has no open `{clock}` deadline"))
                })?;
            d.done_at = Some(at.into());
            let late = at > d.due_at.as_str();
            inc.log(
                at,
                by,
                format!(
                    "{clock} report filed{}",
                    if late { " after its deadline" } else { "" }
                ),
            );
            Ok(())
        })
    }

    /// Record `count` more individuals notified (APPI Art. 26(2), GDPR Art. 34).
    ///
    /// Errors: as [`Steward::assign_role`].
    pub fn record_notices(&self, by: &str, id: &str, count: u64) -> Result<Incident, CoreError> {
        self.change_incident(by, id, "incident_notices", |inc, at| {
            inc.notices.sent += count;
            inc.notices.last_at = Some(at.into());
            inc.log(at, by, format!("{count} individuals notified"));
            Ok(())
        })
    }

    /// Replace the regulator's report draft of incident `id`.
    ///
    /// Errors: as [`Steward::assign_role`]; an item over 10,000 characters.
    pub fn set_report_draft(
        &self,
        by: &str,
        id: &str,
        draft: &ReportDraft,
    ) -> Result<Incident, CoreError> {
        let items = [
            &draft.summary,
            &draft.items,
            &draft.people,
            &draft.cause,
            &draft.secondary_harm,
            &draft.response_to_people,
            &draft.publication,
            &draft.prevention,
        ];
        if items.iter().any(|s| s.chars().count() > 10_000) {
            return Err(CoreError::Input(
                "draft: each item at most 10,000 characters".into(),
            ));
        }
        self.change_incident(by, id, "incident_draft", |inc, at| {
            inc.draft = draft.clone();
            inc.log(at, by, "report draft updated".into());
            Ok(())
        })
    }

    /// Close incident `id`.
    ///
    /// Errors: as [`Steward::assign_role`]; an incident already closed.
    pub fn close_incident(&self, by: &str, id: &str) -> Result<Incident, CoreError> {
        self.change_incident(by, id, "incident_close", |inc, at| {
            if inc.state == IncidentState::Closed {
                return Err(CoreError::Conflict(format!("{id} is closed already")));
            }
            inc.state = IncidentState::Closed;
            inc.log(at, by, "closed".into());
            Ok(())
        })
    }

    /// Name the data subject `subject` (an identifier or a `sub_` id) as
    /// concerned by incident `id`, as `by` (the incident team, decided and
    /// audited; the incident keeps the opaque id only). While the incident
    /// is open, a security or incident-response read of that subject for
    /// `protect` may cite it (`AccessRequest::incident`; N3.8, N8.5).
    ///
    /// Errors: as [`Steward::assign_role`]; [`CoreError::Input`] when the
    /// subject matches no data subject or is named already;
    /// [`CoreError::Conflict`] for a closed incident.
    pub fn add_incident_subject(
        &self,
        by: &str,
        id: &str,
        subject: &str,
    ) -> Result<Incident, CoreError> {
        self.change_incident(by, id, "incident_subject", |inc, at| {
            if inc.state == IncidentState::Closed {
                return Err(CoreError::Conflict(format!("{id} is closed")));
            }
            // Resolved only after the decision: a refused caller learns
            // nothing about the identifier.
            let (resolved, _) = self.resolve(subject)?;
            let Some(l) = resolved else {
                return Err(CoreError::Input(
                    "subject: matches no data subject (erased, or never stored)".into(),
                ));
            };
            let sid = l.id.to_string();
            if inc.subjects.contains(&sid) {
                return Err(CoreError::Input(format!("{id} names {sid} already")));
            }
            inc.log(at, by, format!("concerns data subject {sid}"));
            inc.subjects.push(sid);
            Ok(())
        })
    }

    /// Acknowledge page `page` of incident `id` (the one paged stops its
    /// escalation).
    ///
    /// Errors: as [`Steward::assign_role`]; an unknown or acknowledged page.
    pub fn ack_page(&self, by: &str, id: &str, page: &str) -> Result<Incident, CoreError> {
        self.change_incident(by, id, "incident_page_ack", |inc, at| {
            let p = inc
                .pages
                .iter_mut()
                .find(|p| p.id == page && p.acked_at.is_none())
                .ok_or_else(|| CoreError::Input(format!("no unacknowledged page `{page}`")))?;
            p.acked_at = Some(at.into());
            inc.log(at, by, format!("page {page} acknowledged"));
            Ok(())
        })
    }

    /// Page `to` about incident `id` for `reason`, then record the page
    /// (audited as `incident_page` by `by`). A page that the pager refuses
    /// is not recorded and the error returns.
    pub(crate) fn send_and_record_page(
        &self,
        by: &str,
        id: &str,
        to: &str,
        reason: &str,
        escalates: Option<String>,
    ) -> Result<Incident, CoreError> {
        let (inc, before) = self.load_incident(id)?;
        let page = Page {
            id: format!("pg{}", inc.pages.len() + 1),
            incident: id.into(),
            to: to.into(),
            reason: reason.into(),
            summary: inc
                .assessment
                .as_ref()
                .map(|a| {
                    format!(
                        "severity {} priority {} route {}",
                        a.severity, a.priority, a.route
                    )
                })
                .unwrap_or_else(|| "not yet assessed".into()),
        };
        self.send_page(&page)?;
        let mut inc = inc;
        let at = now(self);
        inc.pages.push(PageRecord {
            id: page.id.clone(),
            to: to.into(),
            reason: reason.into(),
            at: at.clone(),
            acked_at: None,
            escalates,
        });
        inc.log(&at, by, format!("paged {to} ({reason})"));
        let mut e = crate::entry::system_entry("incident_page", id, "", self.policy.version());
        e.principal = crate::entry::token(by);
        e.clause_ids = vec![crate::entry::token("N8.5"), crate::entry::token("N5.1")];
        self.commit_incident(&inc, Some(before), e, ChangeSet::default())?;
        Ok(inc)
    }

    /// Page whoever was on call at the incident's awareness time (and the
    /// commander, if another, on the expedited route). Nobody on call: the
    /// incident is returned unpaged, and `steward incidents tick` reports it.
    pub(crate) fn page_on_call(
        &self,
        id: &str,
        by: &str,
        reason: &str,
    ) -> Result<Incident, CoreError> {
        let (inc, _) = self.load_incident(id)?;
        match inc.on_call.clone() {
            Some(to) => self.send_and_record_page(by, id, &to, reason, None),
            None => Ok(inc),
        }
    }

    /// What is due across the open incidents, soonest first: open
    /// deadlines and open tasks, each marked overdue when due before `at`
    /// (RFC 3339; default now). Decided and audited.
    ///
    /// Errors: [`CoreError::Denied`] (audited); a bad instant.
    pub fn incidents_due(&self, by: &str, at: Option<&str>) -> Result<Vec<DueItem>, CoreError> {
        let at = match at {
            Some(s) => utc(instant("at", s)?),
            None => now(self),
        };
        let mut out = Vec::new();
        for inc in self.incidents(by)? {
            if inc.state == IncidentState::Closed {
                continue;
            }
            let commander = inc.holder(IncidentRole::Commander).map(str::to_owned);
            for d in inc.deadlines.iter().filter(|d| d.done_at.is_none()) {
                out.push(DueItem {
                    incident: inc.id.clone(),
                    what: d.clock.clone(),
                    due_at: d.due_at.clone(),
                    overdue: d.due_at <= at,
                    owner: commander.clone(),
                });
            }
            for t in inc.tasks.iter().filter(|t| t.done_at.is_none()) {
                out.push(DueItem {
                    incident: inc.id.clone(),
                    what: format!("task:{}", t.id),
                    due_at: t.due_at.clone(),
                    overdue: t.due_at <= at,
                    owner: Some(t.owner.clone()),
                });
            }
        }
        out.sort_by(|a, b| (&a.due_at, &a.incident).cmp(&(&b.due_at, &b.incident)));
        Ok(out)
    }

    /// Run the clocks at `at` (RFC 3339; default now), as `by`: remind the
    /// commander of a deadline within `remind_before_hours`, escalate a
    /// missed deadline (page the commander and the next on-call), and pass
    /// an unacknowledged page on to the next person of the rotation once
    /// the schedule's `escalate_after_minutes` have gone. Each reminder and
    /// escalation is sent once. Returns the pages sent as (incident, to, reason).
    ///
    /// Errors: [`CoreError::Denied`] (audited); storage or pager errors.
    pub fn incidents_tick(
        &self,
        by: &str,
        at: Option<&str>,
    ) -> Result<Vec<(String, String, String)>, CoreError> {
        let now_t = match at {
            Some(s) => instant("at", s)?,
            None => self.jiff_now(),
        };
        let schedule = self
            .schedule_row(&self.incidents_config().schedule)?
            .and_then(|s| {
                let minutes = s.escalate_after_minutes;
                s.resolve().ok().map(|r| (r, minutes))
            });
        let remind = jiff::SignedDuration::from_hours(i64::from(
            self.incidents_config().clocks.remind_before_hours,
        ));
        let mut sent = Vec::new();
        for inc in self.incidents(by)? {
            if inc.state == IncidentState::Closed {
                continue;
            }
            let commander = inc
                .holder(IncidentRole::Commander)
                .map(str::to_owned)
                .or_else(|| inc.on_call.clone());
            let mut wanted: Vec<(String, String, Option<String>)> = Vec::new();
            for d in inc.deadlines.iter().filter(|d| d.done_at.is_none()) {
                let due = instant("due_at", &d.due_at)?;
                let Some(c) = &commander else { continue };
                if due <= now_t {
                    wanted.push((c.clone(), format!("overdue:{}", d.clock), None));
                    if let Some((r, _)) = &schedule
                        && let Some(next) = r.escalation_after(now_t, c).first()
                    {
                        wanted.push((next.clone(), format!("overdue:{}", d.clock), None));
                    }
                } else if due.duration_since(now_t) <= remind {
                    wanted.push((c.clone(), format!("reminder:{}", d.clock), None));
                }
            }
            if let Some((r, minutes)) = &schedule {
                let wait = jiff::SignedDuration::from_mins(i64::from(*minutes));
                for p in inc.pages.iter().filter(|p| p.acked_at.is_none()) {
                    let Ok(t) = instant("at", &p.at) else {
                        continue;
                    };
                    let passed_on = inc
                        .pages
                        .iter()
                        .any(|q| q.escalates.as_deref() == Some(&p.id));
                    if passed_on || now_t.duration_since(t) < wait {
                        continue;
                    }
                    if let Some(next) = r.escalation_after(t, &p.to).first() {
                        wanted.push((next.clone(), "escalated".into(), Some(p.id.clone())));
                    }
                }
            }
            for (to, reason, escalates) in wanted {
                let done = inc
                    .pages
                    .iter()
                    .any(|p| p.to == to && p.reason == reason && p.escalates == escalates);
                if done {
                    continue;
                }
                self.send_and_record_page(by, &inc.id, &to, &reason, escalates)?;
                sent.push((inc.id.clone(), to, reason));
            }
        }
        Ok(sent)
    }
}
