//! Every management decision is made in the core by the policy pack and
//! audited (N5.5, issue 12), and the access holes of issue 14 stay closed:
//! a principal's name is never re-used to replace it (N5.5), an
//! organisation's export setting holds on every export route (N7.1), and a
//! legal obligation unlocks only the subjects it concerns, for those who may
//! cite it (N3.7, N6.5d).

use std::path::Path;

use steward_core::{
    Channel, Config, CoreError, ManagementAction, ObligationScope, OpenOptions, Steward,
};
use steward_domain::{
    Fields, IdentifierKind, Kind, NewRecord, Principal, PrincipalKind, Product, Purpose,
    RequestType, SubjectIdentifier, Team,
};

fn open(dir: &Path) -> Steward {
    Steward::open(dir, Config::default(), OpenOptions::default()).unwrap()
}

fn profile(user: &str, email: &str) -> NewRecord {
    let mut f = Fields::new();
    f.insert("username".into(), user.into());
    f.insert("email".into(), email.into());
    let kind: Kind = "account.profile".parse().unwrap();
    NewRecord::new(
        kind,
        Some(SubjectIdentifier::new(IdentifierKind::Username, user).unwrap()),
        Product::Workspace,
        None,
        f,
    )
    .unwrap()
}

fn staff(name: &str, team: Team) -> Principal {
    let today = time::OffsetDateTime::now_utc().date();
    Principal {
        name: name.into(),
        kind: PrincipalKind::Employee,
        teams: vec![team],
        confidentiality_signed_on: Some(today),
        training_expires_on: Some(today + time::Duration::days(30)),
        engagement_ends_on: None,
        subject: None,
        organisations: vec![],
        revoked: false,
    }
}

fn mail(from: &str, id: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nMessage-ID: <{id}>\r\nTo: privacy@provider.example\r\nSubject: Please delete my account\r\nDate: Mon, 4 Mar 2024 09:15:00 +0100\r\n\r\nDelete it.\r\n"
    )
    .into_bytes()
}

fn filter(principal: &str, decision: &str) -> steward_core::AuditFilter {
    steward_core::AuditFilter {
        principal: Some(principal.into()),
        decision: Some(decision.into()),
        ..Default::default()
    }
}

/// ann and bob of organisations acme and globex (partner `p1` resells
/// both), their users, an administrator of each, and one reseller.
struct Tenants {
    ann_user: String,
    bob_user: String,
}

fn tenants(st: &Steward) -> Tenants {
    let op = st.operator().to_owned();
    st.ingest(
        "ingest",
        vec![
            profile("ann", "ann@example.com"),
            profile("bob", "bob@example.com"),
        ],
        &mut |_| {},
    )
    .unwrap();
    st.create_partner(&op, "p1", "Partner One").unwrap();
    st.add_reseller(&op, "res", "p1").unwrap();
    st.create_organisation(&op, "acme", "Acme", Some("p1"), true)
        .unwrap();
    st.create_organisation(&op, "globex", "Globex", Some("p1"), true)
        .unwrap();
    st.add_org_admin(&op, "acme-admin", "acme").unwrap();
    st.add_org_admin(&op, "globex-admin", "globex").unwrap();
    let ann = st
        .create_user(&op, "acme", "username:ann", Some("correct horse battery"))
        .unwrap();
    let bob = st.create_user(&op, "globex", "username:bob", None).unwrap();
    Tenants {
        ann_user: ann.name,
        bob_user: bob.name,
    }
}

fn denied(e: CoreError) -> Box<steward_core::Denied> {
    match e {
        CoreError::Denied(d) => d,
        other => panic!("expected an audited denial, got {other}"),
    }
}

