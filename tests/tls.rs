//! The optional TLS listener (`[tls]`): the generated CA and server certificate (made once in
//! `DATA_DIR/tls/`, reused by a restart), a configured certificate and key, the same signed
//! calls on both listeners, the header-read timeout covering the handshake, and a TLS port
//! already taken failing the start before the data dir is made.

mod common;

use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde_json::json;

/// A server with both listeners.
struct Twin {
    child: Child,
    http: String,
    https: String,
    /// Kept open: the server may still write to it.
    _stdout: BufReader<ChildStdout>,
}

impl Twin {
    /// Starts `serve` on `config` and `data`, reading both listening lines.
    fn start(config: &Path, data: &Path) -> Twin {
        let mut child = Command::new(bin())
            .args(["serve", "--config"])
            .arg(config)
            .arg("--data-dir")
            .arg(data)
            .env_remove("CLOUDTWIN_TLS_LISTEN")
            .env("CLOUDTWIN_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn cloudtwin");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = |scheme: &str| {
            let mut l = String::new();
            out.read_line(&mut l).expect("read a listening line");
            let prefix = format!("cloudtwin listening on {scheme}://");
            assert!(l.starts_with(&prefix), "unexpected line {l:?}");
            l.trim()
                .trim_start_matches("cloudtwin listening on ")
                .to_string()
        };
        let http = line("http");
        let https = line("https");
        Twin {
            child,
            http,
            https,
            _stdout: out,
        }
    }

    fn tls_host(&self) -> String {
        host_of(&self.https)
    }

    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(status.expect("kill").success());
        assert!(self.child.wait().expect("wait").success(), "exit status");
    }
}

