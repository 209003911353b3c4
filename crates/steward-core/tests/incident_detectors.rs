//! Detectors over the audit stream (N5.1 "alerts on anomalous access",
//! N8.5): a generated stream of 1,000,000 normal entries fires nothing and
//! opens no incident; the same stream with one injected anomaly of each
//! kind fires exactly once per kind, and each firing opens one incident,
//! routed by the table and paged to the on-call.
//!
//! The normal stream, by construction (default thresholds: more than 200
//! distinct subjects an hour, 20 denials in 5 minutes, 3 lockouts an hour):
//! one entry every 100 ms (27.8 hours), 500 principals taking turns by a
//! fixed pseudo-random sequence, so each reads about 72 entries an hour,
//! far under 200 distinct subjects; one denial every 1,000 entries (2 per
//! principal over the whole stream); one lockout every 50,000 entries
//! (5,000 s apart: never two in an hour); every read processed in `jp`.

use std::sync::{Arc, Mutex};

use steward_core::incidents::{AuditSummary, Detector, DetectorConfig, SummaryDecision};
use steward_core::oncall::{Layer, Schedule};
use steward_core::{Config, CoreError, OpenOptions, Page, Pager, Steward};
use steward_domain::{DetectorKind, IncidentState, ReportChannel, Route};

const N: u64 = 1_000_000;
const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z, ms

fn lcg(x: u64) -> u64 {
    x.wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407)
}

fn normal(i: u64) -> AuditSummary {
    let r = lcg(i ^ 0x9e37_79b9);
    let principal = format!("svc-{}", (r >> 33) % 500);
    let time_ms = T0 + (i as i64) * 100;
    if i % 50_000 == 49_999 {
        return AuditSummary {
            principal,
            action: "login_lockout".into(),
            decision: SummaryDecision::Done,
            subject: None,
            region: "jp".into(),
            time_ms,
        };
    }
    AuditSummary {
        principal,
        action: "read".into(),
        decision: if i % 1000 == 999 {
            SummaryDecision::Deny
        } else {
            SummaryDecision::Allow
        },
        subject: Some((r >> 11) % 1_000_000),
        region: "jp".into(),
        time_ms,
    }
}

/// One anomaly of each kind, at the stream's instant `t` (ms).
fn anomalies(t: i64) -> Vec<AuditSummary> {
    let mut v = Vec::new();
    let e = |p: &str, action: &str, d: SummaryDecision, s: Option<u64>, region: &str, at: i64| {
        AuditSummary {
            principal: p.into(),
            action: action.into(),
            decision: d,
            subject: s,
            region: region.into(),
            time_ms: at,
        }
    };
    // 250 distinct subjects read by one principal within 250 ms.
    for k in 0..250 {
        v.push(e(
            "mallory",
            "read",
            SummaryDecision::Allow,
            Some(5_000_000 + k),
            "jp",
            t + k as i64,
        ));
    }
    // 25 denials in 25 seconds.
    for k in 0..25 {
        v.push(e(
            "eve",
            "export",
            SummaryDecision::Deny,
            None,
            "jp",
            t + 1000 * k,
        ));
    }
    // 5 lockouts of one account in 5 minutes.
    for k in 0..5 {
        v.push(e(
            "trudy",
            "login_lockout",
            SummaryDecision::Done,
            None,
            "jp",
            t + 60_000 * k,
        ));
    }
    // One read processed in a region not configured.
    v.push(e(
        "svc-7",
        "read",
        SummaryDecision::Allow,
        Some(42),
        "us",
        t + 1,
    ));
    v.sort_by_key(|s| s.time_ms);
    v
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Page>>);

impl Pager for Recorder {
    fn page(&self, p: &Page) -> Result<(), CoreError> {
        self.0.lock().unwrap().push(p.clone());
        Ok(())
    }
}

fn regions() -> Vec<String> {
    vec!["jp".into()]
}

/// 1,000,000 normal entries: no firing, no incident (N5.1).
#[test]
fn a_million_normal_audit_entries_fire_nothing_n5_1() {
    let mut d = Detector::new(&DetectorConfig::default(), &regions());
    for i in 0..N {
        d.observe(&normal(i));
    }
    assert_eq!(d.firings(), &[]);
    let dir = tempfile::tempdir().unwrap();
    let st = Steward::open(dir.path(), Config::default(), OpenOptions::default()).unwrap();
    let opened = st.open_detector_incidents("ingest", d.firings()).unwrap();
    assert!(opened.is_empty());
    assert!(
        st.incidents(st.operator()).is_err(),
        "the operator is not of the incident team"
    );
}

