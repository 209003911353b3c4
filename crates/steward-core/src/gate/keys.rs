//! The keys, and the only code that opens ciphertext.
//!
//! [`Keys`] holds the keyring: KEK management is open to the crate, but
//! unwrapping a data key is `pub(in crate::gate)`. [`Opener`] (a data key
//! ready to open) and [`open_row`] are private to the gate; the rest of the
//! crate opens only through an [`Opened`] the pipeline made, with
//! [`Opened::open_record`], [`Opened::open_rows`] and
//! [`Opened::open_identifiers`].

use std::sync::Arc;

use serde_json::Value;
use steward_crypto::{
    CryptoError, DataKey, IdentifierAad, KekInfo, KeyringProvider, RecordAadV2, SealedKey, Sealer,
};
use steward_domain::{Category, IdentifierKind, SubjectId, SubjectIdentifier};
use steward_store::{IdentifierRow, RecordRow, WrappedKeyRow};

use super::{Opened, OpenedRecord};
use crate::{CoreError, Steward};

/// The keyring, as Steward holds it. Data keys are unwrapped only inside
/// the gate module.
pub(crate) struct Keys(Arc<dyn KeyringProvider>);

impl Keys {
    /// Hold `keyring`.
    pub(crate) fn new(keyring: Arc<dyn KeyringProvider>) -> Self {
        Keys(keyring)
    }

    /// Make a new KEK version current (N5.2); returns it.
    pub(crate) fn rotate(&self) -> Result<u32, CryptoError> {
        self.0.rotate()
    }

    /// Retire KEK `version`.
    pub(crate) fn retire(&self, version: u32) -> Result<(), CryptoError> {
        self.0.retire(version)
    }

    /// The KEK version new data keys are wrapped under.
    pub(crate) fn current_version(&self) -> u32 {
        self.0.current_kek_version()
    }

    /// The KEK versions.
    pub(crate) fn keks(&self) -> Vec<KekInfo> {
        self.0.keks()
    }

    /// Re-wrap the data key of `row` under the current KEK (N5.2), without
    /// the data key leaving this module: the same row, wrapped anew.
    pub(crate) fn rewrap(&self, row: WrappedKeyRow) -> Result<WrappedKeyRow, CoreError> {
        let dek = self.unwrap(&row)?;
        let w = self.wrap(row.subject, &dek)?;
        Ok(WrappedKeyRow {
            kek_version: w.kek_version,
            wrapped: w.bytes,
            ..row
        })
    }

    /// Unwrap the data key of `row` (gate-internal).
    pub(in crate::gate) fn unwrap(&self, row: &WrappedKeyRow) -> Result<DataKey, CoreError> {
        Ok(self.0.unwrap(
            row.subject,
            &SealedKey {
                kek_version: row.kek_version,
                bytes: row.wrapped.clone(),
            },
        )?)
    }

    /// Wrap a new data key of `subject` under the current KEK (gate-internal).
    pub(in crate::gate) fn wrap(
        &self,
        subject: SubjectId,
        dek: &DataKey,
    ) -> Result<SealedKey, CoreError> {
        Ok(self.0.wrap(subject, dek)?)
    }
}

/// A data key ready to open (and seal) ciphertext, with its version: the
/// key itself (records are sealed under keys derived from it per record,
/// issue 13 item 9) and its expanded cipher (identifiers, corrections,
/// records sealed before v2). Gate-internal.
#[derive(Clone)]
pub(in crate::gate) struct Opener {
    pub(in crate::gate) key: DataKey,
    pub(in crate::gate) sealer: Sealer,
    pub(in crate::gate) key_version: u32,
}

impl std::fmt::Debug for Opener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opener")
            .field("key_version", &self.key_version)
            .finish_non_exhaustive()
    }
}

impl Opener {
    /// The opener of a wrapped key row.
    pub(in crate::gate) fn of(keys: &Keys, row: &WrappedKeyRow) -> Result<Opener, CoreError> {
        let key = keys.unwrap(row)?;
        Ok(Opener {
            sealer: key.sealer(),
            key,
            key_version: row.key_version,
        })
    }
}

impl Steward {
    /// Unwrap a live subject's data key: `None` when it has none (erased).
    /// Gate-internal.
    pub(in crate::gate) fn subject_opener(
        &self,
        region: usize,
        s: SubjectId,
    ) -> Result<Option<Opener>, CoreError> {
        let key = self.rstore_read(region)?.wrapped_key(s)?;
        key.map(|k| Opener::of(&self.keyring, &k)).transpose()
    }

    /// Unwrap an erased subject's hold key (N3.7): `None` when no record is
    /// held. Gate-internal.
    pub(in crate::gate) fn hold_opener(
        &self,
        region: usize,
        s: SubjectId,
    ) -> Result<Option<Opener>, CoreError> {
        let key = self.rstore_read(region)?.hold_key(s)?;
        key.map(|k| Opener::of(&self.keyring, &k)).transpose()
    }
}

/// The AAD of a record row sealed under key version `key_version`: v2
/// (kind, product and stored time bound, issue 13 item 6), whose v1
/// projection opens records sealed before v2.
pub(in crate::gate) fn record_aad(
    r: &RecordRow,
    key_version: u32,
) -> Result<RecordAadV2<'_>, CoreError> {
    let category: Category = r.category.parse().map_err(|_| CoreError::Integrity {
        record: r.id.to_string(),
        reason: "unknown category in storage".into(),
    })?;
    Ok(RecordAadV2 {
        record: r.id,
        subject: r.subject,
        category,
        kind: &r.kind,
        product: &r.product,
        stored_at_ms: r.stored_at_ms,
        key_version,
    })
}

