use super::*;

fn at(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
}

#[test]
fn periods_parse_strictly_n8_8() {
    assert_eq!(
        Period::parse("180d").unwrap(),
        Period {
            count: 180,
            unit: PeriodUnit::Days
        }
    );
    assert_eq!(Period::parse("7y").unwrap().to_string(), "7y");
    for bad in [
        "", "d", "180", "180x", "1.5y", "0d", "-5d", "7 years", "1001y",
    ] {
        assert!(Period::parse(bad).is_err(), "{bad} accepted");
    }
    assert!(Period::parse("0d").unwrap_err().contains("zero"));
    assert!(Period::parse("-5d").unwrap_err().contains("negative"));
}

#[test]
fn calendar_arithmetic_clamps_to_the_month_end() {
    let p = |s| Period::parse(s).unwrap();
    // Dates worked out by hand.
    assert_eq!(
        p("1m").after(at("2024-01-31T10:00:00Z")).unwrap(),
        at("2024-02-29T10:00:00Z")
    );
    assert_eq!(
        p("1y").after(at("2024-02-29T00:00:00Z")).unwrap(),
        at("2025-02-28T00:00:00Z")
    );
    assert_eq!(
        p("7y").after(at("2024-03-15T12:00:00Z")).unwrap(),
        at("2031-03-15T12:00:00Z")
    );
    assert_eq!(
        p("180d").after(at("2024-01-01T00:00:00Z")).unwrap(),
        at("2024-06-29T00:00:00Z")
    );
    assert_eq!(
        p("2w").after(at("2024-12-25T00:00:00Z")).unwrap(),
        at("2025-01-08T00:00:00Z")
    );
}
