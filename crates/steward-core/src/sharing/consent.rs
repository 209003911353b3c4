//! The consent ledger (N6.4; issue 19 item 5): subject, what it covers
//! (a recipient and/or a purpose), the notice version shown, given and
//! withdrawn times, method, expiry. A consent-based disclosure needs a
//! consent current at that moment; a withdrawal stops the next disclosure.
//! Global Privacy Control conflicts are resolved by `gpc.rs`'s rule.

use serde::{Deserialize, Serialize};
use steward_domain::{ConsentMethod, ConsentState, PrincipalKind, Purpose, SubjectId};
use steward_store::{ChangeSet, RegistryField, RegistryQuery, RegistryTable};

use super::gpc::GpcSignal;
use super::{DAY_MS, new_id, now_ms};
use crate::entry::{system_entry, token};
use crate::rows::{parse_row, row_json};
use crate::{CoreError, Steward};

/// One consent, as stored in `consents` (key `cns_…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// Id (`cns_…`).
    pub id: String,
    /// The subject (opaque `sub_` id).
    pub subject: String,
    /// The recipient it covers (`rcp_…`); `None`: any recipient.
    pub recipient: Option<String>,
    /// The purpose it covers; `None`: any purpose.
    pub purpose: Option<Purpose>,
    /// The notice version shown when it was given (`YYYY-MM-DD`).
    pub notice_version: String,
    /// Given, ms since the epoch.
    pub given_at_ms: i64,
    /// Withdrawn, if it was.
    pub withdrawn_at_ms: Option<i64>,
    /// How it was given (never `gpc`: a GPC signal only opts out).
    pub method: ConsentMethod,
    /// Expiry, if any.
    pub expires_at_ms: Option<i64>,
    /// The principal that recorded it.
    pub recorded_by: String,
}

/// What [`Steward::give_consent`] is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewConsent {
    /// The subject (`sub_` id).
    pub subject: String,
    /// The recipient (`rcp_…`), if the consent is for one.
    #[serde(default)]
    pub recipient: Option<String>,
    /// The purpose, if the consent is for one.
    #[serde(default)]
    pub purpose: Option<Purpose>,
    /// How it was given.
    pub method: ConsentMethod,
    /// Days until it expires (1 to 3660), if it does.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// The consent state of a disclosure, the consent relied on, and what GPC did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentDecision {
    /// The state the pack decides on.
    pub state: ConsentState,
    /// The consent relied on (current) or found (withdrawn, expired).
    pub consent: Option<String>,
    /// `Some(true)`: a GPC signal was applied (the disclosure is refused);
    /// `Some(false)`: a later explicit consent overrode it; `None`: no signal.
    pub gpc_applied: Option<bool>,
}

fn covers(c: &Consent, recipient: &str, purpose: Option<Purpose>) -> bool {
    c.recipient.as_deref().is_none_or(|r| r == recipient)
        && c.purpose.is_none_or(|p| Some(p) == purpose)
}

/// The consent state for disclosing `subject`'s data to `recipient` for
/// `purpose` now (N6.4), with the GPC conflict rule ([`super::GPC_RULE`]).
pub(crate) fn consent_state(
    st: &Steward,
    subject: Option<SubjectId>,
    recipient: &str,
    purpose: Option<Purpose>,
) -> Result<ConsentDecision, CoreError> {
    let none = ConsentDecision {
        state: ConsentState::None,
        consent: None,
        gpc_applied: None,
    };
    let Some(subject) = subject else {
        return Ok(none);
    };
    let now = now_ms(st);
    let s = subject.to_string();
    let consents: Vec<Consent> = st
        .consents_of(&s)?
        .into_iter()
        .filter(|c| covers(c, recipient, purpose) && c.given_at_ms <= now)
        .collect();
    let current = |c: &&Consent| {
        c.withdrawn_at_ms.is_none_or(|w| w > now) && c.expires_at_ms.is_none_or(|e| e > now)
    };
    if let Some(gpc) = st.gpc_signal(&s)?.filter(|g| g.first_seen_ms <= now) {
        // The rule (GPC_RULE): an explicit consent for this recipient,
        // given after the signal, by another method than GPC, overrides it.
        let overriding = consents.iter().filter(current).find(|c| {
            c.recipient.as_deref() == Some(recipient)
                && c.method != ConsentMethod::Gpc
                && c.given_at_ms > gpc.first_seen_ms
        });
        return Ok(match overriding {
            Some(c) => ConsentDecision {
                state: ConsentState::Current,
                consent: Some(c.id.clone()),
                gpc_applied: Some(false),
            },
            None => ConsentDecision {
                state: ConsentState::Gpc,
                consent: None,
                gpc_applied: Some(true),
            },
        });
    }
    if let Some(c) = consents.iter().find(current) {
        return Ok(ConsentDecision {
            state: ConsentState::Current,
            consent: Some(c.id.clone()),
            gpc_applied: None,
        });
    }
    let withdrawn = consents.iter().find(|c| c.withdrawn_at_ms.is_some());
    let expired = consents.iter().find(|c| c.expires_at_ms.is_some());
    Ok(match (withdrawn, expired) {
        (Some(c), _) => ConsentDecision {
            state: ConsentState::Withdrawn,
            consent: Some(c.id.clone()),
            gpc_applied: None,
        },
        (None, Some(c)) => ConsentDecision {
            state: ConsentState::Expired,
            consent: Some(c.id.clone()),
            gpc_applied: None,
        },
        (None, None) => none,
    })
}

