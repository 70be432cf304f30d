//! Tencent Cloud API 3.0, CVM 2017-03-12: the [`Tencent`] dialect of the one pipeline
//! (`dialect::pipeline`). Its route stage checks, in this order (cvm.md §3.5), method and size,
//! signing style, action and version; then come the signature ([`verify::verify`]), faults,
//! the rate limit, the region, the parameters and the action. Every answer, error or not, is
//! the envelope of [`envelope`].

pub mod access_api;
pub mod actions;
pub mod authorize;
pub mod cam;
pub mod envelope;
pub mod error;
pub mod params;
pub mod router;
pub mod sign;
pub mod sts;
pub mod verify;

use std::sync::Arc;

use axum::http::{HeaderMap, Method};
use axum::response::Response;

use crate::access::{Access, Verified};
use crate::accounts::Accounts;
use crate::cvm::{regions, Caller, Cvm};
use crate::dialect::first_param as param;
use crate::dialect::pipeline::{self, Request};
use crate::dialect::Lang;
use crate::faults::FaultError;
use crate::ratelimit::Exceeded;
use error::{Code, TcError};
use params::Params;
use router::{Op, Product};
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
/// the version of one of its products (`Version=2017-03-12`, CAM's, STS's) among its
/// parameters.
pub fn recognises(headers: &HeaderMap, pairs: &[(String, String)]) -> bool {
    headers.contains_key(headers::ACTION)
        || headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.starts_with(sign::TC3_ALGORITHM))
        || pairs
            .iter()
            .any(|(k, v)| k == "Version" && Product::from_version(v).is_some())
}

/// The Tencent Cloud API 3.0 dialect and what it runs against.
pub struct Tencent {
    /// The image service.
    pub cvm: Arc<Cvm>,
    /// Accounts by credential.
    pub accounts: Arc<Accounts>,
    /// Sub-users, policies, roles and sessions.
    pub access: Arc<Access>,
    /// Largest accepted timestamp difference, seconds.
    pub max_skew_seconds: u64,
}

/// What the route stage found.
pub struct Route {
    style: Style,
    op: Op,
    /// The business parameters, decoded once (by the policy stage when it needs them, else by
    /// the action): see [`decode_params`].
    params: std::sync::OnceLock<Result<Params, TcError>>,
}

/// Tencent reads only the query of a GET and only the body of a POST.
fn pairs<'a>(req: &'a Request<'_>) -> &'a [(String, String)] {
    if *req.method == Method::POST {
        req.form
    } else {
        req.query
    }
}

impl pipeline::Dialect for Tencent {
    const NAME: &'static str = "tencent";
    type Route = Route;
    type Error = TcError;
    type Output = actions::Output;

