//! Cross-border transfers (N4.4, N8.9): the mechanisms on record and the
//! transfer register. Service Data that leaves the EEA, the UK or Switzerland
//! needs a mechanism on record for its source region and destination country;
//! without one the gate refuses, with one it registers the transfer.

use serde::{Deserialize, Serialize};
use steward_domain::{Category, SubjectId};
use steward_store::{ChangeSet, RegistryTable};

use crate::authorize::{ManagementAction, Target};
use crate::config::in_transfer_zone;
use crate::gate::{new_request_id, system_entry, token};
use crate::{CoreError, Steward};

/// The legal mechanisms of N4.4.
pub const MECHANISMS: [&str; 5] = [
    "adequacy_decision",
    "standard_contractual_clauses",
    "uk_idta",
    "uk_addendum",
    "swiss_clauses",
];

/// A transfer mechanism on record: Service Data of `from_region` may go to `to_country`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TransferMechanism {
    /// Id (`mechanism-…`).
    pub id: String,
    /// Source region (its country is in the EEA, the UK or Switzerland).
    pub from_region: String,
    /// Destination country (ISO 3166-1 alpha-2).
    pub to_country: String,
    /// One of [`MECHANISMS`].
    pub mechanism: String,
    /// Reference (decision number, contract id).
    pub reference: String,
    /// Who recorded it.
    pub recorded_by: String,
}

/// One entry of the transfer register (N4.4).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Transfer {
    /// Id (`transfer-…`).
    pub id: String,
    /// Source region.
    pub from_region: String,
    /// Source country.
    pub from_country: String,
    /// Destination region (where the request was processed).
    pub to_region: String,
    /// Destination country.
    pub to_country: String,
    /// The mechanism's id and kind.
    pub mechanism_id: String,
    /// The mechanism kind.
    pub mechanism: String,
    /// Categories moved (`all` when the access named none).
    pub categories: Vec<String>,
    /// Number of subjects.
    pub subject_count: u64,
    /// Opaque subject ids (so a subject's export can list the transfers of their data).
    pub subjects: Vec<String>,
    /// When (RFC 3339 UTC).
    pub time: String,
    /// The gate request that made it.
    pub request_id: String,
}

pub(crate) enum TransferCheck {
    NotATransfer,
    Mechanism(TransferMechanism),
    Refused(String),
}

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
                serde_json::to_string(&m).unwrap_or_default(),
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
            .filter_map(|(_, b)| serde_json::from_str(&b).ok())
            .collect())
    }

    /// The transfer register of every region (N4.4), oldest first.
    pub fn transfers(&self) -> Result<Vec<Transfer>, CoreError> {
        let mut out: Vec<Transfer> = Vec::new();
        for r in 0..self.regions.len() {
            out.extend(
                self.rstore(r)?
                    .registry_list(RegistryTable::Transfers)?
                    .into_iter()
                    .filter_map(|(_, b)| serde_json::from_str::<Transfer>(&b).ok()),
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
            .filter_map(|(_, b)| serde_json::from_str::<Transfer>(&b).ok())
            .filter(|t| t.subjects.contains(&s))
            .collect())
    }

    /// Is moving data from region `home` to the processing region a transfer
    /// out of the EEA/UK/Switzerland, and if so, which mechanism covers it?
    pub(crate) fn transfer_check(
        &self,
        home: usize,
        processing: usize,
    ) -> Result<TransferCheck, CoreError> {
        let from = &self.regions[home].config;
        let to = &self.regions[processing].config;
        if home == processing || !in_transfer_zone(&from.country) || in_transfer_zone(&to.country) {
            return Ok(TransferCheck::NotATransfer);
        }
        let found = self
            .transfer_mechanisms()?
            .into_iter()
            .find(|m| m.from_region == from.name && m.to_country == to.country);
        Ok(match found {
            Some(m) => TransferCheck::Mechanism(m),
            None => TransferCheck::Refused(format!(
                "this moves Service Data of region {} ({}) to {} ({}), out of the EEA, the UK and Switzerland, and no transfer mechanism is on record for it (N4.4); record one with `steward transfers add-mechanism --from-region {} --to-country {} --mechanism standard_contractual_clauses --reference …`",
                from.name, from.country, to.name, to.country, from.name, to.country
            )),
        })
    }

    pub(crate) fn transfer_row(
        &self,
        m: &TransferMechanism,
        home: usize,
        processing: usize,
        subject: SubjectId,
        category: Option<Category>,
        request_id: &str,
    ) -> (RegistryTable, String, String) {
        let from = &self.regions[home].config;
        let to = &self.regions[processing].config;
        let t = Transfer {
            id: format!("transfer-{}", &new_request_id()[4..]),
            from_region: from.name.clone(),
            from_country: from.country.clone(),
            to_region: to.name.clone(),
            to_country: to.country.clone(),
            mechanism_id: m.id.clone(),
            mechanism: m.mechanism.clone(),
            categories: vec![
                category
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_else(|| "all".into()),
            ],
            subject_count: 1,
            subjects: vec![subject.to_string()],
            time: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            request_id: request_id.into(),
        };
        (
            RegistryTable::Transfers,
            t.id.clone(),
            serde_json::to_string(&t).unwrap_or_default(),
        )
    }
}
