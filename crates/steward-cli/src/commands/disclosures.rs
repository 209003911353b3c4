//! `steward disclosures` (issue 19; N6.2-N6.7, N8.4, N8.9): disclose
//! through the gate, the APPI provision record, the ledger sweep, and the
//! `recipients`, `consent` and `grants` subcommands. Every operation is a
//! core call with the acting principal; the core decides and records.

use std::process::ExitCode;

use clap::Subcommand;
use steward_core::sharing::{NewConsent, NewGrant, NewRecipient, Scope};
use steward_core::{CoreError, DisclosureRequest, Steward};
use steward_domain::{
    AppAdminPolicy, Category, ConsentMethod, DisclosureBasis, ProcessorService, Purpose,
    RecipientKind, RecipientRole,
};

use super::parse_date;

/// `steward disclosures …`.
#[derive(Subcommand)]
pub(crate) enum DisclosuresCmd {
    /// Disclose a subject's data to a registered recipient, through the gate.
    Disclose {
        /// The subject (`username:ann`, `sub_…`).
        #[arg(long)]
        subject: String,
        /// The recipient (`rcp_…`).
        #[arg(long)]
        recipient: String,
        /// third_party_service, consent, administrator, external_processing, legal.
        #[arg(long)]
        basis: DisclosureBasis,
        /// The purpose (N3).
        #[arg(long)]
        purpose: Purpose,
        /// One category (N2); default all.
        #[arg(long)]
        category: Option<Category>,
        /// A recorded legal obligation (legal basis).
        #[arg(long)]
        obligation: Option<String>,
    },
    /// The APPI provision record of a recipient over [from, to) (N8.4).
    Report {
        /// The recipient.
        #[arg(long)]
        recipient: String,
        /// First day, YYYY-MM-DD (UTC).
        #[arg(long)]
        from: String,
        /// Day after the last, YYYY-MM-DD (UTC).
        #[arg(long)]
        to: String,
        /// Print CSV instead of JSON.
        #[arg(long)]
        csv: bool,
    },
    /// Delete ledger rows past `[sharing] ledger_retention_days`.
    Sweep,
    /// The recipient registry (N8.9).
    #[command(subcommand)]
    Recipients(RecipientsCmd),
    /// The consent ledger (N6.4).
    #[command(subcommand)]
    Consent(ConsentCmd),
    /// Third-party app grants (N6.3).
    #[command(subcommand)]
    Grants(GrantsCmd),
}

/// `steward disclosures recipients …`.
#[derive(Subcommand)]
pub(crate) enum RecipientsCmd {
    /// Register a recipient.
    Add {
        /// third_party_app, subprocessor, affiliate, authority, other_controller.
        #[arg(long)]
        kind: RecipientKind,
        /// Legal name.
        #[arg(long)]
        legal_name: String,
        /// Address.
        #[arg(long)]
        address: String,
        /// Representative.
        #[arg(long)]
        representative: String,
        /// Country (ISO 3166-1 alpha-2).
        #[arg(long)]
        country: String,
        /// controller, processor, subprocessor.
        #[arg(long)]
        role: RecipientRole,
        /// Contract or DPA reference.
        #[arg(long)]
        contract: String,
        /// The principal acting as the recipient (apps, affiliates, and
        /// a subprocessor's processor principal).
        #[arg(long)]
        principal: Option<String>,
        /// Subprocessors: a category it may receive (repeat).
        #[arg(long = "category")]
        categories: Vec<Category>,
        /// Subprocessors: the service provided, support_ticket or
        /// professional_services (N6.6); needed with --principal.
        #[arg(long)]
        service: Option<ProcessorService>,
        /// Subprocessors: a data-centre country (repeat).
        #[arg(long = "location")]
        locations: Vec<String>,
        /// Owner (principal name).
        #[arg(long)]
        owner: String,
        /// Review interval, days.
        #[arg(long, default_value_t = 365)]
        review_interval_days: u32,
    },
    /// List the registry.
    List,
}

