//! Connection handling over real TCP against the real binary: the header-read and idle
//! timeouts, the connection cap (a full cap of idle and slow connections does not lock out
//! health probes or API clients), 413 for an over-limit `Content-Length` before the body,
//! keep-alive, and shutdown with idle connections open.
//!
//! Timing is only ever a generous upper bound polled to a deadline: a test waits for the
//! server to do something, never asserts how fast it did it.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

/// How long a test waits for the server before it calls the behaviour missing.
const PATIENCE: Duration = Duration::from_secs(20);

/// A server with `[server]` keys of the test's own, optionally under an open-file limit
/// (soft and hard, set by the shell before it execs the binary).
fn start(server_keys: &str, nofile: Option<u32>) -> Server {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let config = tmp.path().join("config.toml");
    let text = format!(
        "{}[server]\n{server_keys}\n",
        config_text(&data, &Opts::default())
    );
    std::fs::write(&config, text).expect("write config");
    let mut s = match nofile {
        None => Server::spawn(&config, &data),
        Some(n) => spawn_limited(&config, &data, n),
    };
    s._tmp = Some(tmp);
    s
}

fn spawn_limited(config: &Path, data: &Path, nofile: u32) -> Server {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {nofile} && exec \"$0\" \"$@\""))
        .arg(bin())
        .args(["serve", "--config"])
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .env("CLOUDTWIN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn cloudtwin under ulimit");
    let base = read_base(&mut child);
    Server {
        child,
        base,
        config: config.to_path_buf(),
        data_dir: data.to_path_buf(),
        _tmp: None,
    }
}

fn connect(s: &Server) -> TcpStream {
    let c = TcpStream::connect(s.host()).expect("connect");
    c.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("read timeout");
    c
}

fn health_request(s: &Server) -> String {
    format!(
        "GET /_cloudtwin/health HTTP/1.1\r\nHost: {}\r\n\r\n",
        s.host()
    )
}

/// Whether the server closed `c` (EOF or reset) before `within`; anything it sends first is
/// read and dropped.
fn closed_within(c: &mut TcpStream, within: Duration) -> bool {
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

/// One HTTP/1.1 answer read off `c` (status, head, body), waiting up to `within`.
fn read_answer(c: &mut TcpStream, within: Duration) -> Option<(u16, String, Vec<u8>)> {
    let until = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let mut head_end = None;
    let mut wanted = None;
    while Instant::now() < until {
        if let (Some(h), Some(n)) = (head_end, wanted) {
            if got.len() >= h + n {
                break;
            }
        }
        match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
        if head_end.is_none() {
            if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                head_end = Some(i + 4);
                let head = String::from_utf8_lossy(&got[..i]).to_ascii_lowercase();
                wanted = Some(
                    head.lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0),
                );
            }
        }
    }
    let h = head_end?;
    let head = String::from_utf8_lossy(&got[..h]).to_string();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let body = got[h..].to_vec();
    Some((status, head, body))
}

/// Sockets the process `pid` has open.
fn socket_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .map(|t| t.to_string_lossy().starts_with("socket:"))
                        .unwrap_or(false)
                })
                .count()
        })
        .unwrap_or(0)
}

fn get_health_status(s: &Server) -> Option<u16> {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(2))
        .build();
    match agent.get(&format!("{}/_cloudtwin/health", s.base)).call() {
        Ok(r) => Some(r.status()),
        Err(ureq::Error::Status(code, _)) => Some(code),
        Err(_) => None,
    }
}

#[test]
fn a_partial_request_header_is_closed_after_the_header_read_timeout() {
    let s = start(
        "header_read_timeout_ms = 300\nidle_timeout_ms = 600000",
        None,
    );
    let mut c = connect(&s);
    c.write_all(format!("GET /_cloudtwin/health HTTP/1.1\r\nHost: {}\r\n", s.host()).as_bytes())
        .expect("send part of a header");
    assert!(
        closed_within(&mut c, PATIENCE),
        "a header left unfinished must be closed after header_read_timeout_ms"
    );
    // A connection that says nothing at all is closed the same way.
    let mut silent = connect(&s);
    assert!(closed_within(&mut silent, PATIENCE));
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let s = start(
        "header_read_timeout_ms = 600000\nidle_timeout_ms = 300",
        None,
    );
    let mut c = connect(&s);
    c.write_all(health_request(&s).as_bytes()).expect("send");
    let (status, head, _) = read_answer(&mut c, PATIENCE).expect("an answer");
    assert_eq!(status, 200);
    assert!(
        !head.to_ascii_lowercase().contains("connection: close"),
        "HTTP/1.1 keeps the connection: {head}"
    );
    assert!(
        closed_within(&mut c, PATIENCE),
        "an idle keep-alive connection must be closed after idle_timeout_ms"
    );
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let s = Server::start(Opts::default());
    let mut c = connect(&s);
    for _ in 0..5 {
        c.write_all(health_request(&s).as_bytes()).expect("send");
        let (status, _, body) = read_answer(&mut c, PATIENCE).expect("an answer");
        assert_eq!(status, 200);
        assert!(String::from_utf8_lossy(&body).contains("\"ok\""));
    }
}

