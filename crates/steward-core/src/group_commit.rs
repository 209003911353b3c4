//! Group commit of a region's audited accesses (issue 21 item 2).
//!
//! Every gated access appends its decision in a durable commit before
//! anything is opened (DESIGN: fail closed). Concurrent accesses of one
//! region share that commit: each caller queues its change set; the first
//! caller to find no leader becomes the leader, takes the region's store,
//! commits everything queued in one transaction and one fsync
//! ([`Store::commit_group`]), answers each caller on its own channel (so the
//! callers wake together, not one after another on the store's lock), and
//! hands the leadership to the first caller that queued meanwhile, if any.
//! Each change set succeeds or fails alone; no caller is answered before its
//! own change set is durable.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Mutex, MutexGuard};

use steward_store::{ChangeSet, Committed, Store, StoreError};

use crate::CoreError;

/// What a queued caller is told.
enum Answer {
    /// Its change set's result: committed (durable) or its error.
    Done(Result<Committed, StoreError>),
    /// Lead the next group: its change set is still queued.
    Lead,
}

/// The queue of one region and whether a leader is at work.
#[derive(Default)]
struct Queue {
    waiting: Vec<(ChangeSet, SyncSender<Answer>)>,
    leading: bool,
}

/// One region's group commit: its queue and its counters.
#[derive(Default)]
pub(crate) struct GroupCommit {
    queue: Mutex<Queue>,
    commits: AtomicU64,
    change_sets: AtomicU64,
}

/// The error of a store lock a panic left poisoned.
pub(crate) fn poisoned() -> CoreError {
    CoreError::Store(StoreError::Database("store lock poisoned".into()))
}

impl GroupCommit {
    /// Group commits made and the change sets they carried.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.commits.load(Relaxed), self.change_sets.load(Relaxed))
    }

    /// Commit `cs` with whatever other callers queue at the same moment, in
    /// `store` (the region's writing handle). Returns `cs`'s own result
    /// once it is durable.
    ///
    /// Errors: the store's, for this change set alone.
    pub(crate) fn commit(
        &self,
        store: &Mutex<Box<dyn Store>>,
        cs: ChangeSet,
    ) -> Result<Committed, CoreError> {
        let (tx, rx) = sync_channel(1);
        let lead = {
            let mut q = self.queue.lock().map_err(|_| poisoned())?;
            q.waiting.push((cs, tx));
            !std::mem::replace(&mut q.leading, true)
        };
        if !lead {
            match rx.recv() {
                Ok(Answer::Done(r)) => return Ok(r?),
                Ok(Answer::Lead) => {}
                Err(_) => {
                    return Err(CoreError::Store(StoreError::Database(
                        "a group commit's leader stopped before answering".into(),
                    )));
                }
            }
        }
        let mut leader = Leader {
            group: self,
            done: false,
        };
        leader.commit_one_group(store)?;
        // Ours was queued before this thread led, so it was in the group:
        // take its answer before handing over, so that nothing after the
        // commit can report a committed change set as failed.
        let own = rx.try_recv();
        leader.hand_over();
        match own {
            Ok(Answer::Done(r)) => Ok(r?),
            _ => Err(CoreError::Store(StoreError::Database(
                "a group commit lost a change set's result".into(),
            ))),
        }
    }
}

/// The leader's duty; if it stops early (an error, a panic) it answers
/// every queued caller with an error and leaves no one leading.
struct Leader<'a> {
    group: &'a GroupCommit,
    done: bool,
}

impl Leader<'_> {
    /// Take the store, then everything queued, commit it, answer each.
    fn commit_one_group(&mut self, store: &Mutex<Box<dyn Store>>) -> Result<(), CoreError> {
        let mut store: MutexGuard<'_, Box<dyn Store>> = store.lock().map_err(|_| poisoned())?;
        let batch = std::mem::take(&mut self.group.queue.lock().map_err(|_| poisoned())?.waiting);
        let (sets, answers): (Vec<ChangeSet>, Vec<_>) = batch.into_iter().unzip();
        let n = sets.len();
        self.group.commits.fetch_add(1, Relaxed);
        self.group.change_sets.fetch_add(n as u64, Relaxed);
        let mut results = store.commit_group(sets).into_iter();
        drop(store);
        for answer in answers {
            let result = results.next().unwrap_or_else(|| {
                Err(StoreError::Database(format!(
                    "the store answered fewer results than the {n} change sets of a group commit"
                )))
            });
            // A caller that has gone away no longer needs its answer.
            let _ = answer.send(Answer::Done(result));
        }
        Ok(())
    }

    /// The first caller queued meanwhile leads next; else no one leads.
    /// (The queue holds no state a panic could leave half-made, so a
    /// poisoned lock is taken as it is.)
    fn hand_over(&mut self) {
        let mut q = match self.group.queue.lock() {
            Ok(q) => q,
            Err(p) => p.into_inner(),
        };
        self.done = true;
        while let Some((_, next)) = q.waiting.first() {
            if next.send(Answer::Lead).is_ok() {
                return;
            }
            // That caller has gone; its change set is not committed.
            q.waiting.remove(0);
        }
        q.leading = false;
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut q = match self.group.queue.lock() {
            Ok(q) => q,
            Err(p) => p.into_inner(),
        };
        for (_, answer) in q.waiting.drain(..) {
            let _ = answer.send(Answer::Done(Err(StoreError::Database(
                "a group commit's leader failed before this change set was committed; nothing of it was written"
                    .into(),
            ))));
        }
        q.leading = false;
    }
}