/// `steward disclosures consent …`.
#[derive(Subcommand)]
pub(crate) enum ConsentCmd {
    /// Record a consent (as the data subject or the service that collected it).
    Give {
        /// The subject's `sub_` id.
        #[arg(long)]
        subject: String,
        /// The recipient it covers (default: any).
        #[arg(long)]
        recipient: Option<String>,
        /// The purpose it covers (default: any).
        #[arg(long)]
        purpose: Option<Purpose>,
        /// console, api or email.
        #[arg(long)]
        method: ConsentMethod,
        /// Days until it expires.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// Withdraw a consent.
    Withdraw {
        /// The consent id.
        id: String,
    },
}

/// `steward disclosures grants …`.
#[derive(Subcommand)]
pub(crate) enum GrantsCmd {
    /// Grant an app scopes in an organisation.
    Grant {
        /// The app's recipient id.
        #[arg(long)]
        recipient: String,
        /// The organisation.
        #[arg(long)]
        organisation: String,
        /// A scope `category:purpose` (repeat).
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Only this user (`sub_` id; repeat).
        #[arg(long = "user")]
        users: Vec<String>,
    },
    /// Revoke a grant.
    Revoke {
        /// The grant id.
        id: String,
    },
    /// Every grant of an organisation, with last use and records disclosed.
    Review {
        /// The organisation.
        organisation: String,
    },
    /// Set an organisation's app admin policy.
    Policy {
        /// The organisation.
        organisation: String,
        /// trusted, limited or blocked.
        policy: AppAdminPolicy,
    },
}

/// Print a value as pretty JSON.
macro_rules! json {
    ($v:expr) => {
        outln!("{}", serde_json::to_string_pretty($v).unwrap_or_default())
    };
}

fn day_ms(flag: &str, v: String) -> Result<i64, CoreError> {
    let d =
        parse_date(flag, &Some(v))?.ok_or_else(|| CoreError::Input(format!("{flag}: required")))?;
    Ok(d.midnight().assume_utc().unix_timestamp() * 1000)
}

fn scope(s: &str) -> Result<Scope, CoreError> {
    let bad = || {
        CoreError::Input(format!(
            "--scope `{s}`: expected category:purpose, e.g. usage:provide_services"
        ))
    };
    let (c, p) = s.split_once(':').ok_or_else(bad)?;
    Ok(Scope {
        category: c
            .parse()
            .map_err(|e| CoreError::Input(format!("--scope: {e}")))?,
        purpose: p
            .parse()
            .map_err(|e| CoreError::Input(format!("--scope: {e}")))?,
    })
}

/// Run a `disclosures` subcommand as `operator`.
pub(crate) fn run(st: &Steward, operator: &str, c: DisclosuresCmd) -> Result<ExitCode, CoreError> {
    match c {
        DisclosuresCmd::Disclose {
            subject,
            recipient,
            basis,
            purpose,
            category,
            obligation,
        } => {
            let d = st.disclose(&DisclosureRequest {
                principal: operator.into(),
                subject,
                recipient,
                basis,
                purpose,
                category,
                obligation_id: obligation,
            })?;
            json!(&d.disclosure);
            outln!("{} records disclosed", d.records.len());
        }
        DisclosuresCmd::Report {
            recipient,
            from,
            to,
            csv,
        } => {
            let r = st.provision_record(
                operator,
                &recipient,
                day_ms("--from", from)?,
                day_ms("--to", to)?,
            )?;
            if csv {
                outln!("{}", r.to_csv()?.trim_end());
            } else {
                json!(&r);
            }
        }
        DisclosuresCmd::Sweep => outln!("{} ledger rows swept", st.sweep_disclosures(operator)?),
        DisclosuresCmd::Recipients(RecipientsCmd::List) => json!(&st.recipients()?),
        DisclosuresCmd::Recipients(RecipientsCmd::Add {
            kind,
            legal_name,
            address,
            representative,
            country,
            role,
            contract,
            principal,
            categories,
            service,
            locations,
            owner,
            review_interval_days,
        }) => json!(&st.add_recipient(
            operator,
            NewRecipient {
                kind,
                legal_name,
                address,
                representative,
                country,
                role,
                contract,
                principal,
                categories,
                service,
                locations,
                owner,
                review_interval_days,
            },
        )?),
        DisclosuresCmd::Consent(ConsentCmd::Give {
            subject,
            recipient,
            purpose,
            method,
            expires_in_days,
        }) => json!(&st.give_consent(
            operator,
            NewConsent {
                subject,
                recipient,
                purpose,
                method,
                expires_in_days,
            },
        )?),
        DisclosuresCmd::Consent(ConsentCmd::Withdraw { id }) => {
            json!(&st.withdraw_consent(operator, &id)?)
        }
        DisclosuresCmd::Grants(g) => grants(st, operator, g)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn grants(st: &Steward, operator: &str, g: GrantsCmd) -> Result<(), CoreError> {
    match g {
        GrantsCmd::Grant {
            recipient,
            organisation,
            scopes,
            users,
        } => json!(&st.grant_app(
            operator,
            NewGrant {
                recipient,
                organisation,
                scopes: scopes.iter().map(|s| scope(s)).collect::<Result<_, _>>()?,
                users,
            },
        )?),
        GrantsCmd::Revoke { id } => json!(&st.revoke_grant(operator, &id)?),
        GrantsCmd::Review { organisation } => json!(&st.grant_review(operator, &organisation)?),
        GrantsCmd::Policy {
            organisation,
            policy,
        } => {
            st.set_app_policy(operator, &organisation, policy)?;
            outln!("organisation {organisation}: app admin policy {policy}");
        }
    }
    Ok(())
}
