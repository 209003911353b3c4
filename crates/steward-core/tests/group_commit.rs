//! Group commit of the gate's decisions (issue 21 item 2; DESIGN "fail
//! closed"): concurrent gated reads share one transaction and one fsync, and
//! each is answered only after its own audit entry is durable.
//!
//! The durability test kills a process of eight reading threads with SIGKILL
//! at a random moment (so some commits are cut between the store's commit and
//! the caller's answer, some in the middle of a group) and then opens the
//! store again: every read the process had acknowledged (printed its audit
//! index) has its entry, at that index, with that request id, and the log
//! verifies. The child is this test binary itself, run again with
//! `STEWARD_GROUP_COMMIT_CHILD` naming the data directory.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use steward_audit::{AuditEntry, Decision};
use steward_core::{AccessRequest, Action, Config, OpenOptions, Steward, VerifyOutcome};
use steward_domain::{Category, Purpose};

mod common;

const CHILD: &str = "STEWARD_GROUP_COMMIT_CHILD";
const THREADS: usize = 8;

fn open(dir: &Path) -> Steward {
    Steward::open(dir, Config::default(), OpenOptions::default()).unwrap()
}

/// Alice's one record, and "sec" of the security team with a need-to-know
/// grant on her usage for protect (N5.5, N3.8). Returns the grant id.
fn setup(st: &Steward) -> String {
    let alice = common::username_record(
        "usage.authentication",
        "alice",
        &[
            ("event", "failed_password"),
            ("account", "alice"),
            ("source_ip", "192.0.2.7"),
        ],
    );
    st.ingest("ingest", vec![alice], &mut |_| {}).unwrap();
    let today = time::OffsetDateTime::now_utc().date();
    st.add_principal(
        st.operator(),
        &common::trained_staff("sec", vec![steward_domain::Team::Security]),
    )
    .unwrap();
    st.grant_need_to_know(
        st.operator(),
        &steward_core::GrantRequest {
            grantee: "sec".into(),
            subject: "alice".into(),
            purpose: Purpose::Protect,
            categories: vec![Category::Usage],
            expires_on: today + time::Duration::days(1),
            reference: "SEC-1".into(),
        },
    )
    .unwrap()
    .id
}

fn read_request(grant: &str) -> AccessRequest {
    AccessRequest::new("sec", Action::Read, "alice")
        .category(Category::Usage)
        .purpose(Purpose::Protect)
        .grant(Some(grant))
}

/// The entry at `index` of the region's log, straight from the file.
fn entry_at(dir: &Path, index: u64) -> Option<AuditEntry> {
    let c = rusqlite::Connection::open(dir.join("jp.sqlite3")).unwrap();
    let bytes: Vec<u8> = c
        .query_row(
            "SELECT entry FROM audit_entries WHERE idx = ?1",
            [index as i64],
            |r| r.get(0),
        )
        .ok()?;
    Some(AuditEntry::decode(&bytes).expect("canonical entry"))
}

