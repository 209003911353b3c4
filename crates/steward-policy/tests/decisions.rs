//! What a decision says: deciding policies, clauses, reasons in plain words,
//! and that nothing (no purpose, bad input, a failing policy) gets through.

use std::str::FromStr;

use proptest::prelude::*;
use steward_domain::{Category, Principal, PrincipalKind, Purpose, SubjectId, Team};
use steward_policy::{
    Action, DecisionBasis, DecisionRequest, PolicyEngine, RequestContext, default_pack_files,
};
use time::{Date, Duration, Month};

fn today() -> Date {
    Date::from_calendar_date(2024, Month::June, 1).unwrap()
}

fn staff(team: Team) -> Principal {
    Principal {
        name: "alice".into(),
        kind: PrincipalKind::Employee,
        teams: vec![team],
        confidentiality_signed_on: Some(today() - Duration::days(100)),
        training_expires_on: Some(today() + Duration::days(100)),
        engagement_ends_on: None,
        subject: None,
        organisations: vec![],
        revoked: false,
    }
}

fn read<'a>(p: &'a Principal, category: Category, purpose: Purpose) -> DecisionRequest<'a> {
    DecisionRequest {
        principal: p,
        action: Action::Read,
        subject: Some("sub_0000000000000001"),
        category: Some(category),
        organisation: None,
        kind: None,
        purpose: Some(purpose),
        context: RequestContext::new(today()),
    }
}

#[test]
fn engine_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<PolicyEngine>();
}

#[test]
fn an_allow_names_its_permit_clauses_and_reason_n3_5() {
    let e = PolicyEngine::default_pack().unwrap();
    let p = staff(Team::Support);
    let mut req = read(&p, Category::Communications, Purpose::Assist);
    req.context.open_case_for_subject = true;
    let d = e.decide(&req);
    assert!(d.allowed);
    assert_eq!(d.basis, DecisionBasis::Permit);
    assert_eq!(d.policy_ids, vec!["staff-support-read-with-open-case"]);
    assert_eq!(d.clause_ids, vec!["N3.5", "N3.8"]);
    assert_eq!(
        d.reason,
        "support staff may read account and communications to assist, with an open support case about the subject"
    );
}

#[test]
fn a_default_deny_says_what_was_asked_and_what_is_missing_n3_5() {
    let e = PolicyEngine::default_pack().unwrap();
    let p = staff(Team::Support);
    // Missing only the open case (a need-to-know grant is cited, so the
    // justification forbid does not apply, N3.8): the hint names it.
    let mut req = read(&p, Category::Account, Purpose::Assist);
    req.context.grant_for_subject = true;
    let d = e.decide(&req);
    assert!(!d.allowed);
    assert_eq!(d.basis, DecisionBasis::DefaultDeny);
    assert!(d.policy_ids.is_empty());
    assert_eq!(d.clause_ids, vec!["N3.5", "N5.5"]);
    assert_eq!(
        d.reason,
        "no policy permits a support employee to read account for assist; \
         support reads need an open support case about the subject (N3.5, N3.8)"
    );
    // A category support never reads.
    let mut req = read(&p, Category::Billing, Purpose::Assist);
    req.context.open_case_for_subject = true;
    let d = e.decide(&req);
    assert_eq!(
        d.reason,
        "no policy permits a support employee to read billing for assist; \
         no purpose lets a support employee read billing (N5.5: access only for those who need it)"
    );
    // The right category for another purpose: the hint names the purpose.
    let b = staff(Team::Billing);
    let mut req = read(&b, Category::Billing, Purpose::Assist);
    req.context.grant_for_subject = true;
    let d = e.decide(&req);
    assert_eq!(
        d.reason,
        "no policy permits a billing employee to read billing for assist; \
         a billing employee may read billing only for provide_services \
         (N3: the purpose must be bound to the principal and category)"
    );
}

