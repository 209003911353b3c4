//! The disclosure ledger (N6.2, N8.4; issue 19 item 2): one row per
//! disclosure, committed with the decision's audit entry in the subject's
//! home region; the APPI provision record per recipient and period (JSON,
//! and CSV through the `csv` crate); the subject's disclosures (their
//! export lists them); the retention sweep (default three years).

use serde::{Deserialize, Serialize};
use steward_domain::{DisclosureBasis, Purpose, RecipientKind, SubjectId};
use steward_store::{ChangeSet, RegistryField, RegistryQuery, RegistryTable};

use super::{DAY_MS, Recipient, new_id, now_ms, rfc3339};
use crate::authorize::{ManagementAction, Target};
use crate::entry::{system_entry, token};
use crate::rows::{parse_row, row_json};
use crate::{CoreError, Steward};

/// One disclosure, as stored in `disclosures` (key `dsc_…`). Subjects by
/// opaque id only; no Service Data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosureRow {
    /// Id (`dsc_…`).
    pub id: String,
    /// The gate request (the audit entry's `request_id`).
    pub request_id: String,
    /// The basis (N6.3-N6.7).
    pub basis: DisclosureBasis,
    /// The recipient (`rcp_…`).
    pub recipient: String,
    /// Its kind.
    pub recipient_kind: RecipientKind,
    /// The purpose.
    pub purpose: Purpose,
    /// Categories disclosed (`all` when the disclosure named none).
    pub categories: Vec<String>,
    /// Opaque subject ids.
    pub subjects: Vec<String>,
    /// Records disclosed.
    pub record_count: u64,
    /// First and last provision, ms since the epoch (equal for one
    /// disclosure; a batch of repeated provisions may span a period, APPI).
    pub first_at_ms: i64,
    /// See `first_at_ms`.
    pub last_at_ms: i64,
    /// The policy pack version that decided it.
    pub policy_version: String,
    /// The notice version in force (`YYYY-MM-DD`).
    pub notice_version: String,
    /// The grant (`grt_…`), consent (`cns_…`) or legal obligation that allowed it.
    pub allowed_by: Option<String>,
    /// The consent that overrode a GPC signal, if one did (`gpc.rs`).
    pub gpc_overridden_by: Option<String>,
    /// The principal that disclosed.
    pub principal: String,
}

/// One line of the APPI provision record (N8.4): recipient, date,
/// subjects, categories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionRow {
    /// The ledger row.
    pub disclosure: String,
    /// First provision (RFC 3339 UTC).
    pub first: String,
    /// Last provision (RFC 3339 UTC).
    pub last: String,
    /// Basis.
    pub basis: DisclosureBasis,
    /// Purpose.
    pub purpose: Purpose,
    /// Categories.
    pub categories: Vec<String>,
    /// Opaque subject ids.
    pub subjects: Vec<String>,
    /// Records provided.
    pub record_count: u64,
    /// What allowed it.
    pub allowed_by: Option<String>,
}

/// The APPI record of provision to one third party over a period (N8.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionRecord {
    /// The recipient as registered (name, address, representative, country).
    pub recipient: Recipient,
    /// Period start, inclusive (ms since the epoch).
    pub from_ms: i64,
    /// Period end, exclusive.
    pub to_ms: i64,
    /// Every disclosure to it in the period, oldest first.
    pub rows: Vec<ProvisionRow>,
    /// Total records provided.
    pub total_records: u64,
}

impl ProvisionRecord {
    /// The record as CSV (RFC 4180, header row; list fields joined by `;`).
    ///
    /// Errors: [`CoreError::Input`] if the writer fails (it writes to memory).
    pub fn to_csv(&self) -> Result<String, CoreError> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let io = |e: csv::Error| CoreError::Input(format!("provision record CSV: {e}"));
        w.write_record([
            "recipient",
            "recipient_name",
            "country",
            "disclosure",
            "first",
            "last",
            "basis",
            "purpose",
            "categories",
            "subjects",
            "subject_count",
            "record_count",
            "allowed_by",
        ])
        .map_err(io)?;
        for r in &self.rows {
            w.write_record([
                self.recipient.id.as_str(),
                &self.recipient.legal_name,
                &self.recipient.country,
                &r.disclosure,
                &r.first,
                &r.last,
                r.basis.as_str(),
                r.purpose.as_str(),
                &r.categories.join(";"),
                &r.subjects.join(";"),
                &r.subjects.len().to_string(),
                &r.record_count.to_string(),
                r.allowed_by.as_deref().unwrap_or(""),
            ])
            .map_err(io)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| CoreError::Input(format!("provision record CSV: {e}")))?;
        String::from_utf8(bytes).map_err(|e| CoreError::Input(format!("provision record CSV: {e}")))
    }
}

/// What the gate writes for one allowed disclosure: the ledger row.
pub(crate) struct LedgerFacts<'a> {
    pub request_id: &'a str,
    pub basis: DisclosureBasis,
    pub recipient: &'a Recipient,
    pub purpose: Purpose,
    pub category: Option<&'a str>,
    pub subject: SubjectId,
    pub record_count: u64,
    pub allowed_by: Option<String>,
    pub gpc_overridden_by: Option<String>,
    pub principal: &'a str,
}

