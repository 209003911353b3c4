//! The blind-index key apart from the key-encryption keys, and its rotation
//! (issue 13 item 3; N5.2 key management).
//!
//! **Where it lives.** [`steward_crypto::LocalBlindIndexKeys`], the file
//! `blind_index_key_file` (default `blind-index/keys.json` in the data
//! directory), not the keyring. A keyring written before holds the key
//! itself: at open it is copied into the new file (as version 1), then
//! removed from the keyring; a crash between the two is finished at the
//! next open.
//!
//! **Rotation** ([`Steward::rotate_blind_index`]): version N+1 is minted and
//! made current, N kept as the previous version. Lookups try the current
//! version, then the previous one, so every identifier stays resolvable
//! while the rotation is under way, or stopped by a crash. Then, subject
//! by subject (one commit each): every identifier row is opened in the
//! gate and indexed anew under N+1, and the request rows that name one of
//! the subject's identifiers (`identifier_ref`) are re-keyed in the same
//! commit (primary region). Then the rows Steward cannot re-key from what
//! it holds are settled, and only then is version N destroyed:
//!
//! - request rows whose reference names no identifier Steward still holds
//!   (no subject, or the identifier is gone) lose it: an HMAC under a
//!   destroyed key links nothing anyway; erased subjects' rows lost it at
//!   erasure;
//! - intake ledger rows of a stored message are re-keyed from its
//!   Message-ID, opened from the sealed message; rows without one
//!   (rejections, messages identified by their SHA-256, which Steward does
//!   not keep) stay under the old key as history: a re-delivery of such a
//!   message after the rotation is taken in again;
//! - one-time codes hashed under version N are forgotten: the request
//!   waits for a code again (`send`).
//!
//! Running it again while a rotation is under way resumes it (nothing new
//! is minted; subjects already re-indexed are skipped).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use steward_audit::{Resource, ResourceKind};
use steward_crypto::{
    BlindIndexKeyProvider, BlindKey, KeyringProvider, LocalBlindIndexKeys, LocalKeyring,
};
use steward_domain::{RecordId, RequestState};
use steward_store::{ChangeSet, RegistryGuard, RegistryTable};

use super::resolve::Link;
use crate::dsr::Request;
use crate::gate::{system_entry, token};
use crate::intake::{IntakeEntry, IntakeState, intake_key_under};
use crate::rows::{parse_row, row_json};
use crate::{Config, CoreError, ManagementAction, Steward, Target};

/// The blind-index key file of a deployment: `blind_index_key_file`,
/// relative to `data_dir` unless absolute.
pub(crate) fn blind_key_path(data_dir: &Path, config: &Config) -> PathBuf {
    data_dir.join(&config.blind_index_key_file)
}

/// Open the blind-index key provider, moving a legacy key out of the
/// keyring first (issue 13 item 3). Returns the provider and whether its
/// key is new (random: the caller refuses it over a store holding data).
///
/// Errors: [`CoreError::Config`] when the keyring still holds a key the
/// blind-index file does not (two different keys: restore from backup);
/// the files cannot be read or written.
pub(crate) fn open_blind_keys(
    data_dir: &Path,
    config: &Config,
    keyring: &LocalKeyring,
) -> Result<(LocalBlindIndexKeys, bool), CoreError> {
    let path = blind_key_path(data_dir, config);
    let existed = path.exists();
    let legacy = keyring.legacy_blind_index_key()?;
    let keys = LocalBlindIndexKeys::open_or_create(&path, legacy.as_ref())?;
    if let Some(l) = &legacy {
        let held = keys.keys()?;
        if !held.all().iter().any(|k| k.bytes() == &**l) {
            return Err(CoreError::Config(format!(
                "the keyring still holds a blind-index key that {} does not: one of the two files is from another deployment or backup; restore the matching pair",
                path.display()
            )));
        }
        keyring.forget_legacy_blind_index_key()?;
    }
    Ok((keys, !existed && legacy.is_none()))
}

