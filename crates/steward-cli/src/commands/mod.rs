//! One file per command group; `main.rs` holds the argument types and the
//! dispatch. The helpers here are shared by several groups.

use steward_core::{Action, CoreError, Steward};
use steward_domain::Purpose;

pub(crate) mod audit;
pub(crate) mod cases;
pub(crate) mod demo;
pub(crate) mod disclosures;
pub(crate) mod engagements;
pub(crate) mod identity;
pub(crate) mod incidents;
pub(crate) mod ingest;
pub(crate) mod intake;
pub(crate) mod keys;
pub(crate) mod notice;
pub(crate) mod principals;
pub(crate) mod requests;
pub(crate) mod retention;
pub(crate) mod serve;
pub(crate) mod store;
pub(crate) mod subjects;
pub(crate) mod tokens;
pub(crate) mod transfers;

/// A `YYYY-MM-DD` flag value (an input error naming `flag` and the value).
pub(crate) fn date(flag: &str, v: &str) -> Result<time::Date, CoreError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(v, &fmt)
        .map_err(|_| CoreError::Input(format!("{flag}: `{v}` is not a date YYYY-MM-DD")))
}

/// A `YYYY-MM-DD` flag value, if given (an input error naming `flag`).
pub(crate) fn parse_date(flag: &str, s: &Option<String>) -> Result<Option<time::Date>, CoreError> {
    s.as_deref().map(|v| date(flag, v)).transpose()
}

/// Repeated `--category` values (N2), each error naming its position.
pub(crate) fn categories(values: &[String]) -> Result<Vec<steward_domain::Category>, CoreError> {
    values
        .iter()
        .enumerate()
        .map(|(i, c)| {
            c.parse()
                .map_err(|e| CoreError::Input(format!("--category[{i}]: {e}")))
        })
        .collect()
}

/// A `--purpose` value (N3).
pub(crate) fn purpose(s: &str) -> Result<Purpose, CoreError> {
    s.parse()
        .map_err(|e: steward_domain::DomainError| CoreError::Input(format!("--purpose: {e}")))
}

/// A store URL for display: any password is replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The obligation an operator's export or erasure answers: the one named,
/// or a newly recorded `data_subject_request` ([`Steward::dsr_obligation`]
/// decides, and refuses an identifier that matches nobody before anything is
/// recorded).
pub(crate) fn dsr_obligation(
    st: &Steward,
    who: &str,
    action: Action,
    purpose: Purpose,
    subject: &str,
    given: Option<String>,
    reference: &str,
) -> Result<String, CoreError> {
    let named = given.is_some();
    let id = st.dsr_obligation(who, action, purpose, subject, given, reference)?;
    if !named {
        errln!("recorded obligation {id} (data_subject_request)");
    }
    Ok(id)
}
