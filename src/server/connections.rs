//! The accept loop: every TCP connection is served by hyper's HTTP/1.1 server under three
//! limits that `axum::serve` does not have.
//!
//! - **Header-read timeout** (`server.header_read_timeout_ms`): a new connection must deliver
//!   a complete request header within it of being accepted; on a keep-alive connection the
//!   clock starts at the next request's first byte.
//! - **Idle timeout** (`server.idle_timeout_ms`): a keep-alive connection with no request in
//!   flight is closed after it.
//! - **Connection cap** (`server.max_connections`, lowered to the open-file limit minus
//!   [`FD_RESERVE`]): at the cap, the connection that has been idle longest (keep-alive idle,
//!   or still waiting for its first header) is closed to make room, as nginx reuses idle
//!   keep-alive connections; when every connection has a request in flight, the new one is
//!   closed at once. So idle or slow clients cannot lock out health probes or real clients,
//!   and the process never runs out of file descriptors by accepting.
//!
//! A connection with a request in flight (from the parsed header until its answer is written)
//! is never closed by a timeout or by eviction. Hyper's own header timer is not used: it also
//! runs while a keep-alive connection waits for its next request, so it would cap the idle
//! time at the header timeout.
//!
//! Every listener (the plain one, and the TLS one when `[tls] listen` is set) is served by the
//! same loop, under one cap and the same timeouts. On a TLS connection the handshake runs in
//! the connection's task, in the header phase: a client that connects and never completes it
//! is closed at the header-read timeout, and may be evicted like any idle connection.
//!
//! Graceful shutdown: stop accepting, close idle connections, let in-flight requests finish
//! (their connections close after the answer), then return; after `server.shutdown_grace_ms`
//! the requests still in flight are cut off (their connections are dropped unanswered).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::Router;
use hyper::body::{Bytes, Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

/// File descriptors kept free of connections: the store's files, the listener, stdio, the
/// runtime, backups and the request journal.
pub const FD_RESERVE: u64 = 64;

/// The limits in force.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// See `server.header_read_timeout_ms`.
    pub header_read_timeout: Duration,
    /// See `server.idle_timeout_ms`.
    pub idle_timeout: Duration,
    /// The effective cap (already lowered to the open-file limit).
    pub max_connections: usize,
    /// See `server.shutdown_grace_ms`.
    pub shutdown_grace: Duration,
}

impl Limits {
    /// The limits of a `[server]` table, the cap lowered below `open_files` (the soft
    /// RLIMIT_NOFILE) when there is one.
    pub fn new(cfg: &crate::config::ServerConfig, open_files: Option<u64>) -> Limits {
        let mut cap = cfg.max_connections;
        if let Some(n) = open_files {
            cap = cap.min(n.saturating_sub(FD_RESERVE)).max(1);
        }
        Limits {
            header_read_timeout: Duration::from_millis(cfg.header_read_timeout_ms),
            idle_timeout: Duration::from_millis(cfg.idle_timeout_ms),
            max_connections: usize::try_from(cap).unwrap_or(usize::MAX),
            shutdown_grace: Duration::from_millis(cfg.shutdown_grace_ms),
        }
    }
}

/// Raises the soft open-file limit to the hard one where it is lower, and returns the soft
/// limit in force (`None`: unlimited or unknown).
#[cfg(unix)]
pub fn raise_open_file_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own; no other memory is touched.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return None;
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct; failure (EPERM, above fs.nr_open) leaves
        // the old limit in force.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            lim.rlim_cur = lim.rlim_max;
        }
    }
    if lim.rlim_cur == libc::RLIM_INFINITY {
        None
    } else {
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every unix
        Some(lim.rlim_cur as u64)
    }
}

/// No open-file limit to read off unix.
#[cfg(not(unix))]
pub fn raise_open_file_limit() -> Option<u64> {
    None
}

/// Waiting for a complete request header (a new connection, or bytes of the next request).
const HEADER: u8 = 0;
/// Keep-alive: the last answer is written, no byte of the next request yet.
const KEEPALIVE: u8 = 1;
/// A request in flight: from its parsed header until its answer is written.
const BUSY: u8 = 2;
/// Chosen to be closed (timeout, eviction, shutdown).
const CLOSING: u8 = 3;

