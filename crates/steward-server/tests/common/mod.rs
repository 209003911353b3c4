//! A real `steward serve` on 127.0.0.1:0 over TLS, and a reqwest client
//! that trusts exactly its certificate (pinned by SHA-256).
#![allow(dead_code)]

use std::sync::Arc;

use reqwest::{Client, Response, StatusCode};
use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use steward_core::{Clock, Config, OpenOptions, Steward};
use steward_server::{Running, ServeOptions};

/// Accepts exactly one certificate, by the SHA-256 of its DER, and checks
/// the handshake signatures with ring.
#[derive(Debug)]
struct Pinned {
    sha256: [u8; 32],
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if Sha256::digest(end_entity.as_ref()).as_slice() == self.sha256 {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "certificate does not match the pin".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A rustls client configuration that trusts only the certificate `der`,
/// offering the ALPN protocols `alpn`.
pub fn pinned_tls(der: &[u8], alpn: &[&[u8]]) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut sha256 = [0u8; 32];
    sha256.copy_from_slice(&Sha256::digest(der));
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned { sha256, provider }))
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    cfg
}

/// A client that trusts only the certificate `der`.
pub fn pinned_client(der: &[u8]) -> Client {
    let cfg = pinned_tls(der, &[b"h2", b"http/1.1"]);
    Client::builder()
        .use_preconfigured_tls(cfg)
        .build()
        .unwrap()
}

/// A running server, its client, and the operator's bootstrap token.
pub struct Server {
    pub dir: tempfile::TempDir,
    pub steward: Arc<Steward>,
    /// The Steward's clock: the system clock until a test sets it.
    pub clock: Clock,
    pub running: Running,
    pub client: Client,
    pub base: String,
    pub operator: String,
}

pub async fn start() -> Server {
    start_with(ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    })
    .await
}

pub async fn start_with(opts: ServeOptions) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::system();
    let st = Steward::open(
        dir.path(),
        Config::default(),
        OpenOptions {
            clock: clock.clone(),
            ..Default::default()
        },
    )
    .unwrap();
    let steward = Arc::new(st);
    let running = steward_server::start(steward.clone(), opts).await.unwrap();
    let client = pinned_client(running.cert_der.as_deref().unwrap());
    let base = format!("https://localhost:{}", running.addr.port());
    let operator = running
        .bootstrap_token
        .clone()
        .expect("first start prints a bootstrap token");
    Server {
        dir,
        steward,
        clock,
        running,
        client,
        base,
        operator,
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Value,
    ) -> Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Response {
        self.send(reqwest::Method::POST, token, path, body).await
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> Response {
        self.send(reqwest::Method::PUT, token, path, body).await
    }

    /// Issue a token for `principal` as the operator.
    pub async fn token_for(&self, principal: &str) -> (String, String) {
        let r = self
            .post(
                &self.operator,
                "/v1/tokens",
                json!({"principal": principal, "ttl_secs": 3600}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        (
            v["token"].as_str().unwrap().to_owned(),
            v["info"]["id"].as_str().unwrap().to_owned(),
        )
    }

    /// Add a staff principal with current obligations, and a token for it.
    pub async fn staff(&self, name: &str, team: &str) -> String {
        let today = time::OffsetDateTime::now_utc().date();
        let r = self
            .post(
                &self.operator,
                "/v1/principals",
                json!({
                    "name": name, "kind": "employee", "teams": [team],
                    "confidentiality_signed_on": (today - time::Duration::days(30)).to_string(),
                    "training_expires_on": (today + time::Duration::days(300)).to_string(),
                }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
        self.token_for(name).await.0
    }

    /// Ingest records as the `ingest` service; returns the count stored.
    pub async fn ingest(&self, records: Value) -> u64 {
        let (t, _) = self.token_for("ingest").await;
        let r = self.post(&t, "/v1/records:batch", records).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        v["stored"].as_u64().unwrap()
    }
}

/// Assert a problem+json response with `status`; return its body.
pub async fn problem(r: Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status);
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(ct, "application/problem+json");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"].as_u64(), Some(u64::from(status.as_u16())));
    v
}

/// An account profile and an authentication event for a username.
pub fn person(username: &str) -> Vec<Value> {
    vec![
        json!({"subject": format!("username:{username}"), "kind": "account.profile",
               "fields": {"username": username, "given_name": "Test", "email": format!("{username}@example.com")}}),
        json!({"subject": format!("username:{username}"), "kind": "usage.authentication",
               "occurred_at": "2024-05-01T10:00:00Z",
               "fields": {"event": "login", "outcome": "success", "account": username}}),
    ]
}

/// Read one HTTP/1.1 response (head and a `content-length` body) from `io`:
/// (status code, head text).
pub async fn read_response<R: tokio::io::AsyncRead + Unpin>(io: &mut R) -> (u16, String) {
    use tokio::io::AsyncReadExt as _;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = io.read(&mut chunk).await.expect("the server answers");
        assert!(
            n > 0,
            "the server closed the connection instead of answering"
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("a content-length");
    while buf.len() < head_end + len {
        let n = io.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed the connection mid-body");
        buf.extend_from_slice(&chunk[..n]);
    }
    let status = head[9..12].parse().unwrap();
    (status, head)
}

/// A TLS connection to the server speaking HTTP/1.1 only, for requests
/// written by hand.
pub async fn raw_tls(s: &Server) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let cfg = pinned_tls(s.running.cert_der.as_deref().unwrap(), &[b"http/1.1"]);
    let tcp = tokio::net::TcpStream::connect(s.running.addr)
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(name, tcp)
        .await
        .unwrap()
}