/// What a blind-index key rotation did ([`Steward::rotate_blind_index`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BlindIndexRotation {
    /// The version now current.
    pub version: u32,
    /// The version destroyed at the end; `None` when this run stopped
    /// before the end ([`RotateOptions::max_subjects`]): run it again.
    pub destroyed: Option<u32>,
    /// Subjects whose rows were re-indexed in this run.
    pub subjects: u64,
    /// Identifier index entries re-indexed under the new version.
    pub identifiers: u64,
    /// Request rows whose identifier reference was re-keyed.
    pub requests_rekeyed: u64,
    /// Request rows whose reference named no identifier Steward holds: dropped.
    pub requests_dropped: u64,
    /// Intake ledger rows re-keyed from their stored message's Message-ID.
    pub intake_rekeyed: u64,
    /// Intake ledger rows left as they were (no stored message to re-key from).
    pub intake_kept: u64,
    /// One-time codes hashed under the old version, forgotten (send again).
    pub codes_forgotten: u64,
}

/// How far one run of a rotation goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotateOptions {
    /// Re-index at most this many subjects in this run, leaving the
    /// rotation under way (lookups use both versions) for the next run to
    /// resume; `None`: to the end.
    pub max_subjects: Option<usize>,
}

/// What to do with a request row's identifier reference.
enum RefChange {
    Keep,
    Rekey(String),
    Drop,
}

/// The new reference of `r` given the (old, new) blind indexes of its
/// subject's identifiers.
fn rekeyed_ref(r: &str, pairs: &[([u8; 32], [u8; 32])]) -> RefChange {
    if pairs.iter().any(|(_, n)| hex::encode(n) == r) {
        return RefChange::Keep;
    }
    match pairs.iter().find(|(o, _)| hex::encode(o) == r) {
        Some((_, n)) => RefChange::Rekey(hex::encode(n)),
        None => RefChange::Drop,
    }
}

/// `rec_` + 16 hex digits as a record id.
fn record_id(s: &str) -> Option<RecordId> {
    let h = s.strip_prefix("rec_")?;
    u64::from_str_radix(h, 16).ok().map(|v| RecordId(v as i64))
}

impl Steward {
    /// The blind-index key file.
    pub(crate) fn blind_index_key_path(&self) -> PathBuf {
        blind_key_path(&self.data_dir, &self.config)
    }

