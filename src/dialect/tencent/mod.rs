//! Tencent Cloud API 3.0, CVM 2017-03-12.
//!
//! A request goes through, in this order (cvm.md §3.5): method and size, signing style,
//! action and version, signature ([`verify::verify`]), rate limit, region, parameters,
//! then the action. Every answer, error or not, is the envelope of [`envelope`].

pub mod actions;
pub mod envelope;
pub mod error;
pub mod params;
pub mod router;
pub mod sign;
pub mod verify;

use axum::http::{HeaderMap, Method};
use axum::response::Response;

use crate::cvm::{regions, Caller};
use crate::dialect::RequestLog;
use crate::server::App;
use error::{Code, TcError};
use params::Params;
use router::{Action, VERSION};
use verify::{headers, Signed, Style};

/// Largest GET query string (bytes).
pub const MAX_QUERY_BYTES: usize = 32 * 1024;
/// Largest POST body (bytes).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Parameters of the v1 style that are not business parameters.
const V1_COMMON: &[&str] = &[
    "Action",
    "Version",
    "Region",
    "Timestamp",
    "Nonce",
    "SecretId",
    "SignatureMethod",
    "Signature",
    "Token",
    "Language",
    "RequestClient",
];

/// Whether a request speaks this dialect: an `X-TC-Action` header, a TC3 `Authorization`, or
/// `Version=2017-03-12` among its parameters.
pub fn recognises(headers: &HeaderMap, pairs: &[(String, String)]) -> bool {
    headers.contains_key(headers::ACTION)
        || headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.starts_with(sign::TC3_ALGORITHM))
        || pairs.iter().any(|(k, v)| k == "Version" && v == VERSION)
}

/// One request, as the server hands it over.
pub struct Incoming<'a> {
    /// HTTP method.
    pub method: &'a Method,
    /// Raw query string.
    pub raw_query: &'a str,
    /// Headers.
    pub headers: &'a HeaderMap,
    /// Raw body.
    pub body: &'a [u8],
    /// Decoded form parameters: the query for GET, the body for a form POST.
    pub pairs: &'a [(String, String)],
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn param<'p>(pairs: &'p [(String, String)], name: &str) -> Option<&'p str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Answers one request.
pub async fn handle(app: &App, req: Incoming<'_>, log: &mut RequestLog) -> Response {
    let result = process(app, &req, log).await;
    match result {
        Ok(fields) => {
            log.code = "Success".into();
            envelope::success(&log.request_id, fields)
        }
        Err(e) => {
            log.code = e.code_str().into();
            envelope::error(&log.request_id, &e)
        }
    }
}

async fn process(
    app: &App,
    req: &Incoming<'_>,
    log: &mut RequestLog,
) -> Result<actions::Output, TcError> {
    if req.method != Method::GET && req.method != Method::POST {
        return Err(TcError::new(
            Code::UnsupportedProtocol,
            format!(
                "HTTP method {} is not supported: only GET and POST are.",
                req.method
            ),
        ));
    }
    if req.raw_query.len() > MAX_QUERY_BYTES || req.body.len() > MAX_BODY_BYTES {
        return Err(TcError::new(
            Code::RequestSizeLimitExceeded,
            "The request is too large: GET queries are limited to 32 KB and POST bodies to 10 MB.",
        ));
    }
    let style = match header(req.headers, "authorization") {
        Some(a) if a.starts_with(sign::TC3_ALGORITHM) => Style::Tc3,
        Some(_) => {
            return Err(TcError::new(
                Code::AuthFailureInvalidAuthorization,
                "The Authorization header is not a TC3-HMAC-SHA256 authorization.",
            ))
        }
        None if param(req.pairs, "Signature").is_some()
            || param(req.pairs, "SecretId").is_some() =>
        {
            Style::V1
        }
        None if req.headers.contains_key(headers::ACTION) => {
            return Err(TcError::new(
                Code::AuthFailureInvalidAuthorization,
                "The request has no Authorization header.",
            ))
        }
        None => Style::V1,
    };
    let (action_name, version) = match style {
        Style::Tc3 => (
            header(req.headers, headers::ACTION),
            header(req.headers, headers::VERSION),
        ),
        Style::V1 => (param(req.pairs, "Action"), param(req.pairs, "Version")),
    };
    let action_name = action_name.ok_or_else(|| TcError::missing("Action"))?;
    log.action = action_name.to_string();
    let action = Action::from_name(action_name).ok_or_else(|| {
        TcError::new(
            Code::InvalidAction,
            format!("The request action=`{action_name}` is invalid or not found in service=`cvm` and version=`{VERSION}`."),
        )
    })?;
    let version = version.ok_or_else(|| TcError::missing("Version"))?;
    if version != VERSION {
        return Err(TcError::new(
            Code::NoSuchVersion,
            format!(
                "The API version `{version}` does not exist for service `cvm`; use `{VERSION}`."
            ),
        ));
    }

    let signed = Signed {
        method: req.method,
        raw_query: req.raw_query,
        headers: req.headers,
        body: req.body,
        pairs: req.pairs,
    };
    let account = verify::verify(
        style,
        &signed,
        &app.accounts,
        app.config.auth.max_skew_seconds,
    )?;
    log.account = account.id.clone();

    if let Some(f) = app.faults.pick("tencent", action.name(), &account.id) {
        if f.latency_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(f.latency_ms)).await;
        }
        if let Some(e) = f.error {
            return Err(TcError::injected(
                &e.code,
                e.message.as_deref().unwrap_or_default(),
            ));
        }
    }

    if let Err(over) = app.limits.check(
        "tencent",
        action.name(),
        Some(action.documented_limit()),
        &account.id,
    ) {
        return Err(TcError::new(
            Code::RequestLimitExceeded,
            format!(
                "Your current request times equals to `{}` in a second, which exceeds the frequency limit `{}` for a second. Please reduce the frequency of calls.",
                over.count, over.limit
            ),
        ));
    }

    let region = match style {
        Style::Tc3 => header(req.headers, headers::REGION),
        Style::V1 => param(req.pairs, "Region"),
    }
    .filter(|r| !r.is_empty())
    .ok_or_else(|| TcError::missing("Region"))?;
    log.region = region.to_string();
    if !regions::is_known(region) {
        return Err(TcError::new(
            Code::InvalidParameterValue,
            format!("A value specified in `Region` is not valid, is unsupported, or cannot be used: `{region}`."),
        ));
    }

    let params = match style {
        Style::Tc3 if req.method == Method::POST && is_json(req.headers) => {
            Params::from_json(req.body)?
        }
        Style::Tc3 => Params::from_pairs(req.pairs)?,
        Style::V1 => {
            let business: Vec<(String, String)> = req
                .pairs
                .iter()
                .filter(|(k, _)| !V1_COMMON.contains(&k.as_str()))
                .cloned()
                .collect();
            Params::from_pairs(&business)?
        }
    };
    let ctx = actions::Ctx {
        cvm: &app.cvm,
        accounts: &app.accounts,
        caller: Caller {
            account: &account.id,
            region,
        },
    };
    actions::dispatch(action, &params, &ctx).await
}

fn is_json(headers: &HeaderMap) -> bool {
    header(headers, "content-type")
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
        .unwrap_or(false)
}
