//! What an erasure guarantees, and the key schedule that keeps the promise
//! (issue 13 item 1).
//!
//! An erasure deletes the subject's wrapped data key (DEK) and identifiers
//! in one commit. In the embedded store that is the end of it: SQLite runs
//! with `secure_delete=ON` and the WAL is truncated after the commit, so
//! the live store's files hold neither the wrapped DEK nor, once swept, the
//! sealed bodies. Other copies (PostgreSQL's dead rows, its WAL and
//! replicas, backups of either store) keep the wrapped DEK until they are
//! overwritten; they hold it wrapped under the key-encryption key (KEK)
//! generation current when they were made. The erasure is complete for
//! every copy once that generation is destroyed, which the schedule does:
//! every `kek_rotation` a new generation becomes current (live keys are
//! re-wrapped), and a generation is destroyed `kek_retire_after` after its
//! rotation was due. The receipt names the generation and the date.

use serde::{Deserialize, Serialize};
use steward_domain::SubjectId;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::parse_period;
use crate::{CoreError, Steward};

/// Where and from when an erasure holds: what its receipt promises.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErasureGuarantee {
    /// The live store: the subject's data is unreadable there from this
    /// instant (RFC 3339 UTC, the erasure's).
    pub unreadable_in_live_store_from: String,
    /// The key-encryption key generation that wrapped the erased data key.
    pub kek_generation: u32,
    /// Every copy (backups, PostgreSQL's dead rows, WAL and replicas) is
    /// unrecoverable from this instant (RFC 3339 UTC), when the key
    /// schedule destroys generation `kek_generation` (and every earlier one).
    pub unrecoverable_everywhere_from: String,
    /// The schedule in force: `kek_rotation` and `kek_retire_after`.
    pub schedule: String,
}

/// What one run of the key schedule did ([`Steward::rotate_keys_if_due`]).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScheduleRun {
    /// The new current generation and how many keys were re-wrapped, when a
    /// rotation was due.
    pub rotated: Option<(u32, u64)>,
    /// The generations destroyed by this run.
    pub retired: Vec<u32>,
    /// When the next rotation is due (RFC 3339 UTC).
    pub next_rotation: String,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn config_err(what: &str, e: String) -> CoreError {
    CoreError::Config(format!("{what}: {e}"))
}

impl Steward {
    /// The schedule's two durations: (rotation, retire after).
    fn key_schedule(&self) -> Result<(time::Duration, time::Duration), CoreError> {
        let rotation =
            parse_period(&self.config.kek_rotation).map_err(|e| config_err("kek_rotation", e))?;
        let retire = parse_period(&self.config.kek_retire_after)
            .map_err(|e| config_err("kek_retire_after", e))?;
        Ok((rotation, retire))
    }

    /// The KEK generations with their creation instants, oldest first.
    fn generations(&self) -> Result<Vec<(u32, OffsetDateTime, bool)>, CoreError> {
        self.keyring
            .keks()
            .into_iter()
            .map(|k| {
                let at = OffsetDateTime::parse(&k.created_at, &Rfc3339).map_err(|_| {
                    CoreError::Config(format!(
                        "the keyring's KEK version {} has no valid creation time: restore the keyring from its backup",
                        k.version
                    ))
                })?;
                Ok((k.version, at, k.retired))
            })
            .collect()
    }

    /// When the schedule destroys generation `version`: its rotation is due
    /// `kek_rotation` after it was made, its material goes
    /// `kek_retire_after` later.
    fn destruction_due(&self, version: u32) -> Result<OffsetDateTime, CoreError> {
        let (rotation, retire) = self.key_schedule()?;
        let created = self
            .generations()?
            .into_iter()
            .find(|g| g.0 == version)
            .map(|g| g.1)
            .ok_or(CoreError::Crypto(steward_crypto::CryptoError::UnknownKek {
                version,
            }))?;
        Ok(created + rotation + retire)
    }

    /// The guarantee of erasing subject `id` of region `region` at `now`,
    /// computed before the data key goes.
    pub(crate) fn erasure_guarantee(
        &self,
        region: usize,
        id: SubjectId,
        now: OffsetDateTime,
    ) -> Result<ErasureGuarantee, CoreError> {
        let generation = match self.rstore(region)?.wrapped_key(id)? {
            Some(k) => k.kek_version,
            None => self.keyring.current_version(),
        };
        // Overdue (the schedule did not run): the next run destroys it.
        let at = self.destruction_due(generation)?.max(now);
        Ok(ErasureGuarantee {
            unreadable_in_live_store_from: rfc3339(now),
            kek_generation: generation,
            unrecoverable_everywhere_from: rfc3339(at),
            schedule: format!(
                "kek_rotation = \"{}\", kek_retire_after = \"{}\"",
                self.config.kek_rotation, self.config.kek_retire_after
            ),
        })
    }

    /// Run the key schedule at `now` as `principal` (decided like
    /// [`Steward::rotate_keys`] and [`Steward::retire_kek`], N5.2): when
    /// the current generation is `kek_rotation` old, rotate (every live and
    /// hold key is re-wrapped under the new generation first); then destroy
    /// every older generation whose destruction is due
    /// (`created + kek_rotation + kek_retire_after`). A generation is never
    /// destroyed while a data key is still wrapped under it (refused, with
    /// the count). `steward keys rotate --if-due`, from cron or a timer.
    ///
    /// Errors: [`CoreError::Denied`]; [`CoreError::Input`] when keys are
    /// still wrapped under a generation due for destruction.
    pub fn rotate_keys_if_due(&self, principal: &str) -> Result<ScheduleRun, CoreError> {
        let now = self.clock.now();
        let (rotation, _) = self.key_schedule()?;
        let current = self.keyring.current_version();
        let created = |v: u32| -> Result<OffsetDateTime, CoreError> {
            self.generations()?
                .into_iter()
                .find(|g| g.0 == v)
                .map(|g| g.1)
                .ok_or(CoreError::Crypto(steward_crypto::CryptoError::UnknownKek {
                    version: v,
                }))
        };
        let rotated = if now >= created(current)? + rotation {
            Some(self.rotate_keys(principal)?)
        } else {
            None
        };
        let current = self.keyring.current_version();
        let mut retired = Vec::new();
        for (version, _, was_retired) in self.generations()? {
            if was_retired || version == current || self.destruction_due(version)? > now {
                continue;
            }
            self.retire_kek(principal, version)?;
            retired.push(version);
        }
        Ok(ScheduleRun {
            rotated,
            retired,
            next_rotation: rfc3339(created(current)? + rotation),
        })
    }
}
