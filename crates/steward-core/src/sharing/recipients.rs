//! The recipient registry (N6.2, N6.6, N8.9; issue 19 item 1 and 4): who
//! can receive Service Data. Subprocessors carry what they may receive and
//! their data-centre locations; adding one records a change notice to
//! customers, and it receives nothing until the notice's lead time passed.

use serde::{Deserialize, Serialize};
use steward_domain::{Category, PrincipalKind, ProcessorService, RecipientKind, RecipientRole};
use steward_store::{ChangeSet, RegistryTable};

use super::{DAY_MS, new_id, now_ms, rfc3339};
use crate::authorize::{ManagementAction, Target};
use crate::entry::{system_entry, token};
use crate::rows::{parse_row, row_json};
use crate::{CoreError, Steward};

/// A registered recipient, as stored in the `recipients` registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// Id (`rcp_` and 16 hex digits).
    pub id: String,
    /// Kind (third_party_app, subprocessor, affiliate, authority, other_controller).
    pub kind: RecipientKind,
    /// Legal name.
    pub legal_name: String,
    /// Postal address.
    pub address: String,
    /// Representative (a name or role).
    pub representative: String,
    /// Country, ISO 3166-1 alpha-2.
    pub country: String,
    /// Role: controller, processor or subprocessor.
    pub role: RecipientRole,
    /// The contract or data processing agreement reference.
    pub contract: String,
    /// The Steward principal that acts as this recipient: required for a
    /// third-party app (its tokens reach only what is granted, N6.3) and an
    /// affiliate (bound by the same pack, N6.1); optional for a
    /// subprocessor, whose principal (of kind `processor`) reads what its
    /// `service` and instruments cover (N6.6, issue 17 item 4).
    pub principal: Option<String>,
    /// For a subprocessor: the categories it may receive (N6.6: support
    /// ticket content to support providers, contact details to
    /// professional-services providers); empty for other kinds.
    pub categories: Vec<Category>,
    /// For a subprocessor: the service it provides (N6.6, issue 17 item
    /// 4): `support_ticket` (the cases assigned to it) or
    /// `professional_services` (the subjects its current engagements
    /// cover). `None`: it receives disclosures only; its principal, if
    /// any, reads nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ProcessorService>,
    /// For a subprocessor: its data-centre locations (N8.9), ISO country codes.
    pub locations: Vec<String>,
    /// Who owns the relationship (a principal name).
    pub owner: String,
    /// Days between reviews.
    pub review_interval_days: u32,
    /// When it was registered (ms since the epoch); for a subprocessor,
    /// when the change notice to customers was recorded.
    pub registered_at_ms: i64,
    /// For a subprocessor: the first instant it may receive (registration
    /// plus the lead time, N6.6); `None` for other kinds.
    pub receives_from_ms: Option<i64>,
    /// Who registered it.
    pub registered_by: String,
}

/// What [`Steward::add_recipient`] is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRecipient {
    /// Kind.
    pub kind: RecipientKind,
    /// Legal name.
    pub legal_name: String,
    /// Postal address.
    pub address: String,
    /// Representative.
    pub representative: String,
    /// Country (ISO 3166-1 alpha-2, upper case).
    pub country: String,
    /// Role.
    pub role: RecipientRole,
    /// Contract or DPA reference.
    pub contract: String,
    /// The principal acting as this recipient (apps and affiliates).
    #[serde(default)]
    pub principal: Option<String>,
    /// Subprocessors: the categories it may receive.
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Subprocessors: the service provided (N6.6); see [`Recipient::service`].
    #[serde(default)]
    pub service: Option<ProcessorService>,
    /// Subprocessors: data-centre locations (ISO country codes).
    #[serde(default)]
    pub locations: Vec<String>,
    /// Owner (principal name).
    pub owner: String,
    /// Review interval, days (1 to 3660).
    pub review_interval_days: u32,
}

fn country_ok(c: &str) -> bool {
    c.len() == 2 && c.chars().all(|c| c.is_ascii_uppercase())
}

impl NewRecipient {
    /// Every field checked; the first problem named with its field.
    fn check(&self) -> Result<(), CoreError> {
        let bad = |field: &str, why: &str| Err(CoreError::Input(format!("{field}: {why}")));
        for (field, v) in [
            ("legal_name", &self.legal_name),
            ("address", &self.address),
            ("representative", &self.representative),
            ("contract", &self.contract),
            ("owner", &self.owner),
        ] {
            if v.trim().is_empty() || v.len() > 400 {
                return bad(field, "required, at most 400 characters");
            }
        }
        if !country_ok(&self.country) {
            return bad("country", "an ISO 3166-1 alpha-2 code such as JP or US");
        }
        if !(1..=3660).contains(&self.review_interval_days) {
            return bad("review_interval_days", "between 1 and 3660 days");
        }
        let sub = self.kind == RecipientKind::Subprocessor;
        if sub != (self.role == RecipientRole::Subprocessor) {
            return bad(
                "role",
                "a subprocessor recipient has role subprocessor, and only a subprocessor has it",
            );
        }
        if sub && (self.categories.is_empty() || self.locations.is_empty()) {
            return bad(
                "categories",
                "a subprocessor names the categories it may receive and its data-centre locations (N6.6, N8.9)",
            );
        }
        if !sub && !(self.categories.is_empty() && self.locations.is_empty()) {
            return bad(
                "categories",
                "only a subprocessor is registered with categories and locations",
            );
        }
        if let Some(l) = self.locations.iter().find(|l| !country_ok(l)) {
            let _ = l;
            return bad("locations", "ISO 3166-1 alpha-2 codes such as JP or US");
        }
        let needs_principal = matches!(
            self.kind,
            RecipientKind::ThirdPartyApp | RecipientKind::Affiliate
        );
        if !sub && needs_principal != self.principal.is_some() {
            return bad(
                "principal",
                "a third-party app (N6.3) and an affiliate (N6.1) name the principal that acts as them, a subprocessor may (its processor principal, N6.6); other kinds name none",
            );
        }
        if !sub && self.service.is_some() {
            return bad(
                "service",
                "only a subprocessor provides a service (support_ticket or professional_services, N6.6)",
            );
        }
        if sub && self.principal.is_some() && self.service.is_none() {
            return bad(
                "service",
                "a subprocessor that acts through a principal names its service: support_ticket or professional_services (N6.6)",
            );
        }
        Ok(())
    }
}

