//! Typed ids of the workflows' records (issue 12): support cases (N3.5),
//! legal obligations (N3.7) and data subject requests (N7.2). Each is a
//! prefix and 16 lower-case hex digits (64 random bits), made by Steward;
//! parsing one checks the shape, so a case id cannot be passed where an
//! obligation is expected and a corrupt stored id is an error, not a
//! silent mismatch.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

macro_rules! workflow_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The prefix of every id of this kind.
            pub const PREFIX: &'static str = $prefix;

            /// The id made of `random`'s 64 bits.
            pub fn from_random(random: [u8; 8]) -> Self {
                let mut s = String::with_capacity($prefix.len() + 16);
                s.push_str($prefix);
                for b in random {
                    s.push_str(&format!("{b:02x}"));
                }
                $name(s)
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            /// Errors: [`DomainError::BadWorkflowId`] unless `s` is the
            /// prefix and 16 lower-case hex digits.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let ok = s.strip_prefix($prefix).is_some_and(|h| {
                    h.len() == 16 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                });
                if ok {
                    Ok($name(s.to_owned()))
                } else {
                    Err(DomainError::BadWorkflowId {
                        what: $what,
                        given: s.chars().take(40).collect(),
                        expected: concat!($prefix, " followed by 16 lower-case hex digits"),
                    })
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?
                    .parse()
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}

workflow_id!(
    /// A support case's id (N3.5): `case-` and 16 hex digits.
    CaseId,
    "case-",
    "support case id"
);
workflow_id!(
    /// A recorded legal obligation's id (N3.7): `obligation-` and 16 hex digits.
    ObligationId,
    "obligation-",
    "obligation id"
);
workflow_id!(
    /// A data subject request's id (N7.2): `dsr_` and 16 hex digits.
    RequestId,
    "dsr_",
    "data subject request id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_their_kind_and_shape() {
        let c = CaseId::from_random([0, 1, 2, 3, 0xfc, 0xfd, 0xfe, 0xff]);
        assert_eq!(c.as_str(), "case-00010203fcfdfeff");
        assert_eq!(c.to_string().parse::<CaseId>().unwrap(), c);
        // Another kind's id, upper case, a short id and a bare hex string are refused.
        let e = "obligation-00010203fcfdfeff".parse::<CaseId>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "`obligation-00010203fcfdfeff` is not a support case id: expected case- followed by 16 lower-case hex digits"
        );
        assert!("case-00010203FCFDFEFF".parse::<CaseId>().is_err());
        assert!("dsr_0001".parse::<RequestId>().is_err());
        assert!("00010203fcfdfeff".parse::<ObligationId>().is_err());
        // Stored as the plain string; a corrupt one does not deserialize.
        let o = ObligationId::from_random([9; 8]);
        assert_eq!(
            serde_json::to_string(&o).unwrap(),
            "\"obligation-0909090909090909\""
        );
        assert!(serde_json::from_str::<RequestId>("\"dsr_zz\"").is_err());
        assert_eq!(
            serde_json::from_str::<RequestId>("\"dsr_0909090909090909\"").unwrap(),
            "dsr_0909090909090909"
        );
    }
}
