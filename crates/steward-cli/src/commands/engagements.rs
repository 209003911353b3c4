//! `steward engagements` (N6.6, issue 17 item 4): the professional-services
//! engagements that let a registered processor read the contact details of
//! the subjects they cover. Decided by the core (`manage_transfers` for
//! protect: legal and privacy staff), audited; this file only translates.

use std::process::ExitCode;

use clap::Subcommand;
use steward_core::{CoreError, NewEngagement, Steward};

/// `steward engagements ...`.
#[derive(Subcommand)]
pub(crate) enum EngagementsCmd {
    /// Record an engagement of a processor registered for
    /// professional_services; prints it as JSON.
    Add {
        /// The processor principal.
        #[arg(long)]
        processor: String,
        /// The organisation whose users it covers.
        #[arg(long)]
        organisation: Option<String>,
        /// A subject it covers (repeatable; `username:ann`, `sub_…`).
        #[arg(long = "subject")]
        subjects: Vec<String>,
        /// A category it covers (repeatable, at least one; registered for
        /// the subprocessor).
        #[arg(long = "category", required = true)]
        categories: Vec<String>,
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        starts: String,
        /// Last day, YYYY-MM-DD (inclusive).
        #[arg(long)]
        ends: String,
        /// Statement of work or contract reference.
        #[arg(long)]
        reference: String,
    },
    /// End an engagement today.
    End {
        /// Engagement id (`eng_…`).
        id: String,
    },
    /// List the engagements as JSON.
    List,
}

/// Run an `engagements` subcommand as `operator`.
pub(crate) fn run(st: &Steward, operator: &str, c: EngagementsCmd) -> Result<ExitCode, CoreError> {
    let out = match c {
        EngagementsCmd::Add {
            processor,
            organisation,
            subjects,
            categories,
            starts,
            ends,
            reference,
        } => {
            let categories = super::categories(&categories)?;
            let new = NewEngagement {
                processor,
                organisation,
                subjects,
                categories,
                starts_on: super::date("--starts", &starts)?,
                ends_on: super::date("--ends", &ends)?,
                reference,
            };
            serde_json::to_string_pretty(&st.record_engagement(operator, &new)?)
        }
        EngagementsCmd::End { id } => {
            serde_json::to_string_pretty(&st.end_engagement(operator, &id)?)
        }
        EngagementsCmd::List => serde_json::to_string_pretty(&st.engagements()?),
    };
    outln!("{}", out.unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}
