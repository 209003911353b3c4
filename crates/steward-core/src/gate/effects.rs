//! Effects that need a data key inside Steward, without the plaintext
//! leaving it: minting a subject and sealing at ingest (a seal-only
//! [`SealingKey`]), re-sealing held records under a hold key at erasure
//! (N3.7), merging a rectification (N7.2), sealing and opening a
//! rectification request's corrections. The callers decide through the
//! pipeline first and commit what these return with the decision.

use rand::RngCore;
use serde_json::{Value, json};
use steward_crypto::{DataKey, IdentifierAad, RecordKeys, Sealer, Zeroizing};
use steward_domain::{Fields, IdentifierKind, Kind, RecordId, SubjectId, SubjectIdentifier};
use steward_store::{ChangeSet, IdentifierRow, RecordRow, SubjectRow, WrappedKeyRow};

use super::keys::{Opener, open_body, open_row, record_aad};
use crate::{CoreError, Steward};

/// The version of every hold key: bound into held records' AAD (N5.2).
pub(crate) const HOLD_KEY_VERSION: u32 = 1;

/// A new random subject id (63 bits).
pub(crate) fn random_subject_id() -> SubjectId {
    let mut b = [0u8; 8];
    rand::rng().fill_bytes(&mut b);
    SubjectId((u64::from_le_bytes(b) >> 1) as i64)
}

/// A subject's data key for sealing only (N5.2): what ingest and intake
/// write with. It cannot open anything.
#[derive(Clone)]
pub(crate) struct SealingKey {
    subject: SubjectId,
    // The record keys' HKDF extract of the data key (one per subject, not
    // per record).
    records: RecordKeys,
    sealer: Sealer,
    key_version: u32,
}

impl SealingKey {
    /// The subject whose key this is.
    pub(crate) fn subject(&self) -> SubjectId {
        self.subject
    }

    /// The data key's version (bound into record AADs).
    pub(crate) fn key_version(&self) -> u32 {
        self.key_version
    }

    /// Seal a record body (`{"fields":…,"occurred_at":…}` as JSON bytes)
    /// for `row` (this subject's, `sealed` not yet set), in format v2: under
    /// the record's own key derived from the data key (issue 13 item 9),
    /// the AAD binding record id, subject, category, kind, product, stored
    /// time and key version (item 6).
    ///
    /// Errors: [`CoreError::Integrity`] for a row of an unknown category;
    /// [`CoreError::Crypto`].
    pub(crate) fn seal_record(&self, row: &RecordRow, plain: &[u8]) -> Result<Vec<u8>, CoreError> {
        Ok(self
            .records
            .seal_record(&record_aad(row, self.key_version)?, plain)?)
    }

    /// The identifier row that finds this subject by `value` (of `kind`)
    /// through the blind index `blind`, the value sealed.
    pub(crate) fn identifier_row(
        &self,
        blind: [u8; 32],
        kind: IdentifierKind,
        value: &str,
    ) -> IdentifierRow {
        identifier_row(&self.sealer, self.subject, blind, kind, value)
    }
}

pub(in crate::gate) fn identifier_row(
    sealer: &Sealer,
    subject: SubjectId,
    blind: [u8; 32],
    kind: IdentifierKind,
    value: &str,
) -> IdentifierRow {
    // Issue 13 item 6: the AAD binds the row's blind index too.
    let aad = IdentifierAad { subject, kind }.to_bytes_v2(&blind);
    IdentifierRow {
        blind,
        subject,
        kind: kind.as_str().into(),
        sealed: sealer.seal(&aad, value.as_bytes()),
    }
}

/// What of a data subject request is sealed under the subject's data key,
/// and the request it is bound to (its id, in the AAD).
#[derive(Debug, Clone, Copy)]
pub(crate) enum RequestSealed<'a> {
    /// A rectification request's corrections (JSON fields).
    Corrections(&'a str),
    /// An access or export request's result, the ZIP's bytes (issue 21
    /// item 5: any node serves it from the store; the subject's erasure
    /// makes it unreadable, N8.8).
    Result(&'a str),
}

impl RequestSealed<'_> {
    /// `"steward-dsr-corrections" 0x00 id` or `"steward-dsr-result" 0x00 id`.
    fn aad(self) -> Vec<u8> {
        let (label, id): (&[u8], &str) = match self {
            RequestSealed::Corrections(id) => (b"steward-dsr-corrections\0", id),
            RequestSealed::Result(id) => (b"steward-dsr-result\0", id),
        };
        let mut a = label.to_vec();
        a.extend_from_slice(id.as_bytes());
        a
    }
}