#[test]
fn a_request_in_flight_outlives_the_header_and_idle_timeouts() {
    let s = start(
        "header_read_timeout_ms = 2000\nidle_timeout_ms = 1000",
        None,
    );
    let body = json!({"account": ACCOUNT_1, "dialect": "tencent"}).to_string();
    let mut c = connect(&s);
    // The header now; `100 Continue` says the server parsed it and waits for the body, which
    // comes well after both timeouts: the request is in flight all that time.
    c.write_all(
        format!(
            "POST /_cloudtwin/reset HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            s.host(),
            body.len()
        )
        .as_bytes(),
    )
    .expect("send header");
    let (status, _, _) = read_answer(&mut c, PATIENCE).expect("100 Continue");
    assert_eq!(status, 100);
    std::thread::sleep(Duration::from_millis(4500));
    c.write_all(body.as_bytes()).expect("send body");
    let (status, _, answer) = read_answer(&mut c, PATIENCE).expect("an answer");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
}

#[test]
fn health_and_api_answer_with_the_cap_full_of_idle_and_slow_connections() {
    // 160 open files: without a cap, 200 held connections exhaust them.
    let s = start(
        "header_read_timeout_ms = 600000\nidle_timeout_ms = 600000\nmax_connections = 50",
        Some(160),
    );
    let base_sockets = socket_count(s.child.id());
    let mut held = Vec::new();
    for i in 0..200 {
        let Ok(mut c) = TcpStream::connect(s.host()) else {
            continue;
        };
        let _ = c.set_read_timeout(Some(Duration::from_millis(500)));
        match i % 4 {
            // silent
            0 => {}
            // slowloris: part of a header
            1 => {
                let _ = c.write_all(b"GET /_cloudtwin/health HTTP/1.1\r\nHost: x\r\n");
            }
            // keep-alive idle after one answer
            _ => {
                let _ = c.write_all(health_request(&s).as_bytes());
                let _ = read_answer(&mut c, Duration::from_secs(5));
            }
        }
        held.push(c);
    }
    let until = Instant::now() + PATIENCE;
    let mut health = None;
    while Instant::now() < until && health != Some(200) {
        health = get_health_status(&s);
    }
    assert_eq!(health, Some(200), "health must answer with the cap full");
    s.client().call("DescribeImages", json!({})).expect_ok();
    // The server holds no more sockets than the cap above what it had at rest (the listener,
    // the signal pipe), give or take one being closed.
    let most = base_sockets + 50 + 1;
    let until = Instant::now() + PATIENCE;
    let mut sockets = usize::MAX;
    while Instant::now() < until && sockets > most {
        sockets = socket_count(s.child.id());
    }
    assert!(
        sockets <= most,
        "{sockets} sockets open, {base_sockets} at rest, cap 50"
    );
    drop(held);
}

#[test]
fn an_over_limit_content_length_is_refused_with_413_before_the_body() {
    let s = Server::start(Opts::default());
    let mut c = connect(&s);
    c.write_all(
        format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nX-TC-Action: DescribeImages\r\nContent-Length: 20000000\r\n\r\n",
            s.host()
        )
        .as_bytes(),
    )
    .expect("send header");
    let (status, head, _) =
        read_answer(&mut c, Duration::from_secs(10)).expect("413 without the body");
    assert_eq!(status, 413, "{head}");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    assert!(closed_within(&mut c, PATIENCE), "closed after the 413");
}

#[test]
fn an_over_limit_state_document_is_refused_with_413_before_the_body() {
    let s = Server::start(Opts::default());
    let mut c = connect(&s);
    c.write_all(
        format!(
            "PUT /_cloudtwin/state HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            s.host(),
            (1u64 << 30) + 1
        )
        .as_bytes(),
    )
    .expect("send header");
    let (status, head, _) =
        read_answer(&mut c, Duration::from_secs(10)).expect("413 without the body");
    assert_eq!(status, 413, "{head}");
    assert!(closed_within(&mut c, PATIENCE), "closed after the 413");
    // A body under the limit is read and answered as before.
    let mut c = connect(&s);
    c.write_all(
        format!(
            "POST /_cloudtwin/seed HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nContent-Length: 2\r\n\r\n{{}}",
            s.host()
        )
        .as_bytes(),
    )
    .expect("send");
    let (status, _, _) = read_answer(&mut c, PATIENCE).expect("an answer");
    assert_ne!(status, 413);
}

#[test]
fn sigterm_with_idle_and_silent_connections_open_exits_zero() {
    let mut s = Server::start(Opts::default());
    let mut held = Vec::new();
    for i in 0..10 {
        let mut c = connect(&s);
        if i % 2 == 0 {
            c.write_all(health_request(&s).as_bytes()).expect("send");
            read_answer(&mut c, PATIENCE).expect("an answer");
        }
        held.push(c);
    }
    let pid = s.child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    let until = Instant::now() + PATIENCE;
    let mut status = None;
    while Instant::now() < until && status.is_none() {
        status = s.child.try_wait().expect("try_wait");
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = status.expect("exited while idle connections were open");
    assert!(status.success(), "{status:?}");
    drop(held);
}
