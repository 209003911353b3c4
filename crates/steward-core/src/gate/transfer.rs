//! The transfer register's rows as the gate writes them (N4.4): the
//! mechanism an access relies on, found for (source region, destination
//! country), and the register row committed with the decision. The
//! management of mechanisms (recording, listing) is `crate::transfers`.

use serde::{Deserialize, Serialize};
use steward_domain::{Category, SubjectId};
use steward_store::RegistryTable;

use super::new_request_id;
use crate::rows::row_json;
use crate::transfer_zone::in_transfer_zone;
use crate::{CoreError, Steward};

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

/// What the transfer check found for an access.
pub(crate) enum TransferCheck {
    NotATransfer,
    Mechanism(TransferMechanism),
    Refused(String),
}

impl Steward {
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
        let mut found = None;
        for (key, body) in self
            .store_read()?
            .registry_list(RegistryTable::TransferMechanisms)?
        {
            let m: TransferMechanism = serde_json::from_str(&body).map_err(|e| {
                CoreError::Config(format!(
                    "registry transfer_mechanisms, row `{key}` does not parse ({e}): the gate cannot decide transfers until it is repaired"
                ))
            })?;
            if m.from_region == from.name && m.to_country == to.country {
                found = Some(m);
                break;
            }
        }
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
    ) -> Result<(RegistryTable, String, String), CoreError> {
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
            time: self.clock.rfc3339(),
            request_id: request_id.into(),
        };
        Ok((RegistryTable::Transfers, t.id.clone(), row_json(&t)?))
    }
}