    fn route(&self, req: &Request<'_>, sent: &mut String) -> Result<Route, TcError> {
        if *req.method != Method::GET && *req.method != Method::POST {
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
        let pairs = pairs(req);
        let style = match req.header("authorization") {
            Some(a) if a.starts_with(sign::TC3_ALGORITHM) => Style::Tc3,
            Some(_) => {
                return Err(TcError::new(
                    Code::AuthFailureInvalidAuthorization,
                    "The Authorization header is not a TC3-HMAC-SHA256 authorization.",
                ))
            }
            None if param(pairs, "Signature").is_some() || param(pairs, "SecretId").is_some() => {
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
            Style::Tc3 => (req.header(headers::ACTION), req.header(headers::VERSION)),
            Style::V1 => (param(pairs, "Action"), param(pairs, "Version")),
        };
        let action_name = action_name.ok_or_else(|| TcError::missing("Action"))?;
        *sent = action_name.to_string();
        let invalid_action = |service: &str, version: &str| {
            TcError::new(
                Code::InvalidAction,
                format!("The request action=`{action_name}` is invalid or not found in service=`{service}` and version=`{version}`."),
            )
            .zh(format!("接口不存在：服务 `{service}` 版本 `{version}` 中没有接口 `{action_name}`。"))
        };
        if !Op::exists(action_name) {
            return Err(invalid_action(
                "cvm",
                version.unwrap_or(Product::Cvm.version()),
            ));
        }
        let version = version.ok_or_else(|| TcError::missing("Version"))?;
        let product = Product::from_version(version).ok_or_else(|| {
            TcError::new(
                Code::NoSuchVersion,
                format!(
                    "The API version `{version}` does not exist; cloudtwin serves cvm {}, cam {} and sts {}.",
                    Product::Cvm.version(),
                    Product::Cam.version(),
                    Product::Sts.version()
                ),
            )
            .zh(format!("接口版本不存在：`{version}`。"))
        })?;
        let op = Op::lookup(product, action_name)
            .ok_or_else(|| invalid_action(product.service(), version))?;
        Ok(Route {
            style,
            op,
            params: std::sync::OnceLock::new(),
        })
    }

    fn action(route: &Route) -> &'static str {
        route.op.name()
    }

    fn documented_limit(route: &Route) -> Option<u32> {
        Some(route.op.documented_limit())
    }

    fn verify(&self, req: &Request<'_>, route: &Route) -> Result<Verified, TcError> {
        let signed = Signed {
            method: req.method,
            raw_query: req.raw_query,
            headers: req.headers,
            body: req.body,
            pairs: pairs(req),
        };
        let keys = verify::Keys {
            accounts: &self.accounts,
            access: &self.access,
        };
        verify::verify(
            route.style,
            route.op.product(),
            &signed,
            &keys,
            self.max_skew_seconds,
        )
    }

    fn authorize(
        &self,
        req: &Request<'_>,
        route: &Route,
        who: &Verified,
        region: &str,
        request_id: &str,
    ) -> Result<(), TcError> {
        authorize::authorize(self, req, route, who, region, request_id)
    }

    fn injected(&self, e: &FaultError) -> TcError {
        TcError::injected(&e.code, e.message.as_deref().unwrap_or_default())
    }

    fn throttled(&self, over: Exceeded) -> TcError {
        TcError::new(
            Code::RequestLimitExceeded,
            format!(
                "Your current request times equals to `{}` in a second, which exceeds the frequency limit `{}` for a second. Please reduce the frequency of calls.",
                over.count, over.limit
            ),
        )
        .zh(format!(
            "请求的次数超过了频率限制：当前每秒请求 `{}` 次，超过了每秒频率上限 `{}`，请降低调用频率。",
            over.count, over.limit
        ))
    }

    fn region(&self, req: &Request<'_>, route: &Route) -> Result<String, TcError> {
        let given = match route.style {
            Style::Tc3 => req.header(headers::REGION),
            Style::V1 => param(pairs(req), "Region"),
        }
        .filter(|r| !r.is_empty());
        // CAM is global and STS takes any region: only CVM needs one it knows.
        if route.op.product() != Product::Cvm {
            return Ok(given.unwrap_or_default().to_string());
        }
        let region = given.ok_or_else(|| TcError::missing("Region"))?;
        if !regions::is_known(region) {
            return Err(TcError::new(
                Code::InvalidParameterValue,
                format!("A value specified in `Region` is not valid, is unsupported, or cannot be used: `{region}`."),
            )
            .zh(format!("参数取值错误：`Region` 的取值 `{region}` 无效或不受支持。")));
        }
        Ok(region.to_string())
    }

    async fn run(
        &self,
        req: &Request<'_>,
        route: &Route,
        who: &Verified,
        region: &str,
    ) -> Result<actions::Output, TcError> {
        let params = decode_params(req, route)?;
        let action = match route.op {
            Op::Cvm(a) => a,
            Op::Access(product, name) => {
                let ctx = access_api::Ctx {
                    access: &self.access,
                    accounts: &self.accounts,
                    who,
                    region,
                    params,
                };
                return access_api::dispatch(product, name, &ctx).await;
            }
        };
        let ctx = actions::Ctx {
            cvm: &self.cvm,
            accounts: &self.accounts,
            caller: Caller {
                account: &who.account.id,
                region,
            },
        };
        actions::dispatch(action, params, &ctx).await
    }

    fn code(e: &TcError) -> String {
        e.code_str().to_string()
    }

    fn success(&self, request_id: &str, _req: &Request<'_>, out: actions::Output) -> Response {
        envelope::success(request_id, out)
    }

    fn failure(&self, request_id: &str, req: &Request<'_>, e: &TcError) -> Response {
        envelope::error(request_id, e, language(req))
    }
}

/// The language a request asks its error messages in: TC3's `X-TC-Language` header, else the
/// v1 `Language` parameter (of the query of a GET, the form of a POST); English when it asks for
/// none.
pub fn language(req: &Request<'_>) -> Lang {
    Lang::from_tag(
        req.header("x-tc-language")
            .or_else(|| param(pairs(req), "Language")),
    )
}

/// The business parameters of a request, decoded (JSON body, flattened form or query) once
/// per request and kept in its route.
pub fn decode_params<'r>(req: &Request<'_>, route: &'r Route) -> Result<&'r Params, TcError> {
    route
        .params
        .get_or_init(|| decode(req, route))
        .as_ref()
        .map_err(Clone::clone)
}

fn decode(req: &Request<'_>, route: &Route) -> Result<Params, TcError> {
    let params = match route.style {
        Style::Tc3
            if *req.method == Method::POST
                && pipeline::content_type_is(req.headers, "application/json") =>
        {
            Params::from_json(req.body)?
        }
        Style::Tc3 => Params::from_pairs(pairs(req))?,
        Style::V1 => {
            let business: Vec<(String, String)> = pairs(req)
                .iter()
                .filter(|(k, _)| !V1_COMMON.contains(&k.as_str()))
                .cloned()
                .collect();
            Params::from_pairs(&business)?
        }
    };
    Ok(params)
}
