//! Results of access and export requests, kept in the store (issue 21 item
//! 5): one row of the `dsr_results` registry in the subject's home region,
//! keyed by request id, holding the ZIP sealed under the subject's data key
//! (AAD bound to the request id). Any node serves it; the subject's erasure
//! shreds the key and deletes the row (N8.8). They are kept until then, as
//! the files on the executing node's disk were before.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use steward_domain::{Purpose, RequestState, RequestType, SubjectId};
use steward_store::{ChangeSet, RegistryTable};

use super::{Request, corrupt, rfc3339};
use crate::gate::RequestSealed;
use crate::rows::{parse_row, row_json};
use crate::{CoreError, Steward};

/// One stored result.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultRow {
    /// The subject (opaque `sub_…` id).
    subject: String,
    /// Records in the ZIP.
    records: u64,
    /// When it was stored (RFC 3339, the services' clock).
    stored_at: String,
    /// The ZIP sealed under the subject's data key, base64.
    sealed: String,
}

/// Where a request's result is kept, as [`super::RequestResult`] names it.
pub(super) fn result_location(id: &str) -> String {
    format!("store:dsr_results/{id}")
}

impl Steward {
    /// The subject's region (index) and opaque id of request `req`.
    fn result_place(&self, req: &Request) -> Result<(usize, SubjectId), CoreError> {
        let region = self.region_index(req.subject_region.as_deref().unwrap_or(""))?;
        let s = req
            .subject
            .as_deref()
            .and_then(|s| s.parse::<SubjectId>().ok())
            .ok_or_else(|| corrupt(&req.id, "subject"))?;
        Ok((region, s))
    }

    /// The record count of `req`'s stored result, when an earlier execution
    /// of it stored one (a takeover or a retry reuses it: the subject's data
    /// is exported once).
    pub(super) fn stored_result(&self, req: &Request) -> Result<Option<u64>, CoreError> {
        let (region, _) = self.result_place(req)?;
        let Some(body) = self
            .rstore(region)?
            .registry_get(RegistryTable::DsrResults, &req.id)?
        else {
            return Ok(None);
        };
        let row: ResultRow = parse_row(RegistryTable::DsrResults, &req.id, &body)?;
        Ok(Some(row.records))
    }

    /// Export the subject's data through the gate as `by` for `comply`
    /// (citing `obligation`), seal the ZIP under the subject's data key and
    /// store it in the subject's region. The ZIP passes through a private
    /// file in `<data-dir>/requests/` (0700), deleted before this returns.
    /// Returns the record count.
    pub(super) fn export_result(
        &self,
        req: &Request,
        by: &str,
        subject: &str,
        obligation: &str,
    ) -> Result<u64, CoreError> {
        let (region, s) = self.result_place(req)?;
        let dir = self.data_dir.join("requests");
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        let io = |p: &std::path::Path, e: std::io::Error| CoreError::Io {
            path: p.display().to_string(),
            reason: e.to_string(),
        };
        b.create(&dir).map_err(|e| io(&dir, e))?;
        // One name per node: two nodes may share a data directory.
        let out = dir.join(format!("{}-{}.zip", req.id, self.node_id));
        let exported = self.export(by, Purpose::Comply, subject, &out, Some(obligation));
        let bytes = exported
            .as_ref()
            .map_err(|_| ())
            .and_then(|_| std::fs::read(&out).map_err(|_| ()));
        let _ = std::fs::remove_file(&out);
        let summary = exported?;
        let bytes = bytes.map_err(|()| {
            io(
                &out,
                std::io::Error::other("the export's ZIP could not be read back"),
            )
        })?;
        let sealed = self.seal_for_request(region, s, RequestSealed::Result(&req.id), &bytes)?;
        let row = ResultRow {
            subject: subject.to_owned(),
            records: summary.record_count,
            stored_at: rfc3339(self.clock.now()),
            sealed: base64::engine::general_purpose::STANDARD.encode(sealed),
        };
        self.rstore(region)?.commit(ChangeSet {
            registry: vec![(
                RegistryTable::DsrResults,
                req.id.to_string(),
                row_json(&row)?,
            )],
            ..Default::default()
        })?;
        Ok(summary.record_count)
    }

    /// The result of completed access or export request `id` (the ZIP's
    /// bytes, as the export wrote them), read from the store by any node,
    /// for privacy-team principal `by` (decided by the pack as `dsr_handle`
    /// and audited before anything is opened; N7.2).
    ///
    /// Errors: [`CoreError::Denied`] (audited) when `by` may not handle
    /// requests; [`CoreError::Input`] for an unknown id, a request that is
    /// not a completed access or export, or a result gone with the
    /// subject's erasure (N8.8); [`CoreError::Crypto`] when it does not open.
    pub fn request_result(&self, id: &str, by: &str) -> Result<Vec<u8>, CoreError> {
        let p = self.acting(by)?;
        self.authorize_dsr_handling(&p, id)?;
        let (_, req) = self.load_request(id)?;
        if !matches!(req.request_type, RequestType::Access | RequestType::Export)
            || req.state != RequestState::Completed
        {
            return Err(CoreError::Input(format!(
                "request {id} is a {} request, {}: only a completed access or export request has a result to download",
                req.request_type.as_str(),
                req.state.as_str()
            )));
        }
        let (region, s) = self.result_place(&req)?;
        let body = self
            .rstore(region)?
            .registry_get(RegistryTable::DsrResults, id)?
            .ok_or_else(|| {
                CoreError::Input(format!(
                    "request {id}: its result is no longer stored (the subject was erased, N8.8)"
                ))
            })?;
        let row: ResultRow = parse_row(RegistryTable::DsrResults, id, &body)?;
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(&row.sealed)
            .map_err(|_| corrupt(id, "its stored result"))?;
        self.open_for_request(region, s, RequestSealed::Result(id), &sealed)
    }

    /// Delete the stored results of `requests` (ids, about an erased
    /// subject) from region `region`'s store. Returns how many were stored.
    pub(super) fn delete_request_results(
        &self,
        region: usize,
        requests: &[String],
    ) -> Result<u64, CoreError> {
        let mut store = self.rstore(region)?;
        let mut cs = ChangeSet::default();
        for id in requests {
            if store.registry_get(RegistryTable::DsrResults, id)?.is_some() {
                cs.delete_registry
                    .push((RegistryTable::DsrResults, id.clone()));
            }
        }
        let n = cs.delete_registry.len() as u64;
        if n > 0 {
            store.commit(cs)?;
        }
        Ok(n)
    }
}
