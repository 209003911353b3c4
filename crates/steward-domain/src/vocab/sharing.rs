//! The closed vocabularies of sharing (N6, N8.4, N8.9): who may receive
//! Service Data ([`RecipientKind`], [`RecipientRole`]), how a consent was
//! given ([`ConsentMethod`]), what an organisation allows third-party apps
//! ([`AppAdminPolicy`]), and the states the gate establishes before a
//! disclosure is decided ([`ConsentState`], [`GrantState`]).
//!
//! Each is a Rust enum with a snake_case key (`as_str`, `FromStr`, serde);
//! an unknown key is [`DomainError::UnknownSharingTerm`] naming the closed set.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// Defines a closed vocabulary: the enum, `ALL`, `as_str`, `Display`, `FromStr`.
macro_rules! closed_vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident, $label:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $key:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every term, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The snake_case key (the stored and Cedar value).
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $key, )+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|t| t.as_str() == s)
                    .ok_or_else(|| DomainError::UnknownSharingTerm {
                        vocabulary: $label,
                        name: s.chars().take(64).collect(),
                        expected: $name::ALL
                            .iter()
                            .map(|t| t.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
            }
        }
    };
}

closed_vocabulary! {
    /// Who receives Service Data outside the provider (N6.2, issue 19 item 1).
    RecipientKind, "recipient kind" {
        /// A third-party service or app the customer procured or granted (N6.3).
        ThirdPartyApp => "third_party_app",
        /// A registered processor acting on instruction (N6.6, N8.9).
        Subprocessor => "subprocessor",
        /// A provider affiliate, bound by the same policy (N6.1).
        Affiliate => "affiliate",
        /// A court, regulator or government authority (N6.7).
        Authority => "authority",
        /// Another controller: the customer organisation, a partner (N6.4, N6.5).
        OtherController => "other_controller",
    }
}

closed_vocabulary! {
    /// The recipient's role under data protection law (GDPR art. 4(7)-(8), art. 28(2)).
    RecipientRole, "recipient role" {
        /// Decides purposes and means itself.
        Controller => "controller",
        /// Processes on the provider's instruction.
        Processor => "processor",
        /// A processor engaged by the provider as processor (N6.6).
        Subprocessor => "subprocessor",
    }
}

closed_vocabulary! {
    /// The service a registered subprocessor provides on instruction
    /// (N6.6, issue 17 item 4): it decides what the processor reaches.
    ProcessorService, "processor service" {
        /// Technical support: the information the subject gives in a
        /// support ticket, for the cases assigned to the provider (N6.6).
        SupportTicket => "support_ticket",
        /// Professional services: the subject's contact details, under a
        /// current engagement covering the subject (N6.6).
        ProfessionalServices => "professional_services",
    }
}

closed_vocabulary! {
    /// How a consent was given (N6.4).
    ConsentMethod, "consent method" {
        /// In the console.
        Console => "console",
        /// Through the API.
        Api => "api",
        /// By email.
        Email => "email",
        /// A Global Privacy Control signal (`Sec-GPC: 1`): only ever an
        /// opt-out, never a consent (GPC specification, §3).
        Gpc => "gpc",
    }
}

closed_vocabulary! {
    /// What an organisation's administrator allows third-party apps (N6.3).
    AppAdminPolicy, "app admin policy" {
        /// Apps may be granted any scope of the closed vocabularies.
        Trusted => "trusted",
        /// Apps may be granted scopes for `provide_services` and
        /// `other_services` only, and never the communications category.
        Limited => "limited",
        /// No app may be granted anything; existing grants stop working.
        Blocked => "blocked",
    }
}

closed_vocabulary! {
    /// The subject's consent for a disclosure at the moment it is decided
    /// (N6.4), as the gate establishes it for the policy decision.
    ConsentState, "consent state" {
        /// No consent on record for this recipient and purpose.
        None => "none",
        /// A consent given, not withdrawn, not expired, not overridden by GPC.
        Current => "current",
        /// The consent was withdrawn before this moment.
        Withdrawn => "withdrawn",
        /// The consent expired before this moment.
        Expired => "expired",
        /// A Global Privacy Control signal opts the subject out (GPC spec §3).
        Gpc => "gpc",
    }
}

closed_vocabulary! {
    /// A third-party app's grant for a disclosure at the moment it is
    /// decided (N6.3), as the gate establishes it for the policy decision.
    GrantState, "grant state" {
        /// No grant for this app in the subject's organisation.
        None => "none",
        /// A current grant covers this category and purpose (and user).
        InScope => "in_scope",
        /// A grant exists but not for this category, purpose or user.
        OutOfScope => "out_of_scope",
        /// The grant was revoked, or the organisation blocks apps.
        Revoked => "revoked",
    }
}
