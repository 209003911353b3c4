//! Issue 15: one person, one subject, in one tenant. Identifiers
//! normalised the same way at ingest and lookup (item 1), tenant-scoped
//! blind indexes (item 2, N1.2), a batch that resolves against itself and
//! atomic create-if-absent (item 3), and subjects that merge when a record
//! links them (item 4, N7.2). Synthetic records only.

use steward_core::{Config, OpenOptions, Steward, VerifyOutcome};
use steward_domain::{Fields, IdentifierKind, Kind, NewRecord, Product, SubjectIdentifier};

fn open(dir: &std::path::Path) -> Steward {
    Steward::open(dir, Config::default(), OpenOptions::default()).unwrap()
}

fn ident(kind: IdentifierKind, v: &str) -> SubjectIdentifier {
    SubjectIdentifier::new(kind, v).unwrap()
}

/// An account profile of `username` naming `email` as a second identifier.
fn profile(username: &str, email: &str) -> NewRecord {
    let mut f = Fields::new();
    f.insert("username".into(), username.into());
    f.insert("given_name".into(), "Test".into());
    f.insert("email".into(), email.into());
    NewRecord::new(
        "account.profile".parse::<Kind>().unwrap(),
        Some(ident(IdentifierKind::Username, username)),
        Product::CloudPlatform,
        None,
        f,
    )
    .unwrap()
}

/// An authentication event whose subject is `subject`.
fn usage(subject: SubjectIdentifier) -> NewRecord {
    let mut f = Fields::new();
    f.insert("event".into(), "login".into());
    f.insert("outcome".into(), "success".into());
    NewRecord::new(
        "usage.authentication".parse::<Kind>().unwrap(),
        Some(subject),
        Product::CloudPlatform,
        Some("2024-05-01T10:00:00Z".into()),
        f,
    )
    .unwrap()
}

/// Records stored per subject (opaque id -> count), from the store's counts.
fn counts(st: &Steward) -> Vec<u64> {
    let mut v: Vec<u64> = st
        .subjects(st.operator(), false)
        .unwrap()
        .iter()
        .filter(|s| !s.erased)
        .map(|s| s.records.values().sum())
        .collect();
    v.sort();
    v
}

fn audit_ok(st: &Steward) {
    assert!(
        matches!(st.audit_verify().unwrap(), VerifyOutcome::Ok(_)),
        "the audit log verifies"
    );
}

/// Item 1: full-width letters, upper case and IPv4-mapped IPv6 addresses
/// are one identifier each with their plain form: one subject per person.
#[test]
fn issue15_item1_normalised_identifiers_make_one_subject() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let recs = vec![
        usage(ident(IdentifierKind::Username, "alicezq")),
        usage(ident(IdentifierKind::Username, "ＡＬＩＣＥｚｑ")),
        usage(ident(IdentifierKind::Username, "AliceZQ")),
        usage(ident(IdentifierKind::Ip, "192.0.2.7")),
        usage(ident(IdentifierKind::Ip, "::ffff:192.0.2.7")),
        usage(ident(IdentifierKind::Email, "Bob@Example.COM")),
        usage(ident(IdentifierKind::Email, "ｂｏｂ@example.com")),
    ];
    let s = st.ingest("ingest", recs, &mut |_| {}).unwrap();
    assert_eq!(s.stored, 7);
    assert_eq!(s.new_subjects, 3, "alicezq, 192.0.2.7, bob@example.com");
    assert_eq!(counts(&st), vec![2, 2, 3]);
    // Looked up the same way.
    let a = st.find("username:ａｌｉｃｅＺＱ").unwrap();
    assert!(a.is_some());
    assert_eq!(a, st.find("username:alicezq").unwrap());
    assert_eq!(
        st.find("ip:::ffff:c000:207").unwrap(),
        st.find("192.0.2.7").unwrap()
    );
    // Zero-width and bidi controls are refused, not a new subject.
    for bad in ["alice\u{200B}zq", "\u{202E}alicezq", "ali\u{00AD}cezq"] {
        let e = SubjectIdentifier::new(IdentifierKind::Username, bad).unwrap_err();
        assert!(e.to_string().contains("invisible"), "{e}");
    }
}