/// A rectification merged and sealed (N7.2): the corrected record under its
/// new id, the names of the fields whose value changed (schema names, never
/// values), and the identifier rows for new identifier values.
pub(crate) struct Rectified {
    /// The corrected record, sealed.
    pub row: RecordRow,
    /// Fields whose value changed.
    pub changed: Vec<String>,
    /// New identifier values, indexed to the subject.
    pub identifiers: Vec<IdentifierRow>,
}

impl Steward {
    /// The seal-only key of a live subject: `None` when it has none (erased).
    pub(crate) fn sealing_key(
        &self,
        region: usize,
        s: SubjectId,
    ) -> Result<Option<SealingKey>, CoreError> {
        Ok(self.subject_opener(region, s)?.map(|o| SealingKey {
            subject: s,
            records: o.key.record_keys(),
            sealer: o.sealer,
            key_version: o.key_version,
        }))
    }

    /// Mint a new subject in region `region`, found by `ident` (whose blind
    /// index is `blind`): a random id, a new data key wrapped by the KEK
    /// (key version 1), and the identifier row, all pushed to `cs`.
    /// Returns the subject's seal-only key.
    pub(crate) fn mint_subject(
        &self,
        cs: &mut ChangeSet,
        region: usize,
        ident: &SubjectIdentifier,
        blind: [u8; 32],
        created_at_ms: i64,
    ) -> Result<SealingKey, CoreError> {
        let id = random_subject_id();
        let dek = DataKey::generate();
        let wrapped = self.keyring.wrap(id, &dek)?;
        cs.subjects.push(SubjectRow {
            id,
            region: self.regions[region].config.name.clone(),
            created_at_ms,
            erased_at_ms: None,
        });
        cs.keys.push(WrappedKeyRow {
            subject: id,
            kek_version: wrapped.kek_version,
            key_version: 1,
            wrapped: wrapped.bytes,
        });
        let key = SealingKey {
            subject: id,
            sealer: dek.sealer(),
            records: dek.record_keys(),
            key_version: 1,
        };
        cs.identifiers
            .push(key.identifier_row(blind, ident.kind(), ident.value()));
        Ok(key)
    }

