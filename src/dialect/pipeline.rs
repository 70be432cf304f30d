//! The one request pipeline of the cloud dialects. A dialect is a [`Dialect`] implementation;
//! [`handle`] runs its stages in the documented order, the same for every dialect:
//!
//! 1. **route**: method, size, signing style, action (`InvalidAction`) and version;
//! 2. **verify**: the signature (the single door: nothing below sees an unverified request);
//! 3. **authorize**: a sub-user's or role session's policies, after reading the region they
//!    name (the account's own key may do everything in its account, so the stage is skipped
//!    for it);
//! 4. **faults**: an injected latency or error (test settings);
//! 5. **limit**: the per-(account, action) rate limit;
//! 6. **region** (for a root key; a policy-checked request read it in stage 3);
//! 7. **run**: decode the parameters, validate, call the domain;
//!
//! then the dialect's envelope, the metrics, the one log line and the request journal. A new
//! cross-cutting stage is one edit here.

use std::future::Future;
use std::time::Instant;

use axum::http::{HeaderMap, Method};
use axum::response::Response;

use crate::access::Verified;
use crate::config::LogFormat;
use crate::faults::{FaultError, Faults};
use crate::journal::Journal;
use crate::metrics::Metrics;
use crate::ratelimit::{Exceeded, RateLimits};

use super::RequestLog;

/// One cloud API request as the server hands it over.
pub struct Request<'a> {
    /// HTTP method.
    pub method: &'a Method,
    /// Path (always `/` for the cloud APIs).
    pub path: &'a str,
    /// Raw query string.
    pub raw_query: &'a str,
    /// Headers.
    pub headers: &'a HeaderMap,
    /// Raw body.
    pub body: &'a [u8],
    /// Decoded query-string parameters.
    pub query: &'a [(String, String)],
    /// Decoded form-body parameters (empty unless a form POST).
    pub form: &'a [(String, String)],
    /// The TCP peer's address (`None` when the request did not come through the listener).
    pub peer: Option<std::net::IpAddr>,
    /// Whether the request came over TLS.
    pub secure: bool,
}

impl Request<'_> {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the body is a form (`application/x-www-form-urlencoded`).
    pub fn is_form(&self) -> bool {
        content_type_is(self.headers, "application/x-www-form-urlencoded")
    }
}

/// Whether the `Content-Type` (without parameters) is `mime`, case-insensitively.
pub fn content_type_is(headers: &HeaderMap, mime: &str) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case(mime)
        })
}

/// What the stages shared by every dialect use.
pub struct Shared<'a> {
    /// Fault-injection rules.
    pub faults: &'a Faults,
    /// Request limits.
    pub limits: &'a RateLimits,
    /// Request counters and latencies.
    pub metrics: &'a Metrics,
    /// The request journal.
    pub journal: &'a Journal,
    /// How much the per-request log line says.
    pub log_format: LogFormat,
}

/// A cloud dialect: the stages of [`handle`] that differ between the clouds.
pub trait Dialect: Sync {
    /// Name in logs, metrics, rate-limit keys and fault rules.
    const NAME: &'static str;
    /// What the route stage found: the signing style, the action, the version.
    type Route: Send + Sync;
    /// The dialect's error (one enum, one table to wire codes).
    type Error: Send;
    /// A successful action's output fields.
    type Output: Send;

    /// A new request id, in the cloud's own form.
    fn request_id(&self) -> String {
        super::request_uuid().to_string()
    }