impl Steward {
    /// Register a recipient, as `by` (decided as
    /// [`ManagementAction::RecipientAdd`]: `manage_transfers` for
    /// `protect`, legal and privacy staff; N8.9), audited in the same
    /// commit. A subprocessor's registration is its change notice to
    /// customers (N6.6): it receives nothing before
    /// `registered + [sharing] subprocessor_lead_days`.
    ///
    /// Errors: [`CoreError::Input`] naming the field (nothing stored); an
    /// app's principal that is not a `third_party_app`, an affiliate's that
    /// is not `affiliate_staff`; [`CoreError::Denied`] (audited).
    pub fn add_recipient(&self, by: &str, new: NewRecipient) -> Result<Recipient, CoreError> {
        new.check()?;
        if let Some(name) = &new.principal {
            let p = self.principal(name)?;
            let want = match new.kind {
                RecipientKind::ThirdPartyApp => PrincipalKind::ThirdPartyApp,
                RecipientKind::Subprocessor => PrincipalKind::Processor,
                _ => PrincipalKind::AffiliateStaff,
            };
            // A principal acts as one recipient: what it reaches follows
            // from that one registration (N6.6, issue 17 item 4).
            if let Some(r) = self.recipient_of_principal(name)? {
                return Err(CoreError::Input(format!(
                    "principal: `{name}` already acts as recipient {}; register another principal",
                    r.id
                )));
            }
            if p.kind != want {
                return Err(CoreError::Input(format!(
                    "principal: `{name}` is a {}, and a {} recipient acts as a {want} principal",
                    p.kind, new.kind
                )));
            }
        }
        let principal = self.principal(by)?;
        let (decision, mut entry) = self.decide_management(
            &principal,
            ManagementAction::RecipientAdd,
            Target::named("recipients"),
        )?;
        let now = now_ms(self);
        let sub = new.kind == RecipientKind::Subprocessor;
        let r = Recipient {
            id: new_id("rcp"),
            kind: new.kind,
            legal_name: new.legal_name,
            address: new.address,
            representative: new.representative,
            country: new.country,
            role: new.role,
            contract: new.contract,
            principal: new.principal,
            categories: new.categories,
            service: new.service,
            locations: new.locations,
            owner: new.owner,
            review_interval_days: new.review_interval_days,
            registered_at_ms: now,
            receives_from_ms: sub
                .then(|| now + i64::from(self.config.sharing.subprocessor_lead_days) * DAY_MS),
            registered_by: by.to_owned(),
        };
        entry.resource = entry.resource.id(token(&r.id));
        let mut notice = system_entry(
            if sub {
                "subprocessor_change_notice"
            } else {
                "recipient_add"
            },
            &r.id,
            "",
            self.policy.version(),
        );
        notice.principal = token(by);
        notice.clause_ids = vec![token("N8.9"), token(if sub { "N6.6" } else { "N6.2" })];
        if let Some(from) = r.receives_from_ms {
            notice.resource = notice
                .resource
                .id(token(&format!("receives_from:{}", &rfc3339(from)[..10])));
        }
        let _ = decision;
        self.store()?
            .commit(ChangeSet {
                registry: vec![(RegistryTable::Recipients, r.id.clone(), row_json(&r)?)],
                audit: vec![entry, notice],
                ..Default::default()
            })
            .map_err(|e| CoreError::AuditUnavailable(e.to_string()))?;
        Ok(r)
    }

    /// Every registered recipient, by id.
    pub fn recipients(&self) -> Result<Vec<Recipient>, CoreError> {
        self.store()?
            .registry_list(RegistryTable::Recipients)?
            .into_iter()
            .map(|(k, b)| parse_row(RegistryTable::Recipients, &k, &b))
            .collect()
    }

    /// The recipient `id`. Errors: [`CoreError::Input`] naming an unknown id.
    pub fn recipient(&self, id: &str) -> Result<Recipient, CoreError> {
        let body = self
            .store()?
            .registry_get(RegistryTable::Recipients, id)?
            .ok_or_else(|| {
                CoreError::Input(format!(
                    "recipient: `{}` is not registered; list them with `steward recipients list`, register one with `steward recipients add`",
                    id.chars().take(40).collect::<String>()
                ))
            })?;
        parse_row(RegistryTable::Recipients, id, &body)
    }

    /// The recipient that the principal `name` acts as (a third-party app
    /// or an affiliate), if one is registered.
    pub fn recipient_of_principal(&self, name: &str) -> Result<Option<Recipient>, CoreError> {
        Ok(self
            .recipients()?
            .into_iter()
            .find(|r| r.principal.as_deref() == Some(name)))
    }
}