/// One connection's state, shared by its task, its service, its socket wrapper and the
/// acceptor (which may evict it).
struct Conn {
    phase: AtomicU8,
    /// When the phase began, milliseconds since the registry's base.
    since_ms: AtomicU64,
    /// Requests in flight (HTTP/1.1 serves one at a time; counted all the same).
    in_flight: AtomicU64,
    /// Set by the acceptor: close as soon as no request is in flight.
    evicted: AtomicBool,
    /// Wakes the connection's task to look at its state again.
    kick: Notify,
    base: Instant,
}

impl Conn {
    fn new(base: Instant) -> Conn {
        let conn = Conn {
            phase: AtomicU8::new(HEADER),
            since_ms: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            evicted: AtomicBool::new(false),
            kick: Notify::new(),
            base,
        };
        conn.stamp();
        conn
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn stamp(&self) {
        self.since_ms.store(self.now_ms(), Ordering::Release);
    }

    fn phase(&self) -> u8 {
        self.phase.load(Ordering::Acquire)
    }

    /// Idle (no request in flight): the only connections a timeout or eviction may close.
    fn is_idle(&self) -> bool {
        matches!(self.phase(), HEADER | KEEPALIVE)
    }

    /// Moves an idle connection to `CLOSING`; false when a request got in first.
    fn try_close(&self) -> bool {
        for from in [HEADER, KEEPALIVE] {
            if self
                .phase
                .compare_exchange(from, CLOSING, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return true;
            }
        }
        false
    }

    /// A request header was parsed: busy until the returned guard is dropped.
    fn begin(self: &Arc<Self>) -> BusyGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        // From HEADER, KEEPALIVE, or CLOSING when eviction chose this connection the moment
        // its request arrived: the request is served, and the task closes the connection
        // after it (`evicted` is set).
        self.phase.store(BUSY, Ordering::Release);
        BusyGuard(self.clone())
    }

    /// The last answer was written.
    fn end(&self) {
        if self.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.stamp();
            self.phase.store(KEEPALIVE, Ordering::Release);
            self.kick.notify_one();
        }
    }

    /// Bytes arrived: on a keep-alive connection, the next request's header has begun.
    fn saw_bytes(&self) {
        if self.phase() == KEEPALIVE {
            self.stamp();
            if self
                .phase
                .compare_exchange(KEEPALIVE, HEADER, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                self.kick.notify_one();
            }
        }
    }

    /// When the current phase runs out, if it can.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        let timeout = match self.phase() {
            HEADER => limits.header_read_timeout,
            KEEPALIVE => limits.idle_timeout,
            _ => return None,
        };
        let since = Duration::from_millis(self.since_ms.load(Ordering::Acquire));
        Some(self.base + since + timeout)
    }
}

