//! Incidents (N8.5): reports by API, CLI and email (a maildir, exactly
//! once), assessment and route by the configured table, roles by rules and
//! handoffs with times, tasks, the due list, pages and their escalation,
//! the timeline as JSON and HTML, and the decisions of the pack.

use std::path::Path;
use std::sync::{Arc, Mutex};

use steward_core::oncall::{Layer, Schedule};
use steward_core::{
    AssessmentInput, Config, CoreError, IncidentsConfig, NewReport, OpenOptions, Page, Pager,
    Steward, TaskInput,
};
use steward_domain::{
    AppiReportableKind, IncidentKind, IncidentRole, IncidentState, Principal, PrincipalKind,
    Priority, ReportChannel, Route, Severity, Team,
};

#[derive(Default)]
struct Recorder(Mutex<Vec<Page>>);

impl Pager for Recorder {
    fn page(&self, p: &Page) -> Result<(), CoreError> {
        self.0.lock().unwrap().push(p.clone());
        Ok(())
    }
}

fn staff(name: &str, team: Team) -> Principal {
    let today = time::OffsetDateTime::now_utc().date();
    Principal {
        name: name.into(),
        kind: PrincipalKind::Employee,
        teams: vec![team],
        confidentiality_signed_on: Some(today),
        training_expires_on: Some(today + time::Duration::days(30)),
        engagement_ends_on: None,
        subject: None,
        organisations: vec![],
        revoked: false,
    }
}

/// A Steward with the incident team ir1..ir3 on a Tokyo rotation from
/// 2026-01-01 (ir1 on 2026-01-01, ir2 on the 2nd, ...), an engineer, legal
/// (`lee`) and product (`pat`), a route table cell and role rules.
fn setup(dir: &Path) -> (Steward, Arc<Recorder>) {
    let mut config = Config::default();
    let mut inc = IncidentsConfig::default();
    inc.routes
        .entry("high".into())
        .or_default()
        .insert("low".into(), Route::Standard);
    inc.roles.push(steward_core::incidents::RoleRule {
        role: IncidentRole::Legal,
        member: "lee".into(),
        kinds: vec![],
        min_priority: Some(Priority::Medium),
    });
    inc.roles.push(steward_core::incidents::RoleRule {
        role: IncidentRole::Product,
        member: "pat".into(),
        kinds: vec![IncidentKind::UnauthorisedAccess],
        min_priority: None,
    });
    config.incidents = inc;
    let st = Steward::open(dir, config, OpenOptions::default()).unwrap();
    let op = st.operator().to_owned();
    for n in ["ir1", "ir2", "ir3"] {
        st.add_principal(&op, &staff(n, Team::IncidentResponse))
            .unwrap();
    }
    st.add_principal(&op, &staff("eng", Team::Engineering))
        .unwrap();
    st.add_principal(&op, &staff("lee", Team::Legal)).unwrap();
    st.add_principal(&op, &staff("pat", Team::Engineering))
        .unwrap();
    let pager = Arc::new(Recorder::default());
    st.set_pager(pager.clone());
    st.set_schedule(
        "ir1",
        &Schedule {
            name: "incident-response".into(),
            zone: "Asia/Tokyo".into(),
            handoff: "09:00".into(),
            layers: vec![Layer {
                members: vec!["ir1".into(), "ir2".into(), "ir3".into()],
                start: "2026-01-01".into(),
                weekdays: vec![],
            }],
            overrides: vec![],
            swaps: vec![],
            escalate_after_minutes: 15,
        },
    )
    .unwrap();
    (st, pager)
}

fn report(kind: IncidentKind, aware: &str) -> NewReport {
    NewReport {
        kind,
        channel: ReportChannel::Api,
        text: "Customer records were visible to another tenant's admin".into(),
        aware_at: Some(aware.into()),
    }
}