impl Steward {
    /// Every consent of subject `sub` (opaque id).
    pub(crate) fn consents_of(&self, sub: &str) -> Result<Vec<Consent>, CoreError> {
        let mut out = Vec::new();
        for (k, b) in self.store()?.registry_find(
            RegistryTable::Consents,
            RegistryQuery::Equals(RegistryField::Subject, sub),
        )? {
            let c: Consent = parse_row(RegistryTable::Consents, &k, &b)?;
            if c.subject == sub {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Who may record or withdraw a consent of `subject`: the data subject
    /// themselves, or an internal service that collected it (console, API,
    /// email). Anyone else is refused, and the refusal audited (N6.4).
    fn consent_actor(&self, by: &str, subject: SubjectId, op: &str) -> Result<(), CoreError> {
        let p = self.principal(by)?;
        let own = p.kind == PrincipalKind::DataSubject && p.subject == Some(subject);
        if !p.revoked && (own || p.kind == PrincipalKind::Service) {
            return Ok(());
        }
        Err(self.refuse(
            &p,
            op,
            Some(subject),
            "consent-by-subject-or-service",
            "N6.4",
            "a consent is recorded, withdrawn or listed only by the data subject themselves or the internal service that collected it (N6.4)".into(),
        ))
    }

    /// Record a consent, as `by` (the data subject themselves, or an
    /// internal service that collected it), with the notice version in
    /// force, audited in the same commit (N6.4).
    ///
    /// Errors ([`CoreError::Input`], nothing stored): a subject that is not
    /// a `sub_` id, an unknown recipient, method `gpc` (a GPC signal is
    /// never a consent), an expiry outside 1 to 3660 days.
    pub fn give_consent(&self, by: &str, new: NewConsent) -> Result<Consent, CoreError> {
        let subject: SubjectId = new
            .subject
            .parse()
            .map_err(|_| CoreError::Input("subject: give the subject's sub_ id".into()))?;
        if let Some(r) = &new.recipient {
            self.recipient(r)?;
        }
        if new.method == ConsentMethod::Gpc {
            return Err(CoreError::Input(
                "method: gpc is an opt-out signal, never a consent (GPC specification); use console, api or email".into(),
            ));
        }
        if new
            .expires_in_days
            .is_some_and(|d| !(1..=3660).contains(&d))
        {
            return Err(CoreError::Input(
                "expires_in_days: between 1 and 3660".into(),
            ));
        }
        self.consent_actor(by, subject, "consent_give")?;
        let now = now_ms(self);
        let c = Consent {
            id: new_id("cns"),
            subject: subject.to_string(),
            recipient: new.recipient,
            purpose: new.purpose,
            notice_version: self.notice_version(),
            given_at_ms: now,
            withdrawn_at_ms: None,
            method: new.method,
            expires_at_ms: new.expires_in_days.map(|d| now + i64::from(d) * DAY_MS),
            recorded_by: by.into(),
        };
        self.commit_consent(by, &c, "consent_give", None)?;
        Ok(c)
    }

    /// Withdraw consent `id`, as `by` (as for [`Steward::give_consent`]),
    /// audited: the next disclosure on it is refused (N6.4).
    ///
    /// Errors: [`CoreError::Input`] for an unknown id;
    /// [`CoreError::Conflict`] when already withdrawn.
    pub fn withdraw_consent(&self, by: &str, id: &str) -> Result<Consent, CoreError> {
        let body = self
            .store()?
            .registry_get(RegistryTable::Consents, id)?
            .ok_or_else(|| CoreError::Input("consent: no such consent id (cns_…)".into()))?;
        let mut c: Consent = parse_row(RegistryTable::Consents, id, &body)?;
        let subject: SubjectId = c
            .subject
            .parse()
            .map_err(|_| CoreError::Input(format!("consent {id}: its subject is not a sub_ id")))?;
        self.consent_actor(by, subject, "consent_withdraw")?;
        if c.withdrawn_at_ms.is_some() {
            return Err(CoreError::Conflict(format!(
                "consent {id} is already withdrawn"
            )));
        }
        c.withdrawn_at_ms = Some(now_ms(self));
        self.commit_consent(by, &c, "consent_withdraw", Some(body))?;
        Ok(c)
    }

    fn commit_consent(
        &self,
        by: &str,
        c: &Consent,
        op: &str,
        expected: Option<String>,
    ) -> Result<(), CoreError> {
        let subject: SubjectId = c
            .subject
            .parse()
            .map_err(|_| CoreError::Input("subject: not a sub_ id".into()))?;
        let mut e = system_entry(op, &c.id, "", self.policy.version());
        e.principal = token(by);
        e.clause_ids = vec![token("N6.4")];
        e.resource = e
            .resource
            .subject(steward_audit::SubjectRef::new(subject.0 as u64))
            .id(token(&format!("method:{}", c.method)));
        let guards = expected
            .map(|b| steward_store::RegistryGuard {
                table: RegistryTable::Consents,
                id: c.id.clone(),
                expected: Some(b),
            })
            .into_iter()
            .collect();
        self.store()?
            .commit(ChangeSet {
                registry: vec![(RegistryTable::Consents, c.id.clone(), row_json(c)?)],
                audit: vec![e],
                guards,
                ..Default::default()
            })
            .map_err(|e| CoreError::AuditUnavailable(e.to_string()))?;
        Ok(())
    }

    /// The consents of subject `sub` and their GPC signal, as the subject
    /// themselves or an internal service (N6.4).
    pub fn consents(
        &self,
        by: &str,
        sub: &str,
    ) -> Result<(Vec<Consent>, Option<GpcSignal>), CoreError> {
        let subject: SubjectId = sub
            .parse()
            .map_err(|_| CoreError::Input("subject: give the subject's sub_ id".into()))?;
        self.consent_actor(by, subject, "consent_list")?;
        Ok((self.consents_of(sub)?, self.gpc_signal(sub)?))
    }
}