    /// Rotate the blind-index key (issue 13 item 3, N5.2): mint version
    /// N+1, re-index every identifier and re-key every row keyed by the
    /// blind index, then destroy version N (see the [module
    /// documentation](self) for rows Steward cannot re-key). Crash-safe: a
    /// run stopped midway leaves both versions, lookups use both, and the
    /// next run resumes. Decided by the pack as `keys_rotate` for
    /// `protect` (security staff, services, the configured operator),
    /// audited allowed or denied; the run is recorded
    /// (`blind_index_rotate`, with its counts, never an identifier).
    ///
    /// Errors: [`CoreError::Denied`]; store and key file errors (the
    /// rotation stays under way: run it again).
    pub fn rotate_blind_index(
        &self,
        principal: &str,
        opts: RotateOptions,
    ) -> Result<BlindIndexRotation, CoreError> {
        self.authorize_management(
            principal,
            ManagementAction::BlindIndexRotate,
            Target::named("blind-index-key"),
        )?;
        let keys = self.blind_keys.begin_rotation()?;
        let (new, old) = match &keys.previous {
            Some(p) => (keys.current.clone(), p.clone()),
            None => {
                return Err(CoreError::Config(
                    "internal: the blind-index key provider started no rotation".into(),
                ));
            }
        };
        let mut out = BlindIndexRotation {
            version: new.version,
            ..Default::default()
        };
        let complete = self.rotate_subjects(&old, &new, opts.max_subjects, &mut out)?;
        if complete {
            self.settle_requests(&mut out)?;
            self.rekey_intake(&old, &new, &mut out)?;
            out.codes_forgotten = self.forget_codes_not_under(new.version)?;
            self.blind_keys.destroy(old.version)?;
            out.destroyed = Some(old.version);
        }
        let state = if complete { "done" } else { "under-way" };
        let mut e = system_entry(
            "blind_index_rotate",
            &format!("blind-index-v{}", new.version),
            "",
            self.policy.version(),
        );
        e.principal = token(principal);
        e.clause_ids = vec![token("N5.2")];
        e.region = token(&self.regions[0].config.name);
        e.resource = Resource::new(ResourceKind::Key)
            .id(token(&format!("blind-index-v{}", new.version)))
            .id(token(&format!("blind-index-v{}", old.version)))
            .id(token(state))
            .count(out.identifiers);
        self.store()?.commit(ChangeSet {
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(out)
    }

    /// Re-index every live subject's identifier rows under `new`, with the
    /// request rows naming them, one commit per subject; at most `max`
    /// subjects. Returns whether every subject is done.
    fn rotate_subjects(
        &self,
        old: &BlindKey,
        new: &BlindKey,
        max: Option<usize>,
        out: &mut BlindIndexRotation,
    ) -> Result<bool, CoreError> {
        let mut by_subject: HashMap<String, Vec<(String, String, Request)>> = HashMap::new();
        for (id, body) in self.store()?.registry_list(RegistryTable::Requests)? {
            let r: Request = parse_row(RegistryTable::Requests, &id, &body)?;
            if let (Some(s), Some(_)) = (r.subject.clone(), &r.identifier_ref)
                && r.state != RequestState::InProgress
            {
                by_subject.entry(s).or_default().push((id, body, r));
            }
        }
        for r in 0..self.regions.len() {
            let subjects = self.rstore(r)?.subjects()?;
            for s in subjects.iter().filter(|s| s.erased_at_ms.is_none()) {
                let tenant = self.subject_tenant(r, s.id)?;
                let pairs =
                    self.blind_pairs(r, s.id, tenant.as_deref(), old.bytes(), new.bytes())?;
                let mut cs = ChangeSet::default();
                let re = self.reindex_subject(r, s.id, tenant.as_deref(), &mut cs)?;
                let mut reqs = ChangeSet::default();
                let (mut rekeyed, mut dropped) = (0, 0);
                for (id, body, req) in by_subject.get(&s.id.to_string()).into_iter().flatten() {
                    let mut req = req.clone();
                    match rekeyed_ref(req.identifier_ref.as_deref().unwrap_or(""), &pairs) {
                        RefChange::Keep => continue,
                        RefChange::Rekey(n) => {
                            req.identifier_ref = Some(n);
                            rekeyed += 1;
                        }
                        RefChange::Drop => {
                            req.identifier_ref = None;
                            dropped += 1;
                        }
                    }
                    push_row(&mut reqs, RegistryTable::Requests, id, body, &req)?;
                }
                if re.changed == 0 && reqs.registry.is_empty() {
                    continue;
                }
                if max.is_some_and(|m| out.subjects as usize >= m) {
                    return Ok(false);
                }
                if r == 0 {
                    cs.registry.append(&mut reqs.registry);
                    cs.guards.append(&mut reqs.guards);
                    self.rstore(r)?.commit(cs)?;
                } else {
                    self.rstore(r)?.commit(cs)?;
                    if !reqs.registry.is_empty() {
                        self.store()?.commit(reqs)?;
                    }
                }
                out.subjects += 1;
                out.identifiers += re.changed;
                out.requests_rekeyed += rekeyed;
                out.requests_dropped += dropped;
                for keep in re.clashes {
                    self.merge_linked(Link {
                        region: r,
                        keep,
                        other: s.id,
                    })?;
                }
            }
        }
        Ok(true)
    }

    /// Drop the identifier reference of request rows whose subject Steward
    /// no longer holds, or that name none: nothing to re-key it from.
    fn settle_requests(&self, out: &mut BlindIndexRotation) -> Result<(), CoreError> {
        let mut live = std::collections::HashSet::new();
        for r in 0..self.regions.len() {
            for s in self.rstore(r)?.subjects()? {
                if s.erased_at_ms.is_none() {
                    live.insert(s.id.to_string());
                }
            }
        }
        let mut cs = ChangeSet::default();
        for (id, body) in self.store()?.registry_list(RegistryTable::Requests)? {
            let mut req: Request = parse_row(RegistryTable::Requests, &id, &body)?;
            if req.identifier_ref.is_none()
                || req.state == RequestState::InProgress
                || req.subject.as_ref().is_some_and(|s| live.contains(s))
            {
                continue;
            }
            req.identifier_ref = None;
            push_row(&mut cs, RegistryTable::Requests, &id, &body, &req)?;
            out.requests_dropped += 1;
        }
        if !cs.registry.is_empty() {
            self.store()?.commit(cs)?;
        }
        Ok(())
    }

    /// Re-key the intake ledger rows of stored messages from their
    /// Message-ID (opened in the gate); the others stay as they are.
    fn rekey_intake(
        &self,
        old: &BlindKey,
        new: &BlindKey,
        out: &mut BlindIndexRotation,
    ) -> Result<(), CoreError> {
        let mut cs = ChangeSet::default();
        // Read first: opening a message takes the store again.
        let rows = self.store()?.registry_list(RegistryTable::EmailIntake)?;
        for (key, body) in rows {
            let mut entry: IntakeEntry = parse_row(RegistryTable::EmailIntake, &key, &body)?;
            let rec = entry.record.as_deref().and_then(record_id);
            let mid = match rec {
                Some(rec)
                    if entry.identity == "message_id" && entry.state != IntakeState::Taking =>
                {
                    self.sealed_message_id(rec)?
                }
                _ => None,
            };
            let Some(mid) = mid else {
                out.intake_kept += 1;
                continue;
            };
            let mut moved = None;
            for kind in ["message_id", "incident_message_id"] {
                if intake_key_under(new.bytes(), kind, mid.as_bytes()) == key {
                    moved = Some(None);
                    break;
                }
                if intake_key_under(old.bytes(), kind, mid.as_bytes()) == key {
                    moved = Some(Some(intake_key_under(new.bytes(), kind, mid.as_bytes())));
                    break;
                }
            }
            match moved {
                Some(Some(to)) => {
                    // The row moves: the old key's row goes (as read), the
                    // new key must be free.
                    entry.key = to.clone();
                    cs.registry
                        .push((RegistryTable::EmailIntake, to.clone(), row_json(&entry)?));
                    cs.guards.push(RegistryGuard {
                        table: RegistryTable::EmailIntake,
                        id: to,
                        expected: None,
                    });
                    cs.guards.push(RegistryGuard {
                        table: RegistryTable::EmailIntake,
                        id: key.clone(),
                        expected: Some(body),
                    });
                    cs.delete_registry.push((RegistryTable::EmailIntake, key));
                    out.intake_rekeyed += 1;
                }
                Some(None) => {}
                None => out.intake_kept += 1,
            }
        }
        if !cs.registry.is_empty() {
            self.store()?.commit(cs)?;
        }
        Ok(())
    }
}

/// Push `row` as the new body of registry row `id` of `table`, guarded on
/// `body` (the body it was read from).
fn push_row<T: Serialize>(
    cs: &mut ChangeSet,
    table: RegistryTable,
    id: &str,
    body: &str,
    row: &T,
) -> Result<(), CoreError> {
    cs.registry.push((table, id.to_owned(), row_json(row)?));
    cs.guards.push(RegistryGuard {
        table,
        id: id.to_owned(),
        expected: Some(body.to_owned()),
    });
    Ok(())
}