/// Keeps a connection busy while a request's answer is being written.
struct BusyGuard(Arc<Conn>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// The open connections, for the cap and eviction.
struct Registry {
    base: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    cap: usize,
    /// When a refusal was last logged, ms since `base`.
    last_refusal_log: AtomicU64,
    /// When an accept error was last logged, ms since `base`.
    last_accept_error_log: AtomicU64,
}

/// What the acceptor decided about a new connection.
enum Admission {
    /// Serve it (its id, its state, whether another was evicted for it).
    Admit(u64, Arc<Conn>, bool),
    /// At the cap and every connection busy.
    Refuse,
}

impl Registry {
    fn admit(&self) -> Admission {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let mut evicted = false;
        while open.len() >= self.cap {
            let victim = open
                .iter()
                .filter(|(_, c)| c.is_idle())
                .min_by_key(|(_, c)| c.since_ms.load(Ordering::Acquire))
                .map(|(id, c)| (*id, c.clone()));
            let Some((id, conn)) = victim else {
                return Admission::Refuse;
            };
            // Whether or not a request got in first, it leaves the count: a busy one is
            // closed after its answer.
            open.remove(&id);
            conn.evicted.store(true, Ordering::Release);
            conn.try_close();
            conn.kick.notify_one();
            evicted = true;
            tracing::debug!(
                conn = id,
                "closed the longest-idle connection to admit a new one"
            );
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn::new(self.base));
        open.insert(id, conn.clone());
        Admission::Admit(id, conn, evicted)
    }

    fn remove(&self, id: u64) {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }

    /// Whether a log line rate-limited by `last` (ms since `base`) is due: at most one every
    /// 10 s.
    fn log_due(&self, last: &AtomicU64) -> bool {
        let now = u64::try_from(self.base.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let before = last.load(Ordering::Relaxed);
        (before == 0 || now.saturating_sub(before) >= 10_000)
            && last
                .compare_exchange(before, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// Removes a connection from the registry when its task ends.
struct Registered<'a> {
    registry: &'a Registry,
    id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.registry.remove(self.id);
    }
}

/// The largest body a request to `path` may declare; bigger `Content-Length`s are refused
/// before any of the body is read.
pub type BodyLimit = fn(&str) -> usize;

/// A listening socket, and for a TLS listener the server configuration its connections
/// handshake with.
pub struct Listener {
    tcp: TcpListener,
    tls: Option<TlsAcceptor>,
}

impl Listener {
    /// A plain HTTP listener.
    pub fn plain(tcp: TcpListener) -> Listener {
        Listener { tcp, tls: None }
    }

    /// An HTTPS listener.
    pub fn tls(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> Listener {
        Listener {
            tcp,
            tls: Some(TlsAcceptor::from(config)),
        }
    }
}

/// The next connection of any of `listeners` (taking turns from `turn`, so that a busy one
/// does not starve the other), with the index of its listener.
async fn accept_any(
    listeners: &[Listener],
    turn: usize,
) -> (usize, io::Result<(TcpStream, SocketAddr)>) {
    std::future::poll_fn(|cx| {
        for k in 0..listeners.len() {
            let i = (turn + k) % listeners.len();
            if let Poll::Ready(r) = listeners[i].tcp.poll_accept(cx) {
                return Poll::Ready((i, r));
            }
        }
        Poll::Pending
    })
    .await
}

/// Serves `router` on `listeners` until `shutdown` resolves, then drains (see the module
/// doc).
pub async fn serve(
    listeners: Vec<Listener>,
    router: Router,
    limits: Limits,
    body_limit: BodyLimit,
    shutdown: impl Future<Output = ()>,
) {
    let registry = Arc::new(Registry {
        base: Instant::now(),
        next_id: AtomicU64::new(1),
        open: Mutex::new(HashMap::new()),
        cap: limits.max_connections.max(1),
        last_refusal_log: AtomicU64::new(0),
        last_accept_error_log: AtomicU64::new(0),
    });
    // Every connection task holds a receiver; `closed()` is then "every task has ended".
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    let mut turn = 0usize;
    loop {
        let (which, accepted) = tokio::select! {
            r = accept_any(&listeners, turn) => r,
            _ = &mut shutdown => break,
        };
        turn = turn.wrapping_add(1);
        let (stream, peer) = match accepted {
            Ok((stream, peer)) => (stream, peer),
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // EMFILE and the like (evicted connections not yet closed): the pending
                // connection stays in the backlog until the next try.
                if registry.log_due(&registry.last_accept_error_log) {
                    tracing::warn!(error = %e, "accept failed; retrying (logged at most every 10 s)");
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(10)) => continue,
                    _ = &mut shutdown => break,
                }
            }
        };
        match registry.admit() {
            Admission::Admit(id, conn, evicted) => {
                let registry = registry.clone();
                let router = router.clone();
                let stop = stop_rx.clone();
                let tls = listeners[which].tls.clone();
                tokio::spawn(async move {
                    let _registered = Registered {
                        registry: &registry,
                        id,
                    };
                    let on = Served {
                        conn,
                        router,
                        limits,
                        body_limit,
                        stop,
                    };
                    match tls {
                        None => {
                            let info = ConnInfo {
                                peer,
                                secure: false,
                            };
                            serve_connection(stream, info, on).await;
                        }
                        Some(acceptor) => {
                            if let Some((stream, on)) = handshake(&acceptor, stream, on).await {
                                let info = ConnInfo { peer, secure: true };
                                serve_connection(stream, info, on).await;
                            }
                        }
                    }
                });
                if evicted {
                    // Let the evicted connection's task close its socket before the next
                    // accept needs a file descriptor.
                    tokio::task::yield_now().await;
                }
            }
            Admission::Refuse => {
                drop(stream);
                if registry.log_due(&registry.last_refusal_log) {
                    tracing::warn!(
                        max_connections = registry.cap,
                        "connection refused: every connection has a request in flight (logged at most every 10 s)"
                    );
                }
            }
        }
    }
    drop(listeners);
    drop(stop_rx);
    let open = registry.open.lock().map(|o| o.len()).unwrap_or(0);
    tracing::info!(
        connections = open,
        "stopped accepting; closing idle connections, finishing in-flight requests"
    );
    let _ = stop_tx.send(true);
    // A client that stops in the middle of sending a body keeps its request in flight for as
    // long as it likes: the drain has a deadline, after which the rest are cut off.
    if tokio::time::timeout(limits.shutdown_grace, stop_tx.closed())
        .await
        .is_err()
    {
        let open = registry.open.lock().map(|o| o.len()).unwrap_or(0);
        tracing::warn!(
            connections = open,
            grace_ms = limits.shutdown_grace.as_millis() as u64,
            "shutdown grace over: cutting off the requests still in flight (none was answered)"
        );
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// What serving one connection needs besides its stream.
struct Served {
    conn: Arc<Conn>,
    router: Router,
    limits: Limits,
    body_limit: BodyLimit,
    stop: watch::Receiver<bool>,
}

/// The TLS handshake of a new connection, in its header phase: it ends unfinished (and the
/// connection is closed) at the header-read timeout, at eviction and at shutdown.
async fn handshake(
    acceptor: &TlsAcceptor,
    stream: TcpStream,
    mut on: Served,
) -> Option<(tokio_rustls::server::TlsStream<TcpStream>, Served)> {
    let mut accept = pin!(acceptor.accept(stream));
    let conn = on.conn.clone();
    loop {
        let deadline = conn.deadline(&on.limits);
        let timer = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let stopping = tokio::select! {
            r = accept.as_mut() => {
                return match r {
                    Ok(tls) => Some((tls, on)),
                    Err(e) => {
                        tracing::debug!(error = %e, "TLS handshake failed");
                        None
                    }
                };
            }
            _ = conn.kick.notified() => false,
            _ = timer => false,
            _ = on.stop.changed() => true,
        };
        // No request can be in flight before the handshake ends: the connection is idle.
        let expired = conn
            .deadline(&on.limits)
            .is_some_and(|at| at <= Instant::now());
        if stopping || expired || conn.evicted.load(Ordering::Acquire) {
            conn.try_close();
            tracing::debug!(
                "closed a connection during its TLS handshake: header-read timeout, eviction or shutdown"
            );
            return None;
        }
    }
}

/// One connection: hyper's HTTP/1.1 state machine over `stream` (TCP, or TLS after its
/// handshake), watched for timeouts, eviction and shutdown.
async fn serve_connection<S>(stream: S, info: ConnInfo, on: Served)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Served {
        conn,
        router,
        limits,
        body_limit,
        mut stop,
    } = on;
    let io = TokioIo::new(Watched {
        inner: stream,
        conn: conn.clone(),
    });
    let service = ConnService {
        router: TowerToHyperService::new(router),
        conn: conn.clone(),
        body_limit,
        info,
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.keep_alive(true).header_read_timeout(None);
    let mut http = pin!(builder.serve_connection(io, service));
    let mut draining = false;
    let mut graceful = false;
    loop {
        let deadline = conn.deadline(&limits);
        let timer = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = http.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = conn.kick.notified() => {}
            _ = timer => {
                // The phase may have moved on since the deadline was computed.
                if conn.deadline(&limits).is_some_and(|at| at <= Instant::now()) && conn.try_close() {
                    tracing::debug!("closed a connection: header-read or idle timeout");
                    return;
                }
            }
            _ = stop.changed(), if !draining => {
                draining = true;
            }
        }
        if draining || conn.evicted.load(Ordering::Acquire) {
            if conn.phase() == CLOSING || conn.try_close() {
                return;
            }
            // A request is in flight: answer it, then close.
            if !graceful {
                graceful = true;
                http.as_mut().graceful_shutdown();
            }
        }
    }
}

/// The per-connection service: refuses an over-limit `Content-Length` at once, marks the
/// connection busy for the life of the request and its answer, and hands the rest to axum.
#[derive(Clone)]
struct ConnService {
    router: TowerToHyperService<Router>,
    conn: Arc<Conn>,
    body_limit: BodyLimit,
    info: ConnInfo,
}

/// What a request knows about its connection (an extension of every request): the peer's
/// address and whether it came over TLS.
#[derive(Debug, Clone, Copy)]
pub struct ConnInfo {
    /// The TCP peer.
    pub peer: SocketAddr,
    /// Whether the connection is TLS.
    pub secure: bool,
}

type ServiceFuture =
    Pin<Box<dyn Future<Output = Result<Response<GuardedBody>, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<GuardedBody>;
    type Error = Infallible;
    type Future = ServiceFuture;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        req.extensions_mut().insert(self.info);
        let guard = self.conn.begin();
        let limit = (self.body_limit)(req.uri().path());
        if let Some(declared) = declared_length(&req).filter(|n| *n > limit as u64) {
            tracing::info!(
                path = req.uri().path(),
                content_length = declared,
                limit,
                "refused a request body over the limit before reading it"
            );
            let answer = too_large(declared, limit).map(|body| GuardedBody {
                inner: body,
                _guard: guard,
            });
            return Box::pin(std::future::ready(Ok(answer)));
        }
        let call = hyper::service::Service::call(&self.router, req);
        Box::pin(async move {
            let answer = call.await?;
            Ok(answer.map(|body| GuardedBody {
                inner: body,
                _guard: guard,
            }))
        })
    }
}

fn declared_length(req: &Request<Incoming>) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// 413 with `Connection: close`: hyper writes it, reads none of the body, and closes.
fn too_large(declared: u64, limit: usize) -> Response<Body> {
    let body = json!({
        "error": format!("the request body of {declared} bytes (Content-Length) is over the limit of {limit} bytes"),
        "limit": limit,
    });
    let mut answer = Response::new(Body::from(body.to_string()));
    *answer.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
    let headers = answer.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    answer
}

/// An answer's body that keeps its connection busy until hyper has written and dropped it.
struct GuardedBody {
    inner: Body,
    _guard: BusyGuard,
}

impl hyper::body::Body for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The socket (or the TLS stream over it), telling its connection when bytes arrive.
struct Watched<S> {
    inner: S,
    conn: Arc<Conn>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.conn.saw_bytes();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(cap: usize) -> Registry {
        Registry {
            base: Instant::now(),
            next_id: AtomicU64::new(1),
            open: Mutex::new(HashMap::new()),
            cap,
            last_refusal_log: AtomicU64::new(0),
            last_accept_error_log: AtomicU64::new(0),
        }
    }

    fn admitted(a: Admission) -> (u64, Arc<Conn>) {
        match a {
            Admission::Admit(id, conn, _) => (id, conn),
            Admission::Refuse => panic!("refused"),
        }
    }

    #[test]
    fn the_cap_stays_under_the_open_file_limit() {
        let cfg = crate::config::ServerConfig::default();
        assert_eq!(Limits::new(&cfg, None).max_connections, 4096);
        assert_eq!(
            Limits::new(&cfg, Some(1024)).max_connections,
            1024 - FD_RESERVE as usize
        );
        assert_eq!(Limits::new(&cfg, Some(1 << 20)).max_connections, 4096);
        assert_eq!(Limits::new(&cfg, Some(10)).max_connections, 1);
    }

    #[test]
    fn at_the_cap_the_longest_idle_connection_makes_room() {
        let r = registry(2);
        let (first, a) = admitted(r.admit());
        let (_, b) = admitted(r.admit());
        // `a` is busy, so `b` (idle) is the one to go, though `a` is older.
        let guard = a.begin();
        let (_, c) = admitted(r.admit());
        assert!(b.evicted.load(Ordering::Acquire));
        assert_eq!(b.phase(), CLOSING);
        assert!(!a.evicted.load(Ordering::Acquire));
        // Every connection busy: the next one is refused.
        let _busy = c.begin();
        assert!(matches!(r.admit(), Admission::Refuse));
        // `a`'s answer written: it is idle again, and evicted for the next.
        drop(guard);
        assert_eq!(a.phase(), KEEPALIVE);
        admitted(r.admit());
        assert!(a.evicted.load(Ordering::Acquire));
        r.remove(first);
        assert_eq!(r.open.lock().map(|o| o.len()).unwrap_or(0), 2);
    }

    #[test]
    fn a_request_arriving_as_its_connection_is_evicted_is_still_served() {
        let r = registry(1);
        let (_, a) = admitted(r.admit());
        admitted(r.admit());
        assert_eq!(a.phase(), CLOSING);
        // The header was parsed just then: busy, so the task answers before closing.
        let _guard = a.begin();
        assert_eq!(a.phase(), BUSY);
        assert!(!a.try_close());
    }

    #[test]
    fn body_limits_follow_the_routes() {
        assert_eq!(
            crate::server::body_limit("/"),
            crate::dialect::tencent::MAX_BODY_BYTES + 1
        );
        assert_eq!(
            crate::server::body_limit("/_cloudtwin/state"),
            crate::admin::MAX_STATE_BYTES
        );
        assert_eq!(
            crate::server::body_limit("/_cloudtwin/seed"),
            crate::admin::MAX_STATE_BYTES
        );
    }
}
