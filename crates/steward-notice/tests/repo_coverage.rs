//! `steward notice coverage` run on this repository, checked against a hand
//! count: for five clauses across sections, the exact enforcing and test
//! locations (file and item) were read off the source by hand and are listed
//! here. Update them with the code they describe. (This file names clause
//! IDs only in string literals, which the scanner does not count.)

use std::path::Path;

use steward_notice::{Status, coverage};

fn locs(v: &[steward_notice::Location]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .iter()
        .map(|l| (l.path.clone(), l.item.clone().unwrap_or_default()))
        .collect();
    out.sort();
    out
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    out.sort();
    out
}

#[test]
fn repository_coverage_matches_the_hand_count() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let report = coverage(&root).expect("coverage runs on the repository");
    let operative = report.clauses.iter().filter(|c| c.operative).count();
    assert_eq!(operative, 45);
    let get = |id: &str| {
        report
            .clauses
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("{id} in register"))
    };

    // Tenancy (section 1): the tenancy registry in steward-core, the HTTP
    // API's tenancy endpoints, and the organisation in every gate request;
    // proven by the core's tenancy-tree test (the API tests' module doc no
    // longer counts).
    let c = get("N1.2");
    assert_eq!(c.status, Status::Proven);
    assert_eq!(
        locs(&c.enforcing),
        pairs(&[
            (
                "crates/steward-core/src/authorize.rs",
                "enum ManagementAction"
            ),
            (
                "crates/steward-core/src/authorize.rs",
                "enum ManagementAction"
            ),
            (
                "crates/steward-core/src/authorize.rs",
                "enum ManagementAction"
            ),
            (
                "crates/steward-core/src/authorize.rs",
                "enum ManagementAction"
            ),
            ("crates/steward-core/src/authorize.rs", "fn policy_action"),
            ("crates/steward-core/src/authorize.rs", "struct Target"),
            (
                "crates/steward-core/src/gate/mod.rs",
                "struct AccessRequest"
            ),
            // Issue 17 item 4: an engagement covers an organisation's users.
            ("crates/steward-core/src/processors.rs", "struct Engagement"),
            ("crates/steward-core/src/services.rs", "fn add_principal"),
            ("crates/steward-core/src/services.rs", "fn change_principal"),
            (
                "crates/steward-core/src/services.rs",
                "fn not_a_tenancy_kind"
            ),
            (
                "crates/steward-core/src/services.rs",
                "struct LegalObligation"
            ),
            ("crates/steward-core/src/tenancy/mod.rs", "fn add_reseller"),
            (
                "crates/steward-core/src/tenancy/mod.rs",
                "fn create_partner"
            ),
            (
                "crates/steward-core/src/sharing/grants.rs",
                "struct AppGrant"
            ),
            (
                "crates/steward-core/src/tenancy/admin.rs",
                "fn export_organisation"
            ),
            (
                "crates/steward-core/src/tenancy/mod.rs",
                "fn organisation_of_subject"
            ),
            ("crates/steward-core/src/tenancy/mod.rs", "module doc"),
            (
                "crates/steward-core/src/tenancy/mod.rs",
                "struct Organisation"
            ),
            ("crates/steward-core/src/tenancy/mod.rs", "struct Partner"),
            (
                "crates/steward-core/src/tenancy/mod.rs",
                "struct UserAccount"
            ),
            (
                "crates/steward-domain/src/principal.rs",
                "enum PrincipalKind"
            ),
            (
                "crates/steward-policy/pack/20-staff.cedar",
                "policy bootstrap-operator-tenancy"
            ),
            (
                "crates/steward-policy/pack/20-staff.cedar",
                "policy staff-security-manage-tenancy"
            ),
            ("crates/steward-policy/src/request.rs", "enum Action"),
            ("crates/steward-policy/src/request.rs", "enum Action"),
            (
                "crates/steward-policy/src/request.rs",
                "struct DecisionRequest"
            ),
            (
                "crates/steward-server/src/routes/obligations.rs",
                "struct ObligationIn"
            ),
            (
                "crates/steward-server/src/routes/tenancy.rs",
                "fn organisation_create"
            ),
            (
                "crates/steward-server/src/routes/tenancy.rs",
                "fn partner_create"
            ),
            (
                "crates/steward-server/src/routes/tenancy.rs",
                "fn reseller_add"
            ),
            (
                "crates/steward-server/src/routes/tenancy.rs",
                "fn user_create"
            ),
            ("crates/steward-server/src/routes/tenancy.rs", "module doc"),
            (
                "crates/steward-server/src/routes/tenancy.rs",
                "struct OrganisationOut"
            ),
            (
                "crates/steward-server/src/routes/tenancy.rs",
                "struct PartnerOut"
            ),
            ("crates/steward-store/src/schema.rs", "const MIGRATIONS"),
            ("crates/steward-store/src/types.rs", "enum RegistryTable"),
            // Issue 15: tenant-scoped blind indexes.
            ("crates/steward-core/src/identity/mod.rs", "module doc"),
            ("crates/steward-core/src/identity/resolve.rs", "fn resolve"),
            ("crates/steward-core/src/vault.rs", "fn ingest_for"),
        ])
    );
    assert_eq!(
        locs(&c.tests),
        pairs(&[
            (
                "crates/steward-core/tests/tenancy.rs",
                "fn tenancy_tree_partner_organisation_user_n1_2"
            ),
            (
                "crates/steward-core/tests/identity.rs",
                "fn issue15_item2_usernames_are_per_organisation_n1_2"
            ),
            (
                "crates/steward-server/tests/identity.rs",
                "fn issue15_item2_same_username_in_two_organisations_never_crosses_n1_2"
            ),
        ])
    );

    // No sale, processors only (section 6): the closed basis set and the processor policies.
    let c = get("N6.6");
    assert_eq!(c.status, Status::Proven);
    assert_eq!(
        locs(&c.enforcing),
        // (`enum DomainError` and `enum Action` cite it only in ranges,
        // "N6.2-N6.7", which cite nothing.) Issue 19 adds the recipient
        // registry, the disclosure gate entry and its recipient check, the
        // sharing vocabulary and the external-processing policies; issue 17
        // item 4 the processors' registration, case assignment and
        // engagements (core, routes, CLI, the gate's processor facts).
        pairs(&[
            (
                "crates/steward-cli/src/commands/disclosures.rs",
                "enum RecipientsCmd"
            ),
            (
                "crates/steward-cli/src/commands/engagements.rs",
                "module doc"
            ),
            ("crates/steward-cli/src/main.rs", "enum CasesCmd"),
            ("crates/steward-cli/src/main.rs", "enum Command"),
            (
                "crates/steward-core/src/authorize.rs",
                "enum ManagementAction"
            ),
            (
                "crates/steward-core/src/authorize.rs",
                "enum ManagementAction"
            ),
            (
                "crates/steward-core/src/authorize.rs",
                "enum ManagementAction"
            ),
            ("crates/steward-core/src/authorize.rs", "fn policy_action"),
            ("crates/steward-core/src/authorize.rs", "fn policy_action"),
            ("crates/steward-core/src/config/mod.rs", "struct Config"),
            ("crates/steward-core/src/gate/checks/mod.rs", "module doc"),
            (
                "crates/steward-core/src/gate/checks/recipient.rs",
                "module doc"
            ),
            ("crates/steward-core/src/gate/context.rs", "fn context_for"),
            ("crates/steward-core/src/gate/context.rs", "fn context_for"),
            ("crates/steward-core/src/gate/context.rs", "fn context_for"),
            (
                "crates/steward-core/src/gate/disclose.rs",
                "struct DisclosureRequest"
            ),
            ("crates/steward-core/src/processors.rs", "fn assign_case"),
            ("crates/steward-core/src/processors.rs", "fn end_engagement"),
            (
                "crates/steward-core/src/processors.rs",
                "fn processor_facts"
            ),
            (
                "crates/steward-core/src/processors.rs",
                "fn record_engagement"
            ),
            ("crates/steward-core/src/processors.rs", "module doc"),
            ("crates/steward-core/src/processors.rs", "struct Engagement"),
            (
                "crates/steward-core/src/processors.rs",
                "struct ProcessorFacts"
            ),
            ("crates/steward-core/src/cases.rs", "struct SupportCase"),
            (
                "crates/steward-domain/src/vocab/justifications.rs",
                "enum CaseStatus"
            ),
            ("crates/steward-core/src/sharing/mod.rs", "module doc"),
            (
                "crates/steward-core/src/sharing/mod.rs",
                "struct SharingConfig"
            ),
            (
                "crates/steward-core/src/sharing/recipients.rs",
                "fn add_recipient"
            ),
            (
                "crates/steward-core/src/sharing/recipients.rs",
                "fn add_recipient"
            ),
            (
                "crates/steward-core/src/sharing/recipients.rs",
                "module doc"
            ),
            (
                "crates/steward-core/src/sharing/recipients.rs",
                "struct NewRecipient"
            ),
            (
                "crates/steward-core/src/sharing/recipients.rs",
                "struct Recipient"
            ),
            (
                "crates/steward-core/src/sharing/recipients.rs",
                "struct Recipient"
            ),
            (
                "crates/steward-core/src/sharing/recipients.rs",
                "struct Recipient"
            ),
            (
                "crates/steward-core/src/sharing/recipients.rs",
                "struct Recipient"
            ),
            (
                "crates/steward-domain/src/principal.rs",
                "enum PrincipalKind"
            ),
            ("crates/steward-domain/src/vocab/sharing.rs", ""),
            ("crates/steward-domain/src/vocab/sharing.rs", ""),
            ("crates/steward-domain/src/vocab/sharing.rs", ""),
            ("crates/steward-domain/src/vocab/sharing.rs", ""),
            ("crates/steward-domain/src/vocab/sharing.rs", ""),
            (
                "crates/steward-domain/src/vocab/terms.rs",
                "enum DisclosureBasis"
            ),
            (
                "crates/steward-domain/src/vocab/terms.rs",
                "enum DisclosureBasis"
            ),
            (
                "crates/steward-policy/pack/60-processors.cedar",
                "policy processor-professional-services-contact"
            ),
            (
                "crates/steward-policy/pack/60-processors.cedar",
                "policy processor-support-ticket"
            ),
            (
                "crates/steward-policy/pack/70-disclosures.cedar",
                "policy disclosure-external-processing"
            ),
            (
                "crates/steward-policy/pack/70-disclosures.cedar",
                "policy disclosure-external-processing-recipient"
            ),
            ("crates/steward-policy/src/lib.rs", "module doc"),
            (
                "crates/steward-policy/src/request.rs",
                "struct DisclosureFacts"
            ),
            (
                "crates/steward-policy/src/request.rs",
                "struct RequestContext"
            ),
            (
                "crates/steward-policy/src/request.rs",
                "struct RequestContext"
            ),
            (
                "crates/steward-policy/src/request.rs",
                "struct RequestContext"
            ),
            (
                "crates/steward-server/src/routes/processors.rs",
                "fn case_assign"
            ),
            (
                "crates/steward-server/src/routes/processors.rs",
                "fn engagement_end"
            ),
            (
                "crates/steward-server/src/routes/processors.rs",
                "fn engagement_record"
            ),
            (
                "crates/steward-server/src/routes/processors.rs",
                "module doc"
            ),
            ("crates/steward-store/src/schema.rs", "const MIGRATIONS"),
            ("crates/steward-store/src/types.rs", "enum RegistryTable"),
            ("crates/steward-store/src/types.rs", "enum RegistryTable"),
        ])
    );
    // Issue 19: the subprocessor test (its name and its doc comment) and
    // the disclosure matrix rows; issue 17 item 4: the processors' tests
    // (name and doc comment each).
    assert_eq!(
        locs(&c.tests),
        pairs(&[
            (
                "crates/steward-core/tests/processors.rs",
                "fn n6_6_a_professional_services_processor_reads_contact_details_only_under_a_current_engagement"
            ),
            (
                "crates/steward-core/tests/processors.rs",
                "fn n6_6_a_professional_services_processor_reads_contact_details_only_under_a_current_engagement"
            ),
            (
                "crates/steward-core/tests/processors.rs",
                "fn n6_6_a_support_ticket_processor_reads_only_the_tickets_of_cases_assigned_to_it"
            ),
            (
                "crates/steward-core/tests/processors.rs",
                "fn n6_6_a_support_ticket_processor_reads_only_the_tickets_of_cases_assigned_to_it"
            ),
            (
                "crates/steward-core/tests/sharing.rs",
                "fn a_subprocessor_receives_only_after_its_lead_time_and_within_its_categories_n6_6_n8_9"
            ),
            (
                "crates/steward-core/tests/sharing.rs",
                "fn a_subprocessor_receives_only_after_its_lead_time_and_within_its_categories_n6_6_n8_9"
            ),
            (
                "crates/steward-policy/tests/decision_matrix/main.rs",
                "fn decision_matrix_matches_the_clause_register"
            ),
            (
                "crates/steward-policy/tests/decision_matrix/rows_disclosure.rs",
                "fn a_disclosure_without_basis_is_refused_n6_2"
            ),
            (
                "crates/steward-policy/tests/decision_matrix/rows_disclosure.rs",
                "fn disclosure_matrix_every_basis_recipient_consent_and_grant_n6_2_n6_3_n6_4_n6_6"
            ),
            (
                "crates/steward-policy/tests/decision_matrix/rows_disclosure.rs",
                "fn disclosure_matrix_every_basis_recipient_consent_and_grant_n6_2_n6_3_n6_4_n6_6"
            ),
        ])
    );

    // Controller identity (section 8) and the rights contact.
    for id in ["N8.1", "N8.10"] {
        let c = get(id);
        assert_eq!(c.status, Status::Proven, "{id}");
        assert_eq!(
            locs(&c.tests),
            pairs(&[
                (
                    "crates/steward-core/tests/controller.rs",
                    "fn every_export_carries_the_configured_controller_and_contact_n8_1_n8_10"
                ),
                (
                    "crates/steward-core/tests/controller.rs",
                    "fn every_export_carries_the_configured_controller_and_contact_n8_1_n8_10"
                ),
            ]),
            "{id}"
        );
    }
    assert_eq!(
        locs(&get("N8.1").enforcing),
        pairs(&[
            ("crates/steward-core/src/config/mod.rs", "struct Controller"),
            ("crates/steward-core/src/config/mod.rs", "struct Config"),
            ("crates/steward-core/src/vault.rs", "module doc"),
            ("crates/steward-core/src/export.rs", "fn export"),
            (
                "crates/steward-core/src/export.rs",
                "fn export_with_progress"
            ),
        ])
    );

    // Configuration category (section 2): named by the closed vocabulary only.
    let c = get("N2.3");
    assert_eq!(
        locs(&c.enforcing),
        pairs(&[("crates/steward-domain/src/vocab/terms.rs", "enum Category")])
    );
}
