//! Identifiers: Steward's opaque ids for subjects and records, and the
//! external identifiers (username, email, IP, device id, billing account) that
//! are never stored in clear but found through the blind index.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
pub use crate::identifier_kind::IdentifierKind;

/// The opaque internal id of a data subject: 63 random bits, shown as
/// `sub_` followed by 16 lower-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectId(pub i64);

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sub_{:016x}", self.0)
    }
}

impl FromStr for SubjectId {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DomainError::BadSubjectId {
            given: s.chars().take(40).collect(),
        };
        let hex = s.strip_prefix("sub_").ok_or_else(bad)?;
        if hex.len() != 16 {
            return Err(bad());
        }
        let v = u64::from_str_radix(hex, 16).map_err(|_| bad())?;
        i64::try_from(v).map(SubjectId).map_err(|_| bad())
    }
}

impl Serialize for SubjectId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SubjectId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A record's id: a 63-bit time-ordered integer (milliseconds since the Unix
/// epoch in the high 42 bits, 21 random or counter bits below). Ids are made
/// by the writer, not by a database sequence, so distributed engines need none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordId(pub i64);

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rec_{:016x}", self.0)
    }
}

impl FromStr for IdentifierKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdentifierKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DomainError::UnknownIdentifierKind { name: s.to_owned() })
    }
}

/// An external identifier of a data subject, normalised so that equal
/// identifiers have equal bytes, the same way at ingest and at lookup
/// (issue 15 item 1, [`normalise`]).
///
/// `Debug` does not print the value: identifiers are Service Data.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectIdentifier {
    kind: IdentifierKind,
    value: String,
}

impl fmt::Debug for SubjectIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubjectIdentifier({}:<redacted>)", self.kind)
    }
}

/// Whether `c` is a control character or an invisible one (Unicode
/// `Default_Ignorable_Code_Point`: zero-width spaces and joiners, bidi
/// controls, soft hyphen, variation selectors, tags): such a character
/// makes two identifiers that look the same differ, so it is refused.
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}'
            | '\u{17B5}' | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}')
}

/// Normalise an identifier value of `kind` (issue 15 item 1): Unicode NFKC
/// (UAX #15: full-width and compatibility forms fold to their plain
/// letters), surrounding white space (tabs and line ends too) trimmed,
/// then per kind: `email`,
/// `username`, `device_id` and `billing_account` lower-cased (they are
/// compared case-insensitively); `ip` parsed (RFC 791 / RFC 4291) and
/// written in canonical text form (RFC 5952), an IPv4-mapped IPv6 address
/// (`::ffff:a.b.c.d`) as its IPv4 address.
///
/// Errors: [`DomainError::BadIdentifier`] when the value holds a control or
/// invisible character (zero-width, bidi control), is empty or longer than
/// 320 bytes once normalised, is an `email` without `@`, or an `ip` that is
/// not an IP address.
pub fn normalise(kind: IdentifierKind, value: &str) -> Result<String, DomainError> {
    use unicode_normalization::UnicodeNormalization as _;
    let bad = |reason| DomainError::BadIdentifier { kind, reason };
    let raw = value.trim();
    if raw.chars().any(invisible) {
        return Err(bad(
            "holds a control or invisible character (zero-width, bidirectional control or similar): remove it",
        ));
    }
    // Unicode's quick check (UAX #15 §9) answers "already NFKC" for
    // ASCII and most text without building a copy.
    let nfkc: std::borrow::Cow<'_, str> = match unicode_normalization::is_nfkc_quick(raw.chars()) {
        unicode_normalization::IsNormalized::Yes => std::borrow::Cow::Borrowed(raw),
        _ => std::borrow::Cow::Owned(raw.nfkc().collect()),
    };
    let v = nfkc.trim();
    if v.chars().any(invisible) {
        return Err(bad(
            "holds a control or invisible character (zero-width, bidirectional control or similar): remove it",
        ));
    }
    if v.is_empty() || v.len() > 320 {
        return Err(bad("must be 1 to 320 bytes"));
    }
    Ok(match kind {
        IdentifierKind::Email => {
            if !v.contains('@') {
                return Err(bad("an email address must contain @"));
            }
            v.to_lowercase()
        }
        IdentifierKind::Ip => match v
            .parse::<std::net::IpAddr>()
            .map_err(|_| bad("not an IPv4 or IPv6 address"))?
        {
            std::net::IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => a.to_string(),
            },
            a => a.to_string(),
        },
        IdentifierKind::Username | IdentifierKind::DeviceId | IdentifierKind::BillingAccount => {
            v.to_lowercase()
        }
    })
}

