//! Sharing under the notice (issue 19): every disclosure through the gate
//! and on the ledger (N6.2, N8.4), third-party app grants (N6.3), consent
//! and Global Privacy Control (N6.4), subprocessors with their lead time
//! and categories (N6.6, N8.9). Expected values are counted here from what
//! the test itself sent, not read back from the code under test.

use std::io::Read;
use std::path::Path;

use steward_core::sharing::{GPC_RULE, NewConsent, NewGrant, NewRecipient, Scope};
use steward_core::{
    AuditFilter, Clock, Config, CoreError, DisclosureRequest, OpenOptions, Steward,
};
use steward_domain::{
    Category, ConsentMethod, DisclosureBasis, Fields, IdentifierKind, Kind, NewRecord, Principal,
    PrincipalKind, Product, Purpose, RecipientKind, RecipientRole, SubjectIdentifier, Team,
};

const DAY_MS: i64 = 86_400_000;

struct World {
    st: Steward,
    clock: Clock,
    ann_user: String,
    ann_sub: String,
}

fn record(kind: &str, user: &str, fields: &[(&str, &str)]) -> NewRecord {
    let mut f = Fields::new();
    for (k, v) in fields {
        f.insert((*k).into(), (*v).into());
    }
    NewRecord::new(
        kind.parse::<Kind>().unwrap(),
        Some(SubjectIdentifier::new(IdentifierKind::Username, user).unwrap()),
        Product::Workspace,
        None,
        f,
    )
    .unwrap()
}

fn staff(name: &str, team: Team) -> Principal {
    // The services' clock starts at 2024-06-01 (below): staff signed and
    // trained before it, current for years after.
    let today = time::macros::date!(2024 - 06 - 01);
    Principal {
        name: name.into(),
        kind: PrincipalKind::Employee,
        teams: vec![team],
        confidentiality_signed_on: Some(today - time::Duration::days(1)),
        training_expires_on: Some(today + time::Duration::days(4000)),
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
        ..staff(name, Team::Support)
    }
}

/// ann (organisation acme) with 1 account, 3 usage and 2 communications
/// records; bob (globex) with 1 account record; privacy staff `priv`; the
/// organisations' administrators.
fn world(dir: &Path) -> World {
    let clock = Clock::default();
    clock.set_ms(1_717_200_000_000); // 2024-06-01T00:00:00Z
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
    let mut recs = vec![
        record(
            "account.profile",
            "ann",
            &[("username", "ann"), ("email", "ann@example.com")],
        ),
        record(
            "account.profile",
            "bob",
            &[("username", "bob"), ("email", "bob@example.com")],
        ),
    ];
    for i in 0..3 {
        recs.push(record(
            "usage.authentication",
            "ann",
            &[
                ("event", "login"),
                ("account", "ann"),
                ("outcome", if i == 0 { "ok" } else { "fail" }),
            ],
        ));
    }
    for i in 0..2 {
        recs.push(record(
            "communications.support",
            "ann",
            &[("case_id", &format!("c{i}")), ("body", "printer on fire")],
        ));
    }
    st.ingest("ingest", recs, &mut |_| {}).unwrap();
    st.create_organisation(&op, "acme", "Acme", None, true)
        .unwrap();
    st.create_organisation(&op, "globex", "Globex", None, true)
        .unwrap();
    st.add_org_admin(&op, "acme-admin", "acme").unwrap();
    st.add_org_admin(&op, "globex-admin", "globex").unwrap();
    let ann = st.create_user(&op, "acme", "username:ann", None).unwrap();
    st.create_user(&op, "globex", "username:bob", None).unwrap();
    st.add_principal(&op, &staff("priv", Team::Privacy))
        .unwrap();
    World {
        st,
        clock,
        ann_sub: ann.subject.clone(),
        ann_user: ann.name,
    }
}