#[test]
fn forbids_name_every_condition_that_applied_n5_5_n8_6() {
    let e = PolicyEngine::default_pack().unwrap();
    let mut p = staff(Team::Security);
    p.revoked = true;
    p.training_expires_on = Some(today() - Duration::days(1));
    let mut req = read(&p, Category::Usage, Purpose::Protect);
    req.context.grant_for_subject = true;
    let d = e.decide(&req);
    assert!(!d.allowed);
    assert_eq!(d.basis, DecisionBasis::Forbid);
    assert_eq!(
        d.policy_ids,
        vec!["forbid-revoked", "forbid-staff-training-not-current"]
    );
    assert_eq!(d.clause_ids, vec!["N5.5", "N8.6"]);
    assert!(
        d.reason.starts_with("the principal is revoked"),
        "{}",
        d.reason
    );
    assert!(
        d.reason
            .contains("; staff access depends on current privacy training"),
        "{}",
        d.reason
    );
}

#[test]
fn no_purpose_is_denied_before_cedar_n3() {
    let e = PolicyEngine::default_pack().unwrap();
    let p = staff(Team::Billing);
    let mut req = read(&p, Category::Billing, Purpose::ProvideServices);
    req.purpose = None;
    let d = e.decide(&req);
    assert!(!d.allowed);
    assert_eq!(d.basis, DecisionBasis::NoPurpose);
    assert_eq!(d.reason, "a purpose is required (N3)");
    assert_eq!(d.clause_ids, vec!["N3"]);
    assert!(d.policy_ids.is_empty());
}

#[test]
fn an_empty_subject_id_is_refused() {
    let e = PolicyEngine::default_pack().unwrap();
    let p = staff(Team::Billing);
    let mut req = read(&p, Category::Billing, Purpose::ProvideServices);
    req.subject = Some("");
    let d = e.decide(&req);
    assert!(!d.allowed);
    assert_eq!(d.basis, DecisionBasis::Error);
    assert!(d.reason.contains("subject id is empty"), "{}", d.reason);
}

#[test]
fn a_policy_that_fails_to_evaluate_denies_and_is_named() {
    // A permit that applies, and a forbid that overflows: Cedar alone would
    // skip the failing forbid and allow. The engine denies (fail closed).
    let files: Vec<(&str, &str)> = vec![(
        "00-test.cedar",
        r#"@id("permit-billing-read")
@clause("N3.1")
permit (principal, action == Steward::Action::"read", resource)
when { principal.is_staff && context.purpose == "provide_services" };

@id("forbid-overflow")
@clause("N5.5")
@reason("overflows")
forbid (principal, action, resource)
when { context.today * 1000000000000000 > 0 };
"#,
    )];
    let all = default_pack_files();
    let manifest = all.iter().find(|f| f.0 == "pack.toml").unwrap().1;
    let schema = all.iter().find(|f| f.0 == "schema.cedarschema").unwrap().1;
    let e = PolicyEngine::from_sources(manifest, schema, &files).unwrap();
    let p = staff(Team::Billing);
    let d = e.decide(&read(&p, Category::Billing, Purpose::ProvideServices));
    assert!(!d.allowed, "{d:?}");
    assert_eq!(d.basis, DecisionBasis::Error);
    assert_eq!(d.policy_ids, vec!["forbid-overflow"]);
    assert_eq!(d.clause_ids, vec!["N5.5"]);
    assert!(d.reason.contains("forbid-overflow"), "{}", d.reason);
    assert!(d.reason.contains("overflow"), "{}", d.reason);
}

