//! Test data: realistic `usage.authentication` records (one sshd log line
//! each), audit entry drafts like the gate's, and small statistics helpers.

use std::time::Instant;

use serde_json::json;
use steward_audit::{
    BlindIndexRef, Decision, EntryDraft, RecordRef, Resource, ResourceKind, SubjectRef, Timestamp,
    Token,
};
use steward_domain::{Category, IdentifierKind, Kind, NewRecord, Product, SubjectIdentifier};

/// Distinct ordinary subjects (`username:user0000` ... `user0999`).
pub const SUBJECTS: u64 = 1000;
/// The username of the subject with exactly 100 records (section 2).
pub const TARGET_USER: &str = "dsr-target";
/// The same subject's number in the plain table.
pub const TARGET_PLAIN: i64 = SUBJECTS as i64;

/// SplitMix64: a fixed, fast pseudo-random sequence (reproducible data).
pub fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The subject of record `i` of `n`: `None` for the target subject, which
/// gets exactly 100 records spread evenly when `n` is a multiple of 100.
pub fn subject_of(i: u64, n: u64) -> Option<u64> {
    let step = n / 100;
    if step > 0 && i.is_multiple_of(step) {
        None
    } else {
        Some(mix(i) % SUBJECTS)
    }
}

/// The username of subject number `s` (`None` = the target).
pub fn username(s: Option<u64>) -> String {
    match s {
        Some(s) => format!("user{s:04}"),
        None => TARGET_USER.to_owned(),
    }
}

/// The plain table's subject number.
pub fn plain_subject(s: Option<u64>) -> i64 {
    s.map(|s| s as i64).unwrap_or(TARGET_PLAIN)
}

/// Builds `usage.authentication` records like the `openssh` parser's.
pub struct RecordMaker {
    kind: Kind,
}

impl RecordMaker {
    /// Errors if the kind is not in the vocabulary.
    pub fn new() -> Result<Self, String> {
        Ok(RecordMaker {
            kind: Kind::lookup(Category::Usage, "authentication").map_err(|e| e.to_string())?,
        })
    }

    /// Record `i` for subject `s` (`None` = the target).
    pub fn record(&self, i: u64, s: Option<u64>) -> Result<NewRecord, String> {
        let user = username(s);
        let r = mix(i ^ 0x5151);
        let ip = format!(
            "{}.{}.{}.{}",
            1 + (r % 223),
            (r >> 8) % 256,
            (r >> 16) % 256,
            1 + (r >> 24) % 254
        );
        let port = 1024 + (r >> 32) % 64000;
        let pid = 1000 + (r >> 40) % 60000;
        let host = format!("web-{:02}", (r >> 48) % 40);
        let at = time::OffsetDateTime::from_unix_timestamp(1_733_788_800 + i as i64)
            .map_err(|e| e.to_string())?
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| e.to_string())?;
        let (event, outcome, method, message) = match i % 4 {
            0 => (
                "failed_password",
                "failure",
                Some("password"),
                format!("Failed password for {user} from {ip} port {port} ssh2"),
            ),
            1 => (
                "accepted_publickey",
                "success",
                Some("publickey"),
                format!(
                    "Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 SHA256:{:016x}{:016x}",
                    mix(r),
                    mix(r + 1)
                ),
            ),
            2 => (
                "invalid_user",
                "failure",
                None,
                format!("Invalid user {user} from {ip} port {port}"),
            ),
            _ => (
                "disconnected",
                "info",
                None,
                format!("Disconnected from authenticating user {user} {ip} port {port} [preauth]"),
            ),
        };
        let mut f = steward_domain::record::Fields::new();
        f.insert("event".into(), event.into());
        f.insert("outcome".into(), outcome.into());
        f.insert("account".into(), user.clone().into());
        f.insert("source_ip".into(), ip.into());
        f.insert("source_port".into(), port.into());
        if let Some(m) = method {
            f.insert("method".into(), m.into());
        }
        f.insert("host".into(), host.into());
        f.insert("pid".into(), pid.into());
        f.insert("occurred_at".into(), at.clone().into());
        f.insert("message".into(), message.into());
        let subject =
            SubjectIdentifier::new(IdentifierKind::Username, &user).map_err(|e| e.to_string())?;
        NewRecord::new(
            self.kind,
            Some(subject),
            Product::CloudPlatform,
            Some(at),
            f,
        )
        .map_err(|e| e.to_string())
    }
}