/// The same stream with one anomaly of each kind injected half-way, and
/// an audit verification failure: exactly one firing per kind; each opens
/// one incident (channel detector, pre-assessed high x high, so expedited
/// by the default table) and pages the on-call of its time; a second run
/// adds to the open incidents instead of opening more (N5.1, N8.5).
#[test]
fn one_injected_anomaly_of_each_kind_opens_one_incident_each_n5_1() {
    let mut d = Detector::new(&DetectorConfig::default(), &regions());
    let half = N / 2;
    let t = T0 + (half as i64) * 100;
    let extra = anomalies(t);
    for i in 0..half {
        d.observe(&normal(i));
    }
    for s in &extra {
        d.observe(s);
    }
    for i in half..N {
        d.observe(&normal(i));
    }
    d.verification_failed(T0 + (N as i64) * 100);
    let firings = d.into_firings();
    let mut causes: Vec<(DetectorKind, String)> =
        firings.iter().map(|f| (f.kind, f.cause.clone())).collect();
    causes.sort();
    assert_eq!(
        causes,
        vec![
            (
                DetectorKind::DistinctSubjects,
                "distinct_subjects:mallory".into()
            ),
            (DetectorKind::DenialBurst, "denial_burst:eve".into()),
            (
                DetectorKind::RepeatedLockouts,
                "repeated_lockouts:trudy".into()
            ),
            (
                DetectorKind::UnexpectedRegion,
                "unexpected_region:us".into()
            ),
            (
                DetectorKind::AuditVerificationFailure,
                "audit_verification_failure:log".into()
            ),
        ]
    );
    let counts: Vec<u64> = {
        let mut f = firings.clone();
        f.sort_by_key(|f| f.kind);
        f.iter().map(|f| f.count).collect()
    };
    // The threshold plus one each time (201 subjects, 21 denials, 4 lockouts).
    assert_eq!(counts, vec![201, 21, 4, 1, 1]);

    let dir = tempfile::tempdir().unwrap();
    let st = Steward::open(dir.path(), Config::default(), OpenOptions::default()).unwrap();
    let op = st.operator().to_owned();
    let today = time::OffsetDateTime::now_utc().date();
    for n in ["ir1", "ir2"] {
        st.add_principal(
            &op,
            &steward_domain::Principal {
                name: n.into(),
                kind: steward_domain::PrincipalKind::Employee,
                teams: vec![steward_domain::Team::IncidentResponse],
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
    let pager = Arc::new(Recorder::default());
    st.set_pager(pager.clone());
    // Tokyo handoff 09:00 = 00:00Z: ir1 on 2026-01-01, ir2 on the 2nd.
    st.set_schedule(
        "ir1",
        &Schedule {
            name: "incident-response".into(),
            zone: "Asia/Tokyo".into(),
            handoff: "09:00".into(),
            layers: vec![Layer {
                members: vec!["ir1".into(), "ir2".into()],
                start: "2026-01-01".into(),
                weekdays: vec![],
            }],
            overrides: vec![],
            swaps: vec![],
            escalate_after_minutes: 15,
        },
    )
    .unwrap();
    let opened = st.open_detector_incidents("ingest", &firings).unwrap();
    assert_eq!(opened.len(), 5);
    for i in &opened {
        assert_eq!(i.channel, ReportChannel::Detector);
        assert_eq!(i.state, IncidentState::Assessed);
        assert_eq!(i.assessment.as_ref().unwrap().route, Route::Expedited);
        assert_eq!(i.firings, 1);
    }
    // The anomalies are at T0 + 50,000 s = 2026-01-01T13:53:20Z: 2026-01-01
    // 22:53 JST, ir1's shift; the verification failure at T0 + 100,000 s =
    // 2026-01-02T03:46:40Z, 12:46 JST on the 2nd: ir2's.
    let on_call: Vec<Option<&str>> = opened.iter().map(|i| i.on_call.as_deref()).collect();
    assert_eq!(
        on_call,
        vec![Some("ir1"); 4]
            .into_iter()
            .chain([Some("ir2")])
            .collect::<Vec<_>>()
    );
    let pages: Vec<(String, String)> = pager
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|p| (p.to.clone(), p.reason.clone()))
        .collect();
    assert_eq!(pages.len(), 5);
    assert!(pages.contains(&("ir1".into(), "detector:distinct_subjects".into())));
    assert!(pages.contains(&("ir2".into(), "detector:audit_verification_failure".into())));
    // Again: added to the open incidents, none opened.
    let again = st.open_detector_incidents("ingest", &firings).unwrap();
    assert_eq!(again.len(), 5);
    assert!(again.iter().all(|i| i.firings == 2));
    assert_eq!(st.incidents("ir1").unwrap().len(), 5);
}
