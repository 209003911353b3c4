//! Issue 17 items 4 and 5 end to end through the core: processors reach
//! only what their registration and their current instrument cover (N6.6:
//! "the information you provide in the support ticket" to support
//! providers, "your contact details" to professional-services providers),
//! and the recommendations service reads, of the communications, the
//! feedback only (N3.2: "your responses to our recommendations and other
//! feedback"). Expected counts come from what the test ingested; every
//! denial is checked in the audit log.

use std::path::Path;

use steward_core::sharing::NewRecipient;
use steward_core::{
    AccessRequest, Action, AuditFilter, Clock, Config, CoreError, NewEngagement, OpenOptions,
    Steward,
};
use steward_domain::{
    CaseKind, Category, Fields, IdentifierKind, Kind, NewRecord, Principal, PrincipalKind,
    ProcessorService, Product, Purpose, RecipientKind, RecipientRole, SubjectIdentifier, Team,
};
use time::{Date, Duration};

const DAY_MS: i64 = 86_400_000;
/// 2024-06-01T00:00:00Z.
const START_MS: i64 = 1_717_200_000_000;

fn kind(full: &str) -> Kind {
    full.parse().unwrap()
}

fn record(kind_name: &str, user: &str, fields: &[(&str, &str)]) -> NewRecord {
    let mut f = Fields::new();
    for (k, v) in fields {
        f.insert((*k).into(), (*v).into());
    }
    NewRecord::new(
        kind(kind_name),
        Some(SubjectIdentifier::new(IdentifierKind::Username, user).unwrap()),
        Product::Workspace,
        None,
        f,
    )
    .unwrap()
}

fn staff(name: &str, team: Team) -> Principal {
    let today = time::macros::date!(2024 - 06 - 01);
    Principal {
        name: name.into(),
        kind: PrincipalKind::Employee,
        teams: vec![team],
        confidentiality_signed_on: Some(today - Duration::days(1)),
        training_expires_on: Some(today + Duration::days(4000)),
        engagement_ends_on: None,
        subject: None,
        organisations: vec![],
        revoked: false,
    }
}

fn bare(name: &str, kind: PrincipalKind) -> Principal {
    Principal {
        kind,
        teams: vec![],
        confidentiality_signed_on: None,
        training_expires_on: None,
        ..staff(name, Team::Support)
    }
}

fn subprocessor(principal: &str, service: ProcessorService, c: Category) -> NewRecipient {
    NewRecipient {
        kind: RecipientKind::Subprocessor,
        legal_name: format!("{principal} K.K."),
        address: "1-1 Chiyoda, Tokyo".into(),
        representative: "Representative Director".into(),
        country: "JP".into(),
        role: RecipientRole::Subprocessor,
        contract: "DPA-2024-9".into(),
        principal: Some(principal.into()),
        categories: vec![c],
        service: Some(service),
        locations: vec!["JP".into()],
        owner: "priv".into(),
        review_interval_days: 365,
    }
}

struct World {
    st: Steward,
    clock: Clock,
}

