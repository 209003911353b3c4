//! Cross-border transfers (N4.4, N8.9): the mechanisms on record and the
//! transfer register. Service Data that leaves the EEA, the UK or Switzerland
//! needs a mechanism on record for its source region and destination country;
//! without one the gate refuses, with one it registers the transfer.

use steward_domain::SubjectId;
use steward_store::{ChangeSet, RegistryTable};

use crate::authorize::{ManagementAction, Target};
pub use crate::gate::{Transfer, TransferMechanism};
use crate::gate::{new_request_id, system_entry, token};
use crate::rows::{parse_row, row_json};
use crate::transfer_zone::in_transfer_zone;
use crate::{CoreError, Steward};

/// The legal mechanisms of N4.4.
pub const MECHANISMS: [&str; 5] = [
    "adequacy_decision",
    "standard_contractual_clauses",
    "uk_idta",
    "uk_addendum",
    "swiss_clauses",
];

impl Steward {
    /// Record a transfer mechanism (N4.4), as `by`: decided by the pack
    /// first ([`ManagementAction::TransferMechanismAdd`], `manage_transfers`
    /// for `protect`: legal and privacy staff), audited.
    ///
    /// Errors: [`CoreError::Denied`]; unknown region, a region outside the
    /// EEA/UK/Switzerland (no mechanism is needed there), a malformed
    /// country code or an unknown mechanism.
    pub fn add_transfer_mechanism(
        &self,
        by: &str,
        from_region: &str,
        to_country: &str,
        mechanism: &str,
        reference: &str,
    ) -> Result<TransferMechanism, CoreError> {
        self.authorize_management(
            by,
            ManagementAction::TransferMechanismAdd,
            Target::named("transfer_mechanisms"),
        )?;
        let r = self.region_index(from_region)?;
        let from_country = self.regions[r].config.country.clone();
        if !in_transfer_zone(&from_country) {
            return Err(CoreError::Input(format!(
                "region {from_region} is in {from_country}, outside the EEA, the UK and Switzerland: its data needs no transfer mechanism (N4.4)"
            )));
        }
        if to_country.len() != 2 || !to_country.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(CoreError::Input(
                "--to-country must be an ISO 3166-1 alpha-2 code such as US or JP".into(),
            ));
        }
        if !MECHANISMS.contains(&mechanism) {
            return Err(CoreError::Input(format!(
                "--mechanism `{mechanism}`: expected one of {}",
                MECHANISMS.join(", ")
            )));
        }
        let m = TransferMechanism {
            id: format!("mechanism-{}", &new_request_id()[4..]),
            from_region: from_region.into(),
            to_country: to_country.into(),
            mechanism: mechanism.into(),
            reference: reference.into(),
            recorded_by: by.into(),
        };
        let mut e = system_entry("transfer_mechanism_add", &m.id, "", self.policy.version());
        e.principal = token(by);
        e.clause_ids = vec![token("N4.4")];
        self.store()?.commit(ChangeSet {
            registry: vec![(
                RegistryTable::TransferMechanisms,
                m.id.clone(),
                row_json(&m)?,
            )],
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(m)
    }

    /// Transfer mechanisms on record.
    pub fn transfer_mechanisms(&self) -> Result<Vec<TransferMechanism>, CoreError> {
        Ok(self
            .store()?
            .registry_list(RegistryTable::TransferMechanisms)?
            .into_iter()
            .map(|(k, b)| parse_row(RegistryTable::TransferMechanisms, &k, &b))
            .collect::<Result<_, _>>()?)
    }

    /// The transfer register of every region (N4.4), oldest first.
    pub fn transfers(&self) -> Result<Vec<Transfer>, CoreError> {
        let mut out: Vec<Transfer> = Vec::new();
        for r in 0..self.regions.len() {
            out.extend(
                self.rstore(r)?
                    .registry_list(RegistryTable::Transfers)?
                    .into_iter()
                    .map(|(k, b)| parse_row::<Transfer>(RegistryTable::Transfers, &k, &b))
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        out.sort_by(|a, b| a.time.cmp(&b.time).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// Transfers of one subject's data, from their home region's register.
    pub(crate) fn transfers_of(
        &self,
        region: usize,
        subject: SubjectId,
    ) -> Result<Vec<Transfer>, CoreError> {
        let s = subject.to_string();
        Ok(self
            .rstore(region)?
            .registry_list(RegistryTable::Transfers)?
            .into_iter()
            .map(|(k, b)| parse_row::<Transfer>(RegistryTable::Transfers, &k, &b))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|t| t.subjects.contains(&s))
            .collect())
    }
}
