//! What a blind-index key rotation (issue 13 item 3) needs opened: a
//! subject's identifiers (to re-key the blind indexes request rows name)
//! and a stored message's Message-ID (to re-key its intake ledger row).
//! Both open sealed values, so they live in the gate; the rotation
//! ([`crate::identity::rotate`]) decides, audits and commits.

use steward_crypto::{BlindIndex, Zeroizing, blind_index_in};
use steward_domain::{RecordId, SubjectId};

use super::keys::{open_body, open_identifier};
use crate::{CoreError, Steward};

impl Steward {
    /// For each identifier of subject `id` (region `region`, organisation
    /// `tenant`): its blind index under key `from` and under key `to`, in
    /// its namespace and in the deployment's own (where a request made by
    /// staff may have found it). Empty for an erased subject.
    ///
    /// Errors: store errors; [`CoreError::Integrity`] for a row that does
    /// not open.
    pub(crate) fn blind_pairs(
        &self,
        region: usize,
        id: SubjectId,
        tenant: Option<&str>,
        from: &[u8; 32],
        to: &[u8; 32],
    ) -> Result<Vec<(BlindIndex, BlindIndex)>, CoreError> {
        let rows = self.rstore(region)?.identifiers(id)?;
        let Some(o) = self.subject_opener(region, id)? else {
            return Ok(vec![]);
        };
        let mut out = Vec::new();
        for row in rows {
            let (kind, v) = open_identifier(&o.sealer, id, &row)?;
            let Some(ident) = std::str::from_utf8(&v)
                .ok()
                .and_then(|v| steward_domain::SubjectIdentifier::new(kind, v).ok())
            else {
                continue;
            };
            let scoped = tenant.filter(|_| self.tenant_scoped(kind));
            for t in [scoped, None] {
                let pair = (
                    blind_index_in(from, &ident, t),
                    blind_index_in(to, &ident, t),
                );
                if !out.contains(&pair) {
                    out.push(pair);
                }
            }
        }
        Ok(out)
    }

    /// The Message-ID of the stored email message `record` (its
    /// `message_id` field), opened with its subject's data key; `None` when
    /// the record is gone, its subject erased, or it names none.
    ///
    /// Errors: store errors; [`CoreError::Integrity`] for a record that
    /// does not open.
    pub(crate) fn sealed_message_id(&self, record: RecordId) -> Result<Option<String>, CoreError> {
        for region in 0..self.regions.len() {
            let Some(row) = self.rstore(region)?.record(record)? else {
                continue;
            };
            let Some(o) = self.subject_opener(region, row.subject)? else {
                return Ok(None);
            };
            let plain = Zeroizing::new(open_body(&o.key, &row, row.key_version)?);
            let v: serde_json::Value =
                serde_json::from_slice(&plain).map_err(|e| CoreError::Integrity {
                    record: record.to_string(),
                    reason: format!("the opened message is not JSON: {e}"),
                })?;
            let id = v
                .get("fields")
                .unwrap_or(&v)
                .get("message_id")
                .and_then(|m| m.as_str())
                .map(str::to_owned);
            return Ok(id);
        }
        Ok(None)
    }
}