fn recipient(kind: RecipientKind, principal: Option<&str>) -> NewRecipient {
    let sub = kind == RecipientKind::Subprocessor;
    NewRecipient {
        kind,
        legal_name: "Recipient K.K.".into(),
        address: "1-1 Chiyoda, Tokyo".into(),
        representative: "Representative Director".into(),
        country: "JP".into(),
        role: if sub {
            RecipientRole::Subprocessor
        } else {
            RecipientRole::Controller
        },
        contract: "DPA-2024-7".into(),
        principal: principal.map(str::to_owned),
        categories: if sub {
            vec![Category::Communications]
        } else {
            vec![]
        },
        service: None,
        locations: if sub { vec!["JP".into()] } else { vec![] },
        owner: "priv".into(),
        review_interval_days: 365,
    }
}

fn ask(
    by: &str,
    subject: &str,
    rcp: &str,
    basis: DisclosureBasis,
    purpose: Purpose,
) -> DisclosureRequest {
    DisclosureRequest {
        principal: by.into(),
        subject: subject.into(),
        recipient: rcp.into(),
        basis,
        purpose,
        category: None,
        obligation_id: None,
    }
}

fn denial(r: Result<steward_core::Disclosed, CoreError>) -> Box<steward_core::Denied> {
    match r {
        Err(CoreError::Denied(d)) => d,
        Err(e) => panic!("expected an audited denial, got {e}"),
        Ok(d) => panic!("expected a denial, got {:?}", d.disclosure),
    }
}

/// N6.2, N8.4: every consent-based disclosure to a recipient is on the
/// ledger, committed with its audit entry; the APPI provision record of
/// the recipient over a period equals what the test disclosed to it
/// (counted here: 3 disclosures of ann's 6 records, 1 of account only;
/// one outside the period), as JSON and as CSV; ann's export lists each.
#[test]
fn every_disclosure_is_on_the_ledger_and_the_appi_record_counts_it_n6_2_n8_4() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path());
    let st = &w.st;
    let other = st
        .add_recipient("priv", recipient(RecipientKind::OtherController, None))
        .unwrap();
    st.give_consent(
        &w.ann_user,
        NewConsent {
            subject: w.ann_sub.clone(),
            recipient: Some(other.id.clone()),
            purpose: None,
            method: ConsentMethod::Console,
            expires_in_days: None,
        },
    )
    .unwrap();
    let start = 1_717_200_000_000;
    let mut sent_records = 0u64;
    let mut request_ids = Vec::new();
    for (i, cat) in [None, None, Some(Category::Account)]
        .into_iter()
        .enumerate()
    {
        w.clock.set_ms(start + i as i64 * DAY_MS);
        let mut d = ask(
            "ingest",
            "username:ann",
            &other.id,
            DisclosureBasis::Consent,
            Purpose::OtherServices,
        );
        d.category = cat;
        let out = st.disclose(&d).unwrap();
        sent_records += out.records.len() as u64;
        let row = out.disclosure.unwrap();
        assert_eq!(row.record_count, out.records.len() as u64);
        assert_eq!(row.subjects, vec![w.ann_sub.clone()]);
        request_ids.push(row.request_id);
    }
    // 6 + 6 + 1 records, from what was ingested for ann.
    assert_eq!(sent_records, 13);
    // Each ledger row names the audit entry committed with it.
    let log = st.audit_search_as("priv", &AuditFilter::default()).unwrap();
    for id in &request_ids {
        let hits: Vec<&String> = log.iter().filter(|e| e.contains(id.as_str())).collect();
        assert_eq!(hits.len(), 1, "{id}");
        assert!(hits[0].contains("\"disclose\"") && hits[0].contains(&other.id));
    }
    // A fourth, after the period.
    w.clock.set_ms(start + 10 * DAY_MS);
    st.disclose(&ask(
        "ingest",
        "username:ann",
        &other.id,
        DisclosureBasis::Consent,
        Purpose::OtherServices,
    ))
    .unwrap();

    let rec = st
        .provision_record("priv", &other.id, start, start + 3 * DAY_MS)
        .unwrap();
    assert_eq!(rec.rows.len(), 3);
    assert_eq!(rec.total_records, 13);
    assert_eq!(rec.recipient.legal_name, "Recipient K.K.");
    assert!(
        rec.rows
            .iter()
            .all(|r| r.subjects == vec![w.ann_sub.clone()])
    );
    assert_eq!(rec.rows[2].categories, vec!["account".to_owned()]);
    // The CSV, read back by the csv crate as an independent parser.
    let csv_text = rec.to_csv().unwrap();
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let counts: Vec<u64> = rd
        .records()
        .map(|r| r.unwrap()[11].parse().unwrap())
        .collect();
    assert_eq!(counts, vec![6, 6, 1]);
    // Only authorised staff read the ledger.
    assert!(matches!(
        st.provision_record("acme-admin", &other.id, start, start + 3 * DAY_MS),
        Err(CoreError::Denied(_))
    ));
    // An unknown recipient is named.
    let e = st
        .provision_record("priv", "rcp_nope", start, start + DAY_MS)
        .unwrap_err();
    assert!(e.to_string().contains("rcp_nope"), "{e}");

    // ann's export lists the 4 disclosures of her data.
    let out = dir.path().join("ann-export.zip");
    st.self_export(&w.ann_user, &out).unwrap();
    let mut z = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let mut m = String::new();
    z.by_name("manifest.json")
        .unwrap()
        .read_to_string(&mut m)
        .unwrap();
    let m: serde_json::Value = serde_json::from_str(&m).unwrap();
    assert_eq!(m["disclosures"].as_array().unwrap().len(), 4);

    // Kept three years (1,096 days) by default, then swept: 1,097 days
    // after the first disclosure only it is older than that; 1,097 days
    // after the fourth, the other three are too.
    w.clock.set_ms(start + 1097 * DAY_MS);
    assert_eq!(st.sweep_disclosures("priv").unwrap(), 1);
    w.clock.set_ms(start + (10 + 1097) * DAY_MS);
    assert_eq!(st.sweep_disclosures("priv").unwrap(), 3);
    assert!(
        st.provision_record("priv", &other.id, start, start + 20 * DAY_MS)
            .unwrap()
            .rows
            .is_empty()
    );
}

