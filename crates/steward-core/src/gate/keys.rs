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
    CryptoError, DataKey, IdentifierAad, KekInfo, KeyringProvider, RecordAad, SealedKey, Sealer,
};
use steward_domain::{Category, IdentifierKind, SubjectId};
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

/// A data key ready to open (and seal) ciphertext, with its version.
/// Gate-internal.
#[derive(Clone)]
pub(in crate::gate) struct Opener {
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
        Ok(Opener {
            sealer: keys.unwrap(row)?.sealer(),
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
        let key = self.rstore(region)?.wrapped_key(s)?;
        key.map(|k| Opener::of(&self.keyring, &k)).transpose()
    }

    /// Unwrap an erased subject's hold key (N3.7): `None` when no record is
    /// held. Gate-internal.
    pub(in crate::gate) fn hold_opener(
        &self,
        region: usize,
        s: SubjectId,
    ) -> Result<Option<Opener>, CoreError> {
        let key = self.rstore(region)?.hold_key(s)?;
        key.map(|k| Opener::of(&self.keyring, &k)).transpose()
    }
}

/// The AAD of a record row sealed under key version `key_version`.
pub(in crate::gate) fn record_aad(r: &RecordRow, key_version: u32) -> Result<Vec<u8>, CoreError> {
    let category: Category = r.category.parse().map_err(|_| CoreError::Integrity {
        record: r.id.to_string(),
        reason: "unknown category in storage".into(),
    })?;
    Ok(RecordAad {
        record: r.id,
        subject: r.subject,
        category,
        key_version,
    }
    .to_bytes())
}

/// Open one sealed record row. Gate-internal.
pub(in crate::gate) fn open_row(sealer: &Sealer, r: RecordRow) -> Result<OpenedRecord, CoreError> {
    let aad = record_aad(&r, r.key_version)?;
    let plain = sealer
        .open(&aad, &r.sealed)
        .map_err(|e| CoreError::Integrity {
            record: r.id.to_string(),
            reason: e.to_string(),
        })?;
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
            Some(o) => open_row(&o.sealer, row),
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
        rows.into_iter().map(|r| open_row(&o.sealer, r)).collect()
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
            let Ok(kind) = row.kind.parse::<IdentifierKind>() else {
                continue;
            };
            let aad = IdentifierAad { subject, kind }.to_bytes();
            if let Ok(v) = o.sealer.open(&aad, &row.sealed) {
                out.push(format!("{kind}:{}", String::from_utf8_lossy(&v)));
            }
        }
        out
    }
}
