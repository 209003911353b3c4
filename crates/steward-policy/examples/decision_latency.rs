//! Decision latency of the default pack: p50/p99 over 100,000 decisions.
//!
//! Run: `cargo run --release -p steward-policy --example decision_latency`
//!
//! Prints one line per mix (allowed reads, forbids, default denials with
//! their hint search, a realistic mix, and allowed reads by principals not
//! in the engine's principal cache), each measured in this run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use steward_domain::{Category, Principal, PrincipalKind, Purpose, SubjectId, Team};
use steward_policy::{Action, DecisionRequest, PolicyEngine, RequestContext};
use time::{Date, Month};

const N: usize = 100_000;

fn date(y: i32, m: Month, d: u8) -> Date {
    Date::from_calendar_date(y, m, d).unwrap_or(Date::MIN)
}

fn staff(team: Team) -> Principal {
    Principal {
        name: format!("{team}-alice"),
        kind: PrincipalKind::Employee,
        teams: vec![team],
        confidentiality_signed_on: Some(date(2023, Month::March, 1)),
        training_expires_on: Some(date(2024, Month::December, 31)),
        engagement_ends_on: None,
        subject: None,
        organisations: vec![],
        revoked: false,
    }
}

fn measure(engine: &PolicyEngine, reqs: &[DecisionRequest<'_>]) -> (Duration, Duration, usize) {
    let mut times = Vec::with_capacity(N);
    let mut allowed = 0;
    for i in 0..N {
        let req = &reqs[i % reqs.len()];
        let t = Instant::now();
        let d = engine.decide(black_box(req));
        times.push(t.elapsed());
        allowed += usize::from(d.allowed);
        black_box(d);
    }
    times.sort_unstable();
    (times[N / 2], times[N * 99 / 100], allowed)
}

fn main() {
    let engine = match PolicyEngine::default_pack() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("default pack failed to load: {e}");
            std::process::exit(1);
        }
    };
    let today = date(2024, Month::June, 1);
    let support = staff(Team::Support);
    let security = staff(Team::Security);
    let mut expired = staff(Team::Billing);
    expired.training_expires_on = Some(date(2024, Month::January, 1));
    let subject = Principal {
        name: "ann".into(),
        kind: PrincipalKind::DataSubject,
        teams: vec![],
        confidentiality_signed_on: None,
        training_expires_on: None,
        engagement_ends_on: None,
        subject: Some(SubjectId(0x1234)),
        organisations: vec![],
        revoked: false,
    };
    let sub = "sub_0000000000001234";
    let mut open = RequestContext::new(today);
    open.open_case_for_subject = true;
    let req = |p, action, cat, purpose, ctx| DecisionRequest {
        principal: p,
        action,
        subject: Some(sub),
        category: Some(cat),
        organisation: Some("org-1"),
        kind: None,
        purpose: Some(purpose),
        context: ctx,
    };
    let plain = RequestContext::new(today);
    let allows = [
        req(
            &support,
            Action::Read,
            Category::Communications,
            Purpose::Assist,
            open,
        ),
        req(
            &security,
            Action::Read,
            Category::Usage,
            Purpose::Protect,
            plain,
        ),
        req(
            &subject,
            Action::Export,
            Category::Account,
            Purpose::ProvideServices,
            plain,
        ),
    ];
    let forbids = [
        req(
            &expired,
            Action::Read,
            Category::Billing,
            Purpose::ProvideServices,
            plain,
        ),
        req(
            &security,
            Action::Read,
            Category::Usage,
            Purpose::InternalReporting,
            plain,
        ),
    ];
    let default_denies = [
        req(
            &support,
            Action::Read,
            Category::Billing,
            Purpose::Assist,
            open,
        ),
        req(
            &support,
            Action::Read,
            Category::Account,
            Purpose::Assist,
            plain,
        ),
    ];
    let mut mix: Vec<DecisionRequest<'_>> = Vec::new();
    for _ in 0..8 {
        mix.extend_from_slice(&allows);
    }
    mix.extend_from_slice(&forbids);
    mix.extend_from_slice(&default_denies[..1]);

    // 10,000 distinct principals, more than the principal cache keeps: every
    // decision of this row builds its principal's entity.
    let cold_principals: Vec<Principal> = (0..10_000)
        .map(|i| Principal {
            name: format!("security-{i}"),
            ..security.clone()
        })
        .collect();
    let cold: Vec<DecisionRequest<'_>> = cold_principals
        .iter()
        .map(|p| req(p, Action::Read, Category::Usage, Purpose::Protect, plain))
        .collect();

    // Warm up.
    let _ = measure(&engine, &mix);
    println!(
        "steward-policy decision latency, default pack {} ({} policies), {N} decisions per row",
        engine.version(),
        engine.policies().len()
    );
    println!("{:<34} {:>10} {:>10} {:>9}", "mix", "p50", "p99", "allowed");
    for (name, reqs) in [
        ("allowed (permit decides)", &allows[..]),
        ("forbid decides", &forbids[..]),
        ("default deny (with hint search)", &default_denies[..]),
        ("mix: 24 allow, 2 forbid, 1 deny", &mix[..]),
        ("allowed, principal not cached", &cold[..]),
    ] {
        let (p50, p99, allowed) = measure(&engine, reqs);
        println!("{name:<34} {:>10.2?} {:>10.2?} {:>9}", p50, p99, allowed);
    }
}