/// N6.4: the consent basis needs a consent current at that moment: none
/// refuses, a withdrawal stops the next disclosure, an expiry too.
#[test]
fn consent_must_be_current_withdrawal_stops_the_next_disclosure_n6_4() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path());
    let st = &w.st;
    let other = st
        .add_recipient("priv", recipient(RecipientKind::OtherController, None))
        .unwrap();
    let d = ask(
        "ingest",
        "username:ann",
        &other.id,
        DisclosureBasis::Consent,
        Purpose::OtherServices,
    );
    let none = denial(st.disclose(&d));
    assert!(none.clause_ids.contains(&"N6.4".to_owned()));
    assert!(
        none.policy_ids
            .contains(&"disclosure-consent-not-current".to_owned())
    );
    let c = st
        .give_consent(
            &w.ann_user,
            NewConsent {
                subject: w.ann_sub.clone(),
                recipient: Some(other.id.clone()),
                purpose: Some(Purpose::OtherServices),
                method: ConsentMethod::Api,
                expires_in_days: Some(10),
            },
        )
        .unwrap();
    assert_eq!(c.notice_version, "2024-01-18");
    let ok = st.disclose(&d).unwrap();
    assert_eq!(
        ok.disclosure.unwrap().allowed_by.as_deref(),
        Some(c.id.as_str())
    );
    // Another purpose is not covered.
    let mut other_purpose = d.clone();
    other_purpose.purpose = Purpose::ProvideServices;
    denial(st.disclose(&other_purpose));
    // Expired after 10 days.
    w.clock.set_ms(1_717_200_000_000 + 11 * DAY_MS);
    denial(st.disclose(&d));
    w.clock.set_ms(1_717_200_000_000 + DAY_MS);
    st.disclose(&d).unwrap();
    // Someone else cannot withdraw it; ann can, and the next disclosure stops.
    assert!(matches!(
        st.withdraw_consent("acme-admin", &c.id),
        Err(CoreError::Denied(_))
    ));
    st.withdraw_consent(&w.ann_user, &c.id).unwrap();
    let after = denial(st.disclose(&d));
    assert!(
        after.reason.contains("withdrawn") || after.reason.contains("not withdrawn"),
        "{}",
        after.reason
    );
    // Bad input: GPC is never a consent; nothing stored.
    let bad = st.give_consent(
        &w.ann_user,
        NewConsent {
            subject: w.ann_sub.clone(),
            recipient: None,
            purpose: None,
            method: ConsentMethod::Gpc,
            expires_in_days: None,
        },
    );
    assert!(matches!(bad, Err(CoreError::Input(m)) if m.contains("gpc")));
    assert_eq!(st.consents(&w.ann_user, &w.ann_sub).unwrap().0.len(), 1);
}

