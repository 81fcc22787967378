//! TLS to PostgreSQL with rustls (no OpenSSL), as libpq's `sslmode` says: `disable` plain;
//! `prefer` (the default) TLS when the server offers it; `require` TLS or nothing. Like libpq's,
//! these two encrypt without checking the server's certificate. `verify-ca` also checks that
//! the certificate chains to a trusted root, `verify-full` that it names the host too; the
//! roots are the file `sslrootcert` names, or else the platform's.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::domain::ports::StoreError;

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// `prefer`, `require`: none (the connection is encrypted, the server not authenticated).
    None,
    /// `verify-ca`: it chains to a trusted root.
    Chain,
    /// `verify-full`: that, and it names the host connected to.
    Full,
}

/// What pipestack reads from a URL itself: the `sslmode`s tokio-postgres does not know
/// (`verify-ca`, `verify-full`, handed on as `require`) and `sslrootcert`.
#[derive(Debug)]
pub struct Settings {
    /// The URL for tokio-postgres.
    pub url: String,
    pub check: Check,
    pub root_cert: Option<String>,
}

pub fn read_url(url: &str) -> Result<Settings, StoreError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok(Settings {
            url: url.to_owned(),
            check: Check::None,
            root_cert: None,
        });
    };
    if query.matches("sslmode=").count() > 1 {
        return Err(StoreError::Internal(
            "the database URL gives sslmode more than once".into(),
        ));
    }
    let mut require = false;
    let mut check = Check::None;
    let mut root_cert = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", "verify-ca")) => {
                check = Check::Chain;
                kept.push("sslmode=require".to_owned());
            }
            Some(("sslmode", "verify-full")) => {
                check = Check::Full;
                kept.push("sslmode=require".to_owned());
            }
            Some(("sslmode", "require")) => {
                require = true;
                kept.push(pair.to_owned());
            }
            Some(("sslrootcert", path)) => {
                root_cert = Some(
                    form_urlencoded::parse(format!("p={path}").as_bytes())
                        .next()
                        .map_or_else(|| path.to_owned(), |(_, v)| v.into_owned()),
                );
            }
            _ => kept.push(pair.to_owned()),
        }
    }
    // As libpq: `require` with a root certificate file checks the chain (as `verify-ca`).
    if require && root_cert.is_some() {
        check = Check::Chain;
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok(Settings {
        url,
        check,
        root_cert,
    })
}

/// rustls's connector, given a host name to check even when the connection has none (a Unix
/// socket, `hostaddr` alone): tokio-postgres asks for a connector before it knows whether TLS
/// will be used. A name is only checked by `verify-full`, which then fails as libpq does.
#[derive(Clone)]
pub struct Connector {
    inner: MakeRustlsConnect,
    check: Check,
}

impl<S> MakeTlsConnect<S> for Connector
where
    MakeRustlsConnect: MakeTlsConnect<S>,
{
    type Stream = <MakeRustlsConnect as MakeTlsConnect<S>>::Stream;
    type TlsConnect = <MakeRustlsConnect as MakeTlsConnect<S>>::TlsConnect;
    type Error = <MakeRustlsConnect as MakeTlsConnect<S>>::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<Self::TlsConnect, Self::Error> {
        let domain = if domain.is_empty() && self.check != Check::Full {
            "localhost"
        } else {
            domain
        };
        MakeTlsConnect::<S>::make_tls_connect(&mut self.inner, domain)
    }
}

/// The connector for `settings`.
pub fn connector(settings: &Settings) -> Result<Connector, StoreError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        StoreError::Internal(format!("cannot set up TLS to PostgreSQL: {what}: {e}"))
    };
    let verifier: Arc<dyn ServerCertVerifier> = match settings.check {
        Check::None => Arc::new(Unchecked(provider.signature_verification_algorithms)),
        check => {
            let roots = Arc::new(roots(settings.root_cert.as_deref())?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|e| fail("the trusted roots", &e))?;
            Arc::new(Checked {
                webpki,
                names: check == Check::Full,
            })
        }
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail("the protocol versions", &e))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Connector {
        inner: MakeRustlsConnect::new(config),
        check: settings.check,
    })
}

/// The roots a certificate must chain to: those of `sslrootcert`, or the platform's.
fn roots(file: Option<&str>) -> Result<RootCertStore, StoreError> {
    let mut store = RootCertStore::empty();
    match file {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<_, _>>())
                .map_err(|e| {
                    StoreError::Internal(format!("sslrootcert {path}: no PEM certificates: {e}"))
                })?;
            let (added, _) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(StoreError::Internal(format!(
                    "sslrootcert {path}: no usable certificate"
                )));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err(StoreError::Internal(
                    "no trusted root certificates found on this machine: give sslrootcert=FILE"
                        .into(),
                ));
            }
        }
    }
    Ok(store)
}

/// `verify-ca` and `verify-full`: webpki's checks, the name's only for `verify-full`.
#[derive(Debug)]
struct Checked {
    webpki: Arc<WebPkiServerVerifier>,
    names: bool,
}

impl ServerCertVerifier for Checked {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match self
            .webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.names => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// `prefer` and `require`: any certificate (libpq's behaviour); the handshake's signatures are
/// still checked, so the session is with the holder of the certificate's key.
#[derive(Debug)]
struct Unchecked(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_without_a_host_name_gets_a_connector_unless_the_name_is_checked() {
        // A Unix socket: tokio-postgres asks for a connector with no name before it learns
        // the socket takes no TLS.
        let s = read_url("postgres://u@%2Frun%2Fpostgresql/db").expect("read");
        let mut c = connector(&s).expect("a connector");
        assert!(MakeTlsConnect::<tokio_postgres::Socket>::make_tls_connect(&mut c, "").is_ok());
        c.check = Check::Full;
        assert!(MakeTlsConnect::<tokio_postgres::Socket>::make_tls_connect(&mut c, "").is_err());
        assert!(
            MakeTlsConnect::<tokio_postgres::Socket>::make_tls_connect(&mut c, "db.example")
                .is_ok()
        );
    }

    #[test]
    fn verify_modes_are_read_and_handed_on_as_require() {
        let s = read_url("postgres://u@h/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&x=1")
            .expect("read");
        assert_eq!(s.url, "postgres://u@h/db?sslmode=require&x=1");
        assert_eq!(s.check, Check::Full);
        assert_eq!(s.root_cert.as_deref(), Some("/tmp/ca.pem"));
        let s = read_url("postgres://u@h/db?sslmode=verify-ca").expect("read");
        assert_eq!(s.check, Check::Chain);
        let s = read_url("postgres://u@h/db?sslmode=require").expect("read");
        assert_eq!(
            (s.url.as_str(), s.check),
            ("postgres://u@h/db?sslmode=require", Check::None)
        );
        assert_eq!(
            read_url("postgres://u@h/db").expect("read").url,
            "postgres://u@h/db"
        );
        // libpq's rules: require with a root file checks the chain; sslmode only once.
        let s = read_url("postgres://u@h/db?sslmode=require&sslrootcert=ca.pem").expect("read");
        assert_eq!(s.check, Check::Chain);
        assert!(read_url("postgres://u@h/db?sslmode=verify-full&sslmode=disable").is_err());
    }
}
