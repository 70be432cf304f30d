//! An IMM client for the tests: ACS3-HMAC-SHA256 signing written here, apart from the server's.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// An answer: HTTP status and body.
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> Option<&str> {
        self.body["Code"].as_str()
    }
    pub fn expect_ok(self) -> Value {
        assert_eq!(self.status, 200, "expected success, got {}", self.body);
        self.body
    }
    pub fn expect(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.code()),
            (status, Some(code)),
            "answer {}",
            self.body
        );
    }
}

/// RFC 3986 percent-encoding, as the Alibaba Cloud signers use it.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn now_iso(offset_secs: i64) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
        + offset_secs;
    let days = t.div_euclid(86400);
    let rem = t.rem_euclid(86400);
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A V3-signing IMM client.
#[derive(Clone)]
pub struct ImmClient {
    base: String,
    host: String,
    key_id: String,
    secret: String,
    agent: ureq::Agent,
    /// `x-acs-version`: IMM's by default; RAM's or STS's for the access APIs.
    version: String,
    /// A role session's token, sent as the signed `x-acs-security-token`.
    token: Option<String>,
}

/// Knobs for one request, to make bad ones on purpose.
#[derive(Default, Clone)]
pub struct Tweak {
    pub nonce: Option<String>,
    pub date_offset_secs: i64,
    /// An exact `x-acs-date` (wins over `date_offset_secs`), to resend a request as it was.
    pub date: Option<String>,
    /// Appended to the query after signing.
    pub tamper_query: Option<String>,
    /// Headers sent but left out of `SignedHeaders` (and of the signature).
    pub unsigned: Vec<&'static str>,
    /// Headers not sent at all.
    pub omit: Vec<&'static str>,
    /// Overrides of header values sent after signing (a tampered request).
    pub resend_as: Vec<(&'static str, String)>,
    /// Headers added after signing, outside the signature (e.g. `Accept-Language`).
    pub extra: Vec<(&'static str, String)>,
}

impl ImmClient {
    pub fn new(base: &str, key_id: &str, secret: &str) -> ImmClient {
        ImmClient {
            base: base.to_string(),
            host: super::host_of(base),
            key_id: key_id.to_string(),
            secret: secret.to_string(),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build(),
            version: "2020-09-30".to_string(),
            token: None,
        }
    }

    /// The same signer for another API version (RAM `2015-05-01`, STS `2015-04-01`).
    pub fn version(&self, v: &str) -> ImmClient {
        ImmClient {
            version: v.to_string(),
            ..self.clone()
        }
    }

    /// The same signer with a session token.
    pub fn with_token(&self, token: &str) -> ImmClient {
        ImmClient {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    /// The same client over `agent` (e.g. one that trusts a test CA, for `https://`).
    pub fn with_agent(mut self, agent: ureq::Agent) -> ImmClient {
        self.agent = agent;
        self
    }

    /// Calls `action` with string parameters (JSON values given as their text).
    pub fn call(&self, action: &str, params: &[(&str, String)]) -> Reply {
        self.try_call(action, params, &Tweak::default())
            .unwrap_or_else(|e| panic!("transport error: {e}"))
    }

    pub fn try_call(
        &self,
        action: &str,
        params: &[(&str, String)],
        t: &Tweak,
    ) -> Result<Reply, String> {
        let mut sorted: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        sorted.sort();
        let query = sorted
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let date = t
            .date
            .clone()
            .unwrap_or_else(|| now_iso(t.date_offset_secs));
        let nonce = t
            .nonce
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let payload = hex::encode(Sha256::digest(b""));
        let mut headers: Vec<(&str, String)> = [
            ("host", self.host.clone()),
            ("x-acs-action", action.to_string()),
            ("x-acs-content-sha256", payload.clone()),
            ("x-acs-date", date.clone()),
            ("x-acs-signature-nonce", nonce.clone()),
            ("x-acs-version", self.version.clone()),
        ]
        .into_iter()
        .filter(|(k, _)| !t.omit.contains(k))
        .collect();
        if let Some(tok) = &self.token {
            headers.push(("x-acs-security-token", tok.clone()));
            headers.sort_by(|a, b| a.0.cmp(b.0));
        }
        let signed_list: Vec<&(&str, String)> = headers
            .iter()
            .filter(|(k, _)| !t.unsigned.contains(k))
            .collect();
        let canonical_headers: String = signed_list
            .iter()
            .map(|(k, v)| format!("{k}:{v}\n"))
            .collect();
        let signed: Vec<&str> = signed_list.iter().map(|(k, _)| *k).collect();
        let signed = signed.join(";");
        let cr = format!("POST\n/\n{query}\n{canonical_headers}\n{signed}\n{payload}");
        let sts = format!(
            "ACS3-HMAC-SHA256\n{}",
            hex::encode(Sha256::digest(cr.as_bytes()))
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.as_bytes()).expect("key");
        mac.update(sts.as_bytes());
        let sig = hex::encode(mac.finalize().into_bytes());
        let mut url = format!("{}/?{query}", self.base);
        if let Some(extra) = &t.tamper_query {
            url.push_str(extra);
        }
        let mut req = self.agent.post(&url);
        for (k, v) in headers.iter().filter(|(k, _)| *k != "host") {
            let v = t
                .resend_as
                .iter()
                .find(|(name, _)| name == k)
                .map_or(v.as_str(), |(_, v)| v.as_str());
            req = req.set(k, v);
        }
        for (k, v) in &t.extra {
            req = req.set(k, v);
        }
        req = req.set(
            "Authorization",
            &format!(
                "ACS3-HMAC-SHA256 Credential={},SignedHeaders={signed},Signature={sig}",
                self.key_id
            ),
        );
        let resp = match req.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(e.to_string()),
        };
        let status = resp.status();
        let text = resp.into_string().map_err(|e| e.to_string())?;
        let body = serde_json::from_str(&text).map_err(|_| format!("not JSON: {text}"))?;
        Ok(Reply { status, body })
    }

    /// Creates a project and a dataset.
    pub fn dataset(&self, project: &str, dataset: &str) {
        self.call("CreateProject", &[("ProjectName", project.into())])
            .expect_ok();
        self.call(
            "CreateDataset",
            &[
                ("ProjectName", project.into()),
                ("DatasetName", dataset.into()),
            ],
        )
        .expect_ok();
    }

    /// Runs a clustering task and waits for it.
    pub fn cluster(&self, project: &str, dataset: &str) -> Value {
        let t = self
            .call(
                "CreateFigureClusteringTask",
                &[
                    ("ProjectName", project.into()),
                    ("DatasetName", dataset.into()),
                ],
            )
            .expect_ok();
        let id = t["TaskId"].as_str().expect("task id").to_string();
        for _ in 0..600 {
            let g = self
                .call(
                    "GetTask",
                    &[
                        ("ProjectName", project.into()),
                        ("TaskId", id.clone()),
                        ("TaskType", "FaceClustering".into()),
                    ],
                )
                .expect_ok();
            if g["Status"] != "Running" {
                return g;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("clustering task {id} did not finish");
    }

    /// The cluster id of a face.
    pub fn cluster_of(&self, project: &str, dataset: &str, uri: &str, figure: &str) -> String {
        let f = self
            .call(
                "GetFileMeta",
                &[
                    ("ProjectName", project.into()),
                    ("DatasetName", dataset.into()),
                    ("URI", uri.into()),
                ],
            )
            .expect_ok();
        f["Files"][0]["Figures"]
            .as_array()
            .expect("figures")
            .iter()
            .find(|x| x["FigureId"] == figure)
            .expect("figure")["FigureClusterId"]
            .as_str()
            .expect("id")
            .to_string()
    }
}

/// RPC HMAC-SHA1 signing of `params` (with `Action` among them), as the Tea SDK's `v2` and the
/// legacy SDK sign: `METHOD&%2F&pct(sorted k=v&...)` keyed with `secret&`. `nonce: None` leaves
/// `SignatureNonce` out.
pub fn rpc_signed(
    method: &str,
    params: &[(&str, &str)],
    key_id: &str,
    secret: &str,
    nonce: Option<&str>,
) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (k, v) in [
        ("Version", "2020-09-30"),
        ("Format", "JSON"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureType", ""),
        ("AccessKeyId", key_id),
    ] {
        all.push((k.into(), v.into()));
    }
    all.push(("Timestamp".into(), now_iso(0)));
    if let Some(n) = nonce {
        all.push(("SignatureNonce".into(), n.into()));
    }
    all.sort();
    let canon = all
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let sts = format!("{method}&%2F&{}", enc(&canon));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()).expect("key");
    mac.update(sts.as_bytes());
    use base64::Engine;
    all.push((
        "Signature".into(),
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()),
    ));
    all
}