/// ann (acme): 1 account profile, 1 account setting, 2 support tickets, 1
/// feedback, 1 usage record; bob (globex): 1 account profile, 1 support
/// ticket. Staff: support `sup`, privacy `priv`. Processors `tix` and
/// `tix2` (support_ticket, communications), `pros` (professional_services,
/// account), registered and past the 30-day lead time; the service
/// `recommender`.
fn world(dir: &Path) -> World {
    let clock = Clock::default();
    clock.set_ms(START_MS);
    let st = Steward::open(
        dir,
        Config::default(),
        OpenOptions {
            clock: clock.clone(),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let op = st.operator().to_owned();
    let recs = vec![
        record("account.profile", "ann", &[("username", "ann")]),
        record(
            "account.settings",
            "ann",
            &[("setting", "lang"), ("value", "ja")],
        ),
        record(
            "communications.support",
            "ann",
            &[("case_id", "c1"), ("body", "printer on fire")],
        ),
        record(
            "communications.support",
            "ann",
            &[("case_id", "c1"), ("body", "still on fire")],
        ),
        record(
            "communications.feedback",
            "ann",
            &[("topic", "cost recommendation"), ("rating", "5")],
        ),
        record(
            "usage.authentication",
            "ann",
            &[("event", "login"), ("account", "ann"), ("outcome", "ok")],
        ),
        record("account.profile", "bob", &[("username", "bob")]),
        record(
            "communications.support",
            "bob",
            &[("case_id", "c2"), ("body", "bob's ticket")],
        ),
    ];
    st.ingest("ingest", recs, &mut |_| {}).unwrap();
    st.create_organisation(&op, "acme", "Acme", None, true)
        .unwrap();
    st.create_organisation(&op, "globex", "Globex", None, true)
        .unwrap();
    st.create_user(&op, "acme", "username:ann", None).unwrap();
    st.create_user(&op, "globex", "username:bob", None).unwrap();
    st.add_principal(&op, &staff("priv", Team::Privacy))
        .unwrap();
    st.add_principal(&op, &staff("sup", Team::Support)).unwrap();
    for p in ["tix", "tix2", "pros"] {
        st.add_principal(&op, &bare(p, PrincipalKind::Processor))
            .unwrap();
    }
    st.add_principal(&op, &bare("recommender", PrincipalKind::Service))
        .unwrap();
    for (p, s, c) in [
        (
            "tix",
            ProcessorService::SupportTicket,
            Category::Communications,
        ),
        (
            "tix2",
            ProcessorService::SupportTicket,
            Category::Communications,
        ),
        (
            "pros",
            ProcessorService::ProfessionalServices,
            Category::Account,
        ),
    ] {
        st.add_recipient("priv", subprocessor(p, s, c)).unwrap();
    }
    // The change notice's lead time (30 days by default, N6.6) passes.
    clock.set_ms(START_MS + 30 * DAY_MS);
    World { st, clock }
}

fn today(w: &World) -> Date {
    w.clock.today()
}

fn read(
    st: &Steward,
    by: &str,
    subject: &str,
    purpose: Purpose,
    k: Option<&str>,
    case: Option<&str>,
) -> Result<Vec<steward_core::OpenedRecord>, CoreError> {
    let mut req = AccessRequest::new(by, Action::Read, subject)
        .purpose(purpose)
        .case(case);
    if let Some(k) = k {
        req = req.kind(kind(k));
    }
    st.read(&req).map(|(_, r)| r)
}

fn denied(r: Result<Vec<steward_core::OpenedRecord>, CoreError>) -> Box<steward_core::Denied> {
    match r {
        Err(CoreError::Denied(d)) => {
            assert!(d.audit_index.is_some(), "the denial is audited: {d:?}");
            d
        }
        other => panic!("expected an audited denial, got {other:?}"),
    }
}

fn entries(st: &Steward, by: &str, decision: &str) -> Vec<String> {
    st.audit_search(&AuditFilter {
        principal: Some(by.into()),
        decision: Some(decision.into()),
        action: Some("read".into()),
        ..AuditFilter::default()
    })
    .unwrap()
}

/// Issue 17 item 4, N6.6 and N3.5: a registered support-ticket processor
/// reads the ticket content of the open case assigned to it, and nothing
/// else: not another processor's case, not without a case, not another
/// kind of communication, not after the case closed, not the account; a
/// professional-services processor cannot be assigned a case. Every
/// denial is audited; the allowed read names the case it cited.
#[test]
fn n6_6_a_support_ticket_processor_reads_only_the_tickets_of_cases_assigned_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path());
    let st = &w.st;
    let c1 = st
        .open_case_of_kind("sup", "username:ann", CaseKind::Technical)
        .unwrap();
    let c2 = st
        .open_case_of_kind("sup", "username:bob", CaseKind::Technical)
        .unwrap();
    // An open case about ann, not yet assigned to anyone.
    let ticket = Some("communications.support");
    denied(read(
        st,
        "tix",
        "username:ann",
        Purpose::Assist,
        ticket,
        Some(&c1.id),
    ));
    assert_eq!(
        st.assign_case("sup", &c1.id, "tix").unwrap().assignee,
        Some("tix".to_owned())
    );
    st.assign_case("sup", &c2.id, "tix2").unwrap();
    // A professional-services processor is not a support provider.
    let e = st.assign_case("sup", &c2.id, "pros").unwrap_err();
    assert!(
        matches!(&e, CoreError::Input(m) if m.contains("support_ticket")),
        "{e}"
    );
    let allowed = read(
        st,
        "tix",
        "username:ann",
        Purpose::Assist,
        ticket,
        Some(&c1.id),
    )
    .unwrap();
    assert_eq!(allowed.len(), 2, "ann's two support tickets");
    assert!(allowed.iter().all(|r| r.kind == "communications.support"));
    let ok = entries(st, "tix", "allow");
    assert_eq!(ok.len(), 1);
    assert!(
        ok[0].contains(&format!("justification:case:{}", c1.id)),
        "{}",
        ok[0]
    );
    assert!(ok[0].contains("kind:communications.support"), "{}", ok[0]);

    // Another processor's case, no case, every kind at once, the feedback,
    // the account: denied.
    denied(read(
        st,
        "tix",
        "username:bob",
        Purpose::Assist,
        ticket,
        Some(&c2.id),
    ));
    denied(read(
        st,
        "tix",
        "username:ann",
        Purpose::Assist,
        ticket,
        None,
    ));
    let all = AccessRequest::new("tix", Action::Read, "username:ann")
        .purpose(Purpose::Assist)
        .category(Category::Communications)
        .case(Some(&c1.id));
    assert!(matches!(st.read(&all), Err(CoreError::Denied(_))));
    let feedback = Some("communications.feedback");
    denied(read(
        st,
        "tix",
        "username:ann",
        Purpose::Assist,
        feedback,
        Some(&c1.id),
    ));
    let profile = Some("account.profile");
    denied(read(
        st,
        "tix",
        "username:ann",
        Purpose::ProvideServices,
        profile,
        None,
    ));
    // Once the case is closed, the ticket is out of reach.
    st.close_case("sup", &c1.id).unwrap();
    denied(read(
        st,
        "tix",
        "username:ann",
        Purpose::Assist,
        ticket,
        Some(&c1.id),
    ));
    // Closed cases are not reassigned.
    assert!(matches!(
        st.assign_case("sup", &c1.id, "tix2"),
        Err(CoreError::Input(m)) if m.contains("closed")
    ));

    let no = entries(st, "tix", "deny");
    assert_eq!(no.len(), 7, "seven denied reads, each audited");
    assert!(no.iter().all(|e| !e.contains("justification:")));
    // tix2 read nothing.
    assert!(entries(st, "tix2", "allow").is_empty());
}

