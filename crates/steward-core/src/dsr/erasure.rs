//! What an erasure does to the request register (N8.8): the files that
//! answered access and export requests go, and the identifier's HMAC is
//! dropped from every request about the erased subject (issue 13, item 3).

use steward_audit::{Resource, ResourceKind, SubjectRef};
use steward_domain::{RequestState, SubjectId};
use steward_store::{ChangeSet, RegistryField, RegistryGuard, RegistryQuery, RegistryTable};

use super::Request;
use crate::gate::{system_entry, token};
use crate::rows::parse_row;
use crate::{CoreError, Steward};

impl Steward {
    /// Delete the results answering access and export requests about
    /// `subject`: the sealed rows of `dsr_results` in each request's subject
    /// region (issue 21 item 5; their data key is already shredded) and
    /// files an earlier version left in `<data-dir>/requests/dsr_….zip`
    /// (Service Data in clear), which must not outlive the subject's erasure
    /// (N8.8); and the outbox messages of requests about it (issue 13 item
    /// 5). Returns how many results, files and messages went. Called by the
    /// erasure paths after their commit.
    pub(crate) fn delete_request_exports(&self, subject: SubjectId) -> Result<u64, CoreError> {
        let dir = self.data_dir.join("requests");
        let want = subject.to_string();
        let mut n = 0;
        let mut by_region: std::collections::BTreeMap<usize, Vec<String>> = Default::default();
        for (id, body) in self.store()?.registry_find(
            RegistryTable::Requests,
            RegistryQuery::Equals(RegistryField::Subject, &want),
        )? {
            let r: Request = parse_row(RegistryTable::Requests, &id, &body)?;
            if r.subject.as_deref() != Some(want.as_str()) {
                continue;
            }
            if let Some(region) = r.subject_region.as_deref() {
                by_region
                    .entry(self.region_index(region)?)
                    .or_default()
                    .push(id.clone());
            }
            // Issue 13 item 5: its one-time-code messages, with the address.
            n += crate::outbox::delete_messages(&self.data_dir, &id)?;
            let f = dir.join(format!("{id}.zip"));
            match std::fs::remove_file(&f) {
                Ok(()) => n += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(CoreError::Io {
                        path: f.display().to_string(),
                        reason: e.to_string(),
                    });
                }
            }
        }
        for (region, ids) in by_region {
            n += self.delete_request_results(region, &ids)?;
        }
        Ok(n)
    }

    /// Drop the blind index of the identifier (`identifier_ref`, a full
    /// HMAC) from every request about the erased `subject`, so that nobody
    /// holding the blind-index key can link a guessed identifier to the
    /// requests after the erasure (issue 13, item 3). Requests being executed
    /// (`in_progress`) are left to their executor, which drops it when it
    /// completes an erasure. One audited commit (`dsr_identifier_forget`),
    /// guarded on each row as read and retried when a request changed
    /// meanwhile. Returns how many rows changed. Called by the erasure paths
    /// after their commit.
    pub(crate) fn forget_request_identifiers(&self, subject: SubjectId) -> Result<u64, CoreError> {
        let want = subject.to_string();
        let mut last = None;
        for _ in 0..3 {
            let mut cs = ChangeSet::default();
            for (id, body) in self.store()?.registry_find(
                RegistryTable::Requests,
                RegistryQuery::Equals(RegistryField::Subject, &want),
            )? {
                let mut r: Request = parse_row(RegistryTable::Requests, &id, &body)?;
                if r.subject.as_deref() != Some(want.as_str())
                    || r.identifier_ref.is_none()
                    || r.state == RequestState::InProgress
                {
                    continue;
                }
                r.identifier_ref = None;
                let new = serde_json::to_string(&r).map_err(|e| CoreError::Input(e.to_string()))?;
                cs.registry.push((RegistryTable::Requests, id.clone(), new));
                cs.guards.push(RegistryGuard {
                    table: RegistryTable::Requests,
                    id,
                    expected: Some(body),
                });
            }
            let n = cs.registry.len() as u64;
            if n == 0 {
                return Ok(0);
            }
            let mut e = system_entry(
                "dsr_identifier_forget",
                "dsr_requests",
                "",
                self.policy.version(),
            );
            e.clause_ids = vec![token("N8.8")];
            e.resource = Resource::new(ResourceKind::Subject)
                .subject(SubjectRef::new(subject.0 as u64))
                .count(n);
            cs.audit.push(e);
            match self.store()?.commit(cs) {
                Ok(_) => return Ok(n),
                Err(err) => last = Some(err),
            }
        }
        Err(last.map(CoreError::from).unwrap_or_else(|| {
            CoreError::Conflict("requests kept changing; run the erasure again".into())
        }))
    }
}
