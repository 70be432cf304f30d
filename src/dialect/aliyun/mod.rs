//! Alibaba Cloud RPC dialect, IMM 2020-09-30 (imm.md): the [`Aliyun`] dialect of the one
//! pipeline (`dialect::pipeline`). Its route stage checks method, signing style, action and
//! version; then come the signature ([`verify::verify`]), faults, the rate limit, the region
//! and the action. Parameters come from the query string and a form body, merged; every answer
//! is the envelope of [`envelope`].

pub mod access_api;
pub mod actions;
pub mod authorize;
pub mod envelope;
pub mod error;
pub mod params;
pub mod ram;
pub mod render;
pub mod router;
pub mod sign;
pub mod sts;
pub mod verify;

use std::sync::Arc;

use axum::http::{HeaderMap, Method};
use axum::response::Response;

use crate::access::{Access, Verified};
use crate::accounts::Accounts;
use crate::dialect::header;
use crate::dialect::pipeline::{self, Request};
use crate::dialect::Lang;
use crate::faults::FaultError;
use crate::imm::{Caller, Imm};
use crate::ratelimit::Exceeded;
use error::{AliError, Code};
use params::Params;
use router::{Op, Product};
use verify::{NonceCache, Signed, Style};

pub use crate::imm::regions::REGIONS;

/// A parameter's last value; an empty value counts as absent.
fn param<'p>(p: &'p [(String, String)], name: &str) -> Option<&'p str> {
    crate::dialect::last_param(p, name).filter(|v| !v.is_empty())
}

