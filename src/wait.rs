//! `cloudtwin wait`: polls `GET /_cloudtwin/health` until it answers 200, for CI scripts.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

fn health_status(host_port: &str) -> Result<u16, String> {
    let addr = host_port
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or_else(|| format!("{host_port} does not resolve"))?;
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET /_cloudtwin/health HTTP/1.1\r\nHost: {host_port}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).map_err(|e| e.to_string())?;
    let line = String::from_utf8_lossy(&buf)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("unexpected answer {line:?}"))
}

/// Returns `Ok` once the server at `url` (`http://host:port`) is healthy, or an error after
/// `timeout`.
pub fn until_healthy(url: &str, timeout: Duration) -> Result<(), String> {
    let host_port = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("--url {url:?} must start with http://"))?
        .split('/')
        .next()
        .unwrap_or("")
        .to_string();
    let started = Instant::now();
    loop {
        let last = match health_status(&host_port) {
            Ok(200) => {
                println!(
                    "{url} is ready after {:.2}s",
                    started.elapsed().as_secs_f64()
                );
                return Ok(());
            }
            Ok(code) => format!("health answered {code}"),
            Err(e) => e,
        };
        if started.elapsed() >= timeout {
            return Err(format!(
                "{url} was not ready within {:.1}s: {last}",
                timeout.as_secs_f64()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
