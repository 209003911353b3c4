//! TLS to PostgreSQL (N5.3): rustls with the *ring* provider, and the
//! certificate verifiers of libpq's `sslmode`s.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use super::errors::config_err;
use crate::types::StoreError;

/// The TLS modes of the `sslmode` option (libpq's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TlsMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// Verifies handshake signatures but not the certificate: libpq's
/// `sslmode=require` without a root certificate (encryption only).
struct EncryptOnly {
    algs: WebPkiSupportedAlgorithms,
}

impl std::fmt::Debug for EncryptOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptOnly")
    }
}

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// Verifies the certificate chain against the roots but not the host name:
/// libpq's `sslmode=verify-ca`. rustls's WebPKI verifier checks the chain
/// (and revocation, expiry) before the name, so a name mismatch means the
/// chain was good.
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
}

impl std::fmt::Debug for ChainOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainOnly")
    }
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Reads the PEM CA file of `sslrootcert`.
pub(super) fn load_roots(path: &PathBuf) -> Result<RootCertStore, StoreError> {
    let bad = |e: String| {
        config_err(format!(
            "sslrootcert {}: {e}; give a PEM file holding the CA certificate(s) that signed the server's certificate",
            path.display()
        ))
    };
    let mut roots = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))?;
    for cert in certs {
        let cert = cert.map_err(|e| bad(e.to_string()))?;
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(bad("no certificate in the file".into()));
    }
    Ok(roots)
}

/// The rustls client configuration for `mode` (ring provider).
pub(super) fn tls_config(
    mode: TlsMode,
    roots: Option<RootCertStore>,
) -> Result<ClientConfig, StoreError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| config_err(format!("TLS: {e}")))?;
    let verified = |roots: RootCertStore| {
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| config_err(format!("sslrootcert: {e}")))
    };
    Ok(match (mode, roots) {
        (TlsMode::VerifyFull, Some(roots)) => builder
            .with_webpki_verifier(verified(roots)?)
            .with_no_client_auth(),
        (TlsMode::Require | TlsMode::Prefer | TlsMode::VerifyCa, Some(roots)) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnly {
                inner: verified(roots)?,
            }))
            .with_no_client_auth(),
        (TlsMode::Require | TlsMode::Prefer, None) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly {
                algs: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth(),
        (TlsMode::VerifyCa | TlsMode::VerifyFull, None) => {
            return Err(config_err(
                "sslmode=verify-ca and sslmode=verify-full need sslrootcert=PATH (a PEM file of the CA certificates to trust)",
            ));
        }
        (TlsMode::Disable, _) => {
            return Err(config_err("TLS configuration asked for sslmode=disable"));
        }
    })
}