/// Issue 17 item 4, N6.6: a registered professional-services processor
/// reads contact details (account.profile) only of a subject its current
/// engagement covers: not before the engagement starts, not after its last
/// day, not once ended, not of another organisation, not the account
/// settings; a support-ticket processor cannot be engaged. Bad input stores
/// nothing; every denial is audited; the allowed read names the engagement.
#[test]
fn n6_6_a_professional_services_processor_reads_contact_details_only_under_a_current_engagement() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path());
    let st = &w.st;
    let t = today(&w);
    let profile = Some("account.profile");
    let sp = Purpose::ProvideServices;
    denied(read(st, "pros", "username:ann", sp, profile, None));
    let new = NewEngagement {
        processor: "pros".into(),
        organisation: Some("acme".into()),
        subjects: vec![],
        categories: vec![Category::Account],
        starts_on: t,
        ends_on: t + Duration::days(10),
        reference: "SOW-17".into(),
    };
    // Who may record one is decided by the pack: support staff may not.
    assert!(matches!(
        st.record_engagement("sup", &new),
        Err(CoreError::Denied(_))
    ));
    // A support-ticket processor is not a professional-services provider,
    // and a category the registration lacks is refused; nothing stored.
    let bad = [
        (
            NewEngagement {
                processor: "tix".into(),
                ..new.clone()
            },
            "professional_services",
        ),
        (
            NewEngagement {
                categories: vec![Category::Usage],
                ..new.clone()
            },
            "categories",
        ),
        (
            NewEngagement {
                ends_on: t - Duration::days(1),
                ..new.clone()
            },
            "ends_on",
        ),
        (
            NewEngagement {
                organisation: None,
                ..new.clone()
            },
            "organisation",
        ),
    ];
    for (b, field) in bad {
        let e = st.record_engagement("priv", &b).unwrap_err();
        assert!(
            matches!(&e, CoreError::Input(m) if m.contains(field)),
            "{field}: {e}"
        );
    }
    assert!(st.engagements().unwrap().is_empty());

    let eng = st.record_engagement("priv", &new).unwrap();
    let got = read(st, "pros", "username:ann", sp, profile, None).unwrap();
    assert_eq!(got.len(), 1, "ann's one account profile");
    assert_eq!(got[0].kind, "account.profile");
    let ok = entries(st, "pros", "allow");
    assert_eq!(ok.len(), 1);
    assert!(
        ok[0].contains(&format!("justification:engagement:{}", eng.id)),
        "{}",
        ok[0]
    );
    // Another organisation's user, the settings, every account kind at once.
    denied(read(st, "pros", "username:bob", sp, profile, None));
    denied(read(
        st,
        "pros",
        "username:ann",
        sp,
        Some("account.settings"),
        None,
    ));
    let all = AccessRequest::new("pros", Action::Read, "username:ann")
        .purpose(sp)
        .category(Category::Account);
    assert!(matches!(st.read(&all), Err(CoreError::Denied(_))));
    // Ticket content, even of a case about ann, is not for it.
    let c = st.open_case("sup", "username:ann").unwrap();
    let ticket = Some("communications.support");
    denied(read(
        st,
        "pros",
        "username:ann",
        Purpose::Assist,
        ticket,
        Some(&c.id),
    ));

    // An engagement for bob that starts tomorrow covers nothing today.
    let later = st
        .record_engagement(
            "priv",
            &NewEngagement {
                organisation: None,
                subjects: vec!["username:bob".into()],
                starts_on: t + Duration::days(1),
                ends_on: t + Duration::days(5),
                ..new.clone()
            },
        )
        .unwrap();
    denied(read(st, "pros", "username:bob", sp, profile, None));
    w.clock.set_ms(w.clock.now_ms() + DAY_MS);
    let bob = read(st, "pros", "username:bob", sp, profile, None).unwrap();
    assert_eq!(bob.len(), 1, "bob's one account profile");
    // Ended early: from then on it covers nothing.
    st.end_engagement("priv", &later.id).unwrap();
    denied(read(st, "pros", "username:bob", sp, profile, None));
    assert!(matches!(
        st.end_engagement("priv", &later.id),
        Err(CoreError::Input(m)) if m.contains("ended")
    ));
    // Past its last day (t + 10), acme's engagement covers nothing.
    w.clock.set_ms(w.clock.now_ms() + 10 * DAY_MS);
    denied(read(st, "pros", "username:ann", sp, profile, None));

    assert_eq!(entries(st, "pros", "allow").len(), 2);
    assert_eq!(
        entries(st, "pros", "deny").len(),
        8,
        "eight denied reads, each audited"
    );
}

