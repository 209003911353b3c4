use super::*;

#[test]
fn every_category_has_kinds_and_every_field_has_a_fideslang_key_n2() {
    let mut codes = std::collections::BTreeSet::new();
    for k in all_kinds() {
        assert_eq!(
            k.as_str(),
            format!("{}.{}", k.category().as_str(), k.name())
        );
        assert_eq!(u16::from(k.category().code()), k.code() / 100, "{k}");
        assert!(
            codes.insert(k.code()),
            "duplicate storage code {}",
            k.code()
        );
        assert_eq!(Kind::from_code(k.code()), Some(k));
    }
    for c in Category::ALL {
        assert!(all_kinds().any(|k| k.category() == c), "{c} has no kind");
    }
    for k in all_kinds() {
        assert!(!k.fields().is_empty());
        for f in k.fields() {
            assert!(
                f.fideslang.starts_with("user.") || f.fideslang.starts_with("system."),
                "{k}.{}",
                f.name
            );
        }
    }
}

#[test]
fn unknown_category_and_kind_are_named_n1_3() {
    let e = "secrets.passwords".parse::<Kind>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown category `secrets`: expected one of account, billing, configuration, usage, communications (N2)"
    );
    let e = "usage.keystrokes".parse::<Kind>().unwrap_err();
    assert!(
        e.to_string().starts_with("unknown kind `usage.keystrokes`"),
        "{e}"
    );
    assert_eq!(
        "usage.authentication".parse::<Kind>().unwrap().full_name(),
        "usage.authentication"
    );
}

#[test]
fn focus_schema_has_the_44_columns_of_focus_1_0() {
    assert_eq!("billing.charge".parse::<Kind>().unwrap().fields().len(), 44);
}

#[test]
fn purposes_are_the_closed_set_of_n3() {
    assert_eq!(Purpose::ALL.len(), 8);
    assert_eq!("assist".parse::<Purpose>().unwrap(), Purpose::Assist);
    assert!("marketing".parse::<Purpose>().is_err());
    assert!(
        "sale".parse::<DisclosureBasis>().is_err(),
        "N6.6: no sale basis"
    );
}