#[test]
fn a_changed_principal_is_decided_afresh_n5_5() {
    // The engine caches principals' entities by content: revocation and
    // training changes take effect from the next request. Every read cites
    // a need-to-know grant (N3.8).
    let e = PolicyEngine::default_pack().unwrap();
    fn granted<'a>(p: &'a Principal, c: Category, purpose: Purpose) -> DecisionRequest<'a> {
        let mut r = read(p, c, purpose);
        r.context.grant_for_subject = true;
        r
    }
    let mut p = staff(Team::Security);
    assert!(
        e.decide(&granted(&p, Category::Usage, Purpose::Protect))
            .allowed
    );
    p.revoked = true;
    let d = e.decide(&granted(&p, Category::Usage, Purpose::Protect));
    assert!(!d.allowed);
    assert_eq!(d.policy_ids, vec!["forbid-revoked"]);
    p.revoked = false;
    p.teams = vec![Team::Support];
    assert!(
        !e.decide(&granted(&p, Category::Usage, Purpose::Protect))
            .allowed
    );
    p.teams = vec![Team::Security];
    assert!(
        e.decide(&granted(&p, Category::Usage, Purpose::Protect))
            .allowed
    );
    // The day moves on: training that expired yesterday.
    let mut req = granted(&p, Category::Usage, Purpose::Protect);
    req.context.today = today() + Duration::days(101);
    let d = e.decide(&req);
    assert_eq!(d.policy_ids, vec!["forbid-staff-training-not-current"]);
}

#[test]
fn actions_round_trip_and_the_schema_declares_them_all() {
    let e = PolicyEngine::default_pack().unwrap();
    let declared: Vec<String> = e
        .schema()
        .actions()
        .map(|a| a.id().unescaped().to_owned())
        .collect();
    for a in Action::ALL {
        assert_eq!(Action::from_str(a.as_str()).unwrap(), a);
        assert!(declared.contains(&a.as_str().to_owned()), "{a}");
    }
    assert_eq!(declared.len(), Action::ALL.len());
    let err = Action::from_str("sell").unwrap_err();
    assert!(err.to_string().starts_with("unknown action `sell`"));
}

#[test]
fn a_subject_id_of_the_domain_matches_its_own_data_n7_2() {
    let e = PolicyEngine::default_pack().unwrap();
    let id = SubjectId(0x0123_4567_89ab_cdef);
    let p = Principal {
        name: "ann".into(),
        kind: PrincipalKind::DataSubject,
        teams: vec![],
        confidentiality_signed_on: None,
        training_expires_on: None,
        engagement_ends_on: None,
        subject: Some(id),
        organisations: vec![],
        revoked: false,
    };
    let own = id.to_string();
    let mut req = read(&p, Category::Billing, Purpose::ProvideServices);
    req.subject = Some(&own);
    assert!(e.decide(&req).allowed);
    req.subject = Some("sub_0123456789abcdee");
    assert!(!e.decide(&req).allowed);
}

fn any_date() -> impl Strategy<Value = Date> {
    let (lo, hi) = (Date::MIN.to_julian_day(), Date::MAX.to_julian_day());
    (lo..=hi).prop_map(|j| Date::from_julian_day(j).unwrap_or(Date::MIN))
}

