//! Assessment by the dedicated team (N8.5): severity and priority from the
//! closed scales, the route from the configured table, reportability under
//! APPI (the four kinds, less the strong-encryption exemption) and GDPR,
//! the data affected and how many people, then the clocks and the roles
//! the configured rules give, and a page on the expedited route.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use steward_domain::{
    AppiReportableKind, Category, IncidentRole, IncidentState, Kind, Priority, Route, Severity,
};

use super::{Assessment, Incident, RoleEvent, clocks, instant};
use crate::{AuditFilter, CoreError, Steward};

/// People above which APPI's fourth reportable kind applies.
pub const APPI_PEOPLE_THRESHOLD: u64 = 1000;

/// What the assessor decides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AssessmentInput {
    /// Severity.
    pub severity: Option<Severity>,
    /// Priority.
    pub priority: Option<Priority>,
    /// APPI reportable kinds that apply (`over_thousand_people` is added
    /// when more than 1,000 people are affected).
    pub appi_kinds: Vec<AppiReportableKind>,
    /// The data was strongly encrypted (APPI's exemption).
    pub strongly_encrypted: bool,
    /// Subjects in the EEA are affected (GDPR).
    pub gdpr: bool,
    /// Kinds of data affected (`account.profile`, ...).
    pub data_items: Vec<String>,
    /// Subjects affected: opaque `sub_` ids or typed identifiers
    /// (`email:…`), resolved through the blind index and counted; never
    /// stored.
    pub subjects: Vec<String>,
    /// A principal whose reads are counted from the audit log: the
    /// distinct subjects it read in `[audit_since, audit_until)`.
    pub audit_principal: Option<String>,
    /// From (RFC 3339).
    pub audit_since: Option<String>,
    /// Until (RFC 3339).
    pub audit_until: Option<String>,
    /// An estimate of the people affected.
    pub people: Option<u64>,
}

