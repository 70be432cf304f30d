//! Operating the service: restart persistence, the data-dir lock, backups (online under
//! write load, and offline), restore, copying a stopped server's data dir, graceful shutdown,
//! configuration errors.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::json;

#[test]
fn state_survives_a_graceful_restart_and_shutdown_exits_zero() {
    let s = Server::start(Opts::default());
    let c = s.client();
    let id = c.create("keep");
    c.call(
        "ModifyImageAttribute",
        json!({"ImageId": id, "ImageDescription": "kept"}),
    )
    .expect_ok();
    let mut s = s;
    let status = s.terminate();
    assert!(status.success(), "SIGTERM must exit 0, got {status:?}");
    let s = s.restart();
    let img = s.client().image(&id).expect("image after restart");
    assert_eq!(img["ImageDescription"], "kept");
}

#[test]
fn a_timed_transition_completes_after_a_restart() {
    let s = Server::start(Opts {
        ready_after_ms: 700,
        ..Opts::default()
    });
    let id = s.client().create("slow");
    let mut s = s;
    s.kill9();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let s = s.restart();
    assert_eq!(s.client().image(&id).expect("img")["ImageState"], "NORMAL");
}

#[test]
fn a_second_process_on_the_same_data_dir_gets_a_clear_in_use_error() {
    let s = Server::start(Opts::default());
    let out = Command::new(bin())
        .args(["serve", "--config"])
        .arg(&s.config)
        .arg("--data-dir")
        .arg(&s.data_dir)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use"), "{err}");
}

#[test]
fn a_config_error_names_the_key_and_exits_non_zero() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cfg = tmp.path().join("c.toml");
    let text = config_text(&tmp.path().join("d"), &Opts::default())
        .replace("durability = \"sync\"", "durability = \"sometimes\"");
    std::fs::write(&cfg, text).expect("write");
    let out = Command::new(bin())
        .args(["serve", "--config"])
        .arg(&cfg)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("durability"));
    let text = config_text(&tmp.path().join("d"), &Opts::default()) + "\nbogus_key = 1\n";
    std::fs::write(&cfg, text).expect("write");
    let out = Command::new(bin())
        .args(["serve", "--config"])
        .arg(&cfg)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bogus_key"));
}

#[test]
fn listen_and_data_dir_can_come_from_the_environment() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cfg = tmp.path().join("c.toml");
    let text = config_text(&tmp.path().join("unused"), &Opts::default())
        .replace("127.0.0.1:0", "127.0.0.1:1");
    std::fs::write(&cfg, text).expect("write");
    let env_dir = tmp.path().join("from-env");
    let mut child = Command::new(bin())
        .args(["serve", "--config"])
        .arg(&cfg)
        .env("CLOUDTWIN_LISTEN", "127.0.0.1:0")
        .env("CLOUDTWIN_DATA_DIR", &env_dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let line = first_line(&mut child);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.starts_with("cloudtwin listening on http://127.0.0.1:"),
        "{line}"
    );
    assert!(!line.contains(":1\n"));
    assert!(env_dir.join("store").exists());
    assert!(!tmp.path().join("unused").exists());
}