fn any_principal() -> impl Strategy<Value = Principal> {
    (
        ".{0,40}",
        proptest::sample::select(PrincipalKind::ALL.to_vec()),
        proptest::collection::vec(proptest::sample::select(Team::ALL.to_vec()), 0..4),
        proptest::option::of(any_date()),
        proptest::option::of(any_date()),
        proptest::option::of(any_date()),
        proptest::option::of(any::<i64>()),
        proptest::collection::vec(".{0,12}", 0..3),
        any::<bool>(),
    )
        .prop_map(
            |(name, kind, teams, conf, training, end, subject, organisations, revoked)| Principal {
                name,
                kind,
                teams,
                confidentiality_signed_on: conf,
                training_expires_on: training,
                engagement_ends_on: end,
                subject: subject.map(SubjectId),
                organisations,
                revoked,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    /// Any input at all yields a decision (never a panic), and every
    /// decision that a policy made names that policy and its clauses.
    #[test]
    fn decide_never_panics_and_always_explains(
        p in any_principal(),
        action in proptest::sample::select(Action::ALL.to_vec()),
        subject in proptest::option::of(".{0,30}"),
        category in proptest::option::of(proptest::sample::select(Category::ALL.to_vec())),
        organisation in proptest::option::of(".{0,12}"),
        purpose in proptest::option::of(proptest::sample::select(Purpose::ALL.to_vec())),
        today in any_date(),
        flags in any::<(bool, bool, bool)>(),
    ) {
        let e = engine();
        let mut context = RequestContext::new(today);
        (context.open_case_for_subject, context.legal_obligation_recorded, context.aggregate_only) = flags;
        let d = e.decide(&DecisionRequest {
            principal: &p,
            action,
            subject: subject.as_deref(),
            category,
            organisation: organisation.as_deref(),
            kind: None,
            purpose,
            context,
        });
        prop_assert!(!d.reason.is_empty());
        if d.allowed {
            prop_assert_eq!(d.basis, DecisionBasis::Permit);
        }
        if matches!(d.basis, DecisionBasis::Permit | DecisionBasis::Forbid) {
            prop_assert!(!d.policy_ids.is_empty() && !d.clause_ids.is_empty(), "{:?}", d);
        }
        if p.revoked && purpose.is_some() && subject.as_deref() != Some("") {
            prop_assert!(!d.allowed);
            prop_assert!(d.policy_ids.iter().any(|i| i == "forbid-revoked"), "{:?}", d);
        }
    }
}

fn engine() -> &'static PolicyEngine {
    static E: std::sync::OnceLock<PolicyEngine> = std::sync::OnceLock::new();
    E.get_or_init(|| PolicyEngine::default_pack().unwrap())
}

/// N4.2: outside the subject's home region only the centralised operations
/// (billing for provide_services, support for assist, security, incident
/// response and security services for protect, legal and privacy for
/// comply: issue 17 item 9) may read. Each read cites its justification (a
/// need-to-know grant; for comply a recorded legal request covering the
/// category), so only the region decides.
#[test]
fn cross_region_reads_only_for_centralised_operations_n4_2() {
    use steward_domain::{Category, Principal, PrincipalKind, Purpose, Team};
    use steward_policy::{Action, DecisionRequest, PolicyEngine, RequestContext};
    let engine = PolicyEngine::default_pack().unwrap();
    let today = time::OffsetDateTime::now_utc().date();
    let staff = |team: Team| Principal {
        name: format!("{team}-1"),
        kind: PrincipalKind::Employee,
        teams: vec![team],
        confidentiality_signed_on: Some(today - time::Duration::days(10)),
        training_expires_on: Some(today + time::Duration::days(10)),
        engagement_ends_on: None,
        subject: None,
        organisations: vec![],
        revoked: false,
    };
    // (team, category, purpose, allowed across regions) — from CLAUSES.md N4.2.
    let rows = [
        (
            Team::Billing,
            Category::Billing,
            Purpose::ProvideServices,
            true,
        ),
        (Team::Security, Category::Usage, Purpose::Protect, true),
        // Issue 17 item 9: incident response is the security operation
        // (N8.5); legal process is answered centrally (N3.7).
        (
            Team::IncidentResponse,
            Category::Usage,
            Purpose::Protect,
            true,
        ),
        (Team::Legal, Category::Billing, Purpose::Comply, true),
        (
            Team::Engineering,
            Category::Usage,
            Purpose::MaintainImprove,
            false,
        ),
    ];
    let mut service = staff(Team::Security);
    service.kind = PrincipalKind::Service;
    service.teams = vec![];
    service.confidentiality_signed_on = None;
    service.training_expires_on = None;
    let rows = rows
        .into_iter()
        .map(|(t, c, p, a)| (staff(t), c, p, a))
        // Issue 17 item 9: the automated security services are that operation too.
        .chain([(service, Category::Configuration, Purpose::Protect, true)]);
    for (p, category, purpose, allowed_across) in rows {
        let team = p.teams.first().map_or("service", |t| t.as_str());
        for cross_region in [false, true] {
            let mut context = RequestContext::new(today);
            context.cross_region = cross_region;
            context.grant_for_subject = true;
            if purpose == Purpose::Comply {
                context.legal_obligation_recorded = true;
                context.obligation_kind = Some(steward_domain::ObligationKind::LegalRequest);
                context.obligation_covers_category = true;
            }
            let d = engine.decide(&DecisionRequest {
                principal: &p,
                action: Action::Read,
                subject: Some("sub_0000000000000001"),
                category: Some(category),
                organisation: None,
                kind: None,
                purpose: Some(purpose),
                context,
            });
            let expected = !cross_region || allowed_across;
            assert_eq!(
                d.allowed, expected,
                "{team} {category} {purpose} cross_region={cross_region}: {}",
                d.reason
            );
            if cross_region && !allowed_across {
                assert!(
                    d.clause_ids.contains(&"N4.2".to_string()),
                    "{:?}",
                    d.clause_ids
                );
            }
        }
    }
}

fn system<'a>(
    p: &'a Principal,
    action: Action,
    purpose: Purpose,
    operator: bool,
) -> DecisionRequest<'a> {
    let mut context = RequestContext::new(today());
    context.configured_operator = operator;
    DecisionRequest {
        principal: p,
        action,
        subject: None,
        category: None,
        organisation: None,
        kind: None,
        purpose: Some(purpose),
        context,
    }
}