/// Issue 12: every management operation of the core, called as a principal
/// the pack allows none of them (an engineering employee with current
/// training), is denied by the pack and the denial is in the audit log,
/// one entry per operation, naming the operation and the pack's action.
/// The list is `ManagementAction::ALL`; the `match` below has no wildcard,
/// so a new operation does not compile here until it is added, and the
/// count is asserted.
#[test]
fn every_management_operation_is_decided_and_its_denial_audited_n5_5() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let op = st.operator().to_owned();
    tenants(&st);
    st.add_principal(&op, &staff("eng", Team::Engineering))
        .unwrap();
    st.add_principal(&op, &staff("sup", Team::Support)).unwrap();
    let other_token = st.issue_token(&op, "sup", 3600, vec![]).unwrap();
    let case = st.open_case(&op, "username:ann").unwrap();
    let request = st
        .open_request(
            &op,
            Some("username:ann"),
            RequestType::Access,
            Channel::Cli,
            Default::default(),
        )
        .unwrap();
    // Issue 19: an app recipient and a grant, registered by those allowed.
    st.add_principal(&op, &staff("prv", Team::Privacy)).unwrap();
    st.add_principal(
        &op,
        &Principal {
            kind: PrincipalKind::ThirdPartyApp,
            teams: vec![],
            confidentiality_signed_on: None,
            training_expires_on: None,
            ..staff("app-x", Team::Support)
        },
    )
    .unwrap();
    let recipient = |kind, principal: Option<&str>| steward_core::sharing::NewRecipient {
        kind,
        legal_name: "App X Inc.".into(),
        address: "Tokyo".into(),
        representative: "CEO".into(),
        country: "JP".into(),
        role: steward_domain::RecipientRole::Controller,
        contract: "C-1".into(),
        principal: principal.map(str::to_owned),
        categories: vec![],
        service: None,
        locations: vec![],
        owner: "prv".into(),
        review_interval_days: 365,
    };
    let app = st
        .add_recipient(
            "prv",
            recipient(steward_domain::RecipientKind::ThirdPartyApp, Some("app-x")),
        )
        .unwrap();
    let new_grant = steward_core::sharing::NewGrant {
        recipient: app.id.clone(),
        organisation: "acme".into(),
        scopes: vec![steward_core::sharing::Scope {
            category: steward_domain::Category::Usage,
            purpose: Purpose::ProvideServices,
        }],
        users: vec![],
    };
    let grant = st.grant_app("acme-admin", new_grant.clone()).unwrap();

    assert_eq!(ManagementAction::ALL.len(), 38);
    let mut seen = 0;
    for action in ManagementAction::ALL {
        use ManagementAction as M;
        // Every staff member may report an incident (N8.5): an
        // organisation's administrator may not.
        let who = if action == M::IncidentReport {
            "acme-admin"
        } else {
            "eng"
        };
        let before = st.audit_search(&filter(who, "deny")).unwrap().len();
        let e = match action {
            M::PrincipalAdd => st
                .add_principal("eng", &staff("eve", Team::Security))
                .map(|_| ()),
            M::PrincipalRevoke => st.revoke_principal("eng", "sup"),
            M::PrincipalChange => st
                .change_principal("eng", &staff("sup", Team::Security))
                .map(|_| ()),
            M::TokenIssue => st.issue_token("eng", "sup", 3600, vec![]).map(|_| ()),
            M::TokenRevoke => st.revoke_token("eng", &other_token.info.id).map(|_| ()),
            M::TokenList => st.tokens("eng", Some("sup")).map(|_| ()),
            M::PartnerCreate => st.create_partner("eng", "p2", "P2").map(|_| ()),
            M::OrganisationCreate => st
                .create_organisation("eng", "initech", "Initech", None, true)
                .map(|_| ()),
            M::OrgAdminAdd => st.add_org_admin("eng", "acme-2", "acme").map(|_| ()),
            M::ResellerAdd => st.add_reseller("eng", "res-2", "p1").map(|_| ()),
            M::UserCreate => st
                .create_user("eng", "acme", "username:bob", None)
                .map(|_| ()),
            M::OrganisationView => st.organisation_as("eng", "acme").map(|_| ()),
            M::OrganisationUsers => st.users_of_as("eng", "acme").map(|_| ()),
            M::OrganisationSettings => st.set_users_may_export("eng", "acme", false).map(|_| ()),
            M::CaseOpen => st.open_case("eng", "username:ann").map(|_| ()),
            M::CaseClose => st.close_case("eng", &case.id),
            // Issue 17 item 4 (N6.6): decided before the processor is
            // looked at, so an unregistered name is denied, not refused.
            M::CaseAssign => st.assign_case("eng", &case.id, "proc-x").map(|_| ()),
            M::EngagementRecord => st
                .record_engagement(
                    "eng",
                    &steward_core::NewEngagement {
                        processor: "proc-x".into(),
                        organisation: Some("acme".into()),
                        subjects: vec![],
                        categories: vec![steward_domain::Category::Account],
                        starts_on: time::OffsetDateTime::now_utc().date(),
                        ends_on: time::OffsetDateTime::now_utc().date(),
                        reference: "SOW-1".into(),
                    },
                )
                .map(|_| ()),
            M::EngagementEnd => st.end_engagement("eng", "eng_0000000000000000").map(|_| ()),
            M::ObligationRecord => st
                .record_obligation("eng", "legal_request", "Docket 1")
                .map(|_| ()),
            M::KeysRotate => st.rotate_keys("eng").map(|_| ()),
            M::KeysRetire => st.retire_kek("eng", 1),
            M::BlindIndexRotate => st.rotate_blind_index("eng", Default::default()).map(|_| ()),
            M::TransferMechanismAdd => st
                .add_transfer_mechanism("eng", "jp", "US", "scc", "x")
                .map(|_| ()),
            M::RetentionSweep => st.retention_sweep("eng", false).map(|_| ()),
            M::DsrHandle => st.approve(&request.id, "eng").map(|_| ()),
            M::EmailIntake => st
                .intake_email("eng", &mail("ann@example.com", "m1@example.com"))
                .map(|_| ()),
            M::AuditSearch => st
                .audit_search_as("eng", &filter("eng", "deny"))
                .map(|_| ()),
            M::RecipientAdd => st
                .add_recipient(
                    "eng",
                    recipient(steward_domain::RecipientKind::Authority, None),
                )
                .map(|_| ()),
            M::AppGrant => st.grant_app("eng", new_grant.clone()).map(|_| ()),
            M::AppGrantRevoke => st.revoke_grant("eng", &grant.id).map(|_| ()),
            M::AppPolicySet => {
                st.set_app_policy("eng", "acme", steward_domain::AppAdminPolicy::Trusted)
            }
            M::DisclosureReport => st.provision_record("eng", &app.id, 0, 1).map(|_| ()),
            M::GrantAdd => st
                .grant_need_to_know(
                    "eng",
                    &steward_core::GrantRequest {
                        grantee: "sup".into(),
                        subject: "username:ann".into(),
                        purpose: Purpose::Assist,
                        categories: vec![steward_domain::Category::Usage],
                        expires_on: time::OffsetDateTime::now_utc().date(),
                        reference: "CHG-1".into(),
                    },
                )
                .map(|_| ()),
            M::SubjectsMerge => st
                .merge_subjects("eng", "username:ann", "username:bob")
                .map(|_| ()),
            M::IdentityReport => st.confusable_identifiers("eng").map(|_| ()),
            M::IncidentReport => st
                .report_incident(
                    who,
                    &steward_core::NewReport {
                        kind: steward_domain::IncidentKind::Loss,
                        channel: steward_domain::ReportChannel::Api,
                        text: "a laptop was lost".into(),
                        aware_at: None,
                    },
                )
                .map(|_| ()),
            M::IncidentManage => st.incidents_due("eng", None).map(|_| ()),
        }
        .expect_err(action.as_str());
        let d = denied(e);
        assert!(d.audit_index.is_some(), "{action}: {d:?}");
        let denials = st.audit_search(&filter(who, "deny")).unwrap();
        assert_eq!(denials.len(), before + 1, "{action}: one audited denial");
        let entry = denials.last().unwrap();
        assert!(
            entry.contains(&format!(
                "\"action\":\"{}\"",
                action.policy_action().as_str()
            )),
            "{action}: {entry}"
        );
        assert!(
            entry.contains(&format!("\"purpose\":\"{}\"", action.purpose().as_str())),
            "{action}: {entry}"
        );
        if action != M::EmailIntake {
            assert!(
                entry.contains(&format!("op:{}", action.as_str())),
                "{action}: {entry}"
            );
        }
        seen += 1;
    }
    assert_eq!(seen, ManagementAction::ALL.len());
    // Nothing was changed by any of them.
    assert!(st.partner("p2").unwrap().is_none());
    assert!(st.organisation("initech").unwrap().is_none());
    assert!(st.organisation("acme").unwrap().unwrap().users_may_export);
    assert!(!st.principal("sup").unwrap().revoked);
    assert_eq!(st.principal("sup").unwrap().teams, vec![Team::Support]);
    assert!(st.principal("eve").is_err());
    assert!(st.engagements().unwrap().is_empty());
    let tok = st.authenticate_token(&other_token.token).unwrap();
    assert!(tok.is_ok(), "the other principal's token still works");
}

