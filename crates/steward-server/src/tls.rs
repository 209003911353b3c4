//! TLS (N5.3): rustls with the ring provider, ALPN `h2` and `http/1.1`.
//!
//! With no certificate configured, a self-signed development certificate
//! for `localhost`, `127.0.0.1` and `::1` is made on first start in
//! `<data-dir>/tls/` (`dev-cert.pem`, and `dev-key.pem` with mode 0600) and
//! used again on every later start.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use crate::ServerError;

/// A ready TLS configuration and the certificate it presents.
pub(crate) struct Tls {
    pub config: Arc<rustls::ServerConfig>,
    pub cert_der: Vec<u8>,
    pub created: bool,
}

/// SHA-256 of a DER certificate as colon-separated uppercase hex
/// (`AB:CD:…`), the form browsers and `openssl x509 -fingerprint -sha256` show.
pub fn fingerprint_hex(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn tls_err(what: &str, path: &Path, e: impl std::fmt::Display) -> ServerError {
    ServerError::Tls(format!("{what} {}: {e}", path.display()))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Load the configured certificate and key, or the development pair
/// (made on first start).
pub(crate) fn load_or_create(
    data_dir: &Path,
    cert: Option<&Path>,
    key: Option<&Path>,
) -> Result<Tls, ServerError> {
    let (cert_path, key_path, created) = match (cert, key) {
        (Some(c), Some(k)) => (c.to_owned(), k.to_owned(), false),
        (None, None) => {
            let dir = data_dir.join("tls");
            let c = dir.join("dev-cert.pem");
            let k = dir.join("dev-key.pem");
            let mut created = false;
            if !c.exists() || !k.exists() {
                std::fs::create_dir_all(&dir).map_err(|e| tls_err("cannot create", &dir, e))?;
                let ck = rcgen::generate_simple_self_signed(vec![
                    "localhost".to_owned(),
                    "127.0.0.1".to_owned(),
                    "::1".to_owned(),
                ])
                .map_err(|e| {
                    ServerError::Tls(format!("cannot make a development certificate: {e}"))
                })?;
                let _ = std::fs::remove_file(&k);
                write_private(&k, ck.signing_key.serialize_pem().as_bytes())
                    .map_err(|e| tls_err("cannot write", &k, e))?;
                std::fs::write(&c, ck.cert.pem()).map_err(|e| tls_err("cannot write", &c, e))?;
                created = true;
            }
            (c, k, created)
        }
        _ => return Err(ServerError::HalfTlsConfig),
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|e| tls_err("cannot read certificate", &cert_path, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| tls_err("bad certificate PEM in", &cert_path, e))?;
    let first = chain
        .first()
        .ok_or_else(|| {
            tls_err(
                "no certificate in",
                &cert_path,
                "expected a PEM CERTIFICATE block",
            )
        })?
        .as_ref()
        .to_vec();
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .map_err(|e| tls_err("cannot read private key", &key_path, e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| ServerError::Tls(format!("certificate and key do not fit together: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Tls {
        config: Arc::new(config),
        cert_der: first,
        created,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_certificate_is_made_once_and_reused_with_a_private_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create(dir.path(), None, None).unwrap();
        assert!(a.created);
        let b = load_or_create(dir.path(), None, None).unwrap();
        assert!(!b.created);
        assert_eq!(a.cert_der, b.cert_der);
        assert_eq!(fingerprint_hex(&a.cert_der).len(), 32 * 3 - 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("tls/dev-key.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
