//! Data subject requests (issue 6): lifecycle of each type, deadlines
//! checked against dates computed by hand, one-time code expiry and attempt
//! limit, the administrator's restriction (N6.5e), the policy version
//! pinned at receipt, exactly-once execution under concurrent approvals,
//! idempotent retry after a store failure, and resumption after a crash.

use std::path::{Path, PathBuf};

use std::sync::{Arc, Barrier, Mutex};

use steward_core::dsr::{
    CodeMessage, CodeSender, DsrConfig, Jurisdiction, NewRequestDetails, RequestFilter,
    RequestResult, VerificationState, add_months,
};

use steward_core::{
    AccessRequest, Action, Channel, Clock, Config, CoreError, OpenOptions, Steward,
};

use steward_domain::{
    Category, Fields, IdentifierKind, Kind, NewRecord, Principal, PrincipalKind, Product, Purpose,
    RequestState, RequestType, SubjectIdentifier, Team,
};

use time::macros::{date, datetime};

use time::{Date, OffsetDateTime};

fn profile(user: &str, email: &str, title: &str) -> NewRecord {
    let mut f = Fields::new();
    f.insert("username".into(), user.into());
    f.insert("email".into(), email.into());
    f.insert("job_title".into(), title.into());
    NewRecord::new(
        "account.profile".parse::<Kind>().unwrap(),
        Some(SubjectIdentifier::new(IdentifierKind::Username, user).unwrap()),
        Product::Workspace,
        None,
        f,
    )
    .unwrap()
}

fn open_with(dir: &Path, config: Config, policy_dir: Option<PathBuf>) -> Steward {
    Steward::open(
        dir,
        config,
        OpenOptions {
            policy_dir,
            clock: clock(),
            ..Default::default()
        },
    )
    .unwrap()
}

thread_local! {
    /// Each test's Steward reads "now" from its thread's clock.
    static CLOCK: Clock = Clock::system();
}

/// The clock of the Steward this thread opens (shared by clones).
fn clock() -> Clock {
    CLOCK.with(|c| c.clone())
}

/// Run `f` with this thread's clock held at `t`, then back to the system
/// clock: the request is opened, verified, listed... "at" `t`.
fn at_time<T>(t: time::OffsetDateTime, f: impl FnOnce() -> T) -> T {
    let c = clock();
    c.set(t);
    let r = f();
    c.clear();
    r
}

fn open(dir: &Path) -> Steward {
    open_with(dir, Config::default(), None)
}

/// ann: two account records (the profile and a second one), bob: one.
fn seed(st: &Steward) {
    st.ingest(
        "ingest",
        vec![
            profile("ann", "ann@example.com", "Engineer"),
            profile("ann", "ann@example.com", "Lead"),
            profile("bob", "bob@example.com", "Analyst"),
        ],
        &mut |_| {},
    )
    .unwrap();
}

fn staff(st: &Steward, name: &str, team: Team) {
    let today = OffsetDateTime::now_utc().date();
    st.add_principal(
        st.operator(),
        &Principal {
            name: name.into(),
            kind: PrincipalKind::Employee,
            teams: vec![team],
            confidentiality_signed_on: Some(today),
            training_expires_on: Some(today + time::Duration::days(30)),
            engagement_ends_on: None,
            subject: None,
            organisations: vec![],
            revoked: false,
        },
    )
    .unwrap();
}

fn cli(
    st: &Steward,
    who: &str,
    t: RequestType,
    details: NewRequestDetails,
) -> steward_core::Request {
    st.open_request(st.operator(), Some(who), t, Channel::Cli, details)
        .unwrap()
}

/// Count audit entries of `action` in a SQLite store file, straight from
/// the table (independently of Steward's code).
fn count_action(db: &Path, action: &str) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(
        "SELECT COUNT(*) FROM audit_entries WHERE CAST(entry AS TEXT) LIKE ?1",
        [format!("%\"action\":\"{action}\"%")],
        |r| r.get(0),
    )
    .unwrap()
}

/// A code sender that keeps what it was asked to send.
#[derive(Default)]
struct Captured(Mutex<Vec<(String, String)>>);

impl CodeSender for Captured {
    fn send(&self, m: &CodeMessage<'_>) -> Result<(), CoreError> {
        self.0
            .lock()
            .unwrap()
            .push((m.to.to_owned(), m.code.to_owned()));
        Ok(())
    }
}

impl Captured {
    fn last(&self) -> (String, String) {
        self.0.lock().unwrap().last().cloned().unwrap()
    }
}

fn eu_config() -> Config {
    let mut c = Config::default();
    c.regions[0].name = "eu".into();
    c.regions[0].country = "DE".into();
    c
}

mod execution;
mod lifecycle;
mod verification;
