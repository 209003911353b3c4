//! Disclosure rows (issue 19): every basis x recipient kind x consent
//! state x grant state, with the expected decision and its clause.
//!
//! The oracle below is written from `shared/notice/CLAUSES.md` N6.2-N6.7
//! (quoted), not from `70-disclosures.cedar`:
//!
//! - N6.2 "Never disclose outside the provider except under one of the
//!   bases N6.3 to N6.7": a disclosure names a basis and a registered
//!   recipient; the basis must fit the recipient.
//! - N6.3 "third_party_service: disclose to a third-party service or app
//!   ... that requested access and was granted it, within the granted
//!   scopes": recipient a third-party app, grant in scope. A revoked grant,
//!   no grant or one out of scope is refused.
//! - N6.4 "consent: disclose with the subject's recorded, unexpired,
//!   unwithdrawn consent": consent current. A GPC signal is a valid opt-out
//!   of sharing (GPC specification, "Sec-GPC"): refused. Consent is given
//!   to controllers (another controller, an affiliate, an app); processors
//!   receive on instruction (N6.6) and authorities on a legal basis (N6.7),
//!   so consent is no basis for them.
//! - N6.5 "administrators and authorized resellers may ... view account and
//!   billing information": the recipient is the customer organisation
//!   (another controller) and the data account or billing.
//! - N6.6 "external_processing: disclose to registered processors
//!   (subprocessors) under instruction", N6.1 affiliates "under the same
//!   policy": a subprocessor or an affiliate.
//! - N6.7 "legal: ... legal process or government requests ..., to enforce
//!   agreements, ... to protect rights": an authority or another
//!   controller.
//!
//! Consent matters only to the consent basis and the grant only to the
//! third-party basis: the other cells of those dimensions must not change
//! the decision. Each basis is asked by the principal the clause names as
//! the one who discloses on it.

use super::*;

/// The principal, category and purpose that disclose on `basis`, and
/// whether a legal obligation is recorded (N6.7 via N3.7).
fn asker(basis: DisclosureBasis) -> (Principal, Category, Purpose, bool) {
    use PrincipalKind as K;
    match basis {
        DisclosureBasis::ThirdPartyService => (
            who(K::ThirdPartyApp, &[]),
            Category::Usage,
            Purpose::ProvideServices,
            false,
        ),
        DisclosureBasis::Consent => (
            who(K::Service, &[]),
            Category::Account,
            Purpose::OtherServices,
            false,
        ),
        DisclosureBasis::Administrator => (
            who(K::CustomerAdmin, &[]),
            Category::Billing,
            Purpose::ProvideServices,
            false,
        ),
        DisclosureBasis::ExternalProcessing => (
            who(K::Service, &[]),
            Category::Communications,
            Purpose::Assist,
            false,
        ),
        DisclosureBasis::Legal => (
            employee(Team::Legal),
            Category::Account,
            Purpose::Comply,
            true,
        ),
    }
}

/// The clause of each basis (N6.3-N6.7).
fn clause_of(basis: DisclosureBasis) -> &'static str {
    match basis {
        DisclosureBasis::ThirdPartyService => "N6.3",
        DisclosureBasis::Consent => "N6.4",
        DisclosureBasis::Administrator => "N6.5",
        DisclosureBasis::ExternalProcessing => "N6.6",
        DisclosureBasis::Legal => "N6.7",
    }
}

/// N6.3-N6.7: the recipient kinds each basis may disclose to.
fn recipient_fits(basis: DisclosureBasis, kind: RecipientKind) -> bool {
    use RecipientKind as R;
    match basis {
        DisclosureBasis::ThirdPartyService => kind == R::ThirdPartyApp,
        DisclosureBasis::Consent => {
            matches!(kind, R::ThirdPartyApp | R::Affiliate | R::OtherController)
        }
        DisclosureBasis::Administrator => kind == R::OtherController,
        DisclosureBasis::ExternalProcessing => matches!(kind, R::Subprocessor | R::Affiliate),
        DisclosureBasis::Legal => matches!(kind, R::Authority | R::OtherController),
    }
}

/// The oracle of one cell.
fn expect(facts: DisclosureFacts) -> Expect {
    let clause = clause_of(facts.basis);
    if !recipient_fits(facts.basis, facts.recipient_kind) {
        return forbid(clause);
    }
    if facts.basis == DisclosureBasis::Consent && facts.consent != ConsentState::Current {
        return forbid("N6.4");
    }
    if facts.basis == DisclosureBasis::ThirdPartyService && facts.grant != GrantState::InScope {
        return forbid("N6.3");
    }
    allow(clause)
}

