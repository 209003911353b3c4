//! Re-indexing a subject's identifiers and merging two subjects (issue 15
//! items 1, 2 and 4): both open sealed identifiers and records, so they
//! live in the gate; callers decide (or are Steward's own migration),
//! build the audit entry and commit what these push to the change set.

use std::collections::HashSet;

use steward_crypto::Zeroizing;
use steward_domain::{SubjectId, SubjectIdentifier};
use steward_store::{ChangeSet, IdentifierRow, RecordRow};

use super::effects::identifier_row;
use super::keys::{Opener, open_body, open_identifier, record_aad};
use crate::{CoreError, Steward};

/// What a re-index of one subject pushed.
#[derive(Debug, Default)]
pub(crate) struct Reindexed {
    /// Identifier rows re-indexed (normalised or moved to a namespace).
    pub changed: u64,
    /// Other subjects an identifier's new blind index already finds: the
    /// same person split in two (issue 15 item 1), to merge; the row stays
    /// as it was.
    pub clashes: Vec<SubjectId>,
}

/// What a merge pushed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Merged {
    /// Records re-sealed under the kept subject's data key.
    pub records: u64,
    /// Identifier rows moved to the kept subject.
    pub identifiers: u64,
}

/// The identifier a sealed row holds, normalised by today's rules; `None`
/// when its value is not UTF-8 or today's rules refuse it (kept as stored).
fn normalised(kind: steward_domain::IdentifierKind, v: &[u8]) -> Option<SubjectIdentifier> {
    std::str::from_utf8(v)
        .ok()
        .and_then(|v| SubjectIdentifier::new(kind, v).ok())
}

impl Steward {
    fn opener_or(&self, region: usize, s: SubjectId) -> Result<Opener, CoreError> {
        self.subject_opener(region, s)?.ok_or_else(|| {
            CoreError::Input(format!(
                "subject {s} has no data key (erased): it cannot be merged"
            ))
        })
    }

    /// Push to `cs` the re-index of subject `id`'s identifier rows (region
    /// `region`) in the namespace of organisation `tenant`, their values
    /// normalised (issue 15 items 1 and 2): a row whose blind index or
    /// value changes is deleted and sealed anew under the same data key
    /// (its AAD binds the new blind index). An erased subject has none.
    pub(crate) fn reindex_subject(
        &self,
        region: usize,
        id: SubjectId,
        tenant: Option<&str>,
        cs: &mut ChangeSet,
    ) -> Result<Reindexed, CoreError> {
        let mut out = Reindexed::default();
        let rows = self.rstore(region)?.identifiers(id)?;
        if rows.is_empty() {
            return Ok(out);
        }
        let Some(o) = self.subject_opener(region, id)? else {
            return Ok(out);
        };
        for row in rows {
            let (kind, v) = open_identifier(&o.sealer, id, &row)?;
            let Some(ident) = normalised(kind, &v) else {
                continue;
            };
            let blind = self.blind_in(&ident, tenant)?;
            if blind == row.blind && v == ident.value().as_bytes() {
                continue;
            }
            match self.rstore(region)?.subject_by_blind(&blind)? {
                Some(s) if s != id => {
                    if !out.clashes.contains(&s) {
                        out.clashes.push(s);
                    }
                    continue;
                }
                _ => {}
            }
            cs.delete_identifiers.push(row.blind);
            if !cs.identifiers.iter().any(|r| r.blind == blind) {
                cs.identifiers
                    .push(identifier_row(&o.sealer, id, blind, kind, ident.value()));
            }
            out.changed += 1;
        }
        Ok(out)
    }

