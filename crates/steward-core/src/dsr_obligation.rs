//! The legal obligation an operator's export or erasure answers (N3.7, N7.2,
//! N8.8): checked before anything is recorded, so an export or erasure that
//! names nobody, or that the pack would refuse, leaves no obligation behind
//! (issue 18, item 8).

use steward_domain::Purpose;
use steward_policy::Action;

use crate::services::ObligationScope;
use crate::{AccessRequest, CoreError, Steward};

impl Steward {
    /// The obligation that `by`'s `action` (export or erase) of `subject`
    /// for `purpose` answers: `given` when named, else a new
    /// `data_subject_request` obligation with `reference`, concerning that
    /// subject only and citable by `by` only.
    ///
    /// Before recording one:
    /// - the identifier must name a live data subject, else
    ///   [`CoreError::NotFound`] ("matches no data subject", no value
    ///   echoed): nothing to export or erase, and no empty ZIP;
    /// - the gate's decision, as if the obligation were recorded, must
    ///   allow the access, else the gate records its denial and returns
    ///   [`CoreError::Denied`], and no obligation is recorded.
    ///
    /// Errors also: [`CoreError::Input`] for an action other than export or
    /// erase; the errors of [`Steward::record_obligation_for`].
    pub fn dsr_obligation(
        &self,
        by: &str,
        action: Action,
        purpose: Purpose,
        subject: &str,
        given: Option<String>,
        reference: &str,
    ) -> Result<String, CoreError> {
        if !matches!(action, Action::Export | Action::Erase) {
            return Err(CoreError::Input(
                "a data subject request's obligation answers an export or an erasure".into(),
            ));
        }
        if self.find(subject)?.is_none() {
            let what = match action {
                Action::Export => "nothing to export",
                _ => "nothing to erase",
            };
            let held = self.held_notice(subject)?;
            if !held.is_empty() {
                let kinds: Vec<String> = held
                    .iter()
                    .map(|h| format!("{} {} ({}, until {})", h.count, h.kind, h.reason, h.until))
                    .collect();
                return Err(CoreError::NotFound(format!(
                    "the subject was erased: {what}, and no obligation was recorded; records kept under a legal hold (N3.7): {}; read them for comply with a recorded legal obligation (`steward read --purpose comply --obligation ID --subject {subject}`)",
                    kinds.join("; ")
                )));
            }
            return Err(CoreError::NotFound(format!(
                "the subject identifier matches no data subject: {what}, and no obligation was recorded; check the identifier's kind and spelling (`steward find`)"
            )));
        }
        if let Some(id) = given {
            return Ok(id);
        }
        let req = AccessRequest::new(by, action, subject).purpose(purpose);
        if !self.predecide_presuming_obligation(&req)? {
            return self.deny_through_gate(&req);
        }
        let scope = ObligationScope {
            organisation: None,
            subjects: vec![subject.to_owned()],
            cited_by: vec![by.to_owned()],
            categories: vec![],
        };
        Ok(self
            .record_obligation_for(by, "data_subject_request", reference, &scope)?
            .id
            .into())
    }
}