/// Issue 17 item 5, N3.2: the recommendations service reads billing,
/// configuration and usage, and of the communications the feedback (the
/// responses to recommendations), never a support ticket nor every kind
/// at once; a kind of another category than the one named is refused
/// before anything is decided. Denials audited.
#[test]
fn n3_2_the_recommendations_service_reads_feedback_but_not_support_tickets() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path());
    let st = &w.st;
    let r = Purpose::Recommendations;
    let fb = read(
        st,
        "recommender",
        "username:ann",
        r,
        Some("communications.feedback"),
        None,
    )
    .unwrap();
    assert_eq!(fb.len(), 1, "ann's one feedback");
    assert_eq!(fb[0].kind, "communications.feedback");
    let usage = st
        .read(
            &AccessRequest::new("recommender", Action::Read, "username:ann")
                .purpose(r)
                .category(Category::Usage),
        )
        .unwrap()
        .1;
    assert_eq!(usage.len(), 1, "ann's one usage record");

    let d = denied(read(
        st,
        "recommender",
        "username:ann",
        r,
        Some("communications.support"),
        None,
    ));
    assert!(d.clause_ids.iter().any(|c| c == "N3.2"), "{d:?}");
    let all = AccessRequest::new("recommender", Action::Read, "username:ann")
        .purpose(r)
        .category(Category::Communications);
    assert!(matches!(st.read(&all), Err(CoreError::Denied(_))));
    denied(read(
        st,
        "recommender",
        "username:ann",
        r,
        Some("communications.email"),
        None,
    ));

    // A kind of account named with category communications: refused,
    // nothing decided.
    let before = entries(st, "recommender", "deny").len();
    let mixed = AccessRequest {
        kind: Some(kind("account.profile")),
        ..AccessRequest::new("recommender", Action::Read, "username:ann")
            .purpose(r)
            .category(Category::Communications)
    };
    assert!(matches!(
        st.read(&mixed),
        Err(CoreError::Input(m)) if m.starts_with("kind:")
    ));
    assert_eq!(entries(st, "recommender", "deny").len(), before);

    let no = entries(st, "recommender", "deny");
    assert_eq!(no.len(), 3, "three denied reads, each audited");
    assert!(no.iter().any(|e| e.contains("kind:communications.support")));
    assert_eq!(entries(st, "recommender", "allow").len(), 2);
}
