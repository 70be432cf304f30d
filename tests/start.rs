//! Starting the service: with no configuration at all (the built-in defaults, the repository's
//! `config.toml`), with a `config.toml` in the working directory, `--ephemeral`, a host name as
//! `listen`, a port already taken, and the per-request log line in its short and full forms.

mod common;

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::*;
use serde_json::json;

/// The credentials of the first account of the repository's `config.toml` (the built-in
/// defaults), read from the file rather than spelled again here.
fn default_keys() -> (String, String) {
    let cfg: toml::Value =
        toml::from_str(include_str!("../config.toml")).expect("parse config.toml");
    let t = &cfg["accounts"][0]["tencent"];
    (
        t["secret_id"].as_str().expect("secret_id").to_string(),
        t["secret_key"].as_str().expect("secret_key").to_string(),
    )
}

/// `cloudtwin ARGS` in `cwd` with nothing from the caller's environment that picks a config,
/// data dir, listen address or log form; stderr goes to the file `log`.
fn command(cwd: &Path, log: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(args)
        .current_dir(cwd)
        .env_remove("CLOUDTWIN_DATA_DIR")
        .env_remove("CLOUDTWIN_LISTEN")
        .env_remove("CLOUDTWIN_TLS_LISTEN")
        .env_remove("CLOUDTWIN_LOG_FORMAT")
        .env_remove("RUST_LOG")
        .env("CLOUDTWIN_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(File::create(log).expect("create log file")));
    c
}

/// Starts `serve` (on port 0 unless `args` names a listen address) and returns it with its
/// base URL.
fn serve(cwd: &Path, log: &Path, args: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut all = vec!["serve"];
    all.extend_from_slice(args);
    let mut c = command(cwd, log, &all);
    if !args.contains(&"--listen") {
        c.env("CLOUDTWIN_LISTEN", "127.0.0.1:0");
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().expect("spawn cloudtwin");
    let base = read_base(&mut child);
    (child, base)
}

/// SIGTERM, then the exit status.
fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    child.wait().expect("wait")
}

/// The lines of a log file that are not empty.
fn lines(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .expect("read log")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// A temp dir with an empty working directory `cwd` in it and a log file beside it.
struct Place {
    tmp: tempfile::TempDir,
}

impl Place {
    fn new() -> Place {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(tmp.path().join("cwd")).expect("mkdir cwd");
        Place { tmp }
    }
    fn cwd(&self) -> std::path::PathBuf {
        self.tmp.path().join("cwd")
    }
    fn log(&self) -> std::path::PathBuf {
        self.tmp.path().join("stderr.log")
    }
}

#[test]
fn serve_with_no_config_uses_the_built_in_defaults_and_makes_data_in_the_working_dir() {
    let p = Place::new();
    let (mut child, base) = serve(&p.cwd(), &p.log(), &[], &[]);
    let (id, key) = default_keys();
    let answer = Client::new(&base, &id, &key).call("DescribeImages", json!({}));
    assert!(answer.ok(), "default credentials: {}", answer.response);
    assert!(p.cwd().join("data").is_dir(), "./data was not made");
    assert!(terminate(&mut child).success());
    let log = lines(&p.log());
    let first = log.first().expect("a log line");
    assert!(
        first.contains("built-in defaults"),
        "first log line: {first}"
    );

    // The offline commands find the same defaults and the same ./data.
    let check = p.tmp.path().join("check.log");
    let out = command(&p.cwd(), &check, &["check"])
        .output()
        .expect("run check");
    assert!(out.status.success(), "check: {}", lines(&check).join("\n"));
    let export = command(&p.cwd(), &check, &["export", "--to", "-"])
        .output()
        .expect("run export");
    assert!(
        export.status.success(),
        "export: {}",
        lines(&check).join("\n")
    );
    assert!(String::from_utf8_lossy(&export.stdout).contains("\"version\""));
}

#[test]
fn a_config_toml_in_the_working_dir_is_used_when_no_config_is_given() {
    let p = Place::new();
    let data = p.cwd().join("mine");
    std::fs::write(
        p.cwd().join("config.toml"),
        config_text(Path::new("mine"), &Opts::default()),
    )
    .expect("write config");
    let (mut child, base) = serve(&p.cwd(), &p.log(), &[], &[]);
    let answer = Client::new(&base, SECRET_ID_1, SECRET_KEY_1).call("DescribeImages", json!({}));
    assert!(answer.ok(), "the file's credentials: {}", answer.response);
    let (id, key) = default_keys();
    Client::new(&base, &id, &key)
        .call("DescribeImages", json!({}))
        .expect_code("AuthFailure.SecretIdNotFound");
    assert!(data.is_dir());
    assert!(!p.cwd().join("data").exists());
    assert!(terminate(&mut child).success());
    let log = lines(&p.log());
    let first = log.first().expect("a log line");
    assert!(
        first.contains("config.toml") && first.contains("working directory"),
        "first log line: {first}"
    );
}

#[test]
fn ephemeral_serves_on_a_temporary_data_dir_removed_at_sigterm() {
    let p = Place::new();
    let tmpdir = p.tmp.path().join("tmp");
    std::fs::create_dir(&tmpdir).expect("mkdir tmp");
    let tmpdir_s = tmpdir.to_string_lossy().to_string();
    let (mut child, base) = serve(
        &p.cwd(),
        &p.log(),
        &["--ephemeral"],
        &[("TMPDIR", &tmpdir_s)],
    );
    let (id, key) = default_keys();
    let c = Client::new(&base, &id, &key);
    c.create("short-lived");
    let made: Vec<_> = std::fs::read_dir(&tmpdir)
        .expect("read tmp")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        made.len() == 1 && made[0].starts_with("cloudtwin-ephemeral-"),
        "{made:?}"
    );
    assert!(terminate(&mut child).success());
    let left = std::fs::read_dir(&tmpdir).expect("read tmp").count();
    assert_eq!(left, 0, "the ephemeral data dir remains");
    assert!(!p.cwd().join("data").exists());
}

#[test]
fn a_host_name_as_listen_is_resolved() {
    let p = Place::new();
    let text = config_text(&p.cwd().join("d"), &Opts::default())
        .replace("listen = \"127.0.0.1:0\"", "listen = \"localhost:0\"");
    std::fs::write(p.cwd().join("config.toml"), text).expect("write config");
    let mut c = command(&p.cwd(), &p.log(), &["serve"]);
    let mut child = c.spawn().expect("spawn");
    let base = read_base(&mut child);
    let answer = Client::new(&base, SECRET_ID_1, SECRET_KEY_1).call("DescribeImages", json!({}));
    assert!(answer.ok(), "{base}: {}", answer.response);
    let status = terminate(&mut child);
    assert!(
        status.success(),
        "{status}: {}",
        std::fs::read_to_string(p.log()).unwrap_or_default()
    );
}

#[test]
fn a_port_in_use_exits_non_zero_and_leaves_no_data_dir() {
    let p = Place::new();
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = held.local_addr().expect("addr").to_string();
    let out = command(&p.cwd(), &p.log(), &["serve", "--listen", &addr])
        .output()
        .expect("run serve");
    assert!(!out.status.success());
    let log = lines(&p.log()).join("\n");
    assert!(log.contains("cannot listen on"), "{log}");
    assert!(!p.cwd().join("data").exists(), "a data dir was left behind");
    drop(held);
}

/// The `request` log lines of a server that answered one DescribeImages.
fn request_lines(env: &[(&str, &str)]) -> Vec<String> {
    let p = Place::new();
    let (mut child, base) = serve(&p.cwd(), &p.log(), &[], env);
    let (id, key) = default_keys();
    Client::new(&base, &id, &key)
        .call("DescribeImages", json!({}))
        .expect_ok();
    assert!(terminate(&mut child).success());
    let all = lines(&p.log());
    assert!(
        !all.iter()
            .any(|l| l.contains(" sled::") || l.contains(" sled:")),
        "sled's internals in the log: {}",
        all.join("\n")
    );
    all.into_iter()
        .filter(|l| l.contains("request_id="))
        .collect()
}

#[test]
fn the_request_log_line_is_short_by_default_and_full_when_asked() {
    let short = request_lines(&[]);
    let line = short.first().expect("a request line");
    for field in [
        "request_id=",
        "dialect=\"tencent\"",
        "action=DescribeImages",
        "account=100000000001",
        "code=Success",
        "latency_us=",
    ] {
        assert!(line.contains(field), "{field} missing: {line}");
    }
    assert!(!line.contains("region="), "{line}");

    let full = request_lines(&[("CLOUDTWIN_LOG_FORMAT", "full")]);
    let line = full.first().expect("a request line");
    assert!(line.contains("region=ap-guangzhou"), "{line}");
    assert!(line.contains("action=DescribeImages"), "{line}");

    // Debug shows cloudtwin's own debug lines but none of sled's (checked in request_lines).
    let debug = request_lines(&[("CLOUDTWIN_LOG", "debug")]);
    assert!(!debug.is_empty());
}