/// Issue 14 item 1, N5.5: a name that exists is refused whatever the new
/// principal's kind: a customer administrator and an organisation's user
/// are not replaced by staff members, and keep their kind.
#[test]
fn re_adding_a_principal_by_name_is_refused_whatever_its_kind_n5_5() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let op = st.operator().to_owned();
    let t = tenants(&st);
    for name in [
        "acme-admin",
        t.ann_user.as_str(),
        "res",
        "ingest",
        op.as_str(),
    ] {
        let e = st
            .add_principal(&op, &staff(name, Team::Security))
            .unwrap_err()
            .to_string();
        assert!(e.contains("already exists"), "{name}: {e}");
    }
    assert_eq!(
        st.principal("acme-admin").unwrap().kind,
        PrincipalKind::CustomerAdmin
    );
    let ann = st.principal(&t.ann_user).unwrap();
    assert_eq!(ann.kind, PrincipalKind::DataSubject);
    assert!(ann.teams.is_empty());
    // Tenancy names are not re-used either.
    let e = st.add_org_admin(&op, &t.ann_user, "globex").unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    let e = st.add_reseller(&op, "acme-admin", "p1").unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    // Administrators, resellers and users come only through tenancy (N1.2).
    let mut admin = staff("new-admin", Team::Security);
    admin.kind = PrincipalKind::CustomerAdmin;
    admin.teams = vec![];
    let e = st.add_principal(&op, &admin).unwrap_err().to_string();
    assert!(e.contains("/v1/organisations"), "{e}");
}

