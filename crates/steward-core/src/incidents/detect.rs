//! Detectors over the audit stream (N5.1 "alerts on anomalous access"):
//! one principal reading more distinct subjects than the threshold within
//! a window; bursts of denials; repeated lockouts; reads processed in a
//! region not expected; an audit verification failure. Thresholds come
//! from `[incidents.detectors]` ([`DetectorConfig`]).
//!
//! [`Detector`] is pure and streaming: it takes [`AuditSummary`]s (the few
//! fields it needs, no Service Data) in time order, keeps sliding windows
//! per principal, and fires each cause at most once per run. Memory grows
//! with the principals and the subjects read within one window, not with
//! the stream. [`Steward::run_detectors`] feeds it the audit log of every
//! region and the verification result; [`Steward::open_detector_incidents`]
//! opens an incident per firing, or adds the firing to the open incident of
//! the same cause, and pages the on-call.

use std::collections::{HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};
use steward_domain::{DetectorKind, IncidentKind, IncidentState, ReportChannel};
use steward_store::ChangeSet;

use super::{Assessment, Incident, now};
use crate::authorize::ManagementAction;
use crate::config::incidents::DetectorConfig;
use crate::{CoreError, Steward, VerifyOutcome};

/// An audit entry's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryDecision {
    /// Allowed.
    Allow,
    /// Denied.
    Deny,
    /// An operation that completed.
    Done,
}

/// What a detector needs of one audit entry: no Service Data (principal
/// names, Steward's action names, opaque subject ids, region names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSummary {
    /// The principal (for `login_lockout`: the account locked).
    pub principal: String,
    /// The action (`read`, `export`, `login_lockout`, ...).
    pub action: String,
    /// The decision.
    pub decision: SummaryDecision,
    /// The subject's opaque id, if the entry names one.
    pub subject: Option<u64>,
    /// The region the access was processed in.
    pub region: String,
    /// When, ms since the Unix epoch.
    pub time_ms: i64,
}

impl AuditSummary {
    /// The summary of a stored audit entry.
    pub fn of(e: &steward_audit::AuditEntry) -> AuditSummary {
        let action = e.action.as_str().to_owned();
        let processed = e
            .resource
            .ids
            .iter()
            .find_map(|t| t.as_str().strip_prefix("processed_in:"))
            .unwrap_or(e.region.as_str());
        let principal = if action == "login_lockout" {
            e.resource
                .ids
                .first()
                .map(|t| t.as_str())
                .unwrap_or(e.principal.as_str())
        } else {
            e.principal.as_str()
        };
        let t = e.time.datetime();
        AuditSummary {
            principal: principal.to_owned(),
            action,
            decision: match e.decision {
                steward_audit::Decision::Allow => SummaryDecision::Allow,
                steward_audit::Decision::Deny => SummaryDecision::Deny,
                steward_audit::Decision::Done => SummaryDecision::Done,
            },
            subject: e.resource.subjects.first().map(|s| s.value()),
            region: processed.to_owned(),
            time_ms: i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0),
        }
    }
}

/// One detector firing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Firing {
    /// Which detector.
    pub kind: DetectorKind,
    /// The cause: `<detector>:<principal>` (or `:<region>`, `:log`).
    pub cause: String,
    /// The count that crossed the threshold (subjects, denials, lockouts;
    /// 1 for a region or a verification failure).
    pub count: u64,
    /// When, ms since the Unix epoch.
    pub at_ms: i64,
}

#[derive(Default)]
struct PerPrincipal {
    reads: VecDeque<(i64, u64)>,
    subjects: HashMap<u64, u32>,
    denials: VecDeque<i64>,
    lockouts: VecDeque<i64>,
}

/// The streaming detector (see the module docs).
pub struct Detector {
    cfg: DetectorConfig,
    regions: Vec<String>,
    state: HashMap<String, PerPrincipal>,
    fired: HashSet<String>,
    firings: Vec<Firing>,
}

