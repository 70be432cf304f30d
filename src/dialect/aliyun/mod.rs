//! Alibaba Cloud RPC dialect, IMM 2020-09-30 (imm.md).
//!
//! A request goes through, in this order: method, signing style, action and version,
//! signature ([`verify::verify`]), rate limit, region, then the action. Parameters come from
//! the query string and a form body, merged; every answer is the envelope of [`envelope`].

pub mod actions;
pub mod envelope;
pub mod error;
pub mod params;
pub mod render;
pub mod router;
pub mod sign;
pub mod verify;

use axum::http::{HeaderMap, Method};
use axum::response::Response;

use crate::dialect::RequestLog;
use crate::imm::Caller;
use crate::server::App;
use error::{AliError, Code};
use params::Params;
use router::{Action, VERSION};
use verify::{Signed, Style};

/// Regions of IMM (imm.md §1.1).
pub const REGIONS: &[&str] = &[
    "cn-beijing",
    "cn-zhangjiakou",
    "cn-hangzhou",
    "cn-shanghai",
    "cn-shenzhen",
    "cn-qingdao",
    "cn-guangzhou",
    "cn-chengdu",
    "cn-wulanchabu",
    "cn-hongkong",
    "cn-north-2-gov-1",
    "cn-beijing-gov-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-5",
    "ap-south-1",
    "eu-west-1",
    "eu-central-1",
    "us-east-1",
    "us-west-1",
];

fn header<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn param<'p>(p: &'p [(String, String)], name: &str) -> Option<&'p str> {
    p.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// Whether a request speaks this dialect: an `x-acs-action` header, an ACS3 `Authorization`,
/// or `Version=2020-09-30` among its parameters.
pub fn recognises(headers: &HeaderMap, pairs: &[(String, String)]) -> bool {
    headers.contains_key("x-acs-action")
        || header(headers, "authorization").is_some_and(|a| a.starts_with("ACS3-"))
        || param(pairs, "Version") == Some(VERSION)
}

/// One request, as the server hands it over.
pub struct Incoming<'a> {
    /// HTTP method.
    pub method: &'a Method,
    /// Headers.
    pub headers: &'a HeaderMap,
    /// Raw body.
    pub body: &'a [u8],
    /// Decoded query-string parameters.
    pub query: &'a [(String, String)],
    /// Decoded form-body parameters (empty unless a form POST).
    pub form: &'a [(String, String)],
}

/// The region of a request: `RegionId`, else an `imm.<region>.aliyuncs.com` Host, else the
/// configured default.
fn region_of<'a>(all: &'a [(String, String)], headers: &'a HeaderMap, default: &'a str) -> &'a str {
    if let Some(r) = param(all, "RegionId") {
        return r;
    }
    let host = header(headers, "host").unwrap_or_default();
    host.strip_prefix("imm.")
        .or_else(|| host.strip_prefix("imm-vpc."))
        .and_then(|rest| rest.split_once(".aliyuncs.com"))
        .map(|(r, _)| r)
        .unwrap_or(default)
}

/// Answers one request.
pub async fn handle(app: &App, req: Incoming<'_>, log: &mut RequestLog) -> Response {
    // Alibaba Cloud request ids are upper-case UUIDs.
    log.request_id = log.request_id.to_uppercase();
    let host = header(req.headers, "host").unwrap_or_default().to_string();
    match process(app, &req, log).await {
        Ok(fields) => {
            log.code = "Success".into();
            envelope::success(&log.request_id, fields)
        }
        Err(e) => {
            log.code = e.code.as_str().into_owned();
            envelope::error(&log.request_id, &host, &e)
        }
    }
}

