//! The Cedar context attributes of a disclosure (N6.2-N6.7): the optional
//! `disclosure_basis`, `recipient_kind`, `consent_state` and `grant_state`
//! of the schema's `RequestContext`, set only for action `disclose`.

use cedar_policy::RestrictedExpression;

use crate::request::DisclosureFacts;

/// The four attributes of `facts`, each the closed vocabulary's key.
pub(super) fn pairs(facts: &DisclosureFacts) -> [(String, RestrictedExpression); 4] {
    let s = |v: &str| RestrictedExpression::new_string(v.to_owned());
    [
        ("disclosure_basis".to_owned(), s(facts.basis.as_str())),
        (
            "recipient_kind".to_owned(),
            s(facts.recipient_kind.as_str()),
        ),
        ("consent_state".to_owned(), s(facts.consent.as_str())),
        ("grant_state".to_owned(), s(facts.grant.as_str())),
    ]
}