/// Every basis x recipient kind x consent state x grant state (5 x 5 x 5
/// x 4 = 500 cells), each decided by the pack as `expect` says: N6.2 (a
/// basis that fits the recipient), N6.3 (grant in scope; revoked, none and
/// out of scope refused), N6.4 (current consent; none, withdrawn, expired
/// and GPC refused, the GPC refusal naming GPC), N6.5, N6.6, N6.7.
#[test]
fn disclosure_matrix_every_basis_recipient_consent_and_grant_n6_2_n6_3_n6_4_n6_6() {
    let engine = PolicyEngine::default_pack().expect("default pack loads");
    let mut tally = Tally {
        rows: 0,
        allowed: 0,
        failures: Vec::new(),
        reached: Default::default(),
    };
    let mut allowed_by_basis = [0usize; 5];
    for (bi, &basis) in DisclosureBasis::ALL.iter().enumerate() {
        let (principal, category, purpose, legal) = asker(basis);
        for &recipient_kind in RecipientKind::ALL {
            for &consent in ConsentState::ALL {
                for &grant in GrantState::ALL {
                    let facts = DisclosureFacts {
                        basis,
                        recipient_kind,
                        consent,
                        grant,
                    };
                    // The legal basis (N6.7) is legal staff under a recorded
                    // legal request covering the category (N3.7, issue 17).
                    let case = Case {
                        disclosure: Some(facts),
                        legal,
                        obligation_kind: legal.then_some(ObligationKind::LegalRequest),
                        covers: legal,
                        ..Case::new(principal.clone(), Action::Disclose, Some(category), purpose)
                    };
                    let e = expect(facts);
                    allowed_by_basis[bi] += usize::from(e.allowed);
                    let label = format!(
                        "[{}] disclose {basis:?} to {recipient_kind:?}, consent {consent:?}, grant {grant:?}",
                        e.clause
                    );
                    tally.check(&engine, &label, &case, e);
                    if basis == DisclosureBasis::Consent
                        && consent == ConsentState::Gpc
                        && recipient_fits(basis, recipient_kind)
                    {
                        let d = case.decide(&engine);
                        if !d.reason.contains("Global Privacy Control") {
                            tally.failures.push(format!(
                                "{label}: the refusal does not name GPC: {}",
                                d.reason
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(tally.failures.is_empty(), "{}", tally.failures.join("\n"));
    assert_eq!(tally.rows, 500);
    // Counted by hand from the clauses: third_party_service 1 recipient x
    // 5 consent states x 1 grant state; consent 3 recipients x 1 x 4;
    // administrator 1 x 5 x 4; external_processing 2 x 5 x 4; legal 2 x 5 x 4.
    assert_eq!(allowed_by_basis, [5, 12, 20, 40, 40]);
    assert_eq!(tally.allowed, 117);
    // Every permit of the disclose action allowed at least one row here
    // (the main matrix leaves them to this one).
    for id in [
        "disclosure-third-party-app-granted",
        "disclosure-consent-service",
        "disclosure-administrator",
        "disclosure-external-processing",
        "staff-legal-disclose",
    ] {
        assert!(tally.reached.contains(id), "no disclosure row reaches {id}");
    }
}

/// N6.2: a disclosure that names no basis is refused, whoever asks and
/// whatever a permit would otherwise allow (there is no sale basis to name,
/// N6.6).
#[test]
fn a_disclosure_without_basis_is_refused_n6_2() {
    let engine = PolicyEngine::default_pack().expect("default pack loads");
    for basis in DisclosureBasis::ALL {
        let (principal, category, purpose, legal) = asker(basis);
        let case = Case {
            legal,
            ..Case::new(principal, Action::Disclose, Some(category), purpose)
        };
        let mut context = RequestContext::new(today());
        context.legal_obligation_recorded = case.legal;
        let d = engine.decide(&DecisionRequest {
            principal: &case.principal,
            action: Action::Disclose,
            subject: case.subject,
            category: case.category,
            organisation: case.organisation,
            kind: None,
            purpose: case.purpose,
            context,
        });
        assert!(!d.allowed, "{basis:?}: {d:?}");
        assert_eq!(d.basis, DecisionBasis::Forbid, "{basis:?}");
        assert!(d.policy_ids.contains(&"disclosure-needs-basis".to_owned()));
        assert_eq!(d.clause_ids, vec!["N6.2".to_owned()]);
    }
}
