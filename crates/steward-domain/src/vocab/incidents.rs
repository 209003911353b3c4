//! The closed scales of incidents and on-call (N8.5, N5.1; APPI Art. 26 and
//! its Enforcement Rules Art. 7; GDPR Art. 33): severity, priority, route,
//! the coordinated team's roles, report channels, incident kinds, the APPI
//! reportable kinds, detector kinds and incident states.
//!
//! Each is a Rust enum with a stable snake_case key (`as_str`, `FromStr`,
//! serde), so configuration, the API and the CLI accept exactly these words.

use super::*;

/// Declares a closed scale: the enum, `ALL`, `as_str`, `Display` and a
/// `FromStr` whose error names the scale and its terms.
macro_rules! scale {
    (
        $(#[$meta:meta])*
        $name:ident, $scale:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $key:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every term, in scale order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];
            /// The terms, comma-separated (for error messages).
            pub const TERMS: &'static str = concat!($( $key, ", " ),+);

            /// The snake_case key.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $key ),+
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
                    .ok_or_else(|| DomainError::UnknownScaleTerm {
                        scale: $scale,
                        name: s.chars().take(64).collect(),
                        expected: $name::TERMS.trim_end_matches(", "),
                    })
            }
        }
    };
}

scale! {
    /// An incident's severity: how much harm to people it may cause (N8.5).
    Severity, "severity" {
        /// Little or no harm to people expected.
        Low => "low",
        /// Limited harm to some people.
        Medium => "medium",
        /// Serious harm to some people, or limited harm to many.
        High => "high",
        /// Serious harm to many people, or sensitive data exposed.
        Critical => "critical",
    }
}

scale! {
    /// An incident's priority: how urgently it must be worked (N8.5).
    Priority, "priority" {
        /// Within working hours.
        Low => "low",
        /// Within the day.
        Medium => "medium",
        /// Now: the incident commander is paged.
        High => "high",
    }
}

scale! {
    /// The route an incident takes (N8.5): decided from severity and
    /// priority by the table in configuration.
    Route, "route" {
        /// The standard route.
        Standard => "standard",
        /// The expedited route: the commander and the on-call are paged.
        Expedited => "expedited",
    }
}

scale! {
    /// A role of the coordinated incident team (N8.5: the team includes
    /// legal and the product team).
    IncidentRole, "role" {
        /// Leads the response and owns the regulators' clocks.
        Commander => "commander",
        /// Assesses severity, priority and reportability (the dedicated team).
        Assessor => "assessor",
        /// Legal: regulators' reports and notices to individuals.
        Legal => "legal",
        /// The product team owning the affected service.
        Product => "product",
        /// Communications to the people affected and the public.
        Communications => "communications",
    }
}

scale! {
    /// How a suspected incident was reported (N8.5 "several channels", N5.1).
    ReportChannel, "channel" {
        /// The HTTP API.
        Api => "api",
        /// The `steward` command line.
        Cli => "cli",
        /// An email taken from a maildir.
        Email => "email",
        /// A detector over the audit stream (N5.1).
        Detector => "detector",
    }
}

scale! {
    /// What kind of incident is suspected (N8.5).
    IncidentKind, "incident kind" {
        /// Access by someone not allowed to (APPI "unauthorised access").
        UnauthorisedAccess => "unauthorised_access",
        /// Personal data sent or shown to the wrong recipient.
        Disclosure => "disclosure",
        /// Personal data lost or destroyed.
        Loss => "loss",
        /// Personal data changed without authority.
        Alteration => "alteration",
        /// Anomalous access found by a detector (N5.1), not yet assessed.
        Anomaly => "anomaly",
        /// Anything else.
        Other => "other",
    }
}

scale! {
    /// The four kinds of breach that must be reported to Japan's Personal
    /// Information Protection Commission (APPI Art. 26; Enforcement Rules
    /// Art. 7 items 1-4).
    AppiReportableKind, "APPI reportable kind" {
        /// Special care-required personal information (item 1).
        SensitiveData => "sensitive_data",
        /// Data whose misuse may cause financial harm (item 2).
        FinancialHarm => "financial_harm",
        /// Caused by an act with an unlawful purpose (item 3): the final
        /// report is due in 60 days rather than 30.
        UnlawfulPurpose => "unlawful_purpose",
        /// Data of more than 1,000 people (item 4).
        OverThousandPeople => "over_thousand_people",
    }
}

scale! {
    /// What a detector over the audit stream looks for (N5.1).
    DetectorKind, "detector" {
        /// One principal reading an unusual number of distinct subjects in a window.
        DistinctSubjects => "distinct_subjects",
        /// A burst of denials for one principal.
        DenialBurst => "denial_burst",
        /// Repeated lockouts of one account.
        RepeatedLockouts => "repeated_lockouts",
        /// A read processed in a region not expected for it.
        UnexpectedRegion => "unexpected_region",
        /// `audit verify` found the log broken.
        AuditVerificationFailure => "audit_verification_failure",
    }
}

scale! {
    /// Where an incident stands.
    IncidentState, "incident state" {
        /// Reported, not yet assessed.
        Reported => "reported",
        /// Assessed: route and reportability decided.
        Assessed => "assessed",
        /// Closed.
        Closed => "closed",
    }
}

#[cfg(test)]
mod incident_tests {
    use super::*;

    #[test]
    fn scales_round_trip_and_refuse_unknown_terms_n8_5() {
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>().unwrap(), *s);
        }
        assert_eq!(Severity::ALL.len(), 4);
        assert_eq!(Priority::ALL.len(), 3);
        assert_eq!(Route::ALL.len(), 2);
        assert_eq!(IncidentRole::ALL.len(), 5);
        assert_eq!(AppiReportableKind::ALL.len(), 4);
        assert_eq!(DetectorKind::ALL.len(), 5);
        let e = "urgent".parse::<Priority>().unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown priority `urgent`: expected one of low, medium, high (N8.5)"
        );
        assert_eq!(
            serde_json::to_string(&IncidentRole::Communications).unwrap(),
            "\"communications\""
        );
    }
}
