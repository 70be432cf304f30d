//! The TLS listener's identity: a configured PEM certificate chain and key (`tls.cert`,
//! `tls.key`), or a certificate generated into `DATA_DIR/tls/`: a self-signed CA (`ca.pem`,
//! `ca-key.pem`) and a server certificate it signs (`cert.pem`, `key.pem`) for the subject
//! names in `names`. Later starts reuse the files; a changed set of names reissues the server
//! certificate under the same CA, so clients that trust `ca.pem` keep trusting it. Key files
//! are written with mode 0600. The ring provider does the cryptography.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

/// The subject names every generated certificate has.
const BASE_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The subject names of a generated certificate: [`BASE_NAMES`], `extra` (`tls.names`) and
/// the host of `listen` (`tls.listen`) unless it is a wildcard address; sorted, no repeats.
pub fn subject_names(extra: &[String], listen: &str) -> Vec<String> {
    let mut names: Vec<String> = BASE_NAMES.iter().map(|s| s.to_string()).collect();
    names.extend(extra.iter().cloned());
    let host = listen
        .rsplit_once(':')
        .map_or(listen, |(h, _)| h)
        .trim_start_matches('[')
        .trim_end_matches(']');
    let wildcard = host
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified());
    if !host.is_empty() && !wildcard {
        names.push(host.to_string());
    }
    names.sort();
    names.dedup();
    names
}

/// The rustls server configuration of a PEM chain and key (HTTP/1.1 by ALPN).
fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, String> {
    let mut cfg =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| format!("TLS: the certificate and key do not make a server: {e}"))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// Reads a PEM certificate chain and its key (`what` names where they came from in errors).
fn read_pair(cert: &Path, key: &Path, what: &str) -> Result<Arc<ServerConfig>, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{what}cert: cannot read {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "{what}cert: {} holds no PEM certificate",
            cert.display()
        ));
    }
    let key_der = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("{what}key: cannot read {}: {e}", key.display()))?;
    server_config(chain, key_der)
}

/// The configured pair (`tls.cert`, `tls.key`).
pub fn configured(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, String> {
    read_pair(cert, key, "tls.")
}

/// The files of a generated identity.
pub struct Generated {
    /// The server configuration over `cert.pem` and `key.pem`.
    pub config: Arc<ServerConfig>,
    /// `ca.pem`: what a client trusts.
    pub ca: PathBuf,
    /// Whether this start wrote a new server certificate.
    pub issued: bool,
}

/// The generated identity in `data_dir/tls/` for `names`: reused when its files are there and
/// were issued for the same names, else issued (under the existing CA when there is one).
pub fn generated(data_dir: &Path, names: &[String]) -> Result<Generated, String> {
    let dir = data_dir.join("tls");
    let io = |what: &str, p: &Path, e: std::io::Error| format!("TLS: {what} {}: {e}", p.display());
    fs::create_dir_all(&dir).map_err(|e| io("cannot make", &dir, e))?;
    let ca = dir.join("ca.pem");
    let ca_key = dir.join("ca-key.pem");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let names_file = dir.join("names");
    let wanted = names.join("\n") + "\n";
    let same_names = fs::read_to_string(&names_file).is_ok_and(|t| t == wanted);
    if same_names && [&ca, &ca_key, &cert, &key].iter().all(|p| p.is_file()) {
        let config = read_pair(&cert, &key, "TLS: generated ")?;
        return Ok(Generated {
            config,
            ca,
            issued: false,
        });
    }
    let gen = |e: rcgen::Error| format!("TLS: cannot generate a certificate: {e}");
    // The CA: kept when both its files are there, so a client that trusts it keeps trusting.
    let ca_pair = match (fs::read_to_string(&ca_key), ca.is_file()) {
        (Ok(pem), true) => KeyPair::from_pem(&pem)
            .map_err(|e| format!("TLS: cannot read {}: {e}", ca_key.display()))?,
        _ => {
            let pair = KeyPair::generate().map_err(gen)?;
            let ca_cert = ca_params(&pair).self_signed(&pair).map_err(gen)?;
            write_file(&ca_key, pair.serialize_pem().as_bytes(), true)
                .map_err(|e| io("cannot write", &ca_key, e))?;
            write_file(&ca, ca_cert.pem().as_bytes(), false)
                .map_err(|e| io("cannot write", &ca, e))?;
            pair
        }
    };
    let issuer = Issuer::new(ca_params(&ca_pair), ca_pair);
    let mut params = CertificateParams::new(names.to_vec()).map_err(gen)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "cloudtwin");
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate().map_err(gen)?;
    let leaf = params.signed_by(&leaf_key, &issuer).map_err(gen)?;
    write_file(&key, leaf_key.serialize_pem().as_bytes(), true)
        .map_err(|e| io("cannot write", &key, e))?;
    write_file(&cert, leaf.pem().as_bytes(), false).map_err(|e| io("cannot write", &cert, e))?;
    // Last: a start interrupted before this line issues again.
    write_file(&names_file, wanted.as_bytes(), false)
        .map_err(|e| io("cannot write", &names_file, e))?;
    let config = server_config(
        vec![leaf.der().clone()],
        PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
    )?;
    Ok(Generated {
        config,
        ca,
        issued: true,
    })
}

/// The CA's parameters, the same every time for the same key (its name carries a digest of
/// the public key), so a server certificate can be issued again under a stored CA.
fn ca_params(key: &KeyPair) -> CertificateParams {
    let mut params = CertificateParams::default();
    let digest = hex::encode(&Sha256::digest(key.public_key_raw())[..8]);
    params
        .distinguished_name
        .push(DnType::CommonName, format!("cloudtwin local CA {digest}"));
    params
        .distinguished_name
        .push(DnType::OrganizationName, "cloudtwin");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// Writes `bytes` to `path` through a temporary file and a rename; `secret`: mode 0600.
fn write_file(path: &Path, bytes: &[u8], secret: bool) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_names_add_the_listen_host_but_not_a_wildcard() {
        let n = subject_names(&["twin.test".into()], "example.internal:9443");
        assert_eq!(
            n,
            [
                "127.0.0.1",
                "::1",
                "example.internal",
                "localhost",
                "twin.test"
            ]
        );
        assert_eq!(subject_names(&[], "0.0.0.0:9443").len(), 3);
        assert_eq!(subject_names(&[], "[::]:9443").len(), 3);
        assert_eq!(subject_names(&[], "[::1]:9443").len(), 3);
    }

    #[test]
    fn a_generated_identity_is_reused_and_reissued_under_the_same_ca_for_new_names() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let names = subject_names(&[], "127.0.0.1:0");
        let first = generated(tmp.path(), &names).expect("generate");
        assert!(first.issued);
        let ca = fs::read(&first.ca).expect("ca");
        let cert = fs::read(tmp.path().join("tls/cert.pem")).expect("cert");
        #[cfg(unix)]
        for f in ["key.pem", "ca-key.pem"] {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(tmp.path().join("tls").join(f))
                .expect("stat")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
        let again = generated(tmp.path(), &names).expect("reuse");
        assert!(!again.issued);
        assert_eq!(
            fs::read(tmp.path().join("tls/cert.pem")).expect("cert"),
            cert
        );
        let more = subject_names(&["twin.test".into()], "127.0.0.1:0");
        let reissued = generated(tmp.path(), &more).expect("reissue");
        assert!(reissued.issued);
        assert_eq!(fs::read(&reissued.ca).expect("ca"), ca, "the CA is kept");
        assert_ne!(
            fs::read(tmp.path().join("tls/cert.pem")).expect("cert"),
            cert
        );
    }
}
