//! Issue 21 item 1: a principal's Cedar inputs are built once and reused,
//! and the next decision after a change to the principal (team, kind,
//! revocation), to its grants or to the pack uses the new facts: a cached
//! allow never outlives what allowed it.

use steward_domain::{Category, Principal, PrincipalKind, Purpose, Team};
use steward_policy::{
    Action, DecisionBasis, DecisionRequest, MANIFEST_FILE, PolicyEngine, RequestContext,
    SCHEMA_FILE, default_pack_files,
};
use time::{Date, Duration, Month};

fn today() -> Date {
    Date::from_calendar_date(2024, Month::June, 1).unwrap()
}

fn alice() -> Principal {
    Principal {
        name: "alice".into(),
        kind: PrincipalKind::Employee,
        teams: vec![Team::Billing],
        confidentiality_signed_on: Some(today() - Duration::days(100)),
        training_expires_on: Some(today() + Duration::days(100)),
        engagement_ends_on: None,
        subject: None,
        organisations: vec![],
        revoked: false,
    }
}

/// Billing staff reading one subject's billing to provide the services,
/// under a need-to-know grant (`staff-billing-read`, N3.1, N3.8).
fn billing_read(p: &Principal, grant: bool) -> DecisionRequest<'_> {
    DecisionRequest {
        principal: p,
        action: Action::Read,
        subject: Some("sub_0000000000000001"),
        category: Some(Category::Billing),
        kind: None,
        organisation: None,
        purpose: Some(Purpose::ProvideServices),
        context: RequestContext {
            grant_for_subject: grant,
            ..RequestContext::new(today())
        },
    }
}

/// Allowed by `staff-billing-read`, decided on a warm engine.
fn assert_allowed(e: &PolicyEngine, p: &Principal) {
    let d = e.decide(&billing_read(p, true));
    assert!(d.allowed, "{d:?}");
    assert_eq!(d.policy_ids, ["staff-billing-read"]);
}

#[test]
fn a_revocation_denies_the_next_decision_n5_5() {
    let e = PolicyEngine::default_pack().unwrap();
    let mut p = alice();
    for _ in 0..3 {
        assert_allowed(&e, &p);
    }
    p.revoked = true;
    let d = e.decide(&billing_read(&p, true));
    assert!(!d.allowed);
    assert_eq!(d.basis, DecisionBasis::Forbid);
    assert!(d.policy_ids.contains(&"forbid-revoked".to_owned()), "{d:?}");
    // Reinstated: allowed again, from inputs built anew.
    p.revoked = false;
    assert_allowed(&e, &p);
}

#[test]
fn a_team_change_takes_effect_on_the_next_decision_n5_5() {
    let e = PolicyEngine::default_pack().unwrap();
    let mut p = alice();
    assert_allowed(&e, &p);
    p.teams = vec![Team::Engineering];
    let d = e.decide(&billing_read(&p, true));
    assert!(!d.allowed, "{d:?}");
    assert_eq!(d.basis, DecisionBasis::DefaultDeny);
    p.teams = vec![Team::Billing];
    assert_allowed(&e, &p);
}

#[test]
fn a_kind_change_takes_effect_on_the_next_decision_n8_6() {
    let e = PolicyEngine::default_pack().unwrap();
    let mut p = alice();
    assert_allowed(&e, &p);
    // A contractor whose engagement ended yesterday (N8.6).
    p.kind = PrincipalKind::Contractor;
    p.engagement_ends_on = Some(today() - Duration::days(1));
    let d = e.decide(&billing_read(&p, true));
    assert!(!d.allowed, "{d:?}");
    assert_eq!(d.policy_ids, ["forbid-engagement-ended"]);
    // The same name as an internal service: decided by the service permit
    // (N3.1), not the staff one.
    p.kind = PrincipalKind::Service;
    p.engagement_ends_on = None;
    let d = e.decide(&billing_read(&p, true));
    assert!(d.allowed, "{d:?}");
    assert_eq!(d.policy_ids, ["service-read-provide"]);
    // Back to an employee: the staff permit again.
    p.kind = PrincipalKind::Employee;
    assert_allowed(&e, &p);
}

#[test]
fn a_revoked_grant_denies_the_next_decision_n3_8() {
    let e = PolicyEngine::default_pack().unwrap();
    let p = alice();
    assert_allowed(&e, &p);
    // The grant is gone: no justification is cited, so a person's read of
    // one subject is refused (N3.8).
    let d = e.decide(&billing_read(&p, false));
    assert!(!d.allowed, "{d:?}");
    assert_eq!(d.policy_ids, ["forbid-manual-review-without-justification"]);
    assert_allowed(&e, &p);
}

#[test]
fn a_reloaded_pack_decides_with_its_own_policies() {
    let old = PolicyEngine::default_pack().unwrap();
    let p = alice();
    assert_allowed(&old, &p);
    // The same pack without `staff-billing-read`, loaded as an operator's
    // reload would: the warm engine's prepared inputs play no part.
    let files = default_pack_files();
    let text = |name: &str| files.iter().find(|(n, _)| *n == name).unwrap().1;
    let policies: Vec<(&str, String)> = files
        .iter()
        .filter(|(n, _)| n.ends_with(".cedar"))
        .map(|&(name, text)| (name, without_policy(text, "staff-billing-read")))
        .collect();
    let removed: usize = files
        .iter()
        .filter(|(n, _)| n.ends_with(".cedar"))
        .map(|(_, t)| t.len())
        .sum::<usize>()
        - policies.iter().map(|(_, t)| t.len()).sum::<usize>();
    assert!(removed > 100, "the policy was found and removed");
    let refs: Vec<(&str, &str)> = policies.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let new = PolicyEngine::from_sources(text(MANIFEST_FILE), text(SCHEMA_FILE), &refs).unwrap();
    assert!(new.policy("staff-billing-read").is_none());
    let d = new.decide(&billing_read(&p, true));
    assert!(!d.allowed, "{d:?}");
    assert_eq!(d.basis, DecisionBasis::DefaultDeny);
}

/// `text` without the policy annotated `@id("<id>")`: from its annotations
/// to the `};` that ends it.
fn without_policy(text: &str, id: &str) -> String {
    let marker = format!("@id(\"{id}\")");
    let Some(at) = text.find(&marker) else {
        return text.to_owned();
    };
    let end = text[at..].find("};").map(|i| at + i + 2).unwrap();
    format!("{}{}", &text[..at], &text[end..])
}