#[test]
fn an_online_backup_under_write_load_is_consistent_and_opens_as_a_data_dir() {
    let s = Server::start(Opts::default());
    let c = s.client();
    let stop = Arc::new(AtomicBool::new(false));
    let made = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let c = c.clone();
            let stop = stop.clone();
            let made = made.clone();
            std::thread::spawn(move || {
                // Up to 60 creates per writer (the quota is 500 per region), then renames.
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    if i < 60 {
                        let id = c.create(&format!("w{w}-{i}"));
                        made.lock().expect("lock").push(id);
                    } else {
                        let id = made.lock().expect("lock")[i % 60].clone();
                        c.call(
                            "ModifyImageAttribute",
                            json!({"ImageId": id, "ImageName": format!("w{w}-r{i}")}),
                        )
                        .expect_ok();
                    }
                    i += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let tmp = tempfile::tempdir().expect("tmp");
    let dest = tmp.path().join("backup");
    let (code, body) = admin_post(
        &s.base,
        "/_cloudtwin/backup",
        Some(ADMIN_TOKEN),
        &json!({"dir": dest}),
    );
    assert_eq!(code, 200, "{body}");
    let acked_before_answer = made.lock().expect("lock").len();
    std::thread::sleep(std::time::Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().expect("writer");
    }
    let (code, _) = admin_post(
        &s.base,
        "/_cloudtwin/backup",
        Some(ADMIN_TOKEN),
        &json!({"dir": dest}),
    );
    assert_eq!(code, 400, "a backup never overwrites a non-empty directory");

    let copy = Server::start_at(tmp.path(), &dest, &Opts::default());
    let cc = copy.client();
    let mut listed = Vec::new();
    let mut total = 0;
    for offset in (0..300).step_by(100) {
        let page = cc
            .call("DescribeImages", json!({"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}], "Offset": offset, "Limit": 100}))
            .expect_ok();
        total = page["TotalCount"].as_u64().expect("total") as usize;
        listed.extend(page["ImageSet"].as_array().expect("set").iter().cloned());
    }
    assert_eq!(listed.len(), total);
    assert!(total > 0 && total <= made.lock().expect("lock").len());
    assert!(
        total <= acked_before_answer + 4,
        "copy has {total}, {acked_before_answer} acknowledged when it answered"
    );
    // Consistent: every listed image is whole, and its name (and only its name) is taken in
    // the copy's name index.
    for img in &listed {
        cc.call(
            "CreateImage",
            json!({"ImageName": img["ImageName"], "InstanceId": "ins-abcdefgh"}),
        )
        .expect_code("InvalidImageName.Duplicate");
    }
    let fresh = cc.create("not-taken-before");
    assert!(fresh.starts_with("img-"));
}

#[test]
fn offline_backup_and_restore_round_trip_a_stopped_server() {
    let mut s = Server::start(Opts::default());
    let id = s.client().create("saved");
    s.terminate();
    let tmp = tempfile::tempdir().expect("tmp");
    let backup = tmp.path().join("bk");
    let out = Command::new(bin())
        .args(["backup", "--config"])
        .arg(&s.config)
        .arg("--data-dir")
        .arg(&s.data_dir)
        .arg("--to")
        .arg(&backup)
        .output()
        .expect("backup");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = tmp.path().join("restored");
    let out = Command::new(bin())
        .args(["restore", "--config"])
        .arg(&s.config)
        .arg("--data-dir")
        .arg(&restored)
        .arg("--from")
        .arg(&backup)
        .output()
        .expect("restore");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(bin())
        .args(["restore", "--config"])
        .arg(&s.config)
        .arg("--data-dir")
        .arg(&restored)
        .arg("--from")
        .arg(&backup)
        .output()
        .expect("restore again");
    assert!(
        !out.status.success(),
        "restore must refuse a non-empty data dir"
    );
    let r = Server::start_at(tmp.path(), &restored, &Opts::default());
    assert_eq!(
        r.client().image(&id).expect("restored image")["ImageName"],
        "saved"
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).expect("copy");
        }
    }
}

#[test]
fn copying_the_data_dir_of_a_stopped_server_is_a_backup() {
    let mut s = Server::start(Opts::default());
    let id = s.client().create("copied");
    s.terminate();
    let tmp = tempfile::tempdir().expect("tmp");
    let copy = tmp.path().join("copy");
    copy_dir(&s.data_dir, &copy);
    let c = Server::start_at(tmp.path(), &copy, &Opts::default());
    assert_eq!(c.client().image(&id).expect("img")["ImageName"], "copied");
}

#[test]
fn interval_durability_acknowledges_writes_that_a_graceful_restart_keeps() {
    let s = Server::start(Opts {
        durability: "interval",
        ..Opts::default()
    });
    let id = s.client().create("interval");
    let mut s = s;
    assert!(s.terminate().success());
    let s = s.restart();
    assert_eq!(s.client().image(&id).expect("img")["ImageName"], "interval");
}

#[test]
fn a_rejected_signature_logs_the_expected_canonical_request_at_debug_level() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cfg = tmp.path().join("c.toml");
    std::fs::write(&cfg, config_text(&tmp.path().join("d"), &Opts::default())).expect("write");
    let log = tmp.path().join("stderr.log");
    let mut child = Command::new(bin())
        .args(["serve", "--config"])
        .arg(&cfg)
        .env("CLOUDTWIN_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("spawn");
    let base = read_base(&mut child);
    Client::new(&base, SECRET_ID_1, "wrong-key")
        .call("DescribeImages", json!({}))
        .expect_code("AuthFailure.SignatureFailure");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).expect("read log");
    assert!(text.contains("canonical_request"), "{text}");
    assert!(text.contains("string_to_sign"), "{text}");
    assert!(text.contains("content-type;host"), "{text}");
}

#[test]
fn a_request_stuck_in_its_body_does_not_hold_a_stop_past_the_shutdown_grace() {
    use std::io::{Read, Write};
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let config = tmp.path().join("config.toml");
    std::fs::write(
        &config,
        config_text(&data, &Opts::default()) + "[server]\nshutdown_grace_ms = 500\n",
    )
    .expect("config");
    let mut child = Command::new(bin())
        .args(["serve", "--config"])
        .arg(&config)
        .env("CLOUDTWIN_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let base = read_base(&mut child);
    let host = host_of(&base);
    // A request whose body never comes: 10 of 100000 bytes.
    let mut stuck = std::net::TcpStream::connect(&host).expect("connect");
    stuck
        .write_all(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100000\r\n\r\n{\"Limit\":1",
        )
        .expect("write");
    // An answered request on another connection: by then the first one's header is read.
    let (code, _) = get_json(&format!("{base}/_cloudtwin/health"));
    assert_eq!(code, 200);
    let pid = child.id().to_string();
    let stopped = std::time::Instant::now();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    let deadline = stopped + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not stop within 30 s of SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let mut log = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut log)
        .expect("log");
    assert!(
        log.contains("shutdown grace over"),
        "the stuck request was cut off at the grace: {log}"
    );
    // The stuck client sees its connection closed, unanswered.
    let mut rest = Vec::new();
    let _ = stuck.read_to_end(&mut rest);
    assert!(
        rest.is_empty(),
        "no answer: {}",
        String::from_utf8_lossy(&rest)
    );
}
