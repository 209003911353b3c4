//! Principal profiles of the grid.

use super::*;

/// Principal profiles of the grid.
pub(super) fn profiles() -> Vec<(&'static str, Principal)> {
    use PrincipalKind as K;
    let mut out: Vec<(&'static str, Principal)> = Vec::new();
    for team in Team::ALL {
        out.push(("employee", employee(team)));
    }
    out.push(("employee with no team", who(K::Employee, &[])));
    out.push((
        "employee in support and billing",
        who(K::Employee, &[Team::Support, Team::Billing]),
    ));
    out.push((
        "contractor, security",
        who(K::Contractor, &[Team::Security]),
    ));
    out.push(("agent, support", who(K::Agent, &[Team::Support])));
    out.push((
        "affiliate staff, legal",
        who(K::AffiliateStaff, &[Team::Legal]),
    ));
    out.push((
        "affiliate staff, privacy",
        who(K::AffiliateStaff, &[Team::Privacy]),
    ));
    out.push((
        "contractor, engagement ended",
        Principal {
            engagement_ends_on: Some(days(-1)),
            ..who(K::Contractor, &[Team::Support])
        },
    ));
    out.push((
        "agent, no end date",
        Principal {
            engagement_ends_on: None,
            ..who(K::Agent, &[Team::Billing])
        },
    ));
    out.push((
        "employee, training expired",
        Principal {
            training_expires_on: Some(days(-1)),
            ..employee(Team::Security)
        },
    ));
    out.push((
        "employee, no training record",
        Principal {
            training_expires_on: None,
            ..employee(Team::Legal)
        },
    ));
    out.push((
        "employee, no confidentiality",
        Principal {
            confidentiality_signed_on: None,
            ..employee(Team::Privacy)
        },
    ));
    out.push((
        "employee, revoked",
        Principal {
            revoked: true,
            ..employee(Team::Engineering)
        },
    ));
    out.push(("customer admin of org-a", who(K::CustomerAdmin, &[])));
    out.push(("reseller of org-a and org-b", who(K::Reseller, &[])));
    out.push((
        "customer admin of nothing",
        Principal {
            organisations: vec![],
            ..who(K::CustomerAdmin, &[])
        },
    ));
    out.push(("data subject sub_1", who(K::DataSubject, &[])));
    out.push((
        "data subject without id",
        Principal {
            subject: None,
            ..who(K::DataSubject, &[])
        },
    ));
    out.push(("service", who(K::Service, &[])));
    out.push((
        "service, revoked",
        Principal {
            revoked: true,
            ..who(K::Service, &[])
        },
    ));
    out.push(("processor", who(K::Processor, &[])));
    out.push(("third-party app", who(K::ThirdPartyApp, &[])));
    out.push((
        "customer admin with a team (ignored)",
        who(K::CustomerAdmin, &[Team::Legal]),
    ));
    out
}