fn trim(q: &mut VecDeque<i64>, from: i64) {
    while q.front().is_some_and(|t| *t < from) {
        q.pop_front();
    }
}

impl Detector {
    /// A detector with thresholds `cfg`; reads processed outside
    /// `cfg.regions` (or, when that is empty, `regions`) fire.
    pub fn new(cfg: &DetectorConfig, regions: &[String]) -> Detector {
        let regions = if cfg.regions.is_empty() {
            regions.to_vec()
        } else {
            cfg.regions.clone()
        };
        Detector {
            cfg: cfg.clone(),
            regions,
            state: HashMap::new(),
            fired: HashSet::new(),
            firings: Vec::new(),
        }
    }

    fn fire(&mut self, kind: DetectorKind, key: &str, count: u64, at_ms: i64) {
        let cause = format!("{}:{key}", kind.as_str());
        if self.fired.insert(cause.clone()) {
            self.firings.push(Firing {
                kind,
                cause,
                count,
                at_ms,
            });
        }
    }

    /// Take one entry (entries in time order).
    pub fn observe(&mut self, s: &AuditSummary) {
        let is_read = matches!(s.action.as_str(), "read" | "export");
        let is_lockout = s.action == "login_lockout";
        let denied = s.decision == SummaryDecision::Deny;
        if !(is_read || is_lockout || denied) {
            return;
        }
        if is_read
            && s.decision == SummaryDecision::Allow
            && !self.regions.iter().any(|r| r == &s.region)
        {
            let key = s.region.clone();
            self.fire(DetectorKind::UnexpectedRegion, &key, 1, s.time_ms);
        }
        if !self.state.contains_key(s.principal.as_str()) {
            self.state
                .insert(s.principal.clone(), PerPrincipal::default());
        }
        let Some(st) = self.state.get_mut(s.principal.as_str()) else {
            return;
        };
        let mut fire: Option<(DetectorKind, u64)> = None;
        if is_read
            && s.decision == SummaryDecision::Allow
            && let Some(sub) = s.subject
        {
            let from = s.time_ms - i64::from(self.cfg.subjects_window_secs) * 1000;
            st.reads.push_back((s.time_ms, sub));
            *st.subjects.entry(sub).or_insert(0) += 1;
            while let Some(&(t, old)) = st.reads.front() {
                if t >= from {
                    break;
                }
                st.reads.pop_front();
                if let Some(n) = st.subjects.get_mut(&old) {
                    *n -= 1;
                    if *n == 0 {
                        st.subjects.remove(&old);
                    }
                }
            }
            if st.subjects.len() as u64 > u64::from(self.cfg.distinct_subjects) {
                fire = Some((DetectorKind::DistinctSubjects, st.subjects.len() as u64));
            }
        }
        if denied {
            st.denials.push_back(s.time_ms);
            trim(
                &mut st.denials,
                s.time_ms - i64::from(self.cfg.denials_window_secs) * 1000,
            );
            if st.denials.len() as u64 > u64::from(self.cfg.denials) {
                fire = Some((DetectorKind::DenialBurst, st.denials.len() as u64));
            }
        }
        if is_lockout {
            st.lockouts.push_back(s.time_ms);
            trim(
                &mut st.lockouts,
                s.time_ms - i64::from(self.cfg.lockouts_window_secs) * 1000,
            );
            if st.lockouts.len() as u64 > u64::from(self.cfg.lockouts) {
                fire = Some((DetectorKind::RepeatedLockouts, st.lockouts.len() as u64));
            }
        }
        if let Some((kind, n)) = fire {
            let key = s.principal.clone();
            self.fire(kind, &key, n, s.time_ms);
        }
    }

    /// Record that `audit verify` failed at `at_ms` (N5.1, N5.4).
    pub fn verification_failed(&mut self, at_ms: i64) {
        self.fire(DetectorKind::AuditVerificationFailure, "log", 1, at_ms);
    }

    /// The firings so far, in order.
    pub fn firings(&self) -> &[Firing] {
        &self.firings
    }

    /// The firings, consuming the detector.
    pub fn into_firings(self) -> Vec<Firing> {
        self.firings
    }
}