impl Steward {
    /// Distinct subjects read by `principal` in `[since, until)`, from
    /// every region's audit log (opaque ids, counted, never listed).
    fn subjects_read(
        &self,
        principal: &str,
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<u64, CoreError> {
        let filter = AuditFilter {
            principal: Some(principal.into()),
            decision: Some("allow".into()),
            since: since.map(str::to_owned),
            until: until.map(str::to_owned),
            ..Default::default()
        };
        let mut seen = HashSet::new();
        for region in 0..self.regions.len() {
            self.rstore(region)?.audit_scan(0, u64::MAX, &mut |row| {
                if let Ok(e) = steward_audit::AuditEntry::decode(&row.entry) {
                    let s = super::detect::AuditSummary::of(&e);
                    let ok = s.principal == principal
                        && matches!(s.action.as_str(), "read" | "export")
                        && s.decision == super::detect::SummaryDecision::Allow
                        && filter.since.as_deref().is_none_or(|t| e.time.as_str() >= t)
                        && filter.until.as_deref().is_none_or(|t| e.time.as_str() < t);
                    if ok && let Some(sub) = s.subject {
                        seen.insert(sub);
                    }
                }
                true
            })?;
        }
        Ok(seen.len() as u64)
    }

    /// Assess incident `id` (N8.5; APPI Art. 26; GDPR Art. 33): decided as
    /// [`crate::ManagementAction::IncidentManage`] (the incident team),
    /// audited with the change. Sets the route from the table, the
    /// deadlines from the awareness time, the roles the rules give, and
    /// pages the commander on the expedited route.
    ///
    /// Errors: [`CoreError::Input`] naming a missing severity or priority,
    /// an unknown data kind, a subject that resolves to nothing, a bad
    /// instant; [`CoreError::Denied`] (audited); [`CoreError::NotFound`];
    /// [`CoreError::Config`] for a bad route table or clock.
    pub fn assess_incident(
        &self,
        by: &str,
        id: &str,
        a: &AssessmentInput,
    ) -> Result<Incident, CoreError> {
        let severity = a.severity.ok_or_else(|| {
            CoreError::Input(format!(
                "severity: give one of {}",
                Severity::TERMS.trim_end_matches(", ")
            ))
        })?;
        let priority = a.priority.ok_or_else(|| {
            CoreError::Input(format!(
                "priority: give one of {}",
                Priority::TERMS.trim_end_matches(", ")
            ))
        })?;
        let cfg = self.incidents_config().clone();
        let route = cfg.route(severity, priority).map_err(CoreError::Config)?;
        let mut categories: Vec<Category> = Vec::new();
        for (i, k) in a.data_items.iter().enumerate() {
            let kind: Kind = k
                .parse()
                .map_err(|e| CoreError::Input(format!("data_items[{i}]: {e}")))?;
            if !categories.contains(&kind.category()) {
                categories.push(kind.category());
            }
        }
        let mut distinct = HashSet::new();
        for (i, s) in a.subjects.iter().enumerate() {
            let (located, _) = self.resolve(s)?;
            let l = located.ok_or_else(|| {
                CoreError::Input(format!("subjects[{i}] matches no data subject"))
            })?;
            distinct.insert(l.id);
        }
        let from_audit = match &a.audit_principal {
            Some(p) => self.subjects_read(p, a.audit_since.as_deref(), a.audit_until.as_deref())?,
            None => 0,
        };
        let people = (distinct.len() as u64)
            .max(from_audit)
            .max(a.people.unwrap_or(0));
        let mut appi_kinds = a.appi_kinds.clone();
        if people > APPI_PEOPLE_THRESHOLD
            && !appi_kinds.contains(&AppiReportableKind::OverThousandPeople)
        {
            appi_kinds.push(AppiReportableKind::OverThousandPeople);
        }
        appi_kinds.sort();
        appi_kinds.dedup();
        let appi_reportable = !appi_kinds.is_empty() && !a.strongly_encrypted;
        let unlawful = appi_kinds.contains(&AppiReportableKind::UnlawfulPurpose);
        let inc = self.change_incident(by, id, "incident_assess", |inc, at| {
            if inc.state == IncidentState::Closed {
                return Err(CoreError::Conflict(format!("{id} is closed")));
            }
            let aware = instant("aware_at", &inc.aware_at)?;
            let mut deadlines =
                clocks::deadlines(&cfg.clocks, aware, appi_reportable, unlawful, a.gdpr)
                    .map_err(CoreError::Config)?;
            // Reports already filed stay filed.
            for d in &mut deadlines {
                if let Some(old) = inc.deadlines.iter().find(|o| o.clock == d.clock) {
                    d.done_at = old.done_at.clone();
                }
            }
            inc.deadlines = deadlines;
            inc.assessment = Some(Assessment {
                severity,
                priority,
                route,
                appi_kinds: appi_kinds.clone(),
                strongly_encrypted: a.strongly_encrypted,
                appi_reportable,
                gdpr: a.gdpr,
                data_items: a.data_items.clone(),
                categories: categories.clone(),
                people,
                by: by.into(),
                at: at.into(),
            });
            inc.state = IncidentState::Assessed;
            inc.log(
                at,
                by,
                format!(
                    "assessed {severity} / {priority}: route {route}; APPI {}; GDPR {}; {people} people",
                    if appi_reportable { "reportable" } else { "not reportable" },
                    if a.gdpr { "notifiable" } else { "not notifiable" },
                ),
            );
            for rule in &cfg.roles {
                let kind_ok = rule.kinds.is_empty() || rule.kinds.contains(&inc.kind);
                let prio_ok = rule.min_priority.is_none_or(|m| priority >= m);
                if !(kind_ok && prio_ok) || inc.holder(rule.role).is_some() {
                    continue;
                }
                let member = if rule.member == "on_call" {
                    match &inc.on_call {
                        Some(m) => m.clone(),
                        None => continue,
                    }
                } else {
                    rule.member.clone()
                };
                inc.roles.push(RoleEvent {
                    role: rule.role,
                    member: member.clone(),
                    from: None,
                    at: at.into(),
                    by: "rule".into(),
                });
                inc.log(at, "rule", format!("{member} assumed the {} role", rule.role));
            }
            Ok(())
        })?;
        if route == Route::Expedited
            && let Some(c) = inc.holder(IncidentRole::Commander).map(str::to_owned)
        {
            return self.send_and_record_page(by, id, &c, "expedited", None);
        }
        Ok(inc)
    }
}