/// A report by API (any staff) keeps reporter, channel and time, seals the
/// text, records the on-call of the awareness time and pages them; the
/// dedicated team assesses: route from the table (high x low is standard
/// by configuration, critical x high expedited by default), APPI and GDPR
/// clocks from the awareness time, roles by the rules, a handoff with its
/// time, tasks, the due list, and the timeline as JSON and HTML (N8.5).
#[test]
fn report_assess_route_roles_tasks_and_timeline_n8_5() {
    let dir = tempfile::tempdir().unwrap();
    let (st, pager) = setup(dir.path());
    // 2026-01-05 10:00 JST: day 4 of the rotation (Jan 1 ir1, 2 ir2, 3 ir3, 4 ir1, 5 ir2).
    let r = report(IncidentKind::UnauthorisedAccess, "2026-01-05T01:00:00Z");
    let inc = st.report_incident("eng", &r).unwrap();
    assert_eq!(inc.channel, ReportChannel::Api);
    assert_eq!(inc.reporter, "eng");
    assert_eq!(inc.aware_at, "2026-01-05T01:00:00Z");
    assert_eq!(inc.on_call.as_deref(), Some("ir2"));
    let sealed = inc.report.clone().unwrap();
    assert!(sealed.record.starts_with("rec_") && sealed.subject.starts_with("sub_"));
    let row = serde_json::to_string(&st.incident("ir1", &inc.id).unwrap()).unwrap();
    assert!(
        !row.contains("another tenant"),
        "the text is sealed, not in the row"
    );
    let db = rusqlite::Connection::open(dir.path().join("jp.sqlite3")).unwrap();
    let body: String = db
        .query_row("SELECT body FROM incidents WHERE id = ?1", [&inc.id], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!body.contains("another tenant"));
    let n: i64 = db
        .query_row("SELECT count(*) FROM records WHERE category = 5", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 1, "one sealed communications record");
    assert_eq!(pager.0.lock().unwrap().len(), 1);
    assert_eq!(pager.0.lock().unwrap()[0].to, "ir2");

    // Only the incident team assesses (audited denial).
    let a = AssessmentInput {
        severity: Some(Severity::High),
        priority: Some(Priority::Low),
        appi_kinds: vec![AppiReportableKind::FinancialHarm],
        gdpr: true,
        data_items: vec!["billing.charge".into()],
        people: Some(1500),
        ..Default::default()
    };
    let r = st.assess_incident("eng", &inc.id, &a);
    assert!(matches!(r, Err(CoreError::Denied(_))), "{r:?}");
    let inc = st.assess_incident("ir1", &inc.id, &a).unwrap();
    let asmt = inc.assessment.clone().unwrap();
    assert_eq!(
        asmt.route,
        Route::Standard,
        "high x low: the table says standard"
    );
    assert!(asmt.appi_reportable);
    assert_eq!(
        asmt.appi_kinds,
        vec![
            AppiReportableKind::FinancialHarm,
            AppiReportableKind::OverThousandPeople
        ]
    );
    // Awareness 2026-01-05 10:00 JST: preliminary end of Jan 10 JST,
    // final end of Feb 4 JST, GDPR 72 h later.
    let due: Vec<(String, String)> = inc
        .deadlines
        .iter()
        .map(|d| (d.clock.clone(), d.due_at.clone()))
        .collect();
    assert_eq!(
        due,
        vec![
            ("appi_preliminary".into(), "2026-01-10T15:00:00Z".into()),
            ("appi_final".into(), "2026-02-04T15:00:00Z".into()),
            ("gdpr".into(), "2026-01-08T01:00:00Z".into()),
        ]
    );
    // Rules: commander = the on-call; product for unauthorised access;
    // legal only from priority medium (this one is low).
    assert_eq!(inc.holder(IncidentRole::Commander), Some("ir2"));
    assert_eq!(inc.holder(IncidentRole::Product), Some("pat"));
    assert_eq!(inc.holder(IncidentRole::Legal), None);
    // Standard route: no page to the commander beyond the report's.
    assert_eq!(pager.0.lock().unwrap().len(), 1);

    // A handoff, recorded with who held it before and when.
    let inc = st
        .assign_role("ir1", &inc.id, IncidentRole::Commander, "ir3")
        .unwrap();
    let last = inc.roles.last().unwrap();
    assert_eq!(
        (last.member.as_str(), last.from.as_deref(), last.by.as_str()),
        ("ir3", Some("ir2"), "ir1")
    );
    assert!(last.at.ends_with('Z'));
    let inc = st
        .add_task(
            "ir1",
            &inc.id,
            &TaskInput {
                title: "Rotate the leaked API key".into(),
                owner: "pat".into(),
                due_at: "2026-01-06T09:00:00+09:00".into(),
            },
        )
        .unwrap();
    assert_eq!(inc.tasks[0].due_at, "2026-01-06T00:00:00Z");

    // The due list at 2026-01-09T00:00Z: the task and GDPR overdue.
    let due = st
        .incidents_due("ir1", Some("2026-01-09T00:00:00Z"))
        .unwrap();
    let lines: Vec<(String, bool, Option<String>)> = due
        .iter()
        .map(|d| (d.what.clone(), d.overdue, d.owner.clone()))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("task:t1".into(), true, Some("pat".into())),
            ("gdpr".into(), true, Some("ir3".into())),
            ("appi_preliminary".into(), false, Some("ir3".into())),
            ("appi_final".into(), false, Some("ir3".into())),
        ]
    );
    st.complete_task("ir1", &inc.id, "t1").unwrap();
    st.file_report("ir3", &inc.id, "gdpr").unwrap();
    let due = st
        .incidents_due("ir1", Some("2026-01-09T00:00:00Z"))
        .unwrap();
    assert_eq!(due.len(), 2);

    // A critical, high-priority report takes the expedited route and pages
    // the commander (the on-call, ir2) at once.
    let other = st
        .report_incident("ir3", &report(IncidentKind::Loss, "2026-01-05T02:00:00Z"))
        .unwrap();
    let a2 = AssessmentInput {
        severity: Some(Severity::Critical),
        priority: Some(Priority::High),
        ..Default::default()
    };
    let other = st.assess_incident("ir1", &other.id, &a2).unwrap();
    assert_eq!(other.assessment.as_ref().unwrap().route, Route::Expedited);
    assert!(other.deadlines.is_empty(), "not reportable: no clocks");
    assert_eq!(other.holder(IncidentRole::Legal), Some("lee"));
    let pages = pager.0.lock().unwrap().clone();
    assert_eq!(
        pages
            .iter()
            .map(|p| (p.to.as_str(), p.reason.as_str()))
            .collect::<Vec<_>>(),
        vec![("ir2", "opened"), ("ir2", "opened"), ("ir2", "expedited")]
    );

    // Timeline: JSON with every event in order; HTML readable.
    let json: serde_json::Value =
        serde_json::from_str(&st.incident_timeline_json("ir1", &inc.id).unwrap()).unwrap();
    let whats: Vec<&str> = json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap())
        .collect();
    assert_eq!(whats[0], "reported by api (unauthorised_access)");
    assert!(
        whats.contains(&"commander handed off from ir2 to ir3"),
        "{whats:?}"
    );
    assert!(
        whats.contains(&"gdpr report filed after its deadline"),
        "{whats:?}"
    );
    let html = st.incident_timeline_html("ir1", &inc.id).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains(&format!("<h1>Incident {}</h1>", inc.id)));
    assert!(html.contains("<td>commander handed off from ir2 to ir3</td>"));

    // Every change is audited, naming the incident.
    let entries = st
        .audit_search(&steward_core::AuditFilter {
            action: Some("incident_role".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert!(entries[0].contains(&inc.id) && entries[0].contains("N8.5"));
    let closed = st.close_incident("ir1", &inc.id).unwrap();
    assert_eq!(closed.state, IncidentState::Closed);
}

const ROTA: [&str; 3] = ["ir1", "ir2", "ir3"];

/// The rotation's shift date at `t` by hand: Tokyo is UTC+9, the handoff
/// 09:00 local; day 0 (ir1) is 2026-01-01.
fn rota_day(t: time::OffsetDateTime) -> i64 {
    let local = t + time::Duration::hours(9);
    let mut d = local.date();
    if local.hour() < 9 {
        d = d.previous_day().unwrap();
    }
    (d - time::macros::date!(2026 - 01 - 01)).whole_days()
}

/// The first member after day `day` who is not `not` (escalation).
fn next_after(day: i64, not: &str) -> &'static str {
    (1..4)
        .map(|k| ROTA[((day + k) % 3) as usize])
        .find(|m| *m != not)
        .unwrap()
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// The clocks run (N8.5): a reminder to the commander within a day of a
/// deadline, an unacknowledged page passed on to the next of the rotation
/// after 15 minutes, a missed deadline escalated to the commander and the
/// next on-call; each sent once.
#[test]
fn reminders_missed_deadlines_and_page_escalation_n8_5() {
    let dir = tempfile::tempdir().unwrap();
    let (st, pager) = setup(dir.path());
    let now = time::OffsetDateTime::now_utc();
    let aware = now - time::Duration::hours(50);
    let inc = st
        .report_incident("eng", &report(IncidentKind::Disclosure, &rfc3339(aware)))
        .unwrap();
    let on_call = ROTA[(rota_day(aware) % 3) as usize];
    assert_eq!(inc.on_call.as_deref(), Some(on_call));
    let a = AssessmentInput {
        severity: Some(Severity::Medium),
        priority: Some(Priority::Low),
        gdpr: true,
        ..Default::default()
    };
    let inc = st.assess_incident("ir1", &inc.id, &a).unwrap();
    assert_eq!(inc.holder(IncidentRole::Commander), Some(on_call));
    // GDPR is due 72 hours after awareness: 22 hours from now. Half an
    // hour from now it is within the day before: a reminder; the report's
    // page (sent now) is 30 minutes unacknowledged: passed on.
    let t1 = now + time::Duration::minutes(30);
    let sent = st.incidents_tick("ir1", Some(&rfc3339(t1))).unwrap();
    let got: Vec<(String, String)> = sent
        .iter()
        .map(|(_, t, r)| (t.clone(), r.clone()))
        .collect();
    let escalate_to = next_after(rota_day(now), on_call);
    assert_eq!(
        got,
        vec![
            (on_call.to_owned(), "reminder:gdpr".to_owned()),
            (escalate_to.to_owned(), "escalated".to_owned()),
        ]
    );
    // Acknowledged pages stop escalating; nothing is sent twice.
    st.ack_page(on_call, &inc.id, "pg2").unwrap();
    st.ack_page(escalate_to, &inc.id, "pg3").unwrap();
    let again = st
        .incidents_tick("ir1", Some(&rfc3339(now + time::Duration::minutes(45))))
        .unwrap();
    assert!(again.is_empty(), "each sent once: {again:?}");
    // Missed (23 hours from now): the commander and the next on-call.
    let t3 = now + time::Duration::hours(23);
    let late = st.incidents_tick("ir1", Some(&rfc3339(t3))).unwrap();
    let late: Vec<(String, String)> = late
        .iter()
        .map(|(_, t, r)| (t.clone(), r.clone()))
        .collect();
    assert!(
        late.contains(&(on_call.into(), "overdue:gdpr".into())),
        "{late:?}"
    );
    let next = next_after(rota_day(t3), on_call);
    assert!(
        late.contains(&(next.into(), "overdue:gdpr".into())),
        "{late:?}"
    );
    assert_eq!(late.len(), 2, "{late:?}");
    let shown = st.incident("ir1", &inc.id).unwrap();
    assert_eq!(shown.pages[2].escalates.as_deref(), Some("pg1"));
    assert!(shown.pages[1].acked_at.is_some());
    assert_eq!(pager.0.lock().unwrap().len(), 5);
}

fn mail(from: &str, id: Option<&str>, body: &str) -> String {
    let id = id
        .map(|i| format!("Message-ID: <{i}>\r\n"))
        .unwrap_or_default();
    format!(
        "From: {from}\r\n{id}To: security@provider.example\r\nSubject: Suspected breach\r\nDate: Mon, 5 Jan 2026 10:00:00 +0900\r\n\r\n{body}\r\n"
    )
}

/// A maildir with duplicates and malformed messages gives one incident per
/// distinct message and a recorded rejection for each bad one; a second run
/// takes nothing (N8.5 "several channels", the email intake's ledger).
#[test]
fn maildir_reports_are_taken_exactly_once_n8_5() {
    let dir = tempfile::tempdir().unwrap();
    let (st, pager) = setup(dir.path());
    let md = dir.path().join("maildir");
    std::fs::create_dir_all(md.join("new")).unwrap();
    std::fs::create_dir_all(md.join("cur")).unwrap();
    let files: [(&str, String); 6] = [
        (
            "new/1",
            mail(
                "kim@example.com",
                Some("a1@example.com"),
                "A laptop was stolen.",
            ),
        ),
        (
            "cur/1",
            mail(
                "kim@example.com",
                Some("a1@example.com"),
                "A laptop was stolen.",
            ),
        ),
        (
            "new/2",
            mail(
                "ola@example.com",
                Some("b2@example.com"),
                "Wrong invoice sent.",
            ),
        ),
        ("new/3", "this is not a message at all".into()),
        ("new/4", String::new()),
        (
            "new/5",
            "To: security@provider.example\r\nSubject: x\r\n\r\nno sender\r\n".into(),
        ),
    ];
    for (p, text) in &files {
        std::fs::write(md.join(p), text).unwrap();
    }
    let run = || {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let mut names: Vec<_> = std::fs::read_dir(md.join(sub))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            names.sort();
            for p in names {
                let raw = std::fs::read(&p).unwrap();
                out.push(st.intake_incident_email("ingest", &raw).unwrap());
            }
        }
        out
    };
    let first = run();
    let taken: Vec<_> = first.iter().filter(|o| o.taken).collect();
    assert_eq!(taken.len(), 5, "the duplicate is not taken");
    let incidents: Vec<&str> = taken
        .iter()
        .filter_map(|o| o.entry.incident.as_deref())
        .collect();
    assert_eq!(incidents.len(), 2);
    let mut codes: Vec<&str> = taken
        .iter()
        .filter_map(|o| o.entry.reason_code.as_deref())
        .collect();
    codes.sort();
    assert_eq!(codes, vec!["empty", "no_sender", "not_a_message"]);
    let second = run();
    assert!(
        second.iter().all(|o| !o.taken),
        "nothing new on a second run"
    );
    let all = st.incidents("ir1").unwrap();
    assert_eq!(all.len(), 2);
    assert!(
        all.iter()
            .all(|i| i.channel == ReportChannel::Email && i.report.is_some())
    );
    // The ledger records each rejection, with its reason.
    let rejected = st
        .intake_entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.reason_code.is_some())
        .count();
    assert_eq!(rejected, 3);
    assert_eq!(pager.0.lock().unwrap().len(), 2, "each incident paged once");
}