impl Drop for Twin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The tests' config with a `[tls]` table (`tls` its keys) and a `[server]` one.
fn write_config(dir: &Path, data: &Path, tls: &str, server: &str) -> PathBuf {
    let text = format!(
        "{}[server]\n{server}\n[tls]\nlisten = \"127.0.0.1:0\"\n{tls}\n",
        config_text(data, &Opts::default())
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// A ureq agent that trusts only the PEM certificates of `ca`.
fn agent_trusting(ca: &Path) -> ureq::Agent {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("read CA") {
        roots.add(cert.expect("a PEM certificate")).expect("add CA");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    ureq::AgentBuilder::new()
        .tls_config(Arc::new(config))
        .timeout(Duration::from_secs(30))
        .build()
}

fn describe_ok(base: &str, agent: Option<ureq::Agent>) {
    let mut c = Client::new(base, SECRET_ID_1, SECRET_KEY_1);
    if let Some(a) = agent {
        c = c.with_agent(a);
    }
    let answer = c.call("DescribeImages", json!({}));
    assert!(answer.ok(), "{base}: {}", answer.response);
}

fn list_projects_ok(base: &str, agent: Option<ureq::Agent>) {
    let mut c = imm::ImmClient::new(base, AK_ID_1, AK_SECRET_1);
    if let Some(a) = agent {
        c = c.with_agent(a);
    }
    let reply = c.call("ListProjects", &[]);
    assert_eq!(reply.status, 200, "{base}: {}", reply.body);
}

#[test]
fn https_with_the_generated_ca_answers_the_same_signed_calls_and_a_restart_reuses_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let config = write_config(tmp.path(), &data, "names = [\"twin.test\"]", "");
    let twin = Twin::start(&config, &data);
    let ca = data.join("tls/ca.pem");
    assert!(ca.is_file(), "the CA is written to DATA_DIR/tls/ca.pem");
    #[cfg(unix)]
    for f in ["key.pem", "ca-key.pem"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("tls").join(f))
            .expect("stat key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }
    let trusting = agent_trusting(&ca);
    // The same signed calls, on both listeners (the signature covers the Host header).
    describe_ok(&twin.http, None);
    describe_ok(&twin.https, Some(trusting.clone()));
    list_projects_ok(&twin.http, None);
    list_projects_ok(&twin.https, Some(trusting.clone()));
    let health = trusting
        .get(&format!("{}/_cloudtwin/health", twin.https))
        .call()
        .expect("health over https");
    assert_eq!(health.status(), 200);
    // `localhost` is one of the names too.
    let by_name = twin.https.replace("127.0.0.1", "localhost");
    describe_ok(&by_name, Some(trusting.clone()));
    // A client that does not trust the CA refuses the certificate.
    let untrusting = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let e = untrusting
        .get(&format!("{}/_cloudtwin/health", twin.https))
        .call()
        .expect_err("an untrusted certificate");
    assert!(matches!(e, ureq::Error::Transport(_)), "{e}");
    twin.stop();

    let cert = std::fs::read(data.join("tls/cert.pem")).expect("cert");
    let ca_bytes = std::fs::read(&ca).expect("ca");
    let again = Twin::start(&config, &data);
    assert_eq!(
        std::fs::read(data.join("tls/cert.pem")).expect("cert"),
        cert,
        "a restart reuses the server certificate"
    );
    assert_eq!(std::fs::read(&ca).expect("ca"), ca_bytes);
    describe_ok(&again.https, Some(trusting));
    again.stop();
}

#[test]
fn a_configured_cert_and_key_are_served_and_nothing_is_generated() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // A CA and a server certificate it signs, made here.
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::default();
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "tests/tls.rs CA");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().expect("key");
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .expect("params")
        .signed_by(&leaf_key, &issuer)
        .expect("leaf");
    let (ca_pem, cert_pem, key_pem) = (
        tmp.path().join("my-ca.pem"),
        tmp.path().join("my-cert.pem"),
        tmp.path().join("my-key.pem"),
    );
    std::fs::write(&ca_pem, ca_cert.pem()).expect("write");
    std::fs::write(&cert_pem, leaf.pem()).expect("write");
    std::fs::write(&key_pem, leaf_key.serialize_pem()).expect("write");
    let data = tmp.path().join("data");
    let keys = format!(
        "cert = \"{}\"\nkey = \"{}\"",
        cert_pem.display(),
        key_pem.display()
    );
    let config = write_config(tmp.path(), &data, &keys, "");
    let twin = Twin::start(&config, &data);
    describe_ok(&twin.https, Some(agent_trusting(&ca_pem)));
    list_projects_ok(&twin.https, Some(agent_trusting(&ca_pem)));
    assert!(!data.join("tls").exists(), "nothing generated");
    twin.stop();

    // A key file that is not there fails the start, naming the key, before the data dir.
    let data2 = tmp.path().join("data2");
    let bad = keys.replace("my-key.pem", "missing.pem");
    let config = write_config(tmp.path(), &data2, &bad, "");
    let out = Command::new(bin())
        .args(["serve", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(&data2)
        .env("CLOUDTWIN_LOG", "warn")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tls.key"), "{err}");
    assert!(!data2.exists(), "no data dir is left behind");
}

/// Whether the server closed `c` (EOF or reset) before `within`.
fn closed_within(c: &mut TcpStream, within: Duration) -> bool {
    c.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("read timeout");
    let until = Instant::now() + within;
    let mut buf = [0u8; 4096];
    while Instant::now() < until {
        match c.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn a_client_that_never_handshakes_is_closed_at_the_header_read_timeout() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let config = write_config(
        tmp.path(),
        &data,
        "",
        "header_read_timeout_ms = 300\nidle_timeout_ms = 600000",
    );
    let twin = Twin::start(&config, &data);
    let mut silent = TcpStream::connect(twin.tls_host()).expect("connect");
    assert!(
        !closed_within(&mut silent, Duration::from_millis(100)),
        "closed before the timeout"
    );
    assert!(
        closed_within(&mut silent, Duration::from_secs(3)),
        "a connection that never sends a ClientHello must be closed after header_read_timeout_ms"
    );
    // A handshake begun but left unfinished (half a ClientHello record header) too.
    let mut partial = TcpStream::connect(twin.tls_host()).expect("connect");
    std::io::Write::write_all(&mut partial, &[0x16, 0x03, 0x01]).expect("write");
    assert!(closed_within(&mut partial, Duration::from_secs(3)));
    // The listener still serves.
    describe_ok(&twin.https, Some(agent_trusting(&data.join("tls/ca.pem"))));
    // SIGTERM with a handshake pending exits 0 (the shutdown closes it).
    let _pending = TcpStream::connect(twin.tls_host()).expect("connect");
    twin.stop();
}

#[test]
fn a_taken_tls_port_fails_the_start_before_the_data_dir_is_made() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = held.local_addr().expect("addr").port();
    let data = tmp.path().join("data");
    let text = format!(
        "{}[tls]\nlisten = \"127.0.0.1:{port}\"\n",
        config_text(&data, &Opts::default())
    );
    let config = tmp.path().join("config.toml");
    std::fs::write(&config, text).expect("write config");
    let out = Command::new(bin())
        .args(["serve", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .env("CLOUDTWIN_LOG", "warn")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tls.listen") && err.contains(&port.to_string()),
        "{err}"
    );
    assert!(!data.exists(), "no data dir is left behind");
    drop(held);
}

#[test]
fn cloudtwin_tls_listen_turns_the_listener_on_with_ephemeral() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("unused");
    let config = tmp.path().join("config.toml");
    std::fs::write(&config, config_text(&data, &Opts::default())).expect("write config");
    let tmpdir = tmp.path().join("tmp");
    std::fs::create_dir(&tmpdir).expect("mkdir");
    let mut child = Command::new(bin())
        .args(["serve", "--ephemeral", "--config"])
        .arg(&config)
        .env("CLOUDTWIN_TLS_LISTEN", "127.0.0.1:0")
        .env("TMPDIR", &tmpdir)
        .env("CLOUDTWIN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    let mut second = String::new();
    out.read_line(&mut first).expect("line");
    out.read_line(&mut second).expect("line");
    assert!(
        first.starts_with("cloudtwin listening on http://"),
        "{first:?}"
    );
    let https = second
        .trim()
        .strip_prefix("cloudtwin listening on ")
        .filter(|u| u.starts_with("https://"))
        .unwrap_or_else(|| panic!("an https line, got {second:?}"))
        .to_string();
    let eph: Vec<_> = std::fs::read_dir(&tmpdir)
        .expect("read tmp")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(eph.len(), 1, "{eph:?}");
    let ca = eph[0].join("tls/ca.pem");
    assert!(ca.is_file(), "the CA lands in the ephemeral data dir");
    describe_ok(&https, Some(agent_trusting(&ca)));
    let pid = child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(child.wait().expect("wait").success());
    assert!(!data.exists());
}