impl Steward {
    /// Run the detectors over every region's audit log and `audit verify`,
    /// then open or add to incidents for what fired (see
    /// [`Steward::open_detector_incidents`]), as principal `by`.
    ///
    /// Errors: storage errors; those of [`Steward::open_detector_incidents`].
    pub fn run_detectors(&self, by: &str) -> Result<Vec<Incident>, CoreError> {
        let regions: Vec<String> = self.regions().map(|r| r.name.clone()).collect();
        let mut d = Detector::new(&self.incidents_config().detectors, &regions);
        for region in 0..self.regions.len() {
            self.rstore(region)?.audit_scan(0, u64::MAX, &mut |row| {
                if let Ok(e) = steward_audit::AuditEntry::decode(&row.entry) {
                    d.observe(&AuditSummary::of(&e));
                }
                true
            })?;
        }
        if let VerifyOutcome::Failed(_) = self.audit_verify()? {
            d.verification_failed(self.jiff_now().as_millisecond());
        }
        self.open_detector_incidents(by, &d.into_firings())
    }

    /// Open an incident for each firing, assessed with the detectors'
    /// severity and priority and routed by the table, or add the firing to
    /// the open incident of the same cause; page the on-call (N5.1, N8.5).
    /// Returns the incidents opened or added to, in firing order.
    ///
    /// Errors: [`CoreError::Denied`] when `by` may not report incidents
    /// (audited); storage errors.
    pub fn open_detector_incidents(
        &self,
        by: &str,
        firings: &[Firing],
    ) -> Result<Vec<Incident>, CoreError> {
        let mut out = Vec::new();
        for f in firings {
            let open = self.incident_rows()?.into_iter().find(|i| {
                i.state != IncidentState::Closed && i.cause.as_deref() == Some(f.cause.as_str())
            });
            let at = now(self);
            let what = format!(
                "detector {} fired: {} over the threshold ({})",
                f.kind.as_str(),
                f.count,
                f.cause
            );
            if let Some(mut inc) = open {
                let before = crate::rows::row_json(&inc)?;
                let e = self.incident_decision(
                    by,
                    ManagementAction::IncidentReport,
                    &inc.id,
                    "incident_detector_firing",
                )?;
                inc.firings += 1;
                inc.log(&at, "detector", what);
                self.commit_incident(&inc, Some(before), e, ChangeSet::default())?;
                out.push(inc);
                continue;
            }
            let aware = jiff::Timestamp::from_millisecond(f.at_ms)
                .map_err(|e| CoreError::Input(format!("firing time: {e}")))?;
            let mut inc = self.new_incident(
                IncidentKind::Anomaly,
                ReportChannel::Detector,
                "detector",
                aware,
            );
            let e = self.incident_decision(
                by,
                ManagementAction::IncidentReport,
                &inc.id,
                "incident_report",
            )?;
            let cfg = &self.incidents_config().detectors;
            let route = self
                .incidents_config()
                .route(cfg.severity, cfg.priority)
                .map_err(CoreError::Config)?;
            inc.cause = Some(f.cause.clone());
            inc.firings = 1;
            inc.state = IncidentState::Assessed;
            inc.assessment = Some(Assessment {
                severity: cfg.severity,
                priority: cfg.priority,
                route,
                appi_kinds: vec![],
                strongly_encrypted: false,
                appi_reportable: false,
                gdpr: false,
                data_items: vec![],
                categories: vec![],
                people: 0,
                by: "detector".into(),
                at: at.clone(),
            });
            inc.log(&at, "detector", what);
            inc.log(
                &at,
                "detector",
                format!(
                    "pre-assessed {} / {}: route {}",
                    cfg.severity, cfg.priority, route
                ),
            );
            self.commit_incident(&inc, None, e, ChangeSet::default())?;
            let reason = format!("detector:{}", f.kind.as_str());
            out.push(self.page_on_call(&inc.id, by, &reason)?);
        }
        Ok(out)
    }
}
