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

/// Refuse a private key file that group or others can read (issue 13
/// item 7), as the keyring is refused: the message says how to fix it.
fn refuse_readable_key(path: &Path) -> Result<(), ServerError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| tls_err("cannot read private key", path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(ServerError::Tls(format!(
                "private key {}: mode {:o} lets others read it; run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
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
                let mut b = std::fs::DirBuilder::new();
                b.recursive(true);
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
                b.create(&dir)
                    .map_err(|e| tls_err("cannot create", &dir, e))?;
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
                let _ = std::fs::remove_file(&c);
                write_private(&c, ck.cert.pem().as_bytes())
                    .map_err(|e| tls_err("cannot write", &c, e))?;
                created = true;
            }
            (c, k, created)
        }
        _ => return Err(ServerError::HalfTlsConfig),
    };
    refuse_readable_key(&key_path)?;
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

    /// Issue 13 item 7: a TLS private key that group or others can read
    /// is refused, with the fix; the same key at 0600 is accepted.
    #[cfg(unix)]
    #[test]
    fn group_or_world_readable_tls_key_is_refused_issue13_item7() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path(), None, None).unwrap();
        let cert = dir.path().join("tls/dev-cert.pem");
        let key = dir.path().join("tls/dev-key.pem");
        for mode in [0o644, 0o640, 0o604] {
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = load_or_create(dir.path(), Some(&cert), Some(&key))
                .err()
                .expect("a readable key is refused")
                .to_string();
            assert!(e.contains("chmod 600") && e.contains("dev-key.pem"), "{e}");
            // The development pair is checked the same way.
            assert!(load_or_create(dir.path(), None, None).is_err());
        }
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(load_or_create(dir.path(), Some(&cert), Some(&key)).is_ok());
        let dmode = std::fs::metadata(dir.path().join("tls"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dmode & 0o777, 0o700);
        let cmode = std::fs::metadata(&cert).unwrap().permissions().mode();
        assert_eq!(cmode & 0o777, 0o600);
    }
}