/// Item 3: one batch, an account profile of `alicezq` naming her email,
/// then a usage record whose subject is that email: one subject, and an
/// erasure by the email makes both records unreadable.
#[test]
fn issue15_item3_a_batch_resolves_against_itself() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let recs = vec![
        profile("alicezq", "alicezq@example.com"),
        usage(ident(IdentifierKind::Email, "alicezq@example.com")),
    ];
    let s = st.ingest("ingest", recs, &mut |_| {}).unwrap();
    assert_eq!(s.new_subjects, 1);
    assert_eq!(counts(&st), vec![2]);
    let by_email = st.find("email:alicezq@example.com").unwrap().unwrap();
    assert_eq!(Some(by_email), st.find("username:alicezq").unwrap());
    let ob = st
        .record_obligation(st.operator(), "data_subject_request", "t")
        .unwrap()
        .id;
    let r = st
        .erase(
            st.operator(),
            steward_domain::Purpose::Comply,
            "email:alicezq@example.com",
            Some(&ob),
        )
        .unwrap();
    assert_eq!(r.records_unreadable, 2);
    assert_eq!(counts(&st), Vec::<u64>::new());
    // And the other order: the email's record first, then the profile.
    let recs = vec![
        usage(ident(IdentifierKind::Email, "bobzq@example.com")),
        profile("bobzq", "bobzq@example.com"),
    ];
    assert_eq!(
        st.ingest("ingest", recs, &mut |_| {}).unwrap().new_subjects,
        1
    );
    assert_eq!(counts(&st), vec![2]);
    // No subject is left without an identifier row.
    assert!(
        st.subjects_without_identifier(st.operator())
            .unwrap()
            .is_empty()
    );
    audit_ok(&st);
}

/// Item 4: an email subject made by an early record, and the account made
/// apart; a later record names both: they merge, every record opens under
/// the kept subject, the other is shredded, the audit log verifies.
#[test]
fn issue15_item4_linked_subjects_merge_and_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let email = ident(IdentifierKind::Email, "carolzq@example.com");
    let user = ident(IdentifierKind::Username, "carolzq");
    st.ingest(
        "ingest",
        vec![usage(email.clone()), usage(email)],
        &mut |_| {},
    )
    .unwrap();
    st.ingest("ingest", vec![usage(user)], &mut |_| {}).unwrap();
    assert_eq!(counts(&st), vec![1, 2]);
    let before_email = st.find("email:carolzq@example.com").unwrap().unwrap();
    let before_user = st.find("username:carolzq").unwrap().unwrap();
    assert_ne!(before_email, before_user);
    // The profile names both identifiers: one person.
    st.ingest(
        "ingest",
        vec![profile("carolzq", "carolzq@example.com")],
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(counts(&st), vec![4]);
    let kept = st.find("username:carolzq").unwrap().unwrap();
    assert_eq!(Some(kept), st.find("email:carolzq@example.com").unwrap());
    assert_eq!(kept, before_user);
    // Every record opens under the kept subject's key, and every index
    // entry is the blind index of its value.
    let (opened, _) = st.verify_records(st.operator()).unwrap();
    assert_eq!(opened, 4);
    audit_ok(&st);
}

/// Item 4: privacy staff merge by hand (decided by the pack, audited); a
/// principal the pack does not allow is refused.
#[test]
fn issue15_item4_manual_merge_by_privacy_staff() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let a = ident(IdentifierKind::Username, "danzq");
    let b = ident(IdentifierKind::Username, "danzq-old");
    st.ingest(
        "ingest",
        vec![usage(a), usage(b.clone()), usage(b)],
        &mut |_| {},
    )
    .unwrap();
    let e = st
        .merge_subjects("ingest", "username:danzq", "username:danzq-old")
        .unwrap_err();
    assert!(matches!(e, steward_core::CoreError::Denied(_)), "{e}");
    let r = st
        .merge_subjects(st.operator(), "username:danzq", "username:danzq-old")
        .unwrap();
    assert_eq!((r.records_moved, r.identifiers_moved), (2, 1));
    assert_eq!(counts(&st), vec![3]);
    let kept = st.find("username:danzq").unwrap();
    assert_eq!(kept, st.find("username:danzq-old").unwrap());
    assert_eq!(r.kept, kept.unwrap().to_string());
    assert_eq!(st.verify_records(st.operator()).unwrap().0, 3);
    audit_ok(&st);
}