/// Issue 14 item 1, N5.5: changing a principal's teams is its own decided
/// and audited operation, and it revokes every token of the principal, so
/// no credential issued for the old powers carries the new ones.
#[test]
fn changing_a_principals_teams_is_audited_and_revokes_its_tokens_n5_5() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let op = st.operator().to_owned();
    st.add_principal(&op, &staff("sam", Team::Support)).unwrap();
    let t1 = st.issue_token(&op, "sam", 3600, vec![]).unwrap();
    let t2 = st.issue_token(&op, "sam", 3600, vec![]).unwrap();
    // The same kind and teams (dates only): no token is revoked.
    let mut same = staff("sam", Team::Support);
    same.training_expires_on = same
        .training_expires_on
        .map(|d| d + time::Duration::days(10));
    assert_eq!(st.change_principal(&op, &same).unwrap(), 0);
    assert!(st.authenticate_token(&t1.token).unwrap().is_ok());
    // New teams: both tokens revoked at once.
    assert_eq!(
        st.change_principal(&op, &staff("sam", Team::Security))
            .unwrap(),
        2
    );
    for t in [&t1, &t2] {
        assert_eq!(
            st.authenticate_token(&t.token).unwrap().unwrap_err(),
            steward_core::AuthFailure::Revoked
        );
    }
    assert_eq!(st.principal("sam").unwrap().teams, vec![Team::Security]);
    let changes = st
        .audit_search(&steward_core::AuditFilter {
            action: Some("principal_change".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(changes.len(), 2, "{changes:?}");
    let allows = st.audit_search(&filter(&op, "allow")).unwrap();
    assert_eq!(
        allows
            .iter()
            .filter(|e| e.contains("op:principal_change"))
            .count(),
        2
    );
    // A user cannot be turned into staff by a change either.
    let t = tenants(&st);
    let e = st
        .change_principal(&op, &staff(&t.ann_user, Team::Security))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/v1/organisations"), "{e}");
}

/// Issue 14 item 2, N7.1: an organisation that does not let its users
/// export refuses a user's export of their own data on the subject export
/// route too (`Steward::export` with the user as principal), audited and
/// naming the setting; the organisation's administrator exports its users
/// (N7.2: the organisation goes to the gate), and another organisation's
/// administrator does not.
#[test]
fn the_export_setting_holds_on_every_route_and_admins_export_their_users_n7_1() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let op = st.operator().to_owned();
    let t = tenants(&st);
    let ann = st.user(&t.ann_user).unwrap().unwrap();
    let out = dir.path().join("ann.zip");
    // Allowed while the organisation allows it.
    let s = st
        .export(
            &t.ann_user,
            Purpose::ProvideServices,
            &ann.subject,
            &out,
            None,
        )
        .unwrap();
    assert_eq!(s.record_count, 1);
    st.set_users_may_export(&op, "acme", false).unwrap();
    for identifier in [ann.subject.as_str(), "username:ann"] {
        let d = denied(
            st.export(
                &t.ann_user,
                Purpose::ProvideServices,
                identifier,
                &out,
                None,
            )
            .unwrap_err(),
        );
        assert_eq!(d.policy_ids, vec!["organisation-disallows-export"]);
        assert_eq!(d.clause_ids, vec!["N7.1"]);
        assert!(d.audit_index.is_some());
    }
    let d = denied(st.self_export(&t.ann_user, &out).unwrap_err());
    assert_eq!(d.policy_ids, vec!["organisation-disallows-export"]);
    // The organisation's administrator exports its user (N7.2).
    let s = st
        .export(
            "acme-admin",
            Purpose::ProvideServices,
            "username:ann",
            &out,
            None,
        )
        .unwrap();
    assert_eq!(s.record_count, 1);
    let allowed = st.audit_search(&filter("acme-admin", "allow")).unwrap();
    assert!(
        allowed
            .last()
            .unwrap()
            .contains("admin-export-for-organisation"),
        "{allowed:?}"
    );
    // Another organisation's administrator does not.
    let d = denied(
        st.export(
            "globex-admin",
            Purpose::ProvideServices,
            "username:ann",
            &out,
            None,
        )
        .unwrap_err(),
    );
    assert!(d.audit_index.is_some());
    let _ = t.bob_user;
}

/// Issue 14 item 3, N3.7, N6.5d: an obligation recorded by an
/// administrator concerns their organisation only, and is citable by the
/// recorder only (unless the recorder names others). A reseller of two
/// organisations who records one for acme cannot cite it for globex's
/// user; legal staff cannot cite an administrator's obligation at all; an
/// obligation naming a subject does not unlock another subject.
#[test]
fn an_obligation_unlocks_only_its_subjects_for_its_citers_n3_7() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let op = st.operator().to_owned();
    let t = tenants(&st);
    st.add_principal(&op, &staff("lee", Team::Legal)).unwrap();
    // The reseller manages two organisations: it must name one.
    let e = denied(
        st.record_obligation("res", "legal_request", "Docket 9")
            .unwrap_err(),
    );
    assert!(e.audit_index.is_some());
    let ob = st
        .record_obligation_for(
            "res",
            "legal_request",
            "Docket 9",
            &ObligationScope {
                organisation: Some("acme".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(ob.organisation.as_deref(), Some("acme"));
    assert_eq!(ob.cited_by, vec!["res".to_owned()]);
    // Not for an organisation it does not manage.
    let e = st
        .record_obligation_for(
            "acme-admin",
            "legal_request",
            "Docket 10",
            &ObligationScope {
                organisation: Some("globex".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
    denied(e);
    // acme's user: unlocked. globex's user: not, though the reseller
    // manages globex too.
    let (_, records) = st
        .admin_legal_access("res", &t.ann_user, Some(&ob.id))
        .unwrap();
    assert_eq!(records.len(), 1);
    let d = denied(
        st.admin_legal_access("res", &t.bob_user, Some(&ob.id))
            .unwrap_err(),
    );
    assert_eq!(d.clause_ids, vec!["N3.7"]);
    // An administrator's obligation is not legal staff's to cite.
    let admin_ob = st
        .record_obligation("acme-admin", "legal_request", "Docket 11")
        .unwrap();
    assert_eq!(admin_ob.organisation.as_deref(), Some("acme"));
    let read = |by: &str, who: &str, ob: &str| {
        st.read(&steward_core::AccessRequest {
            principal: by.into(),
            action: steward_core::Action::Read,
            subject: who.into(),
            category: Some(steward_domain::Category::Account),
            purpose: Some(Purpose::Comply),
            case_id: None,
            obligation_id: Some(ob.into()),
            grant_id: None,
            incident_id: None,
            organisation: None,
            kind: None,
        })
    };
    denied(read("lee", "username:ann", &admin_ob.id).unwrap_err());
    // Legal staff's own obligation, naming ann: ann only, citable by
    // whoever the pack lets act for comply.
    let lee_ob = st
        .record_obligation_for(
            "lee",
            "legal_request",
            "Subpoena 3",
            &ObligationScope {
                subjects: vec!["username:ann".into()],
                ..Default::default()
            },
        )
        .unwrap();
    assert!(lee_ob.cited_by.is_empty());
    assert_eq!(read("lee", "username:ann", &lee_ob.id).unwrap().1.len(), 1);
    denied(read("lee", "username:bob", &lee_ob.id).unwrap_err());
}