/// GPC (N6.4): a data subject's `Sec-GPC: 1` is recorded once; a later
/// consent-based disclosure is refused naming GPC, even with a consent
/// given before the signal; the conflict rule (GPC_RULE): a consent given
/// explicitly after the signal for this recipient, by console, overrides
/// it, and the override is on the ledger row and in the audit entry.
#[test]
fn gpc_opts_out_of_consent_disclosure_and_the_conflict_rule_is_recorded_n6_4() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path());
    let st = &w.st;
    let other = st
        .add_recipient("priv", recipient(RecipientKind::OtherController, None))
        .unwrap();
    let consent = |rcp: Option<String>| NewConsent {
        subject: w.ann_sub.clone(),
        recipient: rcp,
        purpose: None,
        method: ConsentMethod::Console,
        expires_in_days: None,
    };
    st.give_consent(&w.ann_user, consent(Some(other.id.clone())))
        .unwrap();
    w.clock.set_ms(1_717_200_000_000 + 1_000);
    assert!(st.record_gpc(&w.ann_user).unwrap());
    assert!(!st.record_gpc(&w.ann_user).unwrap(), "idempotent");
    let log = st.audit_search_as("priv", &AuditFilter::default()).unwrap();
    assert_eq!(
        log.iter().filter(|e| e.contains("gpc_opt_out")).count(),
        1,
        "audited once"
    );
    // Staff signals are not a data subject's.
    assert!(!st.record_gpc("priv").unwrap());

    let d = ask(
        "ingest",
        "username:ann",
        &other.id,
        DisclosureBasis::Consent,
        Purpose::OtherServices,
    );
    let refused = denial(st.disclose(&d));
    assert!(
        refused.reason.contains("Global Privacy Control"),
        "{}",
        refused.reason
    );
    assert!(
        refused
            .policy_ids
            .contains(&"disclosure-consent-gpc-opt-out".to_owned())
    );
    // A consent naming no recipient, given after the signal: GPC prevails.
    w.clock.set_ms(1_717_200_000_000 + 2_000);
    st.give_consent(&w.ann_user, consent(None)).unwrap();
    denial(st.disclose(&d));
    // An explicit consent for this recipient after the signal overrides it.
    let over = st
        .give_consent(&w.ann_user, consent(Some(other.id.clone())))
        .unwrap();
    let ok = st.disclose(&d).unwrap();
    let row = ok.disclosure.unwrap();
    assert_eq!(row.gpc_overridden_by.as_deref(), Some(over.id.as_str()));
    // The audit log shows each application and the override.
    let text = st
        .audit_search_as("priv", &AuditFilter::default())
        .unwrap()
        .join("\n");
    assert!(text.contains("gpc:applied"), "GPC applications recorded");
    assert!(text.contains(&format!("gpc:overridden_by:{}", over.id)));
    assert!(GPC_RULE.contains("after the signal"));
}