impl SubjectIdentifier {
    /// Normalise ([`normalise`]) and wrap `value` as an identifier of `kind`.
    ///
    /// Errors: as [`normalise`].
    pub fn new(kind: IdentifierKind, value: &str) -> Result<Self, DomainError> {
        Ok(SubjectIdentifier {
            kind,
            value: normalise(kind, value)?,
        })
    }

    /// The confusable skeleton of the value (Unicode UTS #39 section 4,
    /// `skeleton(X)`): two identifiers of one kind with equal skeletons
    /// look alike (`paypal` and `pаypal` with a Cyrillic `а`). For the
    /// confusable-identifier report; never stored.
    pub fn skeleton(&self) -> String {
        unicode_security::confusable_detection::skeleton(&self.value).collect()
    }

    /// The identifier's kind.
    pub fn kind(&self) -> IdentifierKind {
        self.kind
    }

    /// The normalised value. Service Data: never log or print it outside the gate.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The bytes the blind index is computed over in the global namespace:
    /// `kind` `0x00` `value` ([`SubjectIdentifier::index_input_in`] with no tenant).
    pub fn index_input(&self) -> Vec<u8> {
        self.index_input_in(None)
    }

    /// The bytes the blind index is computed over, in the namespace of
    /// organisation `tenant` (issue 15 item 2: a username or device id
    /// means something only inside its organisation): `kind` `0x00`
    /// `value` without a tenant, `kind` `0x01` `tenant` `0x00` `value` with
    /// one. A kind name holds neither byte and a tenant id (`A-Z a-z 0-9 .
    /// _ -`) no `0x00`, so two (tenant, identifier) pairs never share input.
    pub fn index_input_in(&self, tenant: Option<&str>) -> Vec<u8> {
        let t = tenant.map_or(0, |t| t.len() + 1);
        let mut v = Vec::with_capacity(self.kind.as_str().len() + 1 + t + self.value.len());
        v.extend_from_slice(self.kind.as_str().as_bytes());
        match tenant {
            None => v.push(0),
            Some(t) => {
                v.push(1);
                v.extend_from_slice(t.as_bytes());
                v.push(0);
            }
        }
        v.extend_from_slice(self.value.as_bytes());
        v
    }

