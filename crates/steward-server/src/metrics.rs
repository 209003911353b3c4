//! Prometheus text exposition (format 0.0.4) of a few counters.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Status classes counted per response.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The server's counters.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    responses: [AtomicU64; 5],
    pub gate_allow: AtomicU64,
    pub gate_deny: AtomicU64,
    pub auth_failures: AtomicU64,
    pub lockouts: AtomicU64,
    pub rate_limited: AtomicU64,
    pub records_ingested: AtomicU64,
    pub exports: AtomicU64,
    pub timeouts: AtomicU64,
}

impl Metrics {
    pub fn response(&self, status: u16) {
        let i = usize::from(status / 100).saturating_sub(1).min(4);
        self.responses[i].fetch_add(1, Relaxed);
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# HELP steward_http_responses_total HTTP responses by status class."
        );
        let _ = writeln!(s, "# TYPE steward_http_responses_total counter");
        for (c, n) in CLASSES.iter().zip(&self.responses) {
            let _ = writeln!(
                s,
                "steward_http_responses_total{{class=\"{c}\"}} {}",
                n.load(Relaxed)
            );
        }
        let _ = writeln!(
            s,
            "# HELP steward_gate_decisions_total Gate decisions made for API requests (every one is in the audit log)."
        );
        let _ = writeln!(s, "# TYPE steward_gate_decisions_total counter");
        let _ = writeln!(
            s,
            "steward_gate_decisions_total{{decision=\"allow\"}} {}",
            self.gate_allow.load(Relaxed)
        );
        let _ = writeln!(
            s,
            "steward_gate_decisions_total{{decision=\"deny\"}} {}",
            self.gate_deny.load(Relaxed)
        );
        for (name, help, v) in [
            (
                "steward_auth_failures_total",
                "Requests with a missing or invalid credential (N5.1).",
                &self.auth_failures,
            ),
            (
                "steward_auth_lockouts_total",
                "Addresses locked out after repeated failed authentication (N5.1).",
                &self.lockouts,
            ),
            (
                "steward_rate_limited_total",
                "Requests refused by the per-principal rate limit (N5.1).",
                &self.rate_limited,
            ),
            (
                "steward_records_ingested_total",
                "Records stored through the API.",
                &self.records_ingested,
            ),
            (
                "steward_exports_total",
                "Subject exports served (N7.2).",
                &self.exports,
            ),
            (
                "steward_request_timeouts_total",
                "Requests that took longer than the request timeout.",
                &self.timeouts,
            ),
        ] {
            let _ = writeln!(s, "# HELP {name} {help}");
            let _ = writeln!(s, "# TYPE {name} counter");
            let _ = writeln!(s, "{name} {}", v.load(Relaxed));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_counts_by_class() {
        let m = Metrics::default();
        m.response(200);
        m.response(201);
        m.response(403);
        m.response(503);
        let t = m.render();
        assert!(
            t.contains("steward_http_responses_total{class=\"2xx\"} 2\n"),
            "{t}"
        );
        assert!(
            t.contains("steward_http_responses_total{class=\"4xx\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("steward_http_responses_total{class=\"5xx\"} 1\n"),
            "{t}"
        );
    }
}
