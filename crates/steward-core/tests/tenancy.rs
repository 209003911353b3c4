//! The tenancy tree (N1.2): partner (authorised reseller) -> customer
//! organisation -> user (a data subject), built through the core API and
//! read back from the registry. No real data: synthetic records.

use steward_core::{Config, OpenOptions, Steward};
use steward_domain::{
    Fields, IdentifierKind, Kind, NewRecord, PrincipalKind, Product, SubjectIdentifier,
};

fn record(user: &str) -> NewRecord {
    let mut f = Fields::new();
    f.insert("event".into(), "accepted_password".into());
    f.insert("outcome".into(), "success".into());
    f.insert("account".into(), user.into());
    NewRecord::new(
        "usage.authentication".parse::<Kind>().unwrap(),
        Some(SubjectIdentifier::new(IdentifierKind::Username, user).unwrap()),
        Product::Workspace,
        None,
        f,
    )
    .unwrap()
}

/// Customers directly or through a partner; "customers" includes partners
/// and their customers: a partner's reseller is authorised for exactly the
/// partner's organisations (also those made later), each user is one data
/// subject of one organisation, and a direct customer has no partner.
#[test]
fn tenancy_tree_partner_organisation_user_n1_2() {
    let dir = tempfile::tempdir().unwrap();
    let st = Steward::open(dir.path(), Config::default(), OpenOptions::default()).unwrap();
    let recs = ["ann", "bob", "cat"].map(record).to_vec();
    assert_eq!(st.ingest("ingest", recs, &mut |_| {}).unwrap().stored, 3);
    let op = st.operator().to_owned();

    st.create_partner(&op, "p1", "Partner One").unwrap();
    let r = st.add_reseller(&op, "resell", "p1").unwrap();
    assert_eq!(r.kind, PrincipalKind::Reseller);
    assert!(r.organisations.is_empty(), "{:?}", r.organisations);
    st.create_organisation(&op, "org-a", "A", Some("p1"), true)
        .unwrap();
    st.create_organisation(&op, "org-b", "B", None, false)
        .unwrap();
    let ua = st.create_user(&op, "org-a", "username:ann", None).unwrap();
    let ub = st.create_user(&op, "org-b", "username:bob", None).unwrap();

    // Partner -> organisation.
    assert_eq!(st.partner("p1").unwrap().unwrap().resellers, ["resell"]);
    let a = st.organisation("org-a").unwrap().unwrap();
    assert_eq!(a.partner.as_deref(), Some("p1"));
    assert_eq!(st.organisation("org-b").unwrap().unwrap().partner, None);
    assert_eq!(st.principal("resell").unwrap().organisations, ["org-a"]);
    // An organisation made later under the partner is the reseller's too.
    st.create_organisation(&op, "org-c", "C", Some("p1"), true)
        .unwrap();
    assert_eq!(
        st.principal("resell").unwrap().organisations,
        ["org-a", "org-c"]
    );

    // Organisation -> user -> data subject.
    let ann = st.find("username:ann").unwrap().unwrap();
    assert_eq!(ua.subject, ann.to_string());
    assert_eq!(ua.organisation, "org-a");
    assert_eq!(
        st.organisation_of_subject(ann).unwrap().as_deref(),
        Some("org-a")
    );
    assert_eq!(
        st.organisation_of_identifier("username:bob")
            .unwrap()
            .as_deref(),
        Some("org-b")
    );
    assert_eq!(st.organisation_of_identifier("username:cat").unwrap(), None);
    let names = |org: &str| -> Vec<String> {
        st.users_of(org)
            .unwrap()
            .into_iter()
            .map(|u| u.name)
            .collect()
    };
    assert_eq!(names("org-a"), [ua.name.clone()]);
    assert_eq!(names("org-b"), [ub.name.clone()]);
    assert!(names("org-c").is_empty());
    let p = st.principal(&ua.name).unwrap();
    assert_eq!(p.kind, PrincipalKind::DataSubject);
    assert_eq!(p.subject, Some(ann));

    // One organisation per subject; no organisation under an unknown partner.
    assert!(st.create_user(&op, "org-b", "username:ann", None).is_err());
    assert!(
        st.create_organisation(&op, "org-x", "X", Some("nope"), true)
            .is_err()
    );
    assert!(st.organisation("org-x").unwrap().is_none());
}
