//! The audit log's keys and witnesses (issue 13, item 4): the checkpoint
//! signing key from a [`CheckpointSigner`] provider outside the data
//! directory, verification against a key pinned in configuration, checkpoints
//! published to witnesses (c2sp.org/tlog-witness), and `audit verify`, which
//! checks the log against every tree head a witness cosigned, so a log
//! rewritten and re-signed by an insider still fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use steward_audit::{
    AddCheckpoint, CheckpointSigner, CosignerKey, FailureKind, Head, LogVerifier, StoredCheckpoint,
    StoredEntry, VerifierKey, VerifyFailure, VerifyReport, Witness, WitnessError, WitnessState,
    Witnessed, consistency_proof, verify_cosigned,
};
use steward_crypto::FileSigner;

use crate::config::{AuditConfig, Config, WitnessConfig};
use crate::{CoreError, Steward, VerifyOutcome};

/// The checkpoint signing key provider the configuration names: the key file
/// [`AuditConfig::signing_key_path`] (created with mode 0600 on first use).
/// A file inside the data directory is refused: whoever can write the data
/// directory could then re-sign a rewritten log.
///
/// # Errors
/// [`CoreError::Config`] for a key file inside `data_dir`, or one that cannot
/// be created or read, or is readable by others.
pub fn checkpoint_signer(
    data_dir: &Path,
    config: &Config,
) -> Result<Arc<dyn CheckpointSigner>, CoreError> {
    let path = config.audit.signing_key_path()?;
    if inside(data_dir, &path) {
        return Err(CoreError::Config(format!(
            "audit.signing_key_file {} is inside the data directory {}: anyone who can write the data directory could re-sign a rewritten audit log; put it elsewhere (default ~/.config/steward/checkpoint-signing.key)",
            path.display(),
            data_dir.display()
        )));
    }
    let signer = FileSigner::open_or_create(&path)
        .map_err(|e| CoreError::Config(format!("audit.signing_key_file: {e}")))?;
    Ok(Arc::new(signer))
}

fn absolute(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    // Not there yet: canonicalize the nearest existing ancestor.
    let mut tail = Vec::new();
    let mut cur = p;
    while let Some(parent) = cur.parent() {
        if let Some(name) = cur.file_name() {
            tail.push(name.to_owned());
        }
        if let Ok(c) = parent.canonicalize() {
            return tail.iter().rev().fold(c, |acc, n| acc.join(n));
        }
        cur = parent;
    }
    std::env::current_dir()
        .map(|d| d.join(p))
        .unwrap_or_else(|_| p.to_owned())
}

fn inside(dir: &Path, file: &Path) -> bool {
    absolute(file).starts_with(absolute(dir))
}

/// The verifier key `audit verify` uses: the pinned one, or (not pinned) the
/// signer's. Returns the key string and whether it was pinned.
pub(crate) fn verifier_key(
    audit: &AuditConfig,
    signer: &dyn CheckpointSigner,
) -> Result<(String, bool), CoreError> {
    if let Some(pinned) = &audit.checkpoint_verifier_key {
        let vk = VerifierKey::parse(pinned)
            .map_err(|e| CoreError::Config(format!("audit.checkpoint_verifier_key: {e}")))?;
        if vk.name() != audit.key_name {
            return Err(CoreError::Config(format!(
                "audit.checkpoint_verifier_key names key `{}` but checkpoints are signed as audit.key_name `{}`: pin the key `steward audit verifier-key` prints",
                vk.name(),
                audit.key_name
            )));
        }
        return Ok((vk.to_string(), true));
    }
    let s = steward_audit::verifier_key_string(&audit.key_name, &signer.public_key())
        .map_err(|e| CoreError::Config(format!("audit.key_name: {e}")))?;
    Ok((s, false))
}

/// `audit verify`'s outcome and what it could not check (an unreachable
/// witness, a verifier key that is not pinned).
#[derive(Debug)]
pub struct AuditVerification {
    /// Verified, or the first bad index.
    pub outcome: VerifyOutcome,
    /// Remarks that do not make the log bad, one per line.
    pub notes: Vec<String>,
}

fn witness_keys(audit: &AuditConfig) -> Result<Vec<(WitnessConfig, CosignerKey)>, CoreError> {
    audit
        .witnesses
        .iter()
        .enumerate()
        .map(|(i, w)| {
            CosignerKey::parse(&w.key)
                .map(|k| (w.clone(), k))
                .map_err(|e| CoreError::Config(format!("audit.witnesses[{i}].key: {e}")))
        })
        .collect()
}