    /// Candidate identifiers for a bare command-line argument: `kind:value`
    /// names the kind; otherwise an IP address is an `ip`, a value with `@` an
    /// `email`, and anything else is tried as username, billing account and
    /// device id in turn.
    pub fn candidates(arg: &str) -> Result<Vec<SubjectIdentifier>, DomainError> {
        if let Some((k, v)) = arg.split_once(':')
            && let Ok(kind) = k.parse::<IdentifierKind>()
        {
            return Ok(vec![SubjectIdentifier::new(kind, v)?]);
        }
        if arg.trim().parse::<std::net::IpAddr>().is_ok() {
            return Ok(vec![SubjectIdentifier::new(IdentifierKind::Ip, arg)?]);
        }
        if arg.contains('@') {
            return Ok(vec![SubjectIdentifier::new(IdentifierKind::Email, arg)?]);
        }
        [
            IdentifierKind::Username,
            IdentifierKind::BillingAccount,
            IdentifierKind::DeviceId,
        ]
        .into_iter()
        .map(|k| SubjectIdentifier::new(k, arg))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_id_round_trips_and_rejects_garbage() {
        let id = SubjectId(0x1234_5678_9abc_def0);
        assert_eq!(id.to_string(), "sub_123456789abcdef0");
        assert_eq!("sub_123456789abcdef0".parse::<SubjectId>().unwrap(), id);
        assert!("sub_xyz".parse::<SubjectId>().is_err());
        assert!("sub_ffffffffffffffff".parse::<SubjectId>().is_err());
    }

    /// Issue 15 item 1: the normal forms, computed by hand from UAX #15
    /// (NFKC folds full-width forms, U+FF21.. to U+0041..) and RFC 5952.
    #[test]
    fn issue15_item1_nfkc_case_and_canonical_ip() {
        let n = |k, v| normalise(k, v).unwrap();
        use IdentifierKind::*;
        // U+FF21 U+FF4C U+FF49 U+FF43 U+FF45: Ａｌｉｃｅ
        assert_eq!(
            n(Username, "\u{FF21}\u{FF4C}\u{FF49}\u{FF43}\u{FF45}"),
            "alice"
        );
        assert_eq!(n(Username, " Alice "), "alice");
        assert_eq!(n(DeviceId, "AB-12"), "ab-12");
        assert_eq!(n(BillingAccount, "ACC-9"), "acc-9");
        // U+FF42 U+FF4F U+FF42 = ｂｏｂ
        assert_eq!(
            n(Email, "\u{FF42}\u{FF4F}\u{FF42}@Example.com"),
            "bob@example.com"
        );
        assert_eq!(n(Ip, "::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(n(Ip, "::FFFF:C000:0207"), "192.0.2.7");
        // Full-width digits and full stops (U+FF11, U+FF0E) fold to ASCII.
        assert_eq!(n(Ip, "\u{FF11}0.0.0.\u{FF11}"), "10.0.0.1");
        assert_eq!(n(Ip, "2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
        // The ligature U+FB01 is `fi` under NFKC.
        assert_eq!(n(Username, "\u{FB01}n"), "fin");
        for bad in [
            "a\u{200B}b", // zero-width space
            "a\u{200D}b", // zero-width joiner
            "\u{202E}ab", // right-to-left override
            "a\u{2066}b", // left-to-right isolate
            "a\u{FEFF}b", // zero-width no-break space
            "a\u{0007}b", // BEL
        ] {
            let e = normalise(Username, bad).unwrap_err().to_string();
            assert!(e.contains("invisible"), "{e}");
        }
        // Confusable skeletons: Cyrillic а (U+0430) looks like Latin a.
        let lat = SubjectIdentifier::new(Username, "paypal").unwrap();
        let cyr = SubjectIdentifier::new(Username, "p\u{0430}ypal").unwrap();
        assert_ne!(lat, cyr);
        assert_eq!(lat.skeleton(), cyr.skeleton());
        // The tenant is part of the index input; none is the old input.
        assert_eq!(lat.index_input(), b"username\0paypal");
        assert_eq!(
            lat.index_input_in(Some("org-a")),
            b"username\x01org-a\0paypal"
        );
    }

    #[test]
    fn identifiers_normalise_and_debug_redacts() {
        let e = SubjectIdentifier::new(IdentifierKind::Email, " Ann@Example.COM ").unwrap();
        assert_eq!(e.value(), "ann@example.com");
        assert_eq!(format!("{e:?}"), "SubjectIdentifier(email:<redacted>)");
        let ip = SubjectIdentifier::new(IdentifierKind::Ip, "2001:0db8::0001").unwrap();
        assert_eq!(ip.value(), "2001:db8::1");
        assert!(SubjectIdentifier::new(IdentifierKind::Ip, "300.1.1.1").is_err());
        let c = SubjectIdentifier::candidates("root").unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(
            SubjectIdentifier::candidates("ip:10.0.0.1").unwrap()[0].kind(),
            IdentifierKind::Ip
        );
        assert_eq!(
            SubjectIdentifier::candidates("10.0.0.1").unwrap()[0].kind(),
            IdentifierKind::Ip
        );
    }
}
