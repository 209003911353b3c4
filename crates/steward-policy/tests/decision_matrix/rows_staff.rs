//! Explicit rows of the matrix, part 1: staff teams, disclosures,
//! system actions, tenancy, cases, obligations, transfers and the sweep.

use super::*;

/// Explicit rows for staff teams and system actions, in register order.
pub(super) fn staff_rows() -> Vec<Row> {
    use Action as A;
    use Category as C;
    use Need as N;
    use PrincipalKind as K;
    use Purpose as P;
    let e = employee;
    vec![
        // --- N3.5, N3.8: support, only with an open case about the subject.
        row(
            "support reads communications with an open case",
            Case::new(
                e(Team::Support),
                A::Read,
                Some(C::Communications),
                P::Assist,
            )
            .open(),
            allow("N3.5"),
            &[
                N::OpenCase,
                N::Purpose(P::ProvideServices),
                N::Category(C::Billing),
                N::Category(C::Usage),
                N::Team,
                N::Subject,
                N::Action(A::Export),
            ],
        ),
        row(
            "support reads account with an open case",
            Case::new(e(Team::Support), A::Read, Some(C::Account), P::Assist).open(),
            allow("N3.5"),
            &[
                N::OpenCase,
                N::Purpose(P::Protect),
                N::Category(C::Configuration),
                N::Team,
                N::Kind(K::CustomerAdmin),
            ],
        ),
        row(
            "support contractor reads with an open case",
            Case::new(
                who(K::Contractor, &[Team::Support]),
                A::Read,
                Some(C::Communications),
                P::Assist,
            )
            .open(),
            allow("N3.5"),
            &[N::OpenCase, N::Team],
        ),
        row(
            "support agent reads with an open case",
            Case::new(
                who(K::Agent, &[Team::Support]),
                A::Read,
                Some(C::Account),
                P::Assist,
            )
            .open(),
            allow("N3.5"),
            &[N::OpenCase],
        ),
        row(
            "affiliate support staff read with an open case (N6.1)",
            Case::new(
                who(K::AffiliateStaff, &[Team::Support]),
                A::Read,
                Some(C::Communications),
                P::Assist,
            )
            .open(),
            allow("N3.5"),
            &[N::OpenCase, N::Team],
        ),
        row(
            "support reads billing: not theirs",
            Case::new(e(Team::Support), A::Read, Some(C::Billing), P::Assist).open(),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "support reads usage: not theirs",
            Case::new(e(Team::Support), A::Read, Some(C::Usage), P::Assist).open(),
            DEFAULT_DENY,
            &[],
        ),
        // --- N3.1: billing.
        row(
            "billing reads billing in a billing interaction",
            Case::new(
                e(Team::Billing),
                A::Read,
                Some(C::Billing),
                P::ProvideServices,
            )
            .case(CaseKind::Billing),
            allow("N3.1"),
            &[
                N::Justification,
                N::CaseKind(CaseKind::Technical),
                N::Purpose(P::Assist),
                N::Purpose(P::MaintainImprove),
                N::Category(C::Usage),
                N::Category(C::Communications),
                N::Team,
                N::Action(A::Export),
                N::Kind(K::ThirdPartyApp),
            ],
        ),
        row(
            "billing reads the billing contact under a grant",
            Case::new(
                e(Team::Billing),
                A::Read,
                Some(C::Account),
                P::ProvideServices,
            )
            .grant(),
            allow("N3.1"),
            &[
                N::Justification,
                N::Purpose(P::Recommendations),
                N::Category(C::Configuration),
                N::Team,
            ],
        ),
        row(
            "billing contractor reads billing in a billing interaction",
            Case::new(
                who(K::Contractor, &[Team::Billing]),
                A::Read,
                Some(C::Billing),
                P::ProvideServices,
            )
            .case(CaseKind::Billing),
            allow("N3.1"),
            &[N::Team, N::Justification],
        ),
        // --- N3.6: security and incident response.
        row(
            "security reads usage under a grant",
            Case::new(e(Team::Security), A::Read, Some(C::Usage), P::Protect).grant(),
            allow("N3.6"),
            &[
                N::Justification,
                N::Purpose(P::MaintainImprove),
                N::Purpose(P::ProvideServices),
                N::Category(C::Communications),
                N::Category(C::Billing),
                N::Team,
            ],
        ),
        row(
            "security reads configuration about an incident",
            Case::new(
                e(Team::Security),
                A::Read,
                Some(C::Configuration),
                P::Protect,
            )
            .incident(),
            allow("N3.6"),
            &[N::Category(C::Account), N::Team, N::Justification],
        ),
        row(
            "incident response reads usage about an incident",
            Case::new(
                e(Team::IncidentResponse),
                A::Read,
                Some(C::Usage),
                P::Protect,
            )
            .incident(),
            allow("N3.6"),
            &[
                N::Purpose(P::Assist),
                N::Team,
                N::Action(A::Erase),
                N::Justification,
            ],
        ),
        row(
            "affiliate security staff read usage (N6.1)",
            Case::new(
                who(K::AffiliateStaff, &[Team::Security]),
                A::Read,
                Some(C::Usage),
                P::Protect,
            )
            .grant(),
            allow("N3.6"),
            &[N::Team, N::Justification],
        ),
        row(
            "security agent reads usage",
            Case::new(
                who(K::Agent, &[Team::Security]),
                A::Read,
                Some(C::Usage),
                P::Protect,
            )
            .grant(),
            allow("N3.6"),
            &[N::Team, N::Justification],
        ),
        // --- N6.7: disclosures for security and legal reasons.
        row(
            "security discloses usage to address a security issue",
            Case::new(e(Team::Security), A::Disclose, Some(C::Usage), P::Protect).incident(),
            allow("N6.7"),
            &[
                N::Justification,
                N::Purpose(P::ProvideServices),
                N::Category(C::Account),
                N::Team,
            ],
        ),
        row(
            "legal discloses for legal process",
            Case::new(e(Team::Legal), A::Disclose, Some(C::Account), P::Comply).legal(),
            allow("N6.7"),
            &[N::Legal, N::Purpose(P::Protect), N::Team],
        ),
        // --- N3.7: legal, only against a recorded legal obligation.
        row(
            "legal reads billing against a legal obligation",
            Case::new(e(Team::Legal), A::Read, Some(C::Billing), P::Comply).legal(),
            allow("N3.7"),
            &[
                N::Legal,
                N::Covers,
                N::ObligationKind(ObligationKind::DataSubjectRequest),
                N::Purpose(P::ProvideServices),
                N::Team,
                N::Action(A::Erase),
            ],
        ),
        row(
            "legal reads communications against a legal obligation",
            Case::new(e(Team::Legal), A::Read, Some(C::Communications), P::Comply).legal(),
            allow("N3.7"),
            &[N::Legal, N::Team],
        ),
        row(
            "legal reads usage against a legal obligation",
            Case::new(e(Team::Legal), A::Read, Some(C::Usage), P::Comply).legal(),
            allow("N3.7"),
            &[N::Legal],
        ),
        row(
            "legal reads without a legal obligation",
            Case::new(e(Team::Legal), A::Read, Some(C::Account), P::Comply),
            forbid("N3.7"),
            &[],
        ),
        // --- N3.3: engineering.
        row(
            "engineering reads one subject's usage to improve under a grant",
            Case::new(
                e(Team::Engineering),
                A::Read,
                Some(C::Usage),
                P::MaintainImprove,
            )
            .grant(),
            allow("N3.3"),
            &[
                N::Justification,
                N::Purpose(P::ProvideServices),
                N::Purpose(P::Protect),
                N::Category(C::Account),
                N::Category(C::Billing),
                N::Team,
            ],
        ),
        row(
            "engineering reads configuration in aggregate to improve",
            Case::new(
                e(Team::Engineering),
                A::Read,
                Some(C::Configuration),
                P::MaintainImprove,
            )
            .no_subject(),
            allow("N3.3"),
            &[N::Category(C::Communications), N::Team],
        ),
        // --- N7.2, N8.8: the privacy team fulfils data subject requests.
        row(
            "privacy exports for a data subject request",
            Case::new(e(Team::Privacy), A::Export, Some(C::Usage), P::Comply).dsr(),
            allow("N7.2"),
            &[
                N::Legal,
                N::ObligationKind(ObligationKind::LegalRequest),
                N::Purpose(P::ProvideServices),
                N::Team,
                N::Subject,
            ],
        ),
        row(
            "privacy erases for a data subject request",
            Case::new(e(Team::Privacy), A::Erase, None, P::Comply).dsr(),
            allow("N7.2"),
            &[N::Legal, N::Purpose(P::Protect), N::Team, N::Subject],
        ),
        row(
            "privacy rectifies for a data subject request",
            Case::new(e(Team::Privacy), A::Rectify, Some(C::Account), P::Comply).dsr(),
            allow("N7.2"),
            &[N::Legal, N::Team],
        ),
        row(
            "privacy reads for a data subject request",
            Case::new(
                e(Team::Privacy),
                A::Read,
                Some(C::Communications),
                P::Comply,
            )
            .dsr(),
            allow("N7.2"),
            &[N::Legal, N::Team, N::Action(A::Disclose), N::Covers],
        ),
        // --- N5.4, N8.4, N5.5, N5.2: system actions.
        row(
            "privacy reviews the audit log",
            Case::new(e(Team::Privacy), A::AuditRead, None, P::Protect).no_subject(),
            allow("N5.4"),
            &[N::Purpose(P::MaintainImprove), N::Team],
        ),
        row(
            "security reads the audit log",
            Case::new(e(Team::Security), A::AuditRead, None, P::Protect).no_subject(),
            allow("N5.4"),
            &[N::Team],
        ),
        row(
            "legal reads the audit log for comply: no operation does (issue 17 item 10)",
            Case::new(e(Team::Legal), A::AuditRead, None, P::Comply)
                .no_subject()
                .legal(),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "security manages principals",
            Case::new(e(Team::Security), A::ManagePrincipals, None, P::Protect).no_subject(),
            allow("N5.5"),
            &[N::Purpose(P::ProvideServices), N::Team],
        ),
        row(
            "security rotates keys",
            Case::new(e(Team::Security), A::KeysRotate, None, P::Protect).no_subject(),
            allow("N5.2"),
            &[N::Purpose(P::Comply), N::Team],
        ),
        row(
            "a service rotates keys on schedule",
            Case::new(who(K::Service, &[]), A::KeysRotate, None, P::Protect).no_subject(),
            allow("N5.2"),
            &[N::Purpose(P::ProvideServices), N::Kind(K::Processor)],
        ),
        row(
            "privacy staff handle data subject requests",
            Case::new(e(Team::Privacy), A::DsrHandle, None, P::Comply)
                .no_subject()
                .dsr(),
            allow("N7.2"),
            &[N::Legal, N::Team, N::Purpose(P::Protect)],
        ),
        row(
            "security staff handle data subject requests",
            Case::new(e(Team::Security), A::DsrHandle, None, P::Comply)
                .no_subject()
                .legal(),
            DEFAULT_DENY,
            &[],
        ),
        // --- N1.2, N6.5: tenancy.
        row(
            "security sets up tenancy",
            Case::new(
                e(Team::Security),
                A::ManageTenancy,
                None,
                P::ProvideServices,
            )
            .no_subject(),
            allow("N1.2"),
            &[N::Team, N::Purpose(P::Protect)],
        ),
        row(
            "an administrator manages their organisation",
            Case::new(
                who(K::CustomerAdmin, &[]),
                A::ManageOrganisation,
                None,
                P::ProvideServices,
            ),
            allow("N6.5a"),
            &[N::Org, N::Purpose(P::Protect)],
        ),
        row(
            "an administrator sets up tenancy",
            Case::new(
                who(K::CustomerAdmin, &[]),
                A::ManageTenancy,
                None,
                P::ProvideServices,
            ),
            DEFAULT_DENY,
            &[],
        ),
        // --- N3.5: support cases.
        row(
            "support opens a case",
            Case::new(e(Team::Support), A::ManageCases, None, P::Assist).no_subject(),
            allow("N3.5"),
            &[N::Team, N::Purpose(P::Protect)],
        ),
        row(
            "billing opens a case of no kind",
            Case::new(e(Team::Billing), A::ManageCases, None, P::Assist).no_subject(),
            DEFAULT_DENY,
            &[],
        ),
        // --- N3.7, N6.5d: legal obligations.
        row(
            "legal records an obligation",
            Case::new(e(Team::Legal), A::RecordObligation, None, P::Comply)
                .no_subject()
                .legal(),
            allow("N3.7"),
            &[N::Team, N::Legal],
        ),
        row(
            "an administrator records an obligation for their organisation",
            Case::new(
                who(K::CustomerAdmin, &[]),
                A::RecordObligation,
                None,
                P::Comply,
            )
            .legal(),
            allow("N6.5d"),
            &[N::Org, N::Legal],
        ),
        row(
            "engineering records an obligation",
            Case::new(e(Team::Engineering), A::RecordObligation, None, P::Comply)
                .no_subject()
                .legal(),
            DEFAULT_DENY,
            &[],
        ),
        // --- N4.4: transfer mechanisms.
        row(
            "legal records a transfer mechanism",
            Case::new(e(Team::Legal), A::ManageTransfers, None, P::Protect).no_subject(),
            allow("N4.4"),
            &[N::Team, N::Purpose(P::Assist)],
        ),
        // --- N8.8: the retention sweep.
        row(
            "privacy runs the retention sweep",
            Case::new(e(Team::Privacy), A::RetentionSweep, None, P::Protect).no_subject(),
            allow("N8.8"),
            &[N::Team, N::Purpose(P::Assist)],
        ),
        row(
            "a service runs the retention sweep",
            Case::new(who(K::Service, &[]), A::RetentionSweep, None, P::Protect).no_subject(),
            allow("N8.8"),
            &[N::Kind(K::Processor)],
        ),
        row(
            "support manages principals",
            Case::new(e(Team::Support), A::ManagePrincipals, None, P::Protect).no_subject(),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "engineering reads the audit log",
            Case::new(e(Team::Engineering), A::AuditRead, None, P::Protect).no_subject(),
            DEFAULT_DENY,
            &[],
        ),
    ]
}
