//! Configuration `[incidents]` (N8.5, N5.1): the on-call schedule, the
//! regulators' clocks, the severity x priority route table, role rules and
//! detector thresholds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use steward_domain::{IncidentKind, IncidentRole, Priority, Route, Severity};

use super::clocks::ClocksConfig;

/// A rule assigning a role when an incident is assessed (N8.5: a
/// coordinated team, with legal and the product team).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleRule {
    /// The role.
    pub role: IncidentRole,
    /// The principal, or `on_call`: whoever was on call at awareness.
    pub member: String,
    /// The incident kinds it applies to (empty: every kind).
    #[serde(default)]
    pub kinds: Vec<IncidentKind>,
    /// The lowest priority it applies to (none: every priority).
    #[serde(default)]
    pub min_priority: Option<Priority>,
}

/// Detector thresholds (N5.1): a detector fires when a count *exceeds*
/// its threshold within its window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// Distinct subjects one principal may read within `subjects_window_secs`.
    pub distinct_subjects: u32,
    /// Window of `distinct_subjects`, seconds.
    pub subjects_window_secs: u32,
    /// Denials one principal may get within `denials_window_secs`.
    pub denials: u32,
    /// Window of `denials`, seconds.
    pub denials_window_secs: u32,
    /// Lockouts one account may have within `lockouts_window_secs`.
    pub lockouts: u32,
    /// Window of `lockouts`, seconds.
    pub lockouts_window_secs: u32,
    /// Regions reads may be processed in (empty: the configured regions).
    pub regions: Vec<String>,
    /// Severity given to a detector's incident.
    pub severity: Severity,
    /// Priority given to a detector's incident.
    pub priority: Priority,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            distinct_subjects: 200,
            subjects_window_secs: 3600,
            denials: 20,
            denials_window_secs: 300,
            lockouts: 3,
            lockouts_window_secs: 3600,
            regions: vec![],
            severity: Severity::High,
            priority: Priority::High,
        }
    }
}

/// `[incidents]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IncidentsConfig {
    /// The on-call schedule of the incident team (default `incident-response`).
    pub schedule: String,
    /// The regulators' clocks.
    pub clocks: ClocksConfig,
    /// The route by severity, then priority: `routes.high.low = "expedited"`.
    /// Cells not given take the default: expedited when the severity is
    /// high or critical or the priority high, else standard.
    pub routes: BTreeMap<String, BTreeMap<String, Route>>,
    /// Role rules, applied in order at assessment.
    pub roles: Vec<RoleRule>,
    /// Detector thresholds.
    pub detectors: DetectorConfig,
}

impl Default for IncidentsConfig {
    fn default() -> Self {
        IncidentsConfig {
            schedule: "incident-response".into(),
            clocks: ClocksConfig::default(),
            routes: BTreeMap::new(),
            roles: vec![RoleRule {
                role: IncidentRole::Commander,
                member: "on_call".into(),
                kinds: vec![],
                min_priority: None,
            }],
            detectors: DetectorConfig::default(),
        }
    }
}

impl IncidentsConfig {
    /// The route of `severity` and `priority`: the table's cell, else the default.
    ///
    /// Errors: a table key that is not a severity or priority (names it).
    pub fn route(&self, severity: Severity, priority: Priority) -> Result<Route, String> {
        for (s, row) in &self.routes {
            s.parse::<Severity>()
                .map_err(|e| format!("incidents.routes.{s}: {e}"))?;
            for p in row.keys() {
                p.parse::<Priority>()
                    .map_err(|e| format!("incidents.routes.{s}.{p}: {e}"))?;
            }
        }
        if let Some(r) = self
            .routes
            .get(severity.as_str())
            .and_then(|row| row.get(priority.as_str()))
        {
            return Ok(*r);
        }
        Ok(
            if severity >= Severity::High || priority == Priority::High {
                Route::Expedited
            } else {
                Route::Standard
            },
        )
    }
}