    /// Re-seal `rows` (records of subject `id` in region `region`, about to
    /// be shredded) under a new hold key (N3.7): a fresh data key wrapped by
    /// the KEK, pushed to `cs.hold_keys`. Returns the rows re-sealed, in
    /// order, with the hold key's version. Plaintext exists only in memory,
    /// between open and seal.
    ///
    /// Errors: [`CoreError::Integrity`] when the subject has no data key or
    /// a row does not open.
    pub(crate) fn hold_records(
        &self,
        region: usize,
        id: SubjectId,
        rows: Vec<RecordRow>,
        cs: &mut ChangeSet,
    ) -> Result<Vec<RecordRow>, CoreError> {
        if rows.is_empty() {
            return Ok(rows);
        }
        let Some(o) = self.subject_opener(region, id)? else {
            return Err(CoreError::Integrity {
                record: id.to_string(),
                reason: "subject has records to hold but no data key".into(),
            });
        };
        let hold_dek = DataKey::generate();
        let wrapped = self.keyring.wrap(id, &hold_dek)?;
        cs.hold_keys.push(WrappedKeyRow {
            subject: id,
            kek_version: wrapped.kek_version,
            key_version: HOLD_KEY_VERSION,
            wrapped: wrapped.bytes,
        });
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let plain = Zeroizing::new(open_body(&o.key, &row, row.key_version)?);
            let sealed = hold_dek.seal_record(&record_aad(&row, HOLD_KEY_VERSION)?, &plain)?;
            drop(plain);
            out.push(RecordRow {
                key_version: HOLD_KEY_VERSION,
                sealed,
                ..row
            });
        }
        Ok(out)
    }

    /// Merge `corrected` over the stored fields of record `old` (of `kind`,
    /// subject `id` in region `region`) and seal the result as record
    /// `new_id` (N7.2): a field given replaces the stored value, the others
    /// stay; kind, product, event time and stored time are kept. A new
    /// identifier value of the record is indexed to the subject. `None`
    /// when the corrections equal the stored values.
    ///
    /// Errors: [`CoreError::Integrity`] when the subject has no data key or
    /// the record does not open; [`CoreError::Input`] naming a field whose
    /// new identifier value is not valid.
    pub(crate) fn rectify_record(
        &self,
        region: usize,
        id: SubjectId,
        old: RecordRow,
        kind: Kind,
        corrected: &Fields,
        new_id: RecordId,
    ) -> Result<Option<Rectified>, CoreError> {
        let Some(Opener {
            key,
            sealer,
            key_version,
        }) = self.subject_opener(region, id)?
        else {
            return Err(CoreError::Integrity {
                record: id.to_string(),
                reason: "subject has records but no data key".into(),
            });
        };
        let opened = open_row(&key, old.clone())?;
        let mut fields: Fields = match opened.body.get("fields") {
            Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            _ => Fields::new(),
        };
        let before = fields.clone();
        for (k, v) in corrected {
            fields.insert(k.clone(), v.clone());
        }
        if fields == before {
            return Ok(None);
        }
        let body = json!({
            "fields": fields,
            "occurred_at": opened.body.get("occurred_at").cloned().unwrap_or(Value::Null),
        });
        let mut row = RecordRow {
            id: new_id,
            key_version,
            sealed: Vec::new(),
            ..old
        };
        row.sealed = key.seal_record(
            &record_aad(&row, key_version)?,
            &serde_json::to_vec(&body).unwrap_or_default(),
        )?;
        // N7.2: a corrected identifier finds the same subject.
        let tenant = self.subject_tenant(region, id)?;
        let mut identifiers = Vec::new();
        for spec in kind.fields() {
            let Some(ik) = spec.identifier else { continue };
            if ik == IdentifierKind::Ip {
                continue;
            }
            let Some(Value::String(v)) = corrected.get(spec.name) else {
                continue;
            };
            if v.is_empty() || v == "-" || before.get(spec.name) == Some(&Value::String(v.clone()))
            {
                continue;
            }
            let Ok(ident) = SubjectIdentifier::new(ik, v) else {
                return Err(CoreError::Input(format!(
                    "field `{}` of {}: not a valid {} identifier",
                    spec.name,
                    kind.as_str(),
                    ik.as_str()
                )));
            };
            // Issue 15: indexed in the subject's namespace, normalised.
            let blind = self.blind_in(&ident, tenant.as_deref())?;
            identifiers.push(identifier_row(&sealer, id, blind, ik, ident.value()));
        }
        let changed = corrected
            .keys()
            .filter(|k| before.get(*k) != fields.get(*k))
            .cloned()
            .collect();
        Ok(Some(Rectified {
            row,
            changed,
            identifiers,
        }))
    }

    /// The opener of a live subject, for a request about it.
    ///
    /// Errors: [`CoreError::Input`] when the subject has no data key (erased).
    fn live_opener(&self, region: usize, s: SubjectId) -> Result<Opener, CoreError> {
        self.subject_opener(region, s)?
            .ok_or_else(|| CoreError::Input("the subject has no data key (erased)".into()))
    }

    /// Seal `plain`, a request's corrections or result (`what`), under
    /// the subject's data key, bound to the request. A result is sealed
    /// after the gate allowed and recorded the request's `export`
    /// decision; corrections are Service Data.
    ///
    /// Errors: [`CoreError::Input`] when the subject has no data key (erased).
    pub(crate) fn seal_for_request(
        &self,
        region: usize,
        s: SubjectId,
        what: RequestSealed<'_>,
        plain: &[u8],
    ) -> Result<Vec<u8>, CoreError> {
        let o = self.live_opener(region, s)?;
        Ok(o.sealer.seal(&what.aad(), plain))
    }

    /// Open what [`Steward::seal_for_request`] sealed: a result after the
    /// download's `dsr_handle` decision was recorded; corrections to hand
    /// to [`Steward::rectify`], which decides before it merges them.
    ///
    /// Errors: [`CoreError::Input`] when the subject has no data key
    /// (erased); [`CoreError::Crypto`] when it does not open.
    pub(crate) fn open_for_request(
        &self,
        region: usize,
        s: SubjectId,
        what: RequestSealed<'_>,
        sealed: &[u8],
    ) -> Result<Vec<u8>, CoreError> {
        let o = self.live_opener(region, s)?;
        Ok(o.sealer.open(&what.aad(), sealed)?)
    }
}