/// N6.6, N8.9: a subprocessor registered today receives nothing before the
/// lead time of its change notice (30 days by default) and, after it, only
/// the categories it is registered for.
#[test]
fn a_subprocessor_receives_only_after_its_lead_time_and_within_its_categories_n6_6_n8_9() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path());
    let st = &w.st;
    let sub = st
        .add_recipient("priv", recipient(RecipientKind::Subprocessor, None))
        .unwrap();
    assert_eq!(sub.receives_from_ms, Some(1_717_200_000_000 + 30 * DAY_MS));
    let mut d = ask(
        "ingest",
        "username:ann",
        &sub.id,
        DisclosureBasis::ExternalProcessing,
        Purpose::Assist,
    );
    d.category = Some(Category::Communications);
    let early = denial(st.disclose(&d));
    assert_eq!(early.policy_ids, vec!["subprocessor-lead-time".to_owned()]);
    w.clock.set_ms(1_717_200_000_000 + 29 * DAY_MS);
    denial(st.disclose(&d));
    w.clock.set_ms(1_717_200_000_000 + 30 * DAY_MS);
    let ok = st.disclose(&d).unwrap();
    assert_eq!(ok.records.len(), 2, "ann's two support interactions");
    d.category = Some(Category::Account);
    let outside = denial(st.disclose(&d));
    assert_eq!(
        outside.policy_ids,
        vec!["subprocessor-categories".to_owned()]
    );
    // Bad input: a subprocessor without categories is refused, nothing stored.
    let n = st.recipients().unwrap().len();
    let mut bad = recipient(RecipientKind::Subprocessor, None);
    bad.categories.clear();
    assert!(
        matches!(st.add_recipient("priv", bad), Err(CoreError::Input(m)) if m.contains("categories"))
    );
    assert_eq!(st.recipients().unwrap().len(), n);
}

/// N6.3: an app reaches only what an organisation's administrator granted:
/// usage for provide_services is read; account is refused; another
/// organisation's administrator cannot grant for acme; after revocation the
/// app's next read fails; the review counts what it disclosed.
#[test]
fn an_app_reads_only_its_grant_and_revocation_stops_the_next_request_n6_3() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path());
    let st = &w.st;
    let op = st.operator().to_owned();
    st.add_principal(&op, &bare("app-crm", PrincipalKind::ThirdPartyApp))
        .unwrap();
    let app = st
        .add_recipient(
            "priv",
            recipient(RecipientKind::ThirdPartyApp, Some("app-crm")),
        )
        .unwrap();
    let new = NewGrant {
        recipient: app.id.clone(),
        organisation: "acme".into(),
        scopes: vec![Scope {
            category: Category::Usage,
            purpose: Purpose::ProvideServices,
        }],
        users: vec![],
    };
    assert!(matches!(
        st.grant_app("globex-admin", new.clone()),
        Err(CoreError::Denied(_))
    ));
    let read = |cat: Category| {
        st.read(&steward_core::AccessRequest {
            category: Some(cat),
            purpose: Some(Purpose::ProvideServices),
            ..steward_core::AccessRequest::new(
                "app-crm",
                steward_core::Action::Read,
                "username:ann",
            )
        })
    };
    assert!(
        matches!(read(Category::Usage), Err(CoreError::Denied(_))),
        "no grant yet"
    );
    let g = st.grant_app("acme-admin", new).unwrap();
    let (_, recs) = read(Category::Usage).unwrap();
    assert_eq!(recs.len(), 3);
    match read(Category::Account) {
        Err(CoreError::Denied(d)) => assert!(d.clause_ids.contains(&"N6.3".to_owned())),
        other => panic!("{other:?}"),
    }
    let review = st.grant_review("acme-admin", "acme").unwrap();
    assert_eq!(review.len(), 1);
    assert_eq!((review[0].disclosures, review[0].records_disclosed), (1, 3));
    st.revoke_grant("acme-admin", &g.id).unwrap();
    match read(Category::Usage) {
        Err(CoreError::Denied(d)) => {
            assert!(
                d.policy_ids
                    .contains(&"disclosure-third-party-service-grant-revoked".to_owned())
            )
        }
        other => panic!("{other:?}"),
    }
    // A limited organisation refuses a communications scope, nothing stored.
    let bad = st.grant_app(
        "acme-admin",
        NewGrant {
            recipient: app.id.clone(),
            organisation: "acme".into(),
            scopes: vec![Scope {
                category: Category::Communications,
                purpose: Purpose::ProvideServices,
            }],
            users: vec![],
        },
    );
    assert!(matches!(bad, Err(CoreError::Input(m)) if m.contains("limited")));
    assert_eq!(st.grant_review("acme-admin", "acme").unwrap().len(), 1);
}