/// Item 2: two organisations' users of one username are two
/// subjects; a record ingested for one organisation never lands in the
/// other's user, nor does one ingested without an organisation.
#[test]
fn issue15_item2_usernames_are_per_organisation_n1_2() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let op = st.operator().to_owned();
    let name = ident(IdentifierKind::Username, "admin2zq");
    st.ingest("ingest", vec![usage(name.clone())], &mut |_| {})
        .unwrap();
    st.create_organisation(&op, "org-a", "A", None, true)
        .unwrap();
    st.create_organisation(&op, "org-b", "B", None, true)
        .unwrap();
    let ua = st
        .create_user(&op, "org-a", "username:admin2zq", None)
        .unwrap();
    // Organisation B's record, and one of no organisation.
    let s = st
        .ingest_for(
            "ingest",
            None,
            Some("org-b"),
            vec![usage(name.clone())],
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(s.new_subjects, 1);
    let s = st
        .ingest("ingest", vec![usage(name.clone())], &mut |_| {})
        .unwrap();
    assert_eq!(s.new_subjects, 1);
    let a_count: u64 = st
        .subjects(&op, false)
        .unwrap()
        .iter()
        .find(|s| s.subject == ua.subject)
        .map(|s| s.records.values().sum())
        .unwrap();
    assert_eq!(a_count, 1, "org-a's user holds only its own record");
    // B's user is B's subject.
    let ub = st
        .create_user(&op, "org-b", "username:admin2zq", None)
        .unwrap();
    assert_ne!(ub.subject, ua.subject);
    // An organisation that does not exist is refused, nothing stored.
    let e = st
        .ingest_for(
            "ingest",
            None,
            Some("org-x"),
            vec![usage(name)],
            &mut |_| {},
        )
        .unwrap_err();
    assert!(e.to_string().contains("org-x"), "{e}");
    assert_eq!(counts(&st), vec![1, 1, 1]);
    audit_ok(&st);
}

/// Item 3: concurrent first writes of the same new subjects by two
/// Steward instances (two processes' worth: two stores, two keyrings
/// opened on one data directory) on one PostgreSQL store end with one
/// subject per person, each with its identifier row: the blind-index key
/// decides, and the writer that lost resolves again and uses the winner.
#[test]
fn issue15_item3_concurrent_first_writes_on_postgresql_make_one_subject() {
    let url = std::env::var("STEWARD_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let reachable = std::net::TcpStream::connect_timeout(
        &"127.0.0.1:5432".parse().unwrap(),
        std::time::Duration::from_secs(2),
    )
    .is_ok();
    if !reachable {
        assert!(std::env::var("CI").is_err(), "CI must reach PostgreSQL");
        println!("skip: PostgreSQL not reachable at 127.0.0.1:5432");
        return;
    }
    let schema = format!(
        "steward_identity_{}",
        time::OffsetDateTime::now_utc().unix_timestamp_nanos()
    );
    let sep = if url.contains('?') { '&' } else { '?' };
    let config = Config::parse(
        &format!(
            "[[regions]]\nname = \"jp\"\ncountry = \"JP\"\nstore = \"{url}{sep}schema={schema}\"\n"
        ),
        "test.toml",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let one = Steward::open(dir.path(), config.clone(), OpenOptions::default()).unwrap();
    let two = Steward::open(dir.path(), config, OpenOptions::default()).unwrap();
    const ROUNDS: usize = 40;
    let barrier = std::sync::Barrier::new(2);
    std::thread::scope(|sc| {
        for st in [&one, &two] {
            let barrier = &barrier;
            sc.spawn(move || {
                for i in 0..ROUNDS {
                    let u = ident(IdentifierKind::Username, &format!("racezq{i}"));
                    barrier.wait();
                    st.ingest("ingest", vec![usage(u)], &mut |_| {}).unwrap();
                }
            });
        }
    });
    // One subject per person, each holding both writers' records, none
    // without an identifier row.
    assert_eq!(counts(&one), vec![2; ROUNDS]);
    assert!(
        one.subjects_without_identifier(one.operator())
            .unwrap()
            .is_empty()
    );
    for i in 0..ROUNDS {
        assert!(one.find(&format!("username:racezq{i}")).unwrap().is_some());
    }
    audit_ok(&one);
}
