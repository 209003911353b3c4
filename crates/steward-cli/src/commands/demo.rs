//! `steward demo`: the Quickstart's main job on a self-generated sample.

use std::process::ExitCode;

use steward_core::{AccessRequest, Action, CoreError, Steward, VerifyOutcome};
use steward_domain::{Category, Purpose};

/// The Quickstart's main job: a self-generated sample, end to end.
pub(crate) fn run(st: &Steward) -> Result<ExitCode, CoreError> {
    if !st.subjects(st.operator(), false)?.is_empty() {
        return Err(CoreError::Input(format!(
            "the demo erases a sample subject and needs an empty data directory, but {} holds data; run it with --data-dir \"$(mktemp -d)\"",
            st.data_dir().display()
        )));
    }
    let mut lines = String::new();
    let users = ["alice", "bob", "carol"];
    for i in 0..300u32 {
        let u = users[(i % 3) as usize];
        let ip = format!("198.51.100.{}", i % 7 + 1);
        let pid = 1000 + i;
        lines.push_str(&format!("Dec 10 06:{:02}:{:02} demo-host sshd[{pid}]: Failed password for {u} from {ip} port {} ssh2\n", (i / 60) % 60, i % 60, 40000 + i));
        lines.push_str(&format!("Dec 10 06:{:02}:{:02} demo-host sshd[{pid}]: Accepted password for {u} from {ip} port {} ssh2\n", (i / 60) % 60, i % 60, 40000 + i));
    }
    let opts = steward_ingest::ParseOptions {
        year: 2026,
        product: steward_domain::Product::CloudPlatform,
    };
    let parsed = steward_ingest::parse(
        steward_ingest::Format::Openssh,
        "demo-sample",
        lines.as_bytes(),
        &opts,
    )
    .map_err(|e| CoreError::Input(e.to_string()))?;
    outln!(
        "1. generated {} sshd log lines for 3 accounts",
        lines.lines().count()
    );
    let records: Vec<_> = parsed.records.into_iter().map(|(_, r)| r).collect();
    let s = st.ingest("ingest", records, &mut |_| {})?;
    outln!(
        "2. ingested {} records encrypted per data subject ({} new subjects) as the `ingest` service",
        s.stored,
        s.new_subjects
    );
    let out = st.data_dir().join("demo-export-alice.zip");
    let dsr = st
        .record_obligation(st.operator(), "data_subject_request", "demo")?
        .id;
    let e = st.export(st.operator(), Purpose::Comply, "alice", &out, Some(&dsr))?;
    outln!(
        "3. exported alice ({}): {} records to {} (audit entry {})",
        e.subject.clone().unwrap_or_default(),
        e.record_count,
        e.path,
        e.audit_index
    );
    let denied = st.read(&AccessRequest {
        principal: st.operator().into(),
        action: Action::Read,
        subject: "bob".into(),
        category: Some(Category::Usage),
        purpose: Some(Purpose::InternalReporting),
        case_id: None,
        obligation_id: None,
        grant_id: None,
        incident_id: None,
        organisation: None,
        kind: None,
    });
    match denied {
        Err(CoreError::Denied(d)) => {
            outln!("4. the gate denied reading bob's usage for internal_reporting: {d}")
        }
        Ok(_) => outln!("4. unexpected: reading one subject for internal_reporting was allowed"),
        Err(e) => return Err(e),
    }
    let r = st.erase(st.operator(), Purpose::Comply, "alice", Some(&dsr))?;
    outln!(
        "5. erased alice by crypto-shredding: {} records unreadable, receipt {}",
        r.records_unreadable,
        r.receipt_id
    );
    let after = st.export(st.operator(), Purpose::Comply, "alice", &out, Some(&dsr))?;
    outln!(
        "6. alice's export now holds {} records; find: {}",
        after.record_count,
        if st.find("username:alice")?.is_some() {
            "still resolves"
        } else {
            "no longer resolves"
        }
    );
    st.audit_checkpoint()?;
    match st.audit_verify()? {
        VerifyOutcome::Ok(v) => outln!(
            "7. audit log verifies: {} entries, {} signed checkpoints",
            v.entries,
            v.checkpoints_verified
        ),
        VerifyOutcome::Failed(f) => {
            outln!("7. audit log does NOT verify: {f}");
            return Ok(ExitCode::from(1));
        }
    }
    outln!("data directory: {}", st.data_dir().display());
    Ok(ExitCode::SUCCESS)
}