/// The ledger row of one allowed disclosure, for the decision's ChangeSet.
pub(crate) fn ledger_row(
    st: &Steward,
    f: LedgerFacts<'_>,
) -> Result<(RegistryTable, String, String, DisclosureRow), CoreError> {
    let now = now_ms(st);
    let row = DisclosureRow {
        id: new_id("dsc"),
        request_id: f.request_id.to_owned(),
        basis: f.basis,
        recipient: f.recipient.id.clone(),
        recipient_kind: f.recipient.kind,
        purpose: f.purpose,
        categories: vec![f.category.unwrap_or("all").to_owned()],
        subjects: vec![f.subject.to_string()],
        record_count: f.record_count,
        first_at_ms: now,
        last_at_ms: now,
        policy_version: st.policy.version().to_owned(),
        notice_version: st.notice_version(),
        allowed_by: f.allowed_by,
        gpc_overridden_by: f.gpc_overridden_by,
        principal: f.principal.to_owned(),
    };
    Ok((
        RegistryTable::Disclosures,
        row.id.clone(),
        row_json(&row)?,
        row,
    ))
}

impl Steward {
    /// Every ledger row of every region, oldest first.
    pub(crate) fn disclosure_rows(&self) -> Result<Vec<DisclosureRow>, CoreError> {
        let mut out: Vec<DisclosureRow> = Vec::new();
        for r in 0..self.regions.len() {
            for (k, b) in self.rstore(r)?.registry_list(RegistryTable::Disclosures)? {
                out.push(parse_row(RegistryTable::Disclosures, &k, &b)?);
            }
        }
        out.sort_by(|a, b| a.first_at_ms.cmp(&b.first_at_ms).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// The disclosures of one subject's data (their export lists them, N7.2, N6.2).
    pub(crate) fn disclosures_of(
        &self,
        subject: SubjectId,
    ) -> Result<Vec<DisclosureRow>, CoreError> {
        let s = subject.to_string();
        Ok(self
            .disclosure_rows()?
            .into_iter()
            .filter(|d| d.subjects.contains(&s))
            .collect())
    }

    /// The APPI provision record (N8.4) of `recipient` for disclosures in
    /// `[from_ms, to_ms)`, as `by` (decided as
    /// [`ManagementAction::DisclosureReport`]: `audit_read` for `protect`).
    ///
    /// Errors: [`CoreError::Input`] for an unknown recipient or an empty
    /// period; [`CoreError::Denied`] (audited).
    pub fn provision_record(
        &self,
        by: &str,
        recipient: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<ProvisionRecord, CoreError> {
        if to_ms <= from_ms {
            return Err(CoreError::Input(
                "--to must be after --from (the period is [from, to))".into(),
            ));
        }
        let rcp = self.recipient(recipient)?;
        self.authorize_management(
            by,
            ManagementAction::DisclosureReport,
            Target::named(&rcp.id),
        )?;
        let rows: Vec<ProvisionRow> = self
            .disclosure_rows()?
            .into_iter()
            .filter(|d| d.recipient == rcp.id && d.first_at_ms >= from_ms && d.first_at_ms < to_ms)
            .map(|d| ProvisionRow {
                disclosure: d.id,
                first: rfc3339(d.first_at_ms),
                last: rfc3339(d.last_at_ms),
                basis: d.basis,
                purpose: d.purpose,
                categories: d.categories,
                subjects: d.subjects,
                record_count: d.record_count,
                allowed_by: d.allowed_by,
            })
            .collect();
        Ok(ProvisionRecord {
            total_records: rows.iter().map(|r| r.record_count).sum(),
            recipient: rcp,
            from_ms,
            to_ms,
            rows,
        })
    }

    /// Delete ledger rows older than `[sharing] ledger_retention_days`
    /// (N8.4: three years by default), as `by` (decided as the retention
    /// sweep, [`ManagementAction::RetentionSweep`]), one audited commit per
    /// region. Returns how many rows were deleted.
    pub fn sweep_disclosures(&self, by: &str) -> Result<u64, CoreError> {
        self.authorize_management(
            by,
            ManagementAction::RetentionSweep,
            Target::named("disclosures"),
        )?;
        let cutoff = now_ms(self) - i64::from(self.config.sharing.ledger_retention_days) * DAY_MS;
        let mut swept = 0u64;
        for r in 0..self.regions.len() {
            let mut store = self.rstore(r)?;
            let mut gone = Vec::new();
            let old = RegistryQuery::Before(RegistryField::At, cutoff);
            for (k, b) in store.registry_find(RegistryTable::Disclosures, old)? {
                let d: DisclosureRow = parse_row(RegistryTable::Disclosures, &k, &b)?;
                if d.last_at_ms < cutoff {
                    gone.push((RegistryTable::Disclosures, k));
                }
            }
            if gone.is_empty() {
                continue;
            }
            swept += gone.len() as u64;
            let mut e = system_entry(
                "disclosure_ledger_sweep",
                &format!("swept:{}", gone.len()),
                "",
                self.policy.version(),
            );
            e.principal = token(by);
            e.clause_ids = vec![token("N8.4")];
            store
                .commit(ChangeSet {
                    delete_registry: gone,
                    audit: vec![e],
                    ..Default::default()
                })
                .map_err(|e| CoreError::AuditUnavailable(e.to_string()))?;
        }
        Ok(swept)
    }
}