/// N5.5, N5.2: the configured operator (a privacy-team employee, not security
/// staff) manages principals and rotates keys for `protect` only through the
/// pack's `bootstrap-operator` policy; every principal forbid still applies.
#[test]
fn configured_operator_manages_principals_and_keys_for_protect_only_n5_5() {
    let e = PolicyEngine::default_pack().unwrap();
    let op = staff(Team::Privacy);
    for action in [Action::ManagePrincipals, Action::KeysRotate] {
        let d = e.decide(&system(&op, action, Purpose::Protect, true));
        assert!(d.allowed, "{action}: {}", d.reason);
        assert_eq!(d.policy_ids, vec!["bootstrap-operator"]);
        assert_eq!(d.clause_ids, vec!["N5.5", "N5.2"]);
        // The same person, not the configured operator: default deny.
        let d = e.decide(&system(&op, action, Purpose::Protect, false));
        assert!(!d.allowed);
        assert_eq!(d.basis, DecisionBasis::DefaultDeny);
        // Another purpose: denied.
        let d = e.decide(&system(&op, action, Purpose::Assist, true));
        assert!(!d.allowed, "{action} for assist");
    }
    // Not other actions: an audit read is decided by the team policies
    // alone (privacy staff may read it to protect, N5.4), never by this one.
    let d = e.decide(&system(&op, Action::AuditRead, Purpose::Protect, true));
    assert_eq!(d.policy_ids, vec!["staff-audit-read-protect"]);
    // Revoked, or training expired: the principal forbids decide (N5.5, N8.6).
    let mut revoked = op.clone();
    revoked.revoked = true;
    let d = e.decide(&system(
        &revoked,
        Action::ManagePrincipals,
        Purpose::Protect,
        true,
    ));
    assert!(!d.allowed);
    assert_eq!(d.basis, DecisionBasis::Forbid);
    let mut lapsed = op.clone();
    lapsed.training_expires_on = Some(today() - Duration::days(1));
    let d = e.decide(&system(
        &lapsed,
        Action::ManagePrincipals,
        Purpose::Protect,
        true,
    ));
    assert!(!d.allowed);
    assert_eq!(d.basis, DecisionBasis::Forbid);
    // A configured operator that is not staff (a data subject): denied.
    let mut subject = op.clone();
    subject.kind = PrincipalKind::DataSubject;
    subject.teams = vec![];
    assert!(
        !e.decide(&system(
            &subject,
            Action::ManagePrincipals,
            Purpose::Protect,
            true
        ))
        .allowed
    );
}
