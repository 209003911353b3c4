//! Execution leases of data subject requests (issue 21 item 5: several
//! nodes on one store).
//!
//! An execution holds a lease: one row of the `dsr_leases` registry in the
//! primary region, keyed by request id, naming the holding node's id
//! (`node_…`, random at each open) and when the lease expires (the
//! [`crate::Clock`]'s milliseconds). It is taken before `in_progress` is
//! committed, by a compare-and-set commit on the row as read
//! ([`steward_store::RegistryGuard`]: SQLite checks it inside its `BEGIN
//! IMMEDIATE`, PostgreSQL under the head-row lock and `FOR UPDATE`), so of
//! two nodes racing for it exactly one wins. A heartbeat thread renews it
//! every third of `dsr.lease_secs` while the execution runs (guarded on the
//! body it last wrote); the commit that ends the execution (`completed` or
//! `failed`) is guarded on that body too and deletes the row. A node that
//! lost its lease (it stalled past expiry and another node took over)
//! therefore cannot complete the request a second time.
//!
//! A request `in_progress` whose lease expired was left by a node that
//! stopped: `approve` on any node takes it over (a new attempt, audited)
//! and runs it again, which is idempotent (an erasure is found by its
//! receipt, a stored access or export result is reused); the resume pass
//! marks it `failed`, `interrupted`.

use std::sync::mpsc::{self, RecvTimeoutError};

use serde::{Deserialize, Serialize};
use steward_domain::RequestState;
use steward_store::{ChangeSet, RegistryGuard, RegistryTable, StoreError};
use time::{Duration, OffsetDateTime};

use super::{Request, ms, parse_ts};
use crate::rows::{parse_row, row_json};
use crate::{CoreError, Steward};

/// One lease row: who executes the request and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionLease {
    /// The holding node's id (`node_` and 16 hex digits).
    pub holder: String,
    /// When the lease expires, milliseconds since the Unix epoch (UTC, the
    /// services' clock).
    pub expires_at_ms: i64,
}

/// Whether an `in_progress` request is still being executed.
pub(super) enum Liveness {
    /// A lease that has not expired, or an execution in this process.
    Running,
    /// Its lease expired: the node executing it stopped.
    Expired,
    /// No lease row (written before leases existed): judged by its age
    /// against `dsr.interrupted_after_secs`; `true` when older.
    Unleased(bool),
}

impl Steward {
    /// The lease of request `id` as stored, if any.
    ///
    /// Errors: [`CoreError::Store`] when the store fails or the row is not
    /// what Steward wrote.
    pub fn execution_lease(&self, id: &str) -> Result<Option<ExecutionLease>, CoreError> {
        Ok(self.lease_row(id)?.map(|(_, l)| l))
    }

    fn lease_row(&self, id: &str) -> Result<Option<(String, ExecutionLease)>, CoreError> {
        let Some(body) = self.store()?.registry_get(RegistryTable::DsrLeases, id)? else {
            return Ok(None);
        };
        let l = parse_row(RegistryTable::DsrLeases, id, &body)?;
        Ok(Some((body, l)))
    }

    /// Take request `id`'s lease for this node when it is free or expired:
    /// `Some(body)` as written, `None` when a live lease is held (by any
    /// node) or another node won the race.
    pub(super) fn acquire_lease(&self, id: &str) -> Result<Option<String>, CoreError> {
        let now = ms(self.clock.now());
        let old = self.lease_row(id)?;
        if old.as_ref().is_some_and(|(_, l)| l.expires_at_ms > now) {
            return Ok(None);
        }
        self.put_lease(id, old.map(|(b, _)| b), now)
    }

