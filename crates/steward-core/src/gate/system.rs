//! The gate's system entry points: openings made by Steward itself, not
//! decided for a principal's access, each recorded in the audit log —
//! the integrity check ([`Steward::verify_records`]) and the opening of a
//! data subject request's registered email contact (N7.4).

use steward_audit::{Resource, ResourceKind, SubjectRef};
use steward_domain::{IdentifierKind, Purpose, SubjectId};
use steward_store::ChangeSet;

use super::keys::{open_identifier, open_row};
use super::{system_entry, token};
use crate::{CoreError, Steward};

impl Steward {
    /// Open a subject's registered email identifier (the one whose blind
    /// index is `blind_hex`) so that Steward can send the one-time code of
    /// data subject request `request_id` to it (N7.4; the DSR engine's
    /// verification, never shown to a principal). The access is appended to
    /// the audit log before the identifier is opened (fail closed): action
    /// `dsr_contact_open`, principal `steward`, purpose `comply`. Returns
    /// `None` when the subject has no such identifier or no data key.
    pub(crate) fn open_registered_email(
        &self,
        region: usize,
        s: SubjectId,
        blind_hex: &str,
        request_id: &str,
    ) -> Result<Option<Vec<u8>>, CoreError> {
        let Some(row) = self.rstore(region)?.identifiers(s)?.into_iter().find(|i| {
            hex::encode(i.blind) == blind_hex && i.kind == IdentifierKind::Email.as_str()
        }) else {
            return Ok(None);
        };
        let mut e = system_entry("dsr_contact_open", request_id, "", self.policy.version());
        e.clause_ids = vec![token("N7.4")];
        e.purpose = Some(token(Purpose::Comply.as_str()));
        e.region = token(&self.regions[region].config.name);
        e.resource = Resource::new(ResourceKind::Subject)
            .subject(SubjectRef::new(s.0 as u64))
            .id(token(request_id));
        self.rstore(region)?
            .commit(ChangeSet {
                audit: vec![e],
                ..Default::default()
            })
            .map_err(|e| CoreError::AuditUnavailable(e.to_string()))?;
        let Some(o) = self.subject_opener(region, s)? else {
            return Ok(None);
        };
        Ok(Some(open_identifier(&o.sealer, s, &row)?.1))
    }

    /// Integrity check of every region's store (after `steward copy`, or
    /// from time to time): unwrap each live subject's data key and
    /// authenticate every record's ciphertext against its AAD. Plaintext is
    /// dropped at once: nothing is returned or printed but counts. Recorded
    /// in each region's audit log. Returns (records that open, records of
    /// erased subjects, which stay unreadable by design).
    ///
    /// Errors: [`CoreError::Integrity`] naming the first record that does not open.
    pub fn verify_records(&self, principal: &str) -> Result<(u64, u64), CoreError> {
        let (mut opened, mut shredded) = (0, 0);
        for r in 0..self.regions.len() {
            let subjects = self.rstore(r)?.subjects()?;
            let (mut region_opened, mut region_shredded) = (0u64, 0u64);
            for s in subjects {
                let rows = self.rstore(r)?.records(s.id, None)?;
                match self.subject_opener(r, s.id)? {
                    Some(o) => {
                        for row in rows {
                            open_row(&o.key, row)?;
                            region_opened += 1;
                        }
                        // Issue 13 item 6: every index entry of the subject
                        // opens for it and is the blind index of its value.
                        // In the subject's namespace (issue 15 item 2).
                        let tenant = self.subject_tenant(r, s.id)?;
                        let rows = self.rstore(r)?.identifiers(s.id)?;
                        for row in rows {
                            let (kind, v) = open_identifier(&o.sealer, s.id, &row)?;
                            let ident = std::str::from_utf8(&v)
                                .ok()
                                .and_then(|v| steward_domain::SubjectIdentifier::new(kind, v).ok());
                            // Under any live key version (issue 13 item 3).
                            let blinds = match ident {
                                Some(i) => self.blinds_in(&i, tenant.as_deref())?,
                                None => vec![],
                            };
                            if !blinds.contains(&row.blind) {
                                return Err(CoreError::Integrity {
                                    record: format!("identifier index entry of {}", s.id),
                                    reason: "its blind index is not that of its value: the index was changed outside Steward".into(),
                                });
                            }
                        }
                    }
                    None => region_shredded += rows.len() as u64,
                }
            }
            let mut e = system_entry("records_verify", "records", "", self.policy.version());
            e.principal = token(principal);
            e.clause_ids = vec![token("N5.2")];
            e.region = token(&self.regions[r].config.name);
            e.resource = Resource::new(ResourceKind::Record).count(region_opened);
            self.rstore(r)?.commit(ChangeSet {
                audit: vec![e],
                ..Default::default()
            })?;
            opened += region_opened;
            shredded += region_shredded;
        }
        Ok((opened, shredded))
    }
}