/// Concurrent reads each get an audit entry of their own (distinct,
/// contiguous indexes, each entry naming its read's request id), whether or
/// not they were committed in the same group; the log verifies.
#[test]
fn concurrent_reads_each_get_their_own_durable_entry() {
    let dir = tempfile::tempdir().unwrap();
    let st = Arc::new(open(dir.path()));
    let grant = setup(&st);
    let before = match st.audit_verify().unwrap() {
        VerifyOutcome::Ok(r) => r.size,
        VerifyOutcome::Failed(f) => panic!("{f:?}"),
    };
    let (_, grouped_before) = st.group_commit_counts();
    let per_thread = 40;
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let st = Arc::clone(&st);
            let grant = grant.clone();
            std::thread::spawn(move || {
                (0..per_thread)
                    .map(|_| {
                        let (opened, recs) = st.read(&read_request(&grant)).unwrap();
                        assert_eq!(recs.len(), 1);
                        (opened.audit_index, opened.request_id)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut acks: Vec<(u64, String)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    acks.sort();
    let n = (THREADS * per_thread) as u64;
    let indexes: Vec<u64> = acks.iter().map(|a| a.0).collect();
    assert_eq!(indexes, (before..before + n).collect::<Vec<_>>());
    for (index, request_id) in &acks {
        let e = entry_at(dir.path(), *index).expect("acknowledged entry");
        assert_eq!(e.request_id.as_str(), request_id);
        assert_eq!(e.principal.as_str(), "sec");
        assert_eq!(e.decision, Decision::Allow);
    }
    // Every read's decision went through the group commit.
    assert_eq!(st.group_commit_counts().1 - grouped_before, n);
    match st.audit_verify().unwrap() {
        VerifyOutcome::Ok(r) => assert_eq!(r.size, before + n),
        VerifyOutcome::Failed(f) => panic!("{f:?}"),
    }
}

/// The child: reads until killed, printing `ack INDEX REQUEST_ID` after each
/// read returned (that is, after the store said its entry is durable).
fn child(dir: &Path) {
    let st = Arc::new(open(dir));
    let grant = std::fs::read_to_string(dir.join("grant")).unwrap();
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let st = Arc::clone(&st);
            let grant = grant.clone();
            std::thread::spawn(move || {
                loop {
                    let (opened, _) = st.read(&read_request(&grant)).unwrap();
                    println!("ack {} {}", opened.audit_index, opened.request_id);
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
}

/// A kill between commit and acknowledgement loses nothing acknowledged
/// (issue 21 "Done when": the group-commit durability test).
#[test]
fn a_kill_between_commit_and_acknowledgement_loses_nothing_acknowledged() {
    if let Some(dir) = std::env::var_os(CHILD) {
        child(Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    {
        let st = open(dir.path());
        let grant = setup(&st);
        std::fs::write(dir.path().join("grant"), grant).unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::rng();
    let mut total_acks = 0;
    for round in 0..4 {
        let mut child = Command::new(&exe)
            .args([
                "a_kill_between_commit_and_acknowledgement_loses_nothing_acknowledged",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        // Collect acknowledgements until the kill; the kill comes at a random
        // moment once at least 50 reads were acknowledged in this round.
        let want = 50 + rng.random_range(0..400);
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("ack ") {
                    let (i, id) = rest.split_once(' ').unwrap();
                    if tx.send((i.parse::<u64>().unwrap(), id.to_owned())).is_err() {
                        break;
                    }
                }
            }
        });
        let mut acks = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while acks.len() < want && Instant::now() < deadline {
            if let Ok(a) = rx.recv_timeout(Duration::from_millis(100)) {
                acks.push(a);
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        // Lines printed before the kill but not yet read are acknowledged too.
        acks.extend(rx.try_iter());
        assert!(
            acks.len() >= 50,
            "round {round}: the child acknowledged only {} reads in 60 s",
            acks.len()
        );
        for (index, request_id) in &acks {
            let e = entry_at(dir.path(), *index).unwrap_or_else(|| {
                panic!("round {round}: acknowledged entry {index} is missing after the kill")
            });
            assert_eq!(
                e.request_id.as_str(),
                request_id,
                "round {round}, entry {index}"
            );
            assert_eq!(e.decision, Decision::Allow);
        }
        total_acks += acks.len();
        let st = open(dir.path());
        match st.audit_verify().unwrap() {
            VerifyOutcome::Ok(r) => {
                let max = acks.iter().map(|a| a.0).max().unwrap();
                assert!(
                    r.size > max,
                    "round {round}: log of {} entries, acknowledged {max}",
                    r.size
                );
            }
            VerifyOutcome::Failed(f) => panic!("round {round}: the log does not verify: {f:?}"),
        }
    }
    println!("group commit: 4 kills, {total_acks} acknowledged reads, all present");
}
