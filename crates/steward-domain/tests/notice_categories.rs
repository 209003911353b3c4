//! The notice's own words for what is collected (N2.1, N2.3) and where it
//! comes from (N1.1), checked against the closed vocabularies: each item the
//! notice names has a field, and what it does not name is refused (N1.3).

use steward_domain::{
    Category, DomainError, Fields, IdentifierKind, Kind, NewRecord, Product, SubjectIdentifier,
};

fn fields_of(kind: &str) -> Vec<&'static str> {
    let k: Kind = kind.parse().unwrap();
    k.fields().iter().map(|f| f.name).collect()
}

fn record(kind: &str, pairs: &[(&str, &str)], product: Product) -> Result<NewRecord, DomainError> {
    let mut f = Fields::new();
    for (k, v) in pairs {
        f.insert((*k).into(), (*v).into());
    }
    NewRecord::new(
        kind.parse()?,
        Some(SubjectIdentifier::new(IdentifierKind::Username, "ann").unwrap()),
        product,
        None,
        f,
    )
}

/// N2.1: "username, personal names, contact details and job title".
#[test]
fn account_holds_what_the_notice_names_and_nothing_else_n2_1() {
    let profile = fields_of("account.profile");
    // The notice's items, as the field names a record uses for them.
    for item in [
        "username",
        "given_name",
        "family_name",
        "email",
        "phone",
        "job_title",
    ] {
        assert!(profile.contains(&item), "account.profile lacks {item}");
    }
    assert!("account.profile".parse::<Kind>().unwrap().category() == Category::Account);
    let ok = record(
        "account.profile",
        &[
            ("username", "ann"),
            ("email", "ann@example.com"),
            ("job_title", "Engineer"),
        ],
        Product::Workspace,
    );
    assert!(ok.is_ok(), "{ok:?}");
    // Not in the notice: refused, naming the field and the allowed ones.
    for extra in ["password", "date_of_birth", "national_id"] {
        match record(
            "account.profile",
            &[("username", "ann"), (extra, "x")],
            Product::Workspace,
        ) {
            Err(DomainError::UnknownField { field, allowed, .. }) => {
                assert_eq!(field, extra);
                assert!(allowed.contains("job_title"), "{allowed}");
            }
            other => panic!("{extra}: {other:?}"),
        }
    }
}

/// N2.3: "identifiers and attributes of resources, service settings and
/// security settings".
#[test]
fn configuration_holds_resources_and_settings_only_n2_3() {
    let kinds = [
        "configuration.resource",
        "configuration.service_setting",
        "configuration.security_setting",
    ];
    for k in kinds {
        assert_eq!(
            k.parse::<Kind>().unwrap().category(),
            Category::Configuration,
            "{k}"
        );
    }
    assert!(fields_of("configuration.resource").contains(&"resource_id"));
    assert!(fields_of("configuration.resource").contains(&"attributes"));
    assert!(fields_of("configuration.service_setting").contains(&"setting"));
    assert!(fields_of("configuration.security_setting").contains(&"setting"));
    // A secret is not configuration the notice names.
    assert!(matches!(
        record(
            "configuration.security_setting",
            &[("resource_id", "vm-1"), ("private_key", "x")],
            Product::CloudPlatform
        ),
        Err(DomainError::UnknownField { .. })
    ));
    // No other configuration kind exists.
    assert!(matches!(
        "configuration.secret".parse::<Kind>(),
        Err(DomainError::UnknownKind { .. })
    ));
}

/// N1.1: every stored record is labelled with its product, from the closed
/// product list; a name outside it is refused with the list.
#[test]
fn every_record_carries_a_product_of_the_closed_list_n1_1() {
    for p in Product::ALL {
        let r = record("account.profile", &[("username", "ann")], p).unwrap();
        assert_eq!(r.product(), p);
        assert_eq!(p.as_str().parse::<Product>().unwrap(), p);
    }
    let e = "ads_network".parse::<Product>().unwrap_err().to_string();
    assert!(
        e.contains("`ads_network`") && e.contains("cloud_platform") && e.contains("N1.1"),
        "{e}"
    );
}

/// N2.5: "records of your communications and interactions with us and our
/// partners (for example, when you provide feedback, ask questions or seek
/// technical support)": the communications category is exactly support
/// interactions, feedback or questions, and emails received; each is a
/// record of that category, and a field it does not define is refused.
#[test]
fn communications_are_feedback_questions_and_support_only_n2_5() {
    let mut kinds: Vec<String> = steward_domain::all_kinds()
        .filter(|k| k.category() == Category::Communications)
        .map(|k| k.to_string())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "communications.email",
            "communications.feedback",
            "communications.support"
        ]
    );
    for kind in &kinds {
        let fields = fields_of(kind);
        assert!(!fields.is_empty(), "{kind} has no fields");
        match record(
            kind,
            &[(fields[0], "x"), ("card_number", "4111")],
            Product::Workspace,
        ) {
            Err(DomainError::UnknownField { field, .. }) => assert_eq!(field, "card_number"),
            other => panic!("{kind}: {other:?}"),
        }
    }
}