/// Whether a request speaks this dialect: an `x-acs-action` header, an ACS3 `Authorization`,
/// or the version of one of its products (`Version=2020-09-30`, RAM's, STS's) among its
/// parameters.
pub fn recognises(headers: &HeaderMap, pairs: &[(String, String)]) -> bool {
    headers.contains_key("x-acs-action")
        || header(headers, "authorization").is_some_and(|a| a.starts_with("ACS3-"))
        || param(pairs, "Version").is_some_and(|v| Product::from_version(v).is_some())
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

/// The Alibaba Cloud RPC dialect (IMM) and what it runs against; it owns its nonce cache.
pub struct Aliyun {
    /// The face service.
    pub imm: Arc<Imm>,
    /// Accounts by credential.
    pub accounts: Arc<Accounts>,
    /// Sub-users, policies, roles and sessions.
    pub access: Arc<Access>,
    /// The code and HTTP status of an access denial (`AccessDenied`, 403 by default).
    pub denial: (String, u16),
    /// Signature nonces seen recently.
    pub nonces: NonceCache,
    /// Timestamp window and replay checks.
    pub freshness: verify::Freshness,
    /// Region of requests that name none.
    pub default_region: String,
}

/// What the route stage found: the style, the action, and every parameter (query and form).
pub struct Route {
    style: Style,
    op: Op,
    all: Vec<(String, String)>,
}

impl pipeline::Dialect for Aliyun {
    const NAME: &'static str = "aliyun";
    type Route = Route;
    type Error = AliError;
    type Output = actions::Output;

    /// Alibaba Cloud request ids are upper-case UUIDs.
    fn request_id(&self) -> String {
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        crate::dialect::request_uuid()
            .hyphenated()
            .encode_upper(&mut buf)
            .to_string()
    }

    fn route(&self, req: &Request<'_>, sent: &mut String) -> Result<Route, AliError> {
        if *req.method != Method::GET && *req.method != Method::POST {
            return Err(AliError::new(
                Code::UnsupportedHTTPMethod,
                format!(
                    "HTTP method {} is not supported: use GET or POST.",
                    req.method
                ),
            ));
        }
        let all: Vec<(String, String)> = req.query.iter().chain(req.form.iter()).cloned().collect();
        let style = if req
            .header("authorization")
            .is_some_and(|a| a.starts_with("ACS3-"))
        {
            Style::V3
        } else if param(&all, "Signature").is_some() {
            Style::Rpc
        } else {
            return Err(AliError::missing("Signature"));
        };
        let action_name = param(&all, "Action")
            .or_else(|| req.header("x-acs-action"))
            .ok_or_else(|| AliError::missing("Action"))?;
        *sent = action_name.to_string();
        let not_found = || {
            AliError::new(
                Code::InvalidActionNotFound,
                "Specified api is not found, please check your url and method.",
            )
        };
        if !Op::exists(action_name) {
            return Err(not_found());
        }
        let version = param(&all, "Version")
            .or_else(|| req.header("x-acs-version"))
            .ok_or_else(|| AliError::missing("Version"))?;
        let product = Product::from_version(version).ok_or_else(|| {
            AliError::new(
                Code::InvalidVersion,
                format!(
                    "Specified parameter Version is not valid: `{version}`; cloudtwin serves IMM {}, RAM {} and STS {}.",
                    Product::Imm.version(),
                    Product::Ram.version(),
                    Product::Sts.version()
                ),
            ).zh(format!("指定的 Version 参数无效：`{version}`。"))
        })?;
        let op = Op::lookup(product, action_name).ok_or_else(not_found)?;
        Ok(Route { style, op, all })
    }

    fn action(route: &Route) -> &'static str {
        route.op.name()
    }

    fn documented_limit(_route: &Route) -> Option<u32> {
        None
    }

    fn verify(&self, req: &Request<'_>, route: &Route) -> Result<Verified, AliError> {
        let signed = Signed {
            method: req.method,
            query: req.query,
            all: &route.all,
            headers: req.headers,
            body: req.body,
        };
        let keys = verify::Keys {
            accounts: &self.accounts,
            access: &self.access,
        };
        verify::verify(route.style, &signed, &keys, &self.nonces, self.freshness)
    }

    fn authorize(
        &self,
        req: &Request<'_>,
        route: &Route,
        who: &Verified,
        region: &str,
        _request_id: &str,
    ) -> Result<(), AliError> {
        authorize::authorize(self, req, route, who, region)
    }

    fn injected(&self, e: &FaultError) -> AliError {
        let status = e.status.unwrap_or(400);
        let mut err = AliError::new(
            Code::Injected(e.code.clone(), status),
            e.message.clone().unwrap_or_default(),
        );
        if e.code.starts_with("Throttling") {
            err.retry_after_ms = Some(1000);
        }
        err
    }

    fn throttled(&self, over: Exceeded) -> AliError {
        let mut e = AliError::new(
            Code::ThrottlingUser,
            "Request was denied due to user flow control.",
        );
        e.retry_after_ms = Some(u64::from(1000 / over.limit.max(1)).max(1));
        e
    }

    fn region(&self, req: &Request<'_>, route: &Route) -> Result<String, AliError> {
        let region = region_of(&route.all, req.headers, &self.default_region);
        // RAM and STS are global: only IMM needs a region it knows.
        if route.op.product() != Product::Imm {
            return Ok(region.to_string());
        }
        if !REGIONS.contains(&region) {
            return Err(AliError::new(
                Code::InvalidRegionId,
                format!(
                    "Specified parameter RegionId is not valid: `{region}` is not an IMM region."
                ),
            )
            .zh(format!("指定的地域不存在：`{region}` 不是 IMM 的地域。")));
        }
        Ok(region.to_string())
    }

    async fn run(
        &self,
        req: &Request<'_>,
        route: &Route,
        who: &Verified,
        region: &str,
    ) -> Result<actions::Output, AliError> {
        let params = business_params(route);
        let action = match route.op {
            Op::Imm(a) => a,
            Op::Access(product, name) => {
                let ctx = access_api::Ctx {
                    access: &self.access,
                    accounts: &self.accounts,
                    who,
                    params: &params,
                    peer: req.peer,
                    secure: req.secure,
                };
                return access_api::dispatch(product, name, &ctx).await;
            }
        };
        let ctx = actions::Ctx {
            imm: &self.imm,
            caller: Caller {
                account: &who.account.id,
                region,
            },
            params: &params,
        };
        actions::dispatch(action, &ctx).await
    }

    fn code(e: &AliError) -> String {
        e.code.as_str().into_owned()
    }

    fn success(&self, request_id: &str, _req: &Request<'_>, out: actions::Output) -> Response {
        envelope::success(request_id, out)
    }

    fn failure(&self, request_id: &str, req: &Request<'_>, e: &AliError) -> Response {
        let host = req.header("host").unwrap_or_default();
        envelope::error(request_id, host, e, language(req))
    }
}

/// The language a request asks its error messages in: the `Accept-Language` header (neither
/// the Tea SDK nor aliyun-python-sdk-core sends one unless told to); English when absent.
pub fn language(req: &Request<'_>) -> Lang {
    Lang::from_tag(req.header("accept-language"))
}

/// The business parameters of a request (the common ones left out).
pub fn business_params(route: &Route) -> Params {
    Params::new(
        route
            .all
            .iter()
            .filter(|(k, _)| !params::COMMON.contains(&k.as_str()))
            .cloned()
            .collect(),
    )
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
