//! How to serve (`ServeOptions`), why serving could not start
//! (`ServerError`), and the check of the listening options (N5.3).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on (`127.0.0.1:8443`; port 0 picks a free port).
    pub listen: SocketAddr,
    /// Serve plain HTTP. Only on a loopback address (N5.3).
    pub insecure_http: bool,
    /// PEM certificate chain; with `tls_key`. Default: the development
    /// certificate `<data-dir>/tls/dev-cert.pem`, made on first start.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<PathBuf>,
    /// Largest request body accepted, in bytes (413 beyond).
    pub body_limit: usize,
    /// Largest request body accepted from a request without a valid
    /// credential (the login), in bytes (413 beyond, issue 14 item 4).
    pub unauthenticated_body_limit: usize,
    /// Longest time the client may take to send a request's body, once
    /// its headers arrived (408 beyond, issue 14 item 4).
    pub body_read_timeout: Duration,
    /// Longest time a request may take (503 beyond).
    pub request_timeout: Duration,
    /// Lifetime of the one-time bootstrap token, in seconds.
    pub bootstrap_ttl_secs: u64,
    /// Requests per second allowed per principal (N5.1); bursts up to twice this.
    pub rate_per_principal: u32,
    /// Failed authentications from one address before it is locked out,
    /// and failed logins to one account before it is locked out (N5.1).
    pub lockout_after: u32,
    /// How long a lockout lasts.
    pub lockout_for: Duration,
    /// The clock of the lockout and the rate limit: the system clock, or a
    /// manual one in tests (N5.1).
    pub limits_clock: crate::limits::LimitsClock,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            insecure_http: false,
            tls_cert: None,
            tls_key: None,
            body_limit: 4 * 1024 * 1024,
            unauthenticated_body_limit: 64 * 1024,
            body_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            bootstrap_ttl_secs: 7 * 24 * 3600,
            rate_per_principal: 200,
            lockout_after: 10,
            lockout_for: Duration::from_secs(60),
            limits_clock: crate::limits::LimitsClock::System,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServerError {
    /// `--insecure-http` on an address that is not loopback (N5.3).
    #[error(
        "--insecure-http serves plain HTTP and may only listen on a loopback address (127.0.0.0/8 or ::1), not {0}: drop --insecure-http to serve HTTPS, or listen on 127.0.0.1 (N5.3)"
    )]
    InsecureNotLoopback(SocketAddr),
    /// Only one of the certificate and the key was given.
    #[error(
        "give both --tls-cert and --tls-key, or neither (then a development certificate is used)"
    )]
    HalfTlsConfig,
    /// The certificate or key could not be read, made or used.
    #[error("TLS: {0}")]
    Tls(String),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
    /// Steward's core failed at start (bootstrap token).
    #[error("{0}")]
    Core(#[from] steward_core::CoreError),
    /// The async runtime could not be built.
    #[error("runtime: {0}")]
    Runtime(String),
}

/// Check the listening options (N5.3): plain HTTP on loopback only, and a
/// certificate with its key or neither.
pub fn check_options(opts: &ServeOptions) -> Result<(), ServerError> {
    if opts.insecure_http && !opts.listen.ip().is_loopback() {
        return Err(ServerError::InsecureNotLoopback(opts.listen));
    }
    if opts.tls_cert.is_some() != opts.tls_key.is_some() {
        return Err(ServerError::HalfTlsConfig);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_http_refuses_a_non_loopback_address_n5_3() {
        let opts = ServeOptions {
            listen: "0.0.0.0:8080".parse().unwrap(),
            insecure_http: true,
            ..Default::default()
        };
        let e = check_options(&opts).unwrap_err().to_string();
        assert!(e.contains("loopback") && e.contains("0.0.0.0:8080"), "{e}");
        for ok in ["127.0.0.1:8080", "[::1]:8080", "127.1.2.3:1"] {
            let opts = ServeOptions {
                listen: ok.parse().unwrap(),
                insecure_http: true,
                ..Default::default()
            };
            assert!(check_options(&opts).is_ok(), "{ok}");
        }
        // HTTPS may listen anywhere.
        let opts = ServeOptions {
            listen: "0.0.0.0:8443".parse().unwrap(),
            ..Default::default()
        };
        assert!(check_options(&opts).is_ok());
    }

    #[test]
    fn certificate_and_key_come_together() {
        let opts = ServeOptions {
            tls_cert: Some("c.pem".into()),
            ..Default::default()
        };
        assert!(matches!(
            check_options(&opts),
            Err(ServerError::HalfTlsConfig)
        ));
    }
}
