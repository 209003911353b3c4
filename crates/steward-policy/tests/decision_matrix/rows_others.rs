//! Explicit rows of the matrix, part 2: aggregates, administrators
//! and resellers, data subjects, internal services, processors,
//! third-party apps, missing purposes and the forbids over allowed requests.

use super::*;

/// Explicit rows for everyone else, in register order.
pub(super) fn other_rows() -> Vec<Row> {
    use Action as A;
    use Category as C;
    use Need as N;
    use PrincipalKind as K;
    use Purpose as P;
    let e = employee;
    vec![
        // --- N3.9: internal reporting on aggregates only.
        // Issue 17 item 10: no operation produces a report, so the
        // `report` permits are gone until one does.
        row(
            "billing reports on aggregates: no operation does",
            Case::new(
                e(Team::Billing),
                A::Report,
                Some(C::Billing),
                P::InternalReporting,
            )
            .aggregate(),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "a service reports on aggregates: no operation does",
            Case::new(
                who(K::Service, &[]),
                A::Report,
                Some(C::Usage),
                P::InternalReporting,
            )
            .aggregate(),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "nobody reads one subject for internal reporting",
            Case::new(
                e(Team::Engineering),
                A::Read,
                Some(C::Usage),
                P::InternalReporting,
            ),
            forbid("N3.9"),
            &[],
        ),
        row(
            "a service reads one subject for internal reporting",
            Case::new(
                who(K::Service, &[]),
                A::Read,
                Some(C::Usage),
                P::InternalReporting,
            ),
            forbid("N3.9"),
            &[],
        ),
        row(
            "a report naming a subject",
            Case::new(
                e(Team::Security),
                A::Report,
                Some(C::Usage),
                P::InternalReporting,
            ),
            forbid("N3.9"),
            &[],
        ),
        // --- N6.5a-e: administrators and authorised resellers.
        row(
            "an administrator views billing",
            Case::new(
                who(K::CustomerAdmin, &[]),
                A::AdminView,
                Some(C::Billing),
                P::ProvideServices,
            ),
            allow("N6.5a"),
            &[
                N::Org,
                N::Category(C::Communications),
                N::Purpose(P::Assist),
                N::Kind(K::DataSubject),
                N::Kind(K::Processor),
            ],
        ),
        row(
            "an administrator views activity",
            Case::new(
                who(K::CustomerAdmin, &[]),
                A::AdminView,
                Some(C::Usage),
                P::ProvideServices,
            ),
            allow("N6.5a"),
            &[N::Org],
        ),
        row(
            "a reseller views account information",
            Case::new(
                who(K::Reseller, &[]),
                A::AdminView,
                Some(C::Account),
                P::ProvideServices,
            ),
            allow("N6.5a"),
            &[N::Org, N::Category(C::Communications)],
        ),
        row(
            "an administrator views configurations (N7.3)",
            Case::new(
                who(K::CustomerAdmin, &[]),
                A::AdminView,
                Some(C::Configuration),
                P::ProvideServices,
            ),
            allow("N6.5a"),
            &[N::Org],
        ),
        row(
            "an administrator changes a password",
            Case::new(
                who(K::CustomerAdmin, &[]),
                A::AdminChangePassword,
                Some(C::Account),
                P::ProvideServices,
            ),
            allow("N6.5b"),
            &[
                N::Org,
                N::Category(C::Billing),
                N::Purpose(P::Protect),
                N::Kind(K::Employee),
            ],
        ),
        row(
            "a reseller changes a password",
            Case::new(
                who(K::Reseller, &[]),
                A::AdminChangePassword,
                Some(C::Account),
                P::ProvideServices,
            ),
            allow("N6.5b"),
            &[N::Org],
        ),
        row(
            "an administrator suspends an account",
            Case::new(
                who(K::CustomerAdmin, &[]),
                A::AdminSuspend,
                Some(C::Account),
                P::ProvideServices,
            ),
            allow("N6.5c"),
            &[N::Org, N::Category(C::Usage), N::Kind(K::DataSubject)],
        ),
        row(
            "a reseller suspends an account",
            Case::new(
                who(K::Reseller, &[]),
                A::AdminSuspend,
                Some(C::Account),
                P::ProvideServices,
            ),
            allow("N6.5c"),
            &[N::Org],
        ),
        row(
            "an administrator's legal access with an obligation",
            Case::new(
                who(K::CustomerAdmin, &[]),
                A::AdminLegalAccess,
                Some(C::Account),
                P::Comply,
            )
            .legal(),
            allow("N6.5d"),
            &[
                N::Legal,
                N::Org,
                N::Category(C::Billing),
                N::Purpose(P::ProvideServices),
            ],
        ),
        row(
            "a reseller's legal access with an obligation",
            Case::new(
                who(K::Reseller, &[]),
                A::AdminLegalAccess,
                Some(C::Account),
                P::Comply,
            )
            .legal(),
            allow("N6.5d"),
            &[N::Legal, N::Org],
        ),
        row(
            "an administrator restricts edits",
            Case::new(
                who(K::CustomerAdmin, &[]),
                A::AdminRestrict,
                Some(C::Account),
                P::ProvideServices,
            ),
            allow("N6.5e"),
            &[
                N::Org,
                N::Category(C::Configuration),
                N::Kind(K::ThirdPartyApp),
            ],
        ),
        row(
            "a reseller restricts edits",
            Case::new(
                who(K::Reseller, &[]),
                A::AdminRestrict,
                Some(C::Account),
                P::ProvideServices,
            ),
            allow("N6.5e"),
            &[N::Org],
        ),
        row(
            "an administrator exports a user's data (N7.2)",
            Case::new(
                who(K::CustomerAdmin, &[]),
                A::Export,
                Some(C::Usage),
                P::ProvideServices,
            ),
            allow("N7.2"),
            &[
                N::Org,
                N::Purpose(P::Assist),
                N::Kind(K::Reseller),
                N::Subject,
            ],
        ),
        row(
            "an administrator reads through the staff action",
            Case::new(
                who(K::CustomerAdmin, &[]),
                A::Read,
                Some(C::Account),
                P::ProvideServices,
            ),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "an administrator's legal access without an obligation",
            Case::new(
                who(K::CustomerAdmin, &[]),
                A::AdminLegalAccess,
                Some(C::Account),
                P::Comply,
            ),
            forbid("N3.7"),
            &[],
        ),
        // --- N7.2, N7.3: data subjects, over their own data.
        row(
            "a subject reads their own usage",
            Case::new(
                who(K::DataSubject, &[]),
                A::Read,
                Some(C::Usage),
                P::ProvideServices,
            ),
            allow("N7.2"),
            &[
                N::OwnSubject,
                N::Subject,
                N::Purpose(P::Assist),
                N::Purpose(P::Comply),
                N::Kind(K::ThirdPartyApp),
            ],
        ),
        row(
            "a subject exports their own communications",
            Case::new(
                who(K::DataSubject, &[]),
                A::Export,
                Some(C::Communications),
                P::ProvideServices,
            ),
            allow("N7.2"),
            &[
                N::OwnSubject,
                N::Purpose(P::OtherServices),
                N::Action(A::Disclose),
            ],
        ),
        row(
            "a subject exports all their data",
            Case::new(
                who(K::DataSubject, &[]),
                A::Export,
                None,
                P::ProvideServices,
            ),
            allow("N7.2"),
            &[N::OwnSubject],
        ),
        row(
            "a subject corrects their account",
            Case::new(
                who(K::DataSubject, &[]),
                A::Rectify,
                Some(C::Account),
                P::ProvideServices,
            ),
            allow("N7.2"),
            // (Erasing their own data is allowed since issue 17 item 6.)
            &[
                N::OwnSubject,
                N::Category(C::Billing),
                N::Action(A::Disclose),
            ],
        ),
        row(
            "a subject reads their own account",
            Case::new(
                who(K::DataSubject, &[]),
                A::Read,
                Some(C::Account),
                P::ProvideServices,
            ),
            allow("N7.2"),
            &[N::OwnSubject, N::Subject],
        ),
        // --- N3.1-N3.6, N3.8: internal services.
        row(
            "a service ingests usage",
            Case::new(
                who(K::Service, &[]),
                A::Ingest,
                Some(C::Usage),
                P::ProvideServices,
            ),
            allow("N3.1"),
            &[
                N::Purpose(P::Protect),
                N::Kind(K::Employee),
                N::Kind(K::Processor),
            ],
        ),
        row(
            "a service ingests billing",
            Case::new(
                who(K::Service, &[]),
                A::Ingest,
                Some(C::Billing),
                P::ProvideServices,
            ),
            allow("N3.1"),
            &[N::Kind(K::ThirdPartyApp)],
        ),
        row(
            "a service reads billing to bill",
            Case::new(
                who(K::Service, &[]),
                A::Read,
                Some(C::Billing),
                P::ProvideServices,
            ),
            allow("N3.1"),
            &[
                N::Category(C::Communications),
                N::Purpose(P::MaintainImprove),
            ],
        ),
        row(
            "a service reads configuration for recommendations",
            Case::new(
                who(K::Service, &[]),
                A::Read,
                Some(C::Configuration),
                P::Recommendations,
            ),
            allow("N3.2"),
            &[N::Category(C::Account), N::Purpose(P::Assist)],
        ),
        row(
            "a service reads feedback to evaluate responses",
            Case::new(
                who(K::Service, &[]),
                A::Read,
                Some(C::Communications),
                P::Recommendations,
            )
            .kind("communications.feedback"),
            allow("N3.2"),
            &[N::Purpose(P::ProvideServices), N::AnyKind],
        ),
        row(
            "a service reads usage to improve",
            Case::new(
                who(K::Service, &[]),
                A::Read,
                Some(C::Usage),
                P::MaintainImprove,
            ),
            allow("N3.3"),
            &[N::Category(C::Billing)],
        ),
        row(
            "a service reads account for other services",
            Case::new(
                who(K::Service, &[]),
                A::Read,
                Some(C::Account),
                P::OtherServices,
            ),
            allow("N3.4"),
            &[N::Category(C::Communications), N::Category(C::Billing)],
        ),
        row(
            "a service reads contact details to notify",
            Case::new(who(K::Service, &[]), A::Read, Some(C::Account), P::Assist),
            allow("N3.5"),
            &[N::Category(C::Usage), N::Kind(K::ThirdPartyApp)],
        ),
        row(
            "a service reads usage to detect abuse",
            Case::new(who(K::Service, &[]), A::Read, Some(C::Usage), P::Protect),
            allow("N3.6"),
            &[N::Category(C::Account), N::Kind(K::Processor)],
        ),
        // --- N6.6: processors.
        row(
            "a support provider reads ticket content of an open case assigned to it",
            Case::new(
                who(K::Processor, &[]),
                A::Read,
                Some(C::Communications),
                P::Assist,
            )
            .kind("communications.support")
            .registered(ProcessorService::SupportTicket)
            .open()
            .assigned(),
            allow("N6.6"),
            &[
                N::OpenCase,
                N::Category(C::Usage),
                N::Purpose(P::ProvideServices),
                N::Subject,
                N::Kind(K::ThirdPartyApp),
            ],
        ),
        row(
            "a professional services provider reads contact details under its engagement",
            Case::new(
                who(K::Processor, &[]),
                A::Read,
                Some(C::Account),
                P::ProvideServices,
            )
            .kind("account.profile")
            .registered(ProcessorService::ProfessionalServices)
            .engaged(),
            allow("N6.6"),
            &[
                N::Category(C::Billing),
                N::Purpose(P::Recommendations),
                N::Action(A::Export),
            ],
        ),
        // --- N6.3: third-party apps have no modelled grant.
        row(
            "a third-party app reads account",
            Case::new(
                who(K::ThirdPartyApp, &[]),
                A::Read,
                Some(C::Account),
                P::OtherServices,
            ),
            DEFAULT_DENY,
            &[],
        ),
        // --- N3: no purpose.
        row(
            "a read with no purpose",
            Case {
                purpose: None,
                ..Case::new(
                    e(Team::Billing),
                    A::Read,
                    Some(C::Billing),
                    P::ProvideServices,
                )
            },
            Expect {
                allowed: false,
                by: By::NoPurpose,
                clause: "N3",
            },
            &[],
        ),
        // --- N5.5, N8.6 forbids over allowed requests.
        row(
            "revoked security staff",
            Case {
                principal: Principal {
                    revoked: true,
                    ..e(Team::Security)
                },
                ..Case::new(e(Team::Security), A::Read, Some(C::Usage), P::Protect).grant()
            },
            forbid("N5.5"),
            &[],
        ),
        row(
            "support with expired training",
            Case {
                principal: Principal {
                    training_expires_on: Some(days(-30)),
                    ..e(Team::Support)
                },
                ..Case::new(e(Team::Support), A::Read, Some(C::Account), P::Assist).open()
            },
            forbid("N8.6"),
            &[],
        ),
        row(
            "training expiring today is still current",
            Case {
                principal: Principal {
                    training_expires_on: Some(today()),
                    ..e(Team::Support)
                },
                ..Case::new(e(Team::Support), A::Read, Some(C::Account), P::Assist).open()
            },
            allow("N3.5"),
            &[],
        ),
        row(
            "engagement ending today is still current",
            Case {
                principal: Principal {
                    engagement_ends_on: Some(today()),
                    ..who(K::Contractor, &[Team::Billing])
                },
                ..Case::new(
                    e(Team::Billing),
                    A::Read,
                    Some(C::Billing),
                    P::ProvideServices,
                )
                .case(CaseKind::Billing)
            },
            allow("N3.1"),
            &[],
        ),
        row(
            "revoked service",
            Case {
                principal: Principal {
                    revoked: true,
                    ..who(K::Service, &[])
                },
                ..Case::new(
                    who(K::Service, &[]),
                    A::Ingest,
                    Some(C::Usage),
                    P::ProvideServices,
                )
            },
            forbid("N5.5"),
            &[],
        ),
        row(
            "revoked data subject",
            Case {
                principal: Principal {
                    revoked: true,
                    ..who(K::DataSubject, &[])
                },
                ..Case::new(
                    who(K::DataSubject, &[]),
                    A::Export,
                    None,
                    P::ProvideServices,
                )
            },
            forbid("N5.5"),
            &[],
        ),
    ]
}