    /// Push to `cs` the merge of subject `other` into subject `keep`, both
    /// of region `region` and of organisation `tenant`'s namespace (issue
    /// 15 item 4): every record of `other` re-sealed in place under
    /// `keep`'s data key (same record id, its AAD now naming `keep`),
    /// every identifier of `other` moved (normalised, re-indexed, sealed
    /// under `keep`'s key; one `keep` already has is dropped), and `other`
    /// crypto-shredded (its data key and identifier rows deleted, N8.8).
    /// Plaintext exists only in memory, between open and seal.
    ///
    /// Errors: [`CoreError::Input`] when either has no data key (erased)
    /// or `other` has records under a legal hold (N3.7: held records stay
    /// under their hold key); [`CoreError::Integrity`] when a row does not open.
    pub(crate) fn merge_into(
        &self,
        region: usize,
        keep: SubjectId,
        other: SubjectId,
        tenant: Option<&str>,
        cs: &mut ChangeSet,
    ) -> Result<Merged, CoreError> {
        let ko = self.opener_or(region, keep)?;
        let oo = self.opener_or(region, other)?;
        let store = self.rstore(region)?;
        if store.hold_key(other)?.is_some() {
            return Err(CoreError::Input(format!(
                "subject {other} has records under a legal hold (N3.7): they stay under their hold key; merge once the hold ends"
            )));
        }
        let records = store.records(other, None)?;
        let theirs = store.identifiers(other)?;
        let mine: HashSet<[u8; 32]> = store.identifiers(keep)?.iter().map(|r| r.blind).collect();
        drop(store);
        let mut m = Merged::default();
        for row in records {
            let plain = Zeroizing::new(open_body(&oo.key, &row, row.key_version)?);
            let mut new = RecordRow {
                subject: keep,
                key_version: ko.key_version,
                sealed: Vec::new(),
                ..row
            };
            new.sealed = ko
                .key
                .seal_record(&record_aad(&new, ko.key_version)?, &plain)?;
            cs.resealed.push(new);
            m.records += 1;
        }
        for row in theirs {
            cs.delete_identifiers.push(row.blind);
            let (kind, v) = open_identifier(&oo.sealer, other, &row)?;
            let moved: IdentifierRow = match normalised(kind, &v) {
                Some(ident) => {
                    let blind = self.blind_in(&ident, tenant)?;
                    identifier_row(&ko.sealer, keep, blind, kind, ident.value())
                }
                None => identifier_row(
                    &ko.sealer,
                    keep,
                    row.blind,
                    kind,
                    &String::from_utf8_lossy(&v),
                ),
            };
            if mine.contains(&moved.blind) || cs.identifiers.iter().any(|r| r.blind == moved.blind)
            {
                continue;
            }
            cs.identifiers.push(moved);
            m.identifiers += 1;
        }
        cs.shred.push(other);
        Ok(m)
    }
}

impl Steward {
    /// The confusable digests of subject `id`'s identifiers (issue 15 item
    /// 1): per identifier, its kind and an HMAC (under the blind-index key)
    /// of its UTS #39 skeleton in namespace `tenant`, so that two subjects
    /// with look-alike identifiers share a digest while no value leaves the
    /// gate. An erased subject has none.
    ///
    /// Errors: [`CoreError::Integrity`] for a row that does not open.
    pub(crate) fn confusable_digests(
        &self,
        region: usize,
        id: SubjectId,
        tenant: Option<&str>,
    ) -> Result<Vec<(steward_domain::IdentifierKind, [u8; 32])>, CoreError> {
        use hmac::{Hmac, Mac};
        let rows = self.rstore(region)?.identifiers(id)?;
        let Some(o) = self.subject_opener(region, id)? else {
            return Ok(vec![]);
        };
        let mut out = Vec::new();
        for row in rows {
            let (kind, v) = open_identifier(&o.sealer, id, &row)?;
            let Some(ident) = normalised(kind, &v) else {
                continue;
            };
            let keys = self.blind_keys()?;
            let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(keys.current.bytes())
                .map_err(|_| CoreError::Config("blind-index key".into()))?;
            mac.update(b"steward-confusable\0");
            mac.update(kind.as_str().as_bytes());
            mac.update(b"\0");
            if self.tenant_scoped(kind)
                && let Some(t) = tenant
            {
                mac.update(t.as_bytes());
            }
            mac.update(b"\0");
            mac.update(ident.skeleton().as_bytes());
            let d: [u8; 32] = mac.finalize().into_bytes().into();
            if !out.contains(&(kind, d)) {
                out.push((kind, d));
            }
        }
        Ok(out)
    }
}
