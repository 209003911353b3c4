use super::*;
use std::str::FromStr;
use steward_domain::{CaseKind, PrincipalKind, Purpose, Team};
use time::Date;

fn guard(src: &str) -> Option<Guard> {
    let p = cedar_policy::Policy::from_str(src).unwrap();
    Guard::of(&p.to_json().unwrap())
}

fn day(d: u8) -> Date {
    Date::from_calendar_date(2024, time::Month::June, d).unwrap()
}

fn staff(teams: Vec<Team>) -> Principal {
    Principal {
        name: "p".into(),
        kind: PrincipalKind::Employee,
        teams,
        confidentiality_signed_on: Some(day(1)),
        training_expires_on: Some(day(20)),
        engagement_ends_on: None,
        subject: None,
        organisations: vec![],
        revoked: false,
    }
}

fn key(purpose: Purpose) -> ContextKey {
    ContextKey {
        purpose,
        open_case: false,
        case_kind: None,
        legal: false,
        obligation_kind: None,
        covers: false,
        grant: false,
        incident: false,
        processor_service: None,
        assigned: false,
        engagement: false,
        aggregate: false,
        operator: false,
    }
}

fn known<'a>(key: &'a ContextKey, p: &'a Principal, today: u8) -> Known<'a> {
    Known {
        key,
        today: days_since_epoch(day(today)),
        principal: p,
        category: Some(Category::Billing),
        subject_given: true,
        cross_region: false,
    }
}

#[test]
fn a_date_obligation_is_ruled_out_only_while_it_is_met() {
    // The pack's confidentiality forbid (N5.5): staff whose signature is
    // on or before today are not forbidden; a later or missing one is.
    let g = guard(
        r#"forbid (principal, action, resource) when { principal.is_staff }
           unless { principal has confidentiality_signed_on &&
                    principal.confidentiality_signed_on <= context.today };"#,
    )
    .unwrap();
    let k = key(Purpose::ProvideServices);
    let mut p = staff(vec![Team::Billing]);
    assert!(g.rules_out(&known(&k, &p, 1)), "signed on the day itself");
    assert!(g.rules_out(&known(&k, &p, 15)));
    p.confidentiality_signed_on = Some(day(2));
    assert!(!g.rules_out(&known(&k, &p, 1)), "signed tomorrow");
    p.confidentiality_signed_on = None;
    assert!(!g.rules_out(&known(&k, &p, 15)), "never signed");
    // Not staff: the `when` is false.
    p.kind = PrincipalKind::Service;
    assert!(g.rules_out(&known(&k, &p, 15)));

    // `today <= d` is read as `d >= today`.
    let g = guard(
        r#"forbid (principal, action, resource) when { principal.is_staff }
           unless { principal has training_expires_on && context.today <= principal.training_expires_on };"#,
    )
    .unwrap();
    let p = staff(vec![]);
    assert!(g.rules_out(&known(&k, &p, 20)), "expires today: current");
    assert!(!g.rules_out(&known(&k, &p, 21)), "expired yesterday");
}

#[test]
fn context_facts_teams_and_strings_rule_out_a_permit() {
    let g = guard(
        r#"permit (principal, action, resource) when {
             principal.is_staff && principal.teams.contains("billing") &&
             context.purpose == "provide_services" &&
             (resource.category == "billing" || resource.category == "account") &&
             resource.subject != "" &&
             ((context.open_case_for_subject && context.case_kind == "billing") ||
              context.grant_for_subject) };"#,
    )
    .unwrap();
    let billing = staff(vec![Team::Billing]);
    let mut k = key(Purpose::ProvideServices);
    // Neither a billing case nor a grant.
    assert!(g.rules_out(&known(&k, &billing, 5)));
    k.grant = true;
    assert!(!g.rules_out(&known(&k, &billing, 5)));
    k.grant = false;
    k.open_case = true;
    k.case_kind = Some(CaseKind::Technical);
    assert!(g.rules_out(&known(&k, &billing, 5)), "a technical case");
    k.case_kind = Some(CaseKind::Billing);
    assert!(!g.rules_out(&known(&k, &billing, 5)));
    // Another team, another purpose, another category, no subject.
    let support = staff(vec![Team::Support]);
    assert!(g.rules_out(&known(&k, &support, 5)));
    let assist = ContextKey {
        purpose: Purpose::Assist,
        ..k
    };
    assert!(g.rules_out(&known(&assist, &billing, 5)));
    let mut kn = known(&k, &billing, 5);
    kn.category = Some(Category::Usage);
    assert!(g.rules_out(&kn));
    kn.category = Some(Category::Account);
    assert!(!g.rules_out(&kn));
    kn.subject_given = false;
    assert!(g.rules_out(&kn));
}

#[test]
fn an_unless_of_cited_justifications_rules_out_the_forbid() {
    let g = guard(
        r#"forbid (principal, action, resource)
           when { principal.is_staff && resource.subject != "" }
           unless { context.open_case_for_subject || context.legal_obligation_recorded ||
                    context.grant_for_subject || context.incident_for_subject };"#,
    )
    .unwrap();
    let p = staff(vec![Team::Support]);
    let mut k = key(Purpose::Assist);
    assert!(
        !g.rules_out(&known(&k, &p, 5)),
        "nothing cited: it may forbid"
    );
    k.incident = true;
    assert!(g.rules_out(&known(&k, &p, 5)));
    let g =
        guard(r#"forbid (principal, action, resource) when { resource.cross_region };"#).unwrap();
    let mut kn = known(&k, &p, 5);
    assert!(g.rules_out(&kn));
    kn.cross_region = true;
    assert!(!g.rules_out(&kn));
}

#[test]
fn what_is_not_known_keeps_the_policy() {
    // The subject's and organisation's values, disclosure facts: no guard.
    for src in [
        r#"permit (principal, action, resource) when { principal has subject && resource.subject == principal.subject };"#,
        r#"permit (principal, action, resource) when { principal.organisations.contains(resource.organisation) };"#,
        r#"forbid (principal, action, resource) when { context has consent_state && context.consent_state == "withdrawn" };"#,
    ] {
        assert_eq!(guard(src), None, "{src}");
    }
    // A known conjunct beside an unknown one still rules out when false,
    // and never rules in: the unknown part keeps it otherwise.
    let g = guard(
        r#"permit (principal, action, resource) when {
             principal.kind == "data_subject" && principal has subject &&
             resource.subject == principal.subject };"#,
    )
    .unwrap();
    let k = key(Purpose::ProvideServices);
    let mut p = staff(vec![]);
    assert!(g.rules_out(&known(&k, &p, 5)));
    p.kind = PrincipalKind::DataSubject;
    assert!(!g.rules_out(&known(&k, &p, 5)));
    // An `||` with an unknown side is unknown unless the known side is true.
    let g = guard(
        r#"permit (principal, action, resource) when {
             context.grant_for_subject || resource.organisation == "x" };"#,
    )
    .unwrap();
    assert!(!g.rules_out(&known(&k, &p, 5)));
}