/// The JSON body Steward seals for a record (the same `json!` as its ingest):
/// what the plain baseline stores.
pub fn body(rec: &NewRecord) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "fields": rec.fields(),
        "occurred_at": rec.occurred_at(),
    }))
    .unwrap_or_default()
}

fn tok(s: &str) -> Result<Token, String> {
    Token::new(s).map_err(|e| format!("token {s:?}: {e}"))
}

/// An audit entry draft like the gate's for a support read (principal,
/// purpose, clauses, policy, a subject and a blind-index reference).
pub fn gate_like_draft(i: u64) -> Result<EntryDraft, String> {
    let x = mix(i);
    Ok(EntryDraft {
        action: tok("read")?,
        clause_ids: vec![tok("N3.5")?, tok("N3.8")?],
        decision: if i.is_multiple_of(11) {
            Decision::Deny
        } else {
            Decision::Allow
        },
        policy_ids: vec![tok("staff-support-read-with-open-case")?],
        policy_version: tok("2025.1")?,
        principal: tok(&format!("support-{:03}", x % 200))?,
        purpose: Some(tok("assist")?),
        reason: None,
        region: tok("jp")?,
        request_id: tok(&format!("req-{:016x}", mix(x)))?,
        resource: Resource::new(ResourceKind::Subject)
            .subject(SubjectRef::new(x >> 1))
            .blind_index(
                BlindIndexRef::new(mix(x ^ 1).to_be_bytes().repeat(2))
                    .map_err(|e| e.to_string())?,
            )
            .record(RecordRef::new(mix(x ^ 2) >> 1))
            .id(tok("category:communications")?),
        time: Timestamp::now().map_err(|e| e.to_string())?,
    })
}

/// CPU seconds (user + system) this process has used, from /proc/self/stat
/// (USER_HZ = 100 on Linux); `None` where unavailable.
pub fn cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Median latency (µs) of `n` × (write 4 KiB + `fdatasync`) to a file in
/// `dir`: how slow a durable commit is on this disk right now.
pub fn fsync_probe(dir: &std::path::Path, n: usize) -> Result<f64, String> {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let buf = vec![0x5au8; 4096];
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f.write_all(&buf)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        f.sync_data()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        v.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let _ = std::fs::remove_file(&path);
    Ok(median(&mut v))
}

/// Median of `v` (sorts it); 0 when empty.
pub fn median(v: &mut [f64]) -> f64 {
    percentile(v, 50.0)
}

/// The `p`th percentile (nearest rank) of `v` (sorts it); 0 when empty.
pub fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v.get(rank.saturating_sub(1).min(v.len() - 1))
        .copied()
        .unwrap_or(0.0)
}

/// Seconds since `t`.
pub fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

/// Run `a` and `b` alternately `rounds` times each; the seconds of every
/// run of each, in order. Alternating spreads the noise of the shared cores
/// evenly; the caller decides on the median of the runs
/// ([`crate::report::Runs`]).
pub fn alternate<A, B>(rounds: usize, mut a: A, mut b: B) -> Result<(Vec<f64>, Vec<f64>), String>
where
    A: FnMut() -> Result<f64, String>,
    B: FnMut() -> Result<f64, String>,
{
    let mut out = (Vec::new(), Vec::new());
    for _ in 0..rounds.max(1) {
        out.0.push(a()?);
        out.1.push(b()?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_subject_gets_exactly_100_records() {
        for n in [10_000u64, 100_000, 1_000_000] {
            let c = (0..n).filter(|&i| subject_of(i, n).is_none()).count();
            assert_eq!(c, 100, "n = {n}");
        }
    }

    #[test]
    fn record_body_is_about_300_bytes() {
        let m = RecordMaker::new().unwrap();
        let sizes: Vec<usize> = (0..400)
            .map(|i| body(&m.record(i, Some(i % 7)).unwrap()).len())
            .collect();
        let avg = sizes.iter().sum::<usize>() / sizes.len();
        assert!((250..=380).contains(&avg), "average body {avg} bytes");
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&mut v, 50.0), 50.0);
        assert_eq!(percentile(&mut v, 99.0), 99.0);
        assert_eq!(median(&mut []), 0.0);
    }
}
