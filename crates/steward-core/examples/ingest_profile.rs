//! Profiling aid: ingest N synthetic `usage.authentication` records over 1,000
//! subjects in batches of 10,000 and print records/s. Run under `perf record`
//! to see where ingest time goes: `cargo run --release -p steward-core --example ingest_profile -- 1000000`.
use std::time::Instant;

use steward_core::{Config, OpenOptions, Steward};
use steward_domain::{Fields, IdentifierKind, Kind, NewRecord, Product, SubjectIdentifier};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let st = Steward::open(dir.path(), Config::default(), OpenOptions::default()).expect("open");
    let kind: Kind = "usage.authentication".parse().expect("kind");
    let mut total = 0.0;
    let mut start = 0;
    while start < n {
        let end = (start + 100_000).min(n);
        let recs: Vec<NewRecord> = (start..end)
            .map(|i| {
                let user = format!("user{:04}", i % 1000);
                let ip = format!("10.{}.{}.{}", i % 7, i % 251, i % 13);
                let mut f = Fields::new();
                f.insert("event".into(), "failed_password".into());
                f.insert("outcome".into(), "failure".into());
                f.insert("account".into(), user.clone().into());
                f.insert("source_ip".into(), ip.clone().into());
                f.insert("source_port".into(), (40000 + i % 20000).into());
                f.insert("method".into(), "password".into());
                f.insert("host".into(), "LabSZ".into());
                f.insert("pid".into(), (24000 + i % 1000).into());
                f.insert("occurred_at".into(), "2026-12-10T06:55:46".into());
                f.insert(
                    "message".into(),
                    format!("Dec 10 06:55:46 LabSZ sshd[{}]: Failed password for {user} from {ip} port {} ssh2", 24000 + i % 1000, 40000 + i % 20000).into(),
                );
                let subject = SubjectIdentifier::new(IdentifierKind::Username, &user).expect("id");
                NewRecord::new(kind, Some(subject), Product::CloudPlatform, Some("2026-12-10T06:55:46".into()), f).expect("record")
            })
            .collect();
        let t = Instant::now();
        st.ingest("ingest", recs, &mut |_| {}).expect("ingest");
        total += t.elapsed().as_secs_f64();
        start = end;
    }
    println!(
        "{n} records in {total:.2} s: {:.0} records/s",
        n as f64 / total
    );
}
