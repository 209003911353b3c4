//! Section 9: a disclosure (issue 19: decision with consent and grant
//! states, checks, ledger row and audit entry in one commit, then opening)
//! beside a gated read of the same records, in one run, same store.

use std::time::Instant;

use steward_core::sharing::{NewConsent, NewRecipient};
use steward_core::{AccessRequest, Action, Config, DisclosureRequest, OpenOptions, Steward};
use steward_domain::{
    Category, ConsentMethod, DisclosureBasis, Fields, IdentifierKind, Kind, NewRecord, Principal,
    PrincipalKind, Product, Purpose, RecipientKind, RecipientRole, SubjectIdentifier, Team,
};

use crate::report::{Row, Section};

/// Usage record `i` of the bench's one subject, `bench-user`.
pub fn usage(i: usize) -> NewRecord {
    let mut f = Fields::new();
    f.insert("event".into(), "login".into());
    f.insert("account".into(), "bench-user".into());
    f.insert("count".into(), (i as i64).into());
    NewRecord::new(
        "usage.authentication".parse::<Kind>().expect("kind"),
        Some(SubjectIdentifier::new(IdentifierKind::Username, "bench-user").expect("id")),
        Product::Workspace,
        None,
        f,
    )
    .expect("record")
}

fn median_us(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// 100 usage records of one subject; `n` gated reads of them and `n`
/// consent-based disclosures of them to another controller, interleaved.
pub fn disclose(quick: bool) -> Section {
    let mut s = Section::new(9, "Disclosure vs gated read of the same records");
    let n = if quick { 20 } else { 500 };
    let dir = tempfile::tempdir().expect("tempdir");
    let st = Steward::open(dir.path(), Config::default(), OpenOptions::default()).expect("open");
    let op = st.operator().to_owned();
    st.ingest("ingest", (0..100).map(usage).collect(), &mut |_| {})
        .expect("ingest");
    let today = time::OffsetDateTime::now_utc().date();
    st.add_principal(
        &op,
        &Principal {
            name: "priv".into(),
            kind: PrincipalKind::Employee,
            teams: vec![Team::Privacy],
            confidentiality_signed_on: Some(today - time::Duration::days(1)),
            training_expires_on: Some(today + time::Duration::days(30)),
            engagement_ends_on: None,
            subject: None,
            organisations: vec![],
            revoked: false,
        },
    )
    .expect("staff");
    let rcp = st
        .add_recipient(
            "priv",
            NewRecipient {
                kind: RecipientKind::OtherController,
                legal_name: "Bench K.K.".into(),
                address: "Tokyo".into(),
                representative: "CEO".into(),
                country: "JP".into(),
                role: RecipientRole::Controller,
                contract: "C-1".into(),
                principal: None,
                categories: vec![],
                service: None,
                locations: vec![],
                owner: "priv".into(),
                review_interval_days: 365,
            },
        )
        .expect("recipient");
    let sub = st
        .find("username:bench-user")
        .expect("find")
        .expect("the subject exists")
        .to_string();
    st.give_consent(
        "ingest",
        NewConsent {
            subject: sub,
            recipient: Some(rcp.id.clone()),
            purpose: None,
            method: ConsentMethod::Api,
            expires_in_days: None,
        },
    )
    .expect("consent");
    let read_req = AccessRequest::new("ingest", Action::Read, "username:bench-user")
        .category(Category::Usage)
        .purpose(Purpose::ProvideServices);
    let dis_req = DisclosureRequest {
        principal: "ingest".into(),
        subject: "username:bench-user".into(),
        recipient: rcp.id.clone(),
        basis: DisclosureBasis::Consent,
        purpose: Purpose::OtherServices,
        category: Some(Category::Usage),
        obligation_id: None,
    };
    let (mut reads, mut discs) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let t = Instant::now();
        let (_, r) = st.read(&read_req).expect("read");
        reads.push(t.elapsed().as_secs_f64() * 1e6);
        assert_eq!(r.len(), 100);
        let t = Instant::now();
        let d = st.disclose(&dis_req).expect("disclose");
        discs.push(t.elapsed().as_secs_f64() * 1e6);
        assert_eq!(d.records.len(), 100);
    }
    let (r, d) = (median_us(reads), median_us(discs));
    s.method.push(format!(
        "one SQLite store; one subject with 100 usage records; {n} gated reads (`Steward::read`, usage, provide_services) and {n} disclosures of the same records (`Steward::disclose`, consent basis, to another controller: decision with consent and grant states, checks, ledger row + audit entry in one commit, opening) interleaved; medians"
    ));
    s.rows.push(Row::info(
        "disclose 100 records vs gated read of them",
        format!("{:.0} µs", d),
        format!("{:.0} µs", r),
        format!("{:.2}× time", d / r),
    ));
    s.notes.push(
        "the disclosure adds the consent and grant look-ups (registry scans), the recipient checks and one more registry row in the commit that the read's audit entry already pays for".into(),
    );
    s
}