    /// Method, size, style, action and version. `sent` receives the action name as sent, for
    /// the log, as soon as it is read.
    fn route(&self, req: &Request<'_>, sent: &mut String) -> Result<Self::Route, Self::Error>;

    /// The action's wire name (a known action).
    fn action(route: &Self::Route) -> &'static str;

    /// The limit the cloud documents for the action, if it documents one.
    fn documented_limit(route: &Self::Route) -> Option<u32>;

    /// The signature: who signed the request.
    fn verify(&self, req: &Request<'_>, route: &Self::Route) -> Result<Verified, Self::Error>;

    /// The access policies of a signer that is not an account's root key: `Ok` when they
    /// allow the action on every resource it names (or the mode is `soft`/`off`). A denial
    /// names `request_id` where the cloud's message does.
    fn authorize(
        &self,
        req: &Request<'_>,
        route: &Self::Route,
        who: &Verified,
        region: &str,
        request_id: &str,
    ) -> Result<(), Self::Error>;

    /// The error an injected fault answers.
    fn injected(&self, e: &FaultError) -> Self::Error;

    /// The error of a request over its rate limit.
    fn throttled(&self, over: Exceeded) -> Self::Error;

    /// The request's region.
    fn region(&self, req: &Request<'_>, route: &Self::Route) -> Result<String, Self::Error>;

    /// Decodes the parameters and runs the action for `who` in `region`.
    fn run(
        &self,
        req: &Request<'_>,
        route: &Self::Route,
        who: &Verified,
        region: &str,
    ) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send;

    /// The wire code of an error, for the log and the metrics.
    fn code(e: &Self::Error) -> String;

    /// The success envelope.
    fn success(&self, request_id: &str, req: &Request<'_>, out: Self::Output) -> Response;

    /// The error envelope.
    fn failure(&self, request_id: &str, req: &Request<'_>, e: &Self::Error) -> Response;
}

/// Runs the stages up to the action; fills `log` as they learn things.
async fn stages<D: Dialect>(
    d: &D,
    shared: &Shared<'_>,
    req: &Request<'_>,
    log: &mut RequestLog,
) -> Result<D::Output, D::Error> {
    let route = d.route(req, &mut log.action)?;
    let action = D::action(&route);
    log.action = action.to_string();
    log.known = true;

    let who = d.verify(req, &route)?;
    let account = who.account.clone();
    log.account = account.id.clone();
    // A policy names the region, so the policy stage reads it first (an account's root key
    // skips the stage, and its requests read the region after the rate limit, as before).
    let mut region = None;
    if !who.is_root() {
        log.principal = who.display_name();
        let r = d.region(req, &route)?;
        d.authorize(req, &route, &who, &r, &log.request_id)?;
        region = Some(r);
    }

    if let Some(f) = shared.faults.pick(D::NAME, action, &account.id) {
        if f.latency_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(f.latency_ms)).await;
        }
        if let Some(e) = f.error {
            return Err(d.injected(&e));
        }
    }

    if let Err(over) =
        shared
            .limits
            .check(D::NAME, action, D::documented_limit(&route), &account.id)
    {
        return Err(d.throttled(over));
    }

    let region = match region {
        Some(r) => r,
        None => d.region(req, &route)?,
    };
    log.region = region.clone();

    d.run(req, &route, &who, &region).await
}

/// Answers one request of dialect `d`: every stage, the envelope, metrics, the log line and
/// the journal.
pub async fn handle<D: Dialect>(d: &D, shared: &Shared<'_>, req: &Request<'_>) -> Response {
    let started = Instant::now();
    let mut log = RequestLog {
        request_id: d.request_id(),
        dialect: D::NAME,
        ..RequestLog::default()
    };
    let response = match stages(d, shared, req, &mut log).await {
        Ok(out) => {
            log.code = "Success".into();
            d.success(&log.request_id, req, out)
        }
        Err(e) => {
            log.code = D::code(&e);
            d.failure(&log.request_id, req, &e)
        }
    };
    finish(shared, req, &log, started, response).await
}

/// Metrics, the log line and the journal of an answered request (also for requests no dialect
/// claims).
pub async fn finish(
    shared: &Shared<'_>,
    req: &Request<'_>,
    log: &RequestLog,
    started: Instant,
    response: Response,
) -> Response {
    let elapsed = started.elapsed();
    shared.metrics.observe(
        log.dialect,
        if log.known { &log.action } else { "unknown" },
        &log.code,
        elapsed,
    );
    let latency_us = elapsed.as_micros() as u64;
    match shared.log_format {
        LogFormat::Short => tracing::info!(
            request_id = %log.request_id,
            dialect = log.dialect,
            action = %log.action,
            account = %log.account,
            code = %log.code,
            latency_us,
            "request"
        ),
        LogFormat::Full => tracing::info!(
            request_id = %log.request_id,
            dialect = log.dialect,
            action = %log.action,
            account = %log.account,
            principal = %log.principal,
            region = %log.region,
            code = %log.code,
            latency_us,
            "request"
        ),
    }
    if !shared.journal.enabled() {
        return response;
    }
    let (parts, body_out) = response.into_parts();
    let bytes = axum::body::to_bytes(body_out, usize::MAX)
        .await
        .unwrap_or_default();
    shared.journal.record(&crate::journal::Exchange {
        request_id: &log.request_id,
        dialect: log.dialect,
        method: req.method.as_str(),
        path: req.path,
        query: req.raw_query,
        headers: req.headers,
        body: req.body,
        form: *req.method == Method::POST && req.is_form(),
        status: parts.status.as_u16(),
        response: &bytes,
    });
    Response::from_parts(parts, axum::body::Body::from(bytes))
}