/// Open the body of a sealed record row with the data key `key`, as
/// sealed (under key version `key_version`).
pub(in crate::gate) fn open_body(
    key: &DataKey,
    r: &RecordRow,
    key_version: u32,
) -> Result<Vec<u8>, CoreError> {
    key.open_record(&record_aad(r, key_version)?, &r.sealed)
        .map_err(|e| CoreError::Integrity {
            record: r.id.to_string(),
            reason: format!("{e} (its kind, product or stored time may have been changed)"),
        })
}

/// Open one sealed record row. Gate-internal.
pub(in crate::gate) fn open_row(key: &DataKey, r: RecordRow) -> Result<OpenedRecord, CoreError> {
    let plain = open_body(key, &r, r.key_version)?;
    let body: Value = serde_json::from_slice(&plain).map_err(|_| CoreError::Integrity {
        record: r.id.to_string(),
        reason: "body is not JSON".into(),
    })?;
    Ok(OpenedRecord {
        id: r.id,
        category: r.category.into_owned(),
        kind: r.kind.into_owned(),
        product: r.product.into_owned(),
        region: r.region.into_owned(),
        stored_at_ms: r.stored_at_ms,
        body,
    })
}

impl Opened {
    /// Whether this access opens records (an allowed read, export or
    /// administrator view of a subject that has a data key).
    pub(crate) fn opens_records(&self) -> bool {
        self.sealer.is_some()
    }

    /// Open one of the subject's sealed rows.
    ///
    /// Errors: [`CoreError::Integrity`] when the row does not open (or this
    /// access opens nothing: check [`Opened::opens_records`] first).
    pub(crate) fn open_record(&self, row: RecordRow) -> Result<OpenedRecord, CoreError> {
        match &self.sealer {
            Some(o) => open_row(&o.key, row),
            None => Err(CoreError::Integrity {
                record: row.id.to_string(),
                reason: "this access opens no records".into(),
            }),
        }
    }

    /// Open the subject's sealed rows; none when this access opens nothing.
    pub(crate) fn open_rows(&self, rows: Vec<RecordRow>) -> Result<Vec<OpenedRecord>, CoreError> {
        let Some(o) = &self.sealer else {
            return Ok(vec![]);
        };
        rows.into_iter().map(|r| open_row(&o.key, r)).collect()
    }

    /// Open the subject's identifier rows as `kind:value`, skipping any of
    /// an unknown kind or that does not open; none when this access opens
    /// nothing.
    pub(crate) fn open_identifiers(&self, rows: Vec<IdentifierRow>) -> Vec<String> {
        let (Some(o), Some(subject)) = (&self.sealer, self.subject) else {
            return vec![];
        };
        let mut out = Vec::new();
        for row in rows {
            if let Ok((kind, v)) = open_identifier(&o.sealer, subject, &row) {
                out.push(format!("{kind}:{}", String::from_utf8_lossy(&v)));
            }
        }
        out
    }
}

/// Open an identifier row of `subject`: its AAD v2 binds subject, kind and
/// the row's blind index (issue 13 item 6); rows sealed before v2 open with
/// the v1 AAD (subject and kind). Gate-internal.
///
/// Errors: [`CoreError::Integrity`] when the kind is unknown or the value
/// does not open (the row was moved to another subject or blind index).
pub(in crate::gate) fn open_identifier(
    sealer: &Sealer,
    subject: SubjectId,
    row: &IdentifierRow,
) -> Result<(IdentifierKind, Vec<u8>), CoreError> {
    let bad = |why: &str| CoreError::Integrity {
        record: format!("identifier index entry of {subject}"),
        reason: format!(
            "{why}: the index was changed outside Steward; run `steward verify-records`"
        ),
    };
    let kind: IdentifierKind = row
        .kind
        .parse()
        .map_err(|_| bad("unknown identifier kind"))?;
    let aad = IdentifierAad { subject, kind };
    let v = sealer
        .open(&aad.to_bytes_v2(&row.blind), &row.sealed)
        .or_else(|_| sealer.open(&aad.to_bytes(), &row.sealed))
        .map_err(|_| bad("its sealed value does not open for this subject and blind index"))?;
    Ok((kind, v))
}

impl Steward {
    /// Check that the index entry `blind`, which the store says finds
    /// subject `id` of region `region`, was written for that subject and
    /// that identifier (issue 13 item 6): its sealed value opens under the
    /// subject's data key with an AAD binding subject, kind and blind index,
    /// and equals `ident`. Nothing opened leaves this function.
    ///
    /// Errors: [`CoreError::Integrity`] when the entry was moved to another
    /// subject, copied under another blind index, or the subject has no
    /// data key: a tampered index never decides whom an access is about.
    pub(crate) fn check_index_entry(
        &self,
        region: usize,
        id: SubjectId,
        blind: &[u8; 32],
        ident: &SubjectIdentifier,
    ) -> Result<(), CoreError> {
        let bad = |why: &str| CoreError::Integrity {
            record: format!("identifier index entry of {id}"),
            reason: format!("{why}; run `steward verify-records`"),
        };
        let rows = self.rstore_read(region)?.identifiers(id)?;
        let row = rows
            .iter()
            .find(|r| &r.blind == blind)
            .ok_or_else(|| bad("the entry is not among the subject's identifiers"))?;
        let o = self
            .subject_opener(region, id)?
            .ok_or_else(|| bad("the subject has an index entry but no data key"))?;
        let (kind, value) = open_identifier(&o.sealer, id, row)?;
        let stored = std::str::from_utf8(&value)
            .ok()
            .and_then(|v| SubjectIdentifier::new(kind, v).ok());
        if stored.as_ref() != Some(ident) {
            return Err(bad(
                "the entry holds another identifier than the one asked for",
            ));
        }
        Ok(())
    }
}
