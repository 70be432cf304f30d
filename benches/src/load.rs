//! A load generator: N keep-alive HTTP/1.1 connections over loopback, each sending requests
//! built (and signed) by a closure, for a fixed time; latencies of every answer are kept.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Run {
    /// Requests answered per second.
    pub rps: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Answers that were not the expected kind.
    pub errors: u64,
    /// Answers counted.
    pub count: u64,
}

/// Builds one request: `(connection index, sequence number) -> raw HTTP bytes`.
pub type Build = Arc<dyn Fn(usize, u64) -> Vec<u8> + Send + Sync>;
/// Checks one answer: `(status, body) -> ok`.
pub type Check = Arc<dyn Fn(u16, &[u8]) -> bool + Send + Sync>;

/// An answer: status, body, and whether the server closes the connection after it.
pub type Answer = (u16, Vec<u8>, bool);

/// Sends one request on a connection and reads the answer, giving up after 300 s (a server
/// that stops answering must not hang the bench).
pub async fn exchange(
    stream: &mut TcpStream,
    req: &[u8],
    buf: &mut Vec<u8>,
) -> std::io::Result<Answer> {
    match tokio::time::timeout(Duration::from_secs(300), exchange_inner(stream, req, buf)).await {
        Ok(r) => r,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "no answer in 300 s",
        )),
    }
}

async fn exchange_inner(
    stream: &mut TcpStream,
    req: &[u8],
    buf: &mut Vec<u8>,
) -> std::io::Result<Answer> {
    stream.write_all(req).await?;
    buf.clear();
    let mut chunk = [0u8; 16384];
    let (head_end, status, len, close) = loop {
        read_more(stream, &mut chunk, buf).await?;
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..pos]).to_string();
            let status = head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let len = header(&head, "content-length")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            // moto's server (werkzeug) answers `Connection: close` to every request.
            let close =
                header(&head, "connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
            break (pos + 4, status, len, close);
        }
    };
    while buf.len() < head_end + len {
        read_more(stream, &mut chunk, buf).await?;
    }
    Ok((status, buf[head_end..head_end + len].to_vec(), close))
}

/// Reads what has arrived into `buf`; a closed connection is an error.
async fn read_more(
    stream: &mut TcpStream,
    chunk: &mut [u8],
    buf: &mut Vec<u8>,
) -> std::io::Result<()> {
    let n = stream.read(chunk).await?;
    if n == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "closed",
        ));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

/// The value of a response header (case-insensitive name).
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Drives `conns` connections to `addr` for `warmup` then `duration`.
pub async fn drive(
    addr: &str,
    conns: usize,
    warmup: Duration,
    duration: Duration,
    build: Build,
    check: Check,
) -> Run {
    drive_spread(&[addr.to_string()], conns, warmup, duration, build, check).await
}

/// [`drive`] over several servers: connection `c` goes to `addrs[c % addrs.len()]`.
pub async fn drive_spread(
    addrs: &[String],
    conns: usize,
    warmup: Duration,
    duration: Duration,
    build: Build,
    check: Check,
) -> Run {
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..conns {
        let (addr, stop, measuring, errors, build, check) = (
            addrs[c % addrs.len()].clone(),
            stop.clone(),
            measuring.clone(),
            errors.clone(),
            build.clone(),
            check.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut stream = match TcpStream::connect(&addr).await {
                Ok(s) => s,
                Err(_) => return lat,
            };
            let _ = stream.set_nodelay(true);
            let mut buf = Vec::with_capacity(65536);
            let mut seq = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let req = build(c, seq);
                seq += 1;
                let t = Instant::now();
                match exchange(&mut stream, &req, &mut buf).await {
                    Ok((status, body, close)) => {
                        let ms = t.elapsed().as_secs_f64() * 1000.0;
                        if measuring.load(Ordering::Relaxed) {
                            if !check(status, &body) {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                            lat.push(ms);
                        }
                        if close {
                            match TcpStream::connect(&addr).await {
                                Ok(s) => stream = s,
                                Err(_) => break,
                            }
                            let _ = stream.set_nodelay(true);
                        }
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        match TcpStream::connect(&addr).await {
                            Ok(s) => stream = s,
                            Err(_) => break,
                        }
                    }
                }
            }
            lat
        }));
    }
    tokio::time::sleep(warmup).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(duration).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        if let Ok(l) = t.await {
            all.extend(l);
        }
    }
    all.sort_by(|a, b| a.total_cmp(b));
    Run {
        rps: all.len() as f64 / elapsed,
        p50_ms: percentile(&all, 0.50),
        p99_ms: percentile(&all, 0.99),
        errors: errors.load(Ordering::Relaxed),
        count: all.len() as u64,
    }
}

/// A one-off request on a fresh connection.
pub async fn once(addr: &str, req: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr).await?;
    let mut buf = Vec::new();
    exchange(&mut s, req, &mut buf)
        .await
        .map(|(status, body, _)| (status, body))
}

/// Sends `total` requests over `conns` connections as fast as they are answered (loading
/// data); returns the failures.
pub async fn blast(addr: &str, conns: usize, total: u64, build: Build, check: Check) -> u64 {
    blast_spread(&[addr.to_string()], conns, total, build, check).await
}

/// [`blast`] over several servers: connection `c` goes to `addrs[c % addrs.len()]`.
pub async fn blast_spread(
    addrs: &[String],
    conns: usize,
    total: u64,
    build: Build,
    check: Check,
) -> u64 {
    let next = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..conns {
        let (addr, next, failures, build, check) = (
            addrs[c % addrs.len()].clone(),
            next.clone(),
            failures.clone(),
            build.clone(),
            check.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let Ok(mut stream) = TcpStream::connect(&addr).await else {
                return;
            };
            let _ = stream.set_nodelay(true);
            let mut buf = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return;
                }
                let req = build(c, i);
                let reconnect = match exchange(&mut stream, &req, &mut buf).await {
                    Ok((status, body, close)) => {
                        if !check(status, &body) {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                        close
                    }
                    Err(_) => {
                        failures.fetch_add(1, Ordering::Relaxed);
                        true
                    }
                };
                if reconnect {
                    match TcpStream::connect(&addr).await {
                        Ok(s) => stream = s,
                        Err(_) => return,
                    }
                    let _ = stream.set_nodelay(true);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    failures.load(Ordering::Relaxed)
}

/// Holds `n` idle connections to `addr` until `stop`: half say nothing (waiting for their
/// first header), half are keep-alive idle after one `GET /_cloudtwin/health`. After the
/// `n` are open it keeps opening `per_second` new ones, each replacing the oldest, so a
/// server at its connection cap must keep making room. Returns the connections opened.
pub async fn hold_idle(addr: String, n: usize, per_second: u32, stop: Arc<AtomicBool>) -> u64 {
    let mut held = std::collections::VecDeque::with_capacity(n);
    let mut opened = 0u64;
    let mut buf = Vec::new();
    let health = format!("GET /_cloudtwin/health HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let pause = Duration::from_secs(1) / per_second.max(1);
    while !stop.load(Ordering::Relaxed) {
        let Ok(Ok(mut s)) =
            tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(&addr)).await
        else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        if opened % 2 == 1 {
            let _ = tokio::time::timeout(
                Duration::from_secs(2),
                exchange(&mut s, health.as_bytes(), &mut buf),
            )
            .await;
        }
        opened += 1;
        held.push_back(s);
        if held.len() > n {
            held.pop_front();
        }
        if held.len() >= n {
            tokio::time::sleep(pause).await;
        }
    }
    opened
}