async fn process(
    app: &App,
    req: &Incoming<'_>,
    log: &mut RequestLog,
) -> Result<actions::Output, AliError> {
    if req.method != Method::GET && req.method != Method::POST {
        return Err(AliError::new(
            Code::UnsupportedHTTPMethod,
            format!(
                "HTTP method {} is not supported: use GET or POST.",
                req.method
            ),
        ));
    }
    let all: Vec<(String, String)> = req.query.iter().chain(req.form.iter()).cloned().collect();
    let style = if header(req.headers, "authorization").is_some_and(|a| a.starts_with("ACS3-")) {
        Style::V3
    } else if param(&all, "Signature").is_some() {
        Style::Rpc
    } else {
        return Err(AliError::missing("Signature"));
    };
    let action_name = param(&all, "Action")
        .or_else(|| header(req.headers, "x-acs-action"))
        .ok_or_else(|| AliError::missing("Action"))?;
    log.action = action_name.to_string();
    let action = Action::from_name(action_name).ok_or_else(|| {
        AliError::new(
            Code::InvalidActionNotFound,
            "Specified api is not found, please check your url and method.",
        )
    })?;
    let version = param(&all, "Version")
        .or_else(|| header(req.headers, "x-acs-version"))
        .ok_or_else(|| AliError::missing("Version"))?;
    if version != VERSION {
        return Err(AliError::new(
            Code::InvalidVersion,
            format!("Specified parameter Version is not valid: `{version}`; IMM is served at {VERSION}."),
        ));
    }

    let signed = Signed {
        method: req.method,
        query: req.query,
        all: &all,
        headers: req.headers,
        body: req.body,
    };
    let freshness = verify::Freshness {
        max_skew_seconds: app.config.auth.aliyun_max_skew_seconds,
        reject_replayed_nonces: app.config.auth.reject_replayed_nonces,
    };
    let account = verify::verify(style, &signed, &app.accounts, &app.nonces, freshness)?;
    log.account = account.id.clone();

    if let Some(f) = app.faults.pick("aliyun", action.name(), &account.id) {
        if f.latency_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(f.latency_ms)).await;
        }
        if let Some(e) = f.error {
            let status = e.status.unwrap_or(400);
            let mut err = AliError::new(
                Code::Injected(e.code.clone(), status),
                e.message.unwrap_or_default(),
            );
            if e.code.starts_with("Throttling") {
                err.retry_after_ms = Some(1000);
            }
            return Err(err);
        }
    }

    if let Err(over) = app.limits.check("aliyun", action.name(), None, &account.id) {
        let mut e = AliError::new(
            Code::ThrottlingUser,
            "Request was denied due to user flow control.",
        );
        e.retry_after_ms = Some(u64::from(1000 / over.limit.max(1)).max(1));
        return Err(e);
    }

    let region = region_of(&all, req.headers, &app.config.imm.default_region).to_string();
    log.region = region.clone();
    if !REGIONS.contains(&region.as_str()) {
        return Err(AliError::new(
            Code::InvalidRegionId,
            format!("Specified parameter RegionId is not valid: `{region}` is not an IMM region."),
        ));
    }
    let business: Vec<(String, String)> = all
        .into_iter()
        .filter(|(k, _)| !params::COMMON.contains(&k.as_str()))
        .collect();
    let params = Params::new(business);
    let ctx = actions::Ctx {
        imm: &app.imm,
        caller: Caller {
            account: &account.id,
            region: &region,
        },
        params: &params,
    };
    actions::dispatch(action, &ctx).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_comes_from_region_id_then_the_host_then_the_default() {
        let mut h = HeaderMap::new();
        h.insert(
            "host",
            "imm.cn-beijing.aliyuncs.com".parse().expect("header"),
        );
        let with_id = vec![("RegionId".to_string(), "cn-shanghai".to_string())];
        assert_eq!(region_of(&with_id, &h, "cn-hangzhou"), "cn-shanghai");
        assert_eq!(region_of(&[], &h, "cn-hangzhou"), "cn-beijing");
        let mut local = HeaderMap::new();
        local.insert("host", "127.0.0.1:9400".parse().expect("header"));
        assert_eq!(region_of(&[], &local, "cn-hangzhou"), "cn-hangzhou");
    }
}