/// Cosigned notes kept per region: `<data-dir>/witness/<region>.json`, by
/// witness name, oldest first. Kept in the data directory: a note there is
/// trusted only once the pinned witness key verifies it.
type CosignedFile = BTreeMap<String, Vec<String>>;

const KEEP_NOTES: usize = 1000;

impl Steward {
    /// Whether `audit verify` checks against a verifier key pinned in
    /// configuration (`audit.checkpoint_verifier_key`).
    pub fn verifier_pinned(&self) -> bool {
        self.verifier_pinned
    }

    fn cosigned_path(&self, region: usize) -> PathBuf {
        let name = self
            .regions
            .get(region)
            .map_or("region", |r| r.config.name.as_str());
        self.data_dir.join("witness").join(format!("{name}.json"))
    }

    /// The stored cosignatures of region `region`: none when the file does
    /// not exist yet; an error naming the file when it cannot be read or
    /// does not parse (issue 12: never read as "none", which would forget
    /// the witnesses' sizes and let a rewrite through).
    fn read_cosigned(&self, region: usize) -> Result<CosignedFile, String> {
        let path = self.cosigned_path(region);
        match std::fs::read_to_string(&path) {
            Ok(t) => serde_json::from_str(&t).map_err(|e| {
                format!(
                    "the witness cosignatures file {} does not parse ({e}): restore it from a backup",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(CosignedFile::default()),
            Err(e) => Err(format!(
                "the witness cosignatures file {} cannot be read: {e}",
                path.display()
            )),
        }
    }

    fn save_cosigned(&self, region: usize, witness: &str, note: String) -> Result<(), CoreError> {
        let mut all = self.read_cosigned(region).map_err(CoreError::Config)?;
        let notes = all.entry(witness.to_owned()).or_default();
        notes.push(note);
        let excess = notes.len().saturating_sub(KEEP_NOTES);
        notes.drain(..excess);
        let path = self.cosigned_path(region);
        let text = serde_json::to_string_pretty(&all)
            .map_err(|e| CoreError::Config(format!("{}: {e}", path.display())))?;
        write_private(&path, text.as_bytes())
    }

    /// Recompute the whole audit log: every leaf hash, the hash chain, every
    /// checkpoint's signature (against the pinned verifier key) and root, the
    /// head row, and every tree head a witness cosigned. Reports the first
    /// bad index and what is wrong there.
    ///
    /// Every region's log is verified; the report adds up their entries and
    /// checkpoints (root and size are the primary region's). A failure names
    /// the region.
    pub fn audit_verify(&self) -> Result<VerifyOutcome, CoreError> {
        Ok(self.audit_verify_detailed()?.outcome)
    }

    /// [`audit_verify`](Self::audit_verify), and also asks each witness
    /// (c2sp.org/tlog-witness) to cosign the latest checkpoint, which it does
    /// only if the log is consistent with what it cosigned before; the notes
    /// say what could not be checked.
    pub fn audit_verify_detailed(&self) -> Result<AuditVerification, CoreError> {
        let mut notes = Vec::new();
        if !self.verifier_pinned {
            notes.push(format!(
                "the verifier key is not pinned: set audit.checkpoint_verifier_key = \"{}\" in the configuration, so a replaced signing key file cannot pass",
                self.verifier_key
            ));
        }
        let mut total: Option<VerifyReport> = None;
        for r in 0..self.regions.len() {
            let mut outcome = self.audit_verify_region(r)?;
            if let VerifyOutcome::Ok(rep) = &outcome
                && let Some(f) = self.witness_round(r, rep.witnessed_size, &mut notes)?
            {
                outcome = VerifyOutcome::Failed(f);
            }
            match outcome {
                VerifyOutcome::Ok(rep) => match &mut total {
                    None => total = Some(rep),
                    Some(t) => {
                        t.entries += rep.entries;
                        t.checkpoints_verified += rep.checkpoints_verified;
                    }
                },
                VerifyOutcome::Failed(mut f) => {
                    if self.regions.len() > 1 {
                        f.what = format!("region {}: {}", self.regions[r].config.name, f.what);
                    }
                    return Ok(AuditVerification {
                        outcome: VerifyOutcome::Failed(f),
                        notes,
                    });
                }
            }
        }
        let outcome = total
            .map(VerifyOutcome::Ok)
            .ok_or_else(|| CoreError::Config("no regions".into()))?;
        Ok(AuditVerification { outcome, notes })
    }

    /// The tree heads witnesses cosigned for region `r`, verified with the
    /// pinned witness keys and the log's verifier key; notes that do not
    /// verify are not trusted (and named in `bad`).
    fn witnessed(&self, r: usize, key: &VerifierKey, bad: &mut Vec<String>) -> Vec<Witnessed> {
        let Ok(witnesses) = witness_keys(&self.config.audit) else {
            return Vec::new();
        };
        let file = match self.read_cosigned(r) {
            Ok(f) => f,
            Err(e) => {
                bad.push(e);
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (_, wkey) in &witnesses {
            for note in file.get(wkey.name()).map(Vec::as_slice).unwrap_or_default() {
                match verify_cosigned(note, key, wkey) {
                    Ok(c) => out.push(Witnessed {
                        size: c.checkpoint.size,
                        root: c.checkpoint.root,
                        by: wkey.name().to_owned(),
                    }),
                    Err(e) => bad.push(format!(
                        "a stored cosignature of witness {} does not verify ({e}); ignored",
                        wkey.name()
                    )),
                }
            }
        }
        out
    }

    /// Verify one region's audit log (offline: the stored rows, checkpoints,
    /// head and the cosigned tree heads kept in the data directory).
    pub fn audit_verify_region(&self, region: usize) -> Result<VerifyOutcome, CoreError> {
        let key =
            VerifierKey::parse(&self.verifier_key).map_err(|e| CoreError::Input(e.to_string()))?;
        let mut ignored = Vec::new();
        let witnessed = self.witnessed(region, &key, &mut ignored);
        let store = self.rstore(region)?;
        let cps: Vec<StoredCheckpoint> = store
            .checkpoints()?
            .into_iter()
            .map(|(size, note)| StoredCheckpoint { size, note })
            .collect();
        // A head row that no longer decodes (its size changed without its
        // compact range) is itself a finding, not a storage error: verify
        // without it, so a cut tail is reported as truncation (item 8).
        let (head, head_error) = match store.audit_head() {
            Ok((size, root)) => (Some(Head { size, root }), None),
            Err(steward_store::StoreError::Corrupt(what)) => (None, Some(what)),
            Err(e) => return Err(e.into()),
        };
        let mut v = LogVerifier::new(&cps, head, &key).with_witnessed(witnessed);
        let mut failure = None;
        store.audit_scan(0, u64::MAX, &mut |row| {
            if let Err(f) = v.push(&StoredEntry {
                index: row.index,
                bytes: row.entry,
                leaf_hash: row.leaf_hash,
            }) {
                failure = Some(f);
                return false;
            }
            true
        })?;
        if let Some(f) = failure {
            return Ok(VerifyOutcome::Failed(f));
        }
        Ok(match (v.finish(), head_error) {
            (Ok(r), None) => VerifyOutcome::Ok(r),
            (Ok(r), Some(what)) => VerifyOutcome::Failed(VerifyFailure {
                first_bad_index: r.size,
                kind: FailureKind::HeadRootMismatch,
                what: format!(
                    "the head row does not decode ({what}): it was changed outside an append; the {} entries themselves verify",
                    r.size
                ),
            }),
            (Err(mut f), Some(what)) => {
                f.what = format!("{} (and the head row does not decode: {what})", f.what);
                VerifyOutcome::Failed(f)
            }
            (Err(f), None) => VerifyOutcome::Failed(f),
        })
    }

    fn region_leaves(&self, region: usize, to: u64) -> Result<Vec<[u8; 32]>, CoreError> {
        let mut leaves = Vec::new();
        self.rstore(region)?.audit_scan(0, to, &mut |row| {
            leaves.push(steward_audit::leaf_hash(&row.entry));
            true
        })?;
        Ok(leaves)
    }

    /// Cut a signed checkpoint now in every region and publish it to the
    /// configured witnesses; returns the primary region's size and one line
    /// per witness and region saying what happened.
    pub fn audit_checkpoint_published(&self) -> Result<(u64, Vec<String>), CoreError> {
        let mut size = 0;
        for r in 0..self.regions.len() {
            let s = self.rstore(r)?.cut_checkpoint()?;
            if r == 0 {
                size = s;
            }
        }
        let mut notes = Vec::new();
        for r in 0..self.regions.len() {
            if let Some(f) = self.witness_round(r, 0, &mut notes)? {
                notes.push(format!("witness refused: {}", f.what));
            }
        }
        Ok((size, notes))
    }

    /// Offers region `r`'s latest checkpoint to every witness. Returns a
    /// failure when a witness shows the log is not what it cosigned (a
    /// rewritten or truncated log); unreachable witnesses become notes.
    fn witness_round(
        &self,
        r: usize,
        proven: u64,
        notes: &mut Vec<String>,
    ) -> Result<Option<VerifyFailure>, CoreError> {
        let witnesses = witness_keys(&self.config.audit)?;
        if witnesses.is_empty() {
            return Ok(None);
        }
        let key =
            VerifierKey::parse(&self.verifier_key).map_err(|e| CoreError::Input(e.to_string()))?;
        let Some((size, note)) = self
            .rstore(r)?
            .checkpoints()?
            .into_iter()
            .max_by_key(|c| c.0)
        else {
            notes.push("no checkpoint to publish yet".into());
            return Ok(None);
        };
        let region = self.regions[r].config.name.clone();
        for (w, wkey) in &witnesses {
            match self.publish_one(r, w, wkey, &key, size, &note) {
                Ok(()) => notes.push(format!(
                    "witness {} cosigned region {region} at size {size}",
                    wkey.name()
                )),
                Err(Published::Unreachable(why)) => notes.push(format!(
                    "witness {} was not reached ({why}): checked against the cosignatures stored earlier only",
                    wkey.name()
                )),
                Err(Published::Refused { witness_size, why }) => {
                    let truncated = witness_size > size;
                    return Ok(Some(VerifyFailure {
                        first_bad_index: if truncated { size } else { proven },
                        kind: if truncated {
                            FailureKind::Truncated
                        } else {
                            FailureKind::WitnessMismatch
                        },
                        what: format!(
                            "witness {} cosigned size {witness_size} of this log and refuses its latest checkpoint (size {size}): {why}",
                            wkey.name()
                        ),
                    }));
                }
            }
        }
        Ok(None)
    }

    /// One add-checkpoint exchange (with one retry after a 409 naming the
    /// witness's size), storing the cosigned note on success.
    fn publish_one(
        &self,
        r: usize,
        w: &WitnessConfig,
        wkey: &CosignerKey,
        key: &VerifierKey,
        size: u64,
        note: &str,
    ) -> Result<(), Published> {
        let timeout = Duration::from_millis(self.config.audit.witness_timeout_ms.max(1));
        let stored = self.read_cosigned(r).map_err(Published::Unreachable)?;
        let mut old = stored
            .get(wkey.name())
            .and_then(|v| v.last())
            .and_then(|n| verify_cosigned(n, key, wkey).ok())
            .map_or(0, |c| c.checkpoint.size);
        for _ in 0..3 {
            if old > size {
                return Err(Published::Refused {
                    witness_size: old,
                    why: format!(
                        "the log has only {size} entries in its latest checkpoint: entries {size} to {} were cut",
                        old - 1
                    ),
                });
            }
            let proof = if old == 0 || old == size {
                Vec::new()
            } else {
                let leaves = self
                    .region_leaves(r, size)
                    .map_err(|e| Published::Unreachable(format!("reading the log: {e}")))?;
                consistency_proof(&leaves, old, size)
                    .map_err(|e| Published::Unreachable(format!("consistency proof: {e}")))?
            };
            let body = AddCheckpoint {
                old,
                proof,
                note: note.to_owned(),
            }
            .to_body();
            let (status, resp) =
                crate::witness_http::post(&w.url, "add-checkpoint", &body, timeout)
                    .map_err(Published::Unreachable)?;
            match status {
                200 => {
                    let cosigned = format!("{note}{resp}");
                    verify_cosigned(&cosigned, key, wkey).map_err(|e| {
                        Published::Unreachable(format!("its answer does not verify: {e}"))
                    })?;
                    self.save_cosigned(r, wkey.name(), cosigned)
                        .map_err(|e| Published::Unreachable(format!("saving: {e}")))?;
                    return Ok(());
                }
                409 => {
                    old = resp
                        .trim()
                        .parse()
                        .map_err(|_| Published::Unreachable("a 409 without a tree size".into()))?;
                }
                422 => {
                    return Err(Published::Refused {
                        witness_size: old,
                        why: format!(
                            "the consistency proof from size {old} fails: the log's first {old} entries are not the ones the witness cosigned, so the log was rewritten ({})",
                            first_line(&resp)
                        ),
                    });
                }
                s => {
                    return Err(Published::Unreachable(format!(
                        "HTTP {s}: {}",
                        first_line(&resp)
                    )));
                }
            }
        }
        Err(Published::Unreachable(
            "the witness's size kept changing".into(),
        ))
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
}

enum Published {
    Unreachable(String),
    Refused { witness_size: u64, why: String },
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CoreError> {
    use std::io::Write as _;
    let err = |e: std::io::Error| CoreError::Config(format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    f.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// What a witness answers over HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessAnswer {
    /// HTTP status code.
    pub status: u16,
    /// Content-Type.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
}

/// A witness (c2sp.org/tlog-witness) as `steward witness` runs it: its key
/// from a [`FileSigner`] file, its state in a JSON file written before each
/// answer, one lock across decide-and-persist.
pub struct WitnessService {
    witness: Witness,
    state_path: PathBuf,
    state: Mutex<WitnessState>,
}

impl WitnessService {
    /// Opens a witness named `name`, its key in `key_file` (created 0600 on
    /// first use), its state in `state_file`, following `logs` (pairs of the
    /// log's origin line and verifier key string).
    ///
    /// # Errors
    /// [`CoreError::Config`] for a bad key, key file, state file or log entry.
    pub fn open(
        name: &str,
        key_file: &Path,
        state_file: &Path,
        logs: &[(String, String)],
    ) -> Result<Self, CoreError> {
        let signer = FileSigner::open_or_create(key_file)
            .map_err(|e| CoreError::Config(format!("witness key: {e}")))?;
        let mut followed = BTreeMap::new();
        for (origin, vkey) in logs {
            let k = VerifierKey::parse(vkey)
                .map_err(|e| CoreError::Config(format!("--log {origin}: {e}")))?;
            followed.insert(origin.clone(), k);
        }
        let state = match std::fs::read_to_string(state_file) {
            Ok(t) => serde_json::from_str(&t).map_err(|e| {
                CoreError::Config(format!(
                    "witness state {}: {e}; restore it from a backup (a witness that forgets a log's size would cosign a rewritten one)",
                    state_file.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => WitnessState::default(),
            Err(e) => {
                return Err(CoreError::Config(format!(
                    "witness state {}: {e}",
                    state_file.display()
                )));
            }
        };
        let witness = Witness {
            name: name.to_owned(),
            signer: Box::new(signer),
            logs: followed,
        };
        witness
            .key()
            .map_err(|e| CoreError::Config(format!("witness name: {e}")))?;
        Ok(Self {
            witness,
            state_path: state_file.to_owned(),
            state: Mutex::new(state),
        })
    }

    /// The witness's public key string, for the logs' `audit.witnesses`.
    pub fn key_string(&self) -> String {
        self.witness
            .key()
            .map(|k| k.to_string())
            .unwrap_or_default()
    }

    /// The HTTP answer to one `add-checkpoint` body (c2sp.org/tlog-witness):
    /// 200 with the cosignature line, 409 with the witness's size
    /// (`text/x.tlog.size`), or the refusal's status with a one-line reason.
    pub fn answer(&self, body: &str) -> WitnessAnswer {
        match self.add_checkpoint(body) {
            Ok(line) => WitnessAnswer {
                status: 200,
                content_type: "text/plain; charset=utf-8",
                body: line,
            },
            Err(WitnessError::Conflict(size)) => WitnessAnswer {
                status: 409,
                content_type: "text/x.tlog.size",
                body: format!("{size}\n"),
            },
            Err(e) => WitnessAnswer {
                status: e.status(),
                content_type: "text/plain; charset=utf-8",
                body: format!("{e}\n"),
            },
        }
    }

    /// Answers one `add-checkpoint` body: the cosignature line, or the
    /// refusal with its status. The new state is persisted before answering.
    ///
    /// # Errors
    /// [`WitnessError`].
    pub fn add_checkpoint(&self, body: &str) -> Result<String, WitnessError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| steward_audit::SignerError("witness state lock poisoned".into()))?;
        let mut next = state.clone();
        let now = time::OffsetDateTime::now_utc().unix_timestamp().max(1) as u64;
        let line = self.witness.add_checkpoint(&mut next, body, now)?;
        let text = serde_json::to_string_pretty(&next)
            .map_err(|e| steward_audit::SignerError(format!("witness state: {e}")))?;
        write_private(&self.state_path, text.as_bytes())
            .map_err(|e| steward_audit::SignerError(format!("persisting the state: {e}")))?;
        *state = next;
        Ok(line)
    }
}
