//! Explicit rows of the matrix, part 3: issue 17, "the policy pack says
//! what the notice says". Each row names the item and the clause that
//! decides it; the expectation comes from the notice's words (quoted in
//! the oracle's tables), and every row but item 7's (and, for items 4
//! and 5, the allowed rows, whose negatives were) was decided the other
//! way by the pack before issue 17 (item 7's permit was right; the core
//! did not pass the organisation, proven end to end by steward-server's
//! `n7_2_an_administrator_exports_a_user_of_their_organisation_audited`).

use super::*;

/// Issue 17's rows, item by item.
pub(super) fn issue17_rows() -> Vec<Row> {
    use Action as A;
    use Category as C;
    use Need as N;
    use ObligationKind as O;
    use PrincipalKind as K;
    use Purpose as P;
    let e = employee;
    vec![
        // --- Item 1 (N3.8): a person's access to one subject names a
        // justification concerning that subject.
        row(
            "item 1: engineering reads one subject's usage with no reason",
            Case::new(
                e(Team::Engineering),
                A::Read,
                Some(C::Usage),
                P::MaintainImprove,
            ),
            forbid("N3.8"),
            &[],
        ),
        row(
            "item 1: security reads one subject's usage with no incident, alert or grant",
            Case::new(e(Team::Security), A::Read, Some(C::Usage), P::Protect),
            forbid("N3.8"),
            &[],
        ),
        row(
            "item 1: billing reads one subject's billing with no billing interaction",
            Case::new(
                e(Team::Billing),
                A::Read,
                Some(C::Billing),
                P::ProvideServices,
            ),
            forbid("N3.8"),
            &[],
        ),
        row(
            "item 1: billing cites an account case, not a billing interaction",
            Case::new(
                e(Team::Billing),
                A::Read,
                Some(C::Billing),
                P::ProvideServices,
            )
            .case(CaseKind::Account),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 1: a security contractor reads under an incident about the subject",
            Case::new(
                who(K::Contractor, &[Team::Security]),
                A::Read,
                Some(C::Configuration),
                P::Protect,
            )
            .incident(),
            allow("N3.6"),
            &[N::Justification, N::Category(C::Billing)],
        ),
        row(
            "item 1: billing staff open a billing case (the billing interaction)",
            Case::new(e(Team::Billing), A::ManageCases, None, P::Assist)
                .no_subject()
                .case(CaseKind::Billing),
            allow("N3.8"),
            &[
                N::CaseKind(CaseKind::Technical),
                N::Team,
                N::Purpose(P::ProvideServices),
            ],
        ),
        // --- Item 2 (N3.7): an obligation's kind decides who cites it and
        // who records it.
        row(
            "item 2: legal reads under a data subject request",
            Case::new(e(Team::Legal), A::Read, Some(C::Account), P::Comply).dsr(),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 2: privacy erases under a legal request",
            Case::new(e(Team::Privacy), A::Erase, None, P::Comply).legal(),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 2: privacy exports under a record-keeping duty",
            Case::new(e(Team::Privacy), A::Export, None, P::Comply).obligation(O::RecordKeeping),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 2: legal records a data subject request",
            Case::new(e(Team::Legal), A::RecordObligation, None, P::Comply)
                .no_subject()
                .dsr(),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 2: privacy records a data subject request",
            Case::new(e(Team::Privacy), A::RecordObligation, None, P::Comply)
                .no_subject()
                .dsr(),
            allow("N7.2"),
            &[N::ObligationKind(O::LegalRequest), N::Team],
        ),
        row(
            "item 2: an administrator records a record-keeping duty",
            Case::new(
                who(K::CustomerAdmin, &[]),
                A::RecordObligation,
                None,
                P::Comply,
            )
            .obligation(O::RecordKeeping),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 2: an administrator's legal access under a data subject request",
            Case::new(
                who(K::CustomerAdmin, &[]),
                A::AdminLegalAccess,
                Some(C::Account),
                P::Comply,
            )
            .dsr(),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 2: legal reads under a record-keeping duty covering billing",
            Case::new(e(Team::Legal), A::Read, Some(C::Billing), P::Comply)
                .obligation(O::RecordKeeping),
            allow("N3.7"),
            &[
                N::Covers,
                N::ObligationKind(O::DataSubjectRequest),
                N::Legal,
            ],
        ),
        // --- Item 3 (N3.7): a comply read names a category the obligation
        // covers; only a data subject request's export reaches all.
        row(
            "item 3: legal reads every category of a subject at once",
            Case::new(e(Team::Legal), A::Read, None, P::Comply).legal(),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 3: legal reads a category the obligation does not cover",
            Case {
                covers: false,
                ..Case::new(e(Team::Legal), A::Read, Some(C::Usage), P::Comply).legal()
            },
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 3: privacy reads every category at once under a data subject request",
            Case::new(e(Team::Privacy), A::Read, None, P::Comply).dsr(),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 3: privacy exports every category under a data subject request",
            Case::new(e(Team::Privacy), A::Export, None, P::Comply).dsr(),
            allow("N7.2"),
            &[N::ObligationKind(O::GovernmentRequest), N::Legal],
        ),
        // --- Item 4 (N6.6): a processor reaches only what its
        // registration and its current instrument cover: a support
        // provider the ticket content of the cases assigned to it, a
        // professional-services provider the contact details of the
        // subjects its current engagement covers.
        row(
            "item 4: a professional-services provider reads contact details with no engagement",
            Case::new(
                who(K::Processor, &[]),
                A::Read,
                Some(C::Account),
                P::ProvideServices,
            )
            .kind("account.profile")
            .registered(ProcessorService::ProfessionalServices),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 4: an unregistered processor reads contact details",
            Case::new(
                who(K::Processor, &[]),
                A::Read,
                Some(C::Account),
                P::ProvideServices,
            )
            .kind("account.profile")
            .engaged(),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 4: a professional-services provider reads account settings, not contact details",
            Case::new(
                who(K::Processor, &[]),
                A::Read,
                Some(C::Account),
                P::ProvideServices,
            )
            .kind("account.settings")
            .registered(ProcessorService::ProfessionalServices)
            .engaged(),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 4: a support provider reads the ticket content of an open case not assigned to it",
            Case::new(
                who(K::Processor, &[]),
                A::Read,
                Some(C::Communications),
                P::Assist,
            )
            .kind("communications.support")
            .registered(ProcessorService::SupportTicket)
            .case(CaseKind::Technical),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 4: a support provider uses a professional-services engagement",
            Case::new(
                who(K::Processor, &[]),
                A::Read,
                Some(C::Account),
                P::ProvideServices,
            )
            .kind("account.profile")
            .registered(ProcessorService::SupportTicket)
            .engaged(),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 4: a professional-services provider reads a ticket assigned to it",
            Case::new(
                who(K::Processor, &[]),
                A::Read,
                Some(C::Communications),
                P::Assist,
            )
            .kind("communications.support")
            .registered(ProcessorService::ProfessionalServices)
            .case(CaseKind::Technical)
            .assigned(),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 4: a support provider reads the subject's feedback under its assigned case",
            Case::new(
                who(K::Processor, &[]),
                A::Read,
                Some(C::Communications),
                P::Assist,
            )
            .kind("communications.feedback")
            .registered(ProcessorService::SupportTicket)
            .case(CaseKind::Technical)
            .assigned(),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 4: a support provider reads the ticket content of the case assigned to it",
            Case::new(
                who(K::Processor, &[]),
                A::Read,
                Some(C::Communications),
                P::Assist,
            )
            .kind("communications.support")
            .registered(ProcessorService::SupportTicket)
            .case(CaseKind::Account)
            .assigned(),
            allow("N6.6"),
            &[
                N::Assigned,
                N::OpenCase,
                N::ProcessorService(Some(ProcessorService::ProfessionalServices)),
                N::ProcessorService(None),
                N::RecordKind("communications.email"),
                N::AnyKind,
                N::Subject,
            ],
        ),
        row(
            "item 4: a professional-services provider reads contact details its engagement covers",
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
                N::Engagement,
                N::ProcessorService(Some(ProcessorService::SupportTicket)),
                N::ProcessorService(None),
                N::RecordKind("account.settings"),
                N::AnyKind,
                N::Purpose(P::Assist),
                N::Subject,
            ],
        ),
        // --- Item 5 (N3.2): the recommendations service reads, of the
        // communications, the responses to recommendations and other
        // feedback only.
        row(
            "item 5: the recommendations service reads support tickets",
            Case::new(
                who(K::Service, &[]),
                A::Read,
                Some(C::Communications),
                P::Recommendations,
            )
            .kind("communications.support"),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 5: the recommendations service reads every communications kind at once",
            Case::new(
                who(K::Service, &[]),
                A::Read,
                Some(C::Communications),
                P::Recommendations,
            ),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 5: the recommendations service reads emails",
            Case::new(
                who(K::Service, &[]),
                A::Read,
                Some(C::Communications),
                P::Recommendations,
            )
            .kind("communications.email"),
            DEFAULT_DENY,
            &[],
        ),
        row(
            "item 5: the recommendations service reads feedback, the responses to recommendations",
            Case::new(
                who(K::Service, &[]),
                A::Read,
                Some(C::Communications),
                P::Recommendations,
            )
            .kind("communications.feedback"),
            allow("N3.2"),
            &[
                N::RecordKind("communications.support"),
                N::RecordKind("communications.email"),
                N::AnyKind,
                N::Purpose(P::ProvideServices),
                N::Kind(K::Processor),
            ],
        ),
        // --- Item 6 (N7.2, N6.5e): a user erases their own data.
        row(
            "item 6: a data subject erases their own data",
            Case::new(who(K::DataSubject, &[]), A::Erase, None, P::ProvideServices),
            allow("N7.2"),
            &[
                N::OwnSubject,
                N::Kind(K::CustomerAdmin),
                N::Purpose(P::Assist),
                N::Action(A::Disclose),
            ],
        ),
        // --- Item 7 (N7.1, N7.2): an administrator exports a user of the
        // organisation passed with the request.
        row(
            "item 7: an administrator exports every category of a user of their organisation",
            Case::new(
                who(K::CustomerAdmin, &[]),
                A::Export,
                None,
                P::ProvideServices,
            ),
            allow("N7.2"),
            &[N::Org, N::Subject, N::Kind(K::Reseller)],
        ),
        // --- Item 8 (N3.5): technical support sees technical data under a
        // technical case only.
        row(
            "item 8: support reads usage under a technical case",
            Case::new(e(Team::Support), A::Read, Some(C::Usage), P::Assist)
                .case(CaseKind::Technical),
            allow("N3.5"),
            &[
                N::CaseKind(CaseKind::Account),
                N::CaseKind(CaseKind::Billing),
                N::OpenCase,
                N::Category(C::Billing),
                N::Team,
            ],
        ),
        row(
            "item 8: a support agent reads configuration under a technical case",
            Case::new(
                who(K::Agent, &[Team::Support]),
                A::Read,
                Some(C::Configuration),
                P::Assist,
            )
            .case(CaseKind::Technical),
            allow("N3.5"),
            &[N::CaseKind(CaseKind::Account), N::Subject],
        ),
        // --- Item 9 (N4.2): the centralised operations, decided one by one.
        row(
            "item 9: incident response reads across regions about an incident",
            Case::new(
                e(Team::IncidentResponse),
                A::Read,
                Some(C::Usage),
                P::Protect,
            )
            .incident()
            .across(),
            allow("N3.6"),
            &[N::Purpose(P::MaintainImprove), N::Justification],
        ),
        row(
            "item 9: an automated security service reads across regions",
            Case::new(who(K::Service, &[]), A::Read, Some(C::Usage), P::Protect).across(),
            allow("N3.6"),
            &[N::Purpose(P::MaintainImprove), N::Kind(K::Processor)],
        ),
        row(
            "item 9: legal reads across regions under a recorded legal request",
            Case::new(e(Team::Legal), A::Read, Some(C::Billing), P::Comply)
                .legal()
                .across(),
            allow("N3.7"),
            &[N::Legal, N::Team],
        ),
        row(
            "item 9: engineering reads across regions under a grant",
            Case::new(
                e(Team::Engineering),
                A::Read,
                Some(C::Usage),
                P::MaintainImprove,
            )
            .grant()
            .across(),
            forbid("N4.2"),
            &[],
        ),
    ]
}