    /// Write this node's lease, expiring `dsr.lease_secs` after `now_ms`,
    /// guarded on `expected`; `None` when the guard failed.
    fn put_lease(
        &self,
        id: &str,
        expected: Option<String>,
        now_ms: i64,
    ) -> Result<Option<String>, CoreError> {
        let secs = i64::try_from(self.config.dsr.lease_secs).unwrap_or(3_600);
        let body = row_json(&ExecutionLease {
            holder: self.node_id.clone(),
            expires_at_ms: now_ms.saturating_add(secs.saturating_mul(1_000)),
        })?;
        let cs = ChangeSet {
            registry: vec![(RegistryTable::DsrLeases, id.to_owned(), body.clone())],
            guards: vec![RegistryGuard {
                table: RegistryTable::DsrLeases,
                id: id.to_owned(),
                expected,
            }],
            ..Default::default()
        };
        match self.store()?.commit(cs) {
            Ok(_) => Ok(Some(body)),
            Err(StoreError::GuardConflict { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Give the lease up (best effort: an execution that did not start);
    /// left alone when it is no longer `held`.
    pub(super) fn release_lease(&self, id: &str, held: &str) {
        if let Ok(mut store) = self.store() {
            let _ = store.commit(lease_end(id, held));
        }
    }

    /// Run `f` while a heartbeat thread renews lease `held` of request `id`
    /// every third of `dsr.lease_secs` (real time; the expiry is read from
    /// the clock). Returns `f`'s value and the lease body last written
    /// (what the ending commit is guarded on; a lease lost to another node
    /// keeps the body it last held, so that commit fails).
    pub(super) fn with_lease<T>(
        &self,
        id: &str,
        held: String,
        f: impl FnOnce() -> T,
    ) -> (T, String) {
        let every = std::time::Duration::from_millis(self.config.dsr.lease_secs * 1_000 / 3);
        let (tx, rx) = mpsc::channel::<()>();
        std::thread::scope(|sc| {
            let fallback = held.clone();
            let beat = sc.spawn(move || {
                let mut held = held;
                loop {
                    match rx.recv_timeout(every) {
                        Err(RecvTimeoutError::Timeout) => {
                            let now = ms(self.clock.now());
                            match self.put_lease(id, Some(held.clone()), now) {
                                Ok(Some(b)) => held = b,
                                // Taken over: stop renewing; the ending
                                // commit's guard fails.
                                Ok(None) => return held,
                                // The store failed: try again next beat.
                                Err(_) => {}
                            }
                        }
                        _ => return held,
                    }
                }
            });
            let out = f();
            drop(tx);
            (out, beat.join().unwrap_or(fallback))
        })
    }

    /// Whether `in_progress` request `req` is still being executed, at `now`.
    pub(super) fn liveness(
        &self,
        req: &Request,
        now: OffsetDateTime,
    ) -> Result<Liveness, CoreError> {
        // Executing in this process right now: running, whatever the clock
        // says. Unsure (poisoned): running.
        let mine = self
            .executing
            .lock()
            .map(|s| s.contains_key(req.id.as_str()))
            .unwrap_or(true);
        if mine {
            return Ok(Liveness::Running);
        }
        match self.lease_row(&req.id)? {
            Some((_, l)) if l.expires_at_ms > ms(now) => Ok(Liveness::Running),
            Some(_) => Ok(Liveness::Expired),
            None => {
                let limit = Duration::seconds(
                    self.config.dsr.interrupted_after_secs.min(31_536_000) as i64,
                );
                let since = req
                    .history
                    .iter()
                    .rev()
                    .find(|h| h.state == RequestState::InProgress)
                    .and_then(|h| parse_ts(&h.at));
                Ok(Liveness::Unleased(since.is_none_or(|s| now - s >= limit)))
            }
        }
    }
}

/// The part of an execution's ending commit that ends its lease: guarded on
/// the body last held, the row deleted.
pub(super) fn lease_end(id: &str, held: &str) -> ChangeSet {
    ChangeSet {
        delete_registry: vec![(RegistryTable::DsrLeases, id.to_owned())],
        guards: vec![RegistryGuard {
            table: RegistryTable::DsrLeases,
            id: id.to_owned(),
            expected: Some(held.to_owned()),
        }],
        ..Default::default()
    }
}
