//! On-call (N8.5: "the on-call team rotates daily"): schedules in the
//! `oncall_schedules` registry, who is on call at any instant, iCalendar
//! export, and pages through a pluggable [`Pager`].
//!
//! Changes and reads are management operations decided by the pack
//! ([`ManagementAction::IncidentManage`]: the dedicated incident team) and
//! audited with the change in one transaction. See [`rotation`] for how
//! shifts are computed across daylight-saving changes.

use std::sync::Arc;

use steward_store::{ChangeSet, RegistryTable};

use crate::authorize::{ManagementAction, Target, stamp};
use crate::rows::{parse_row, row_json};
use crate::{CoreError, Steward};

mod ical;
mod pager;
pub(crate) mod rotation;

pub use pager::{OutboxPager, Page, Pager};
pub use rotation::{Layer, Override, Schedule, Shift, Swap};

fn input(e: String) -> CoreError {
    CoreError::Input(format!("on-call schedule: {e}"))
}

/// The shifts of `schedule` for `days` local dates from `from`
/// (`YYYY-MM-DD`), overrides applied, in time order (pure: no store).
///
/// Errors: [`CoreError::Input`] naming the schedule's bad field.
pub fn shifts(schedule: &Schedule, from: &str, days: u32) -> Result<Vec<Shift>, CoreError> {
    let r = schedule.resolve().map_err(input)?;
    let d = rotation::parse_date("from", from).map_err(input)?;
    r.shifts(d, days).map_err(input)
}

/// Who is on call under `schedule` at `at` (RFC 3339), if anyone (pure).
///
/// Errors: [`CoreError::Input`] for a bad schedule or instant.
pub fn on_call_at(schedule: &Schedule, at: &str) -> Result<Option<String>, CoreError> {
    let r = schedule.resolve().map_err(input)?;
    let t = rotation::parse_instant("at", at).map_err(input)?;
    r.on_call_at(t).map_err(input)
}

/// The iCalendar (RFC 5545) text of `schedule`'s shifts for `days` local
/// dates from `from` (pure).
///
/// Errors: [`CoreError::Input`] for a bad schedule or date.
pub fn ical(schedule: &Schedule, from: &str, days: u32) -> Result<String, CoreError> {
    let s = shifts(schedule, from, days)?;
    ical::export(&schedule.name, &schedule.zone, &s).map_err(input)
}

impl Steward {
    /// Replace the pager that pages the on-call (default: [`OutboxPager`]
    /// into `<data_dir>/outbox/pages`).
    pub fn set_pager(&self, pager: Arc<dyn Pager>) {
        if let Ok(mut p) = self.pager.write() {
            *p = Some(pager);
        }
    }

    /// Send page `p` through the configured pager.
    pub(crate) fn send_page(&self, p: &Page) -> Result<(), CoreError> {
        let custom = self.pager.read().ok().and_then(|g| g.clone());
        match custom {
            Some(pager) => pager.page(p),
            None => OutboxPager {
                dir: self.data_dir.join("outbox").join("pages"),
            }
            .page(p),
        }
    }

    /// Store (create or replace) on-call schedule `schedule` (N8.5),
    /// decided as [`ManagementAction::IncidentManage`] and audited with the
    /// change.
    ///
    /// Errors: [`CoreError::Input`] naming the bad field; [`CoreError::Denied`] (audited).
    pub fn set_schedule(&self, by: &str, schedule: &Schedule) -> Result<(), CoreError> {
        schedule.resolve().map_err(input)?;
        let principal = self.acting(by)?;
        let (d, mut e) = self.decide_management(
            &principal,
            ManagementAction::IncidentManage,
            Target::named(&format!("oncall:{}", schedule.name)),
        )?;
        stamp(&mut e, &d, ManagementAction::IncidentManage);
        e.action = crate::entry::token("oncall_schedule_set");
        e.clause_ids.insert(0, crate::entry::token("N8.5"));
        self.store()?.commit(ChangeSet {
            registry: vec![(
                RegistryTable::OncallSchedules,
                schedule.name.clone(),
                row_json(schedule)?,
            )],
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(())
    }

    /// The stored schedule `name`, not decided (for the core's own use:
    /// the on-call of an incident's awareness time).
    pub(crate) fn schedule_row(&self, name: &str) -> Result<Option<Schedule>, CoreError> {
        self.store()?
            .registry_get(RegistryTable::OncallSchedules, name)?
            .map(|b| parse_row(RegistryTable::OncallSchedules, name, &b))
            .transpose()
    }

    /// Schedule `name` as principal `by` sees it (decided, audited).
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::NotFound`].
    pub fn schedule(&self, by: &str, name: &str) -> Result<Schedule, CoreError> {
        self.authorize_management(
            by,
            ManagementAction::IncidentManage,
            Target::named(&format!("oncall:{name}")),
        )?;
        self.schedule_row(name)?
            .ok_or_else(|| CoreError::NotFound(format!("no on-call schedule `{name}`")))
    }

    /// Who is on call under the stored schedule `name` at `at` (RFC 3339;
    /// `None`: now, by the services' clock), as principal `by` asks
    /// (decided, audited).
    ///
    /// Errors: as [`Steward::schedule`], and [`CoreError::Input`] for a bad instant.
    pub fn on_call(
        &self,
        by: &str,
        name: &str,
        at: Option<&str>,
    ) -> Result<Option<String>, CoreError> {
        let s = self.schedule(by, name)?;
        match at {
            Some(at) => on_call_at(&s, at),
            None => on_call_at(&s, &self.clock.rfc3339()),
        }
    }
}
