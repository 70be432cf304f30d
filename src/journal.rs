//! The request journal: when turned on, every cloud API request and its answer is appended to
//! a file as one JSON line, with secrets redacted (signatures, session tokens; SecretIds and
//! AccessKeyIds are not secrets and stay).

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use axum::http::HeaderMap;
use serde_json::{json, Value};

const REDACTED: &str = "<redacted>";
/// Parameters whose values are secrets.
const SECRET_PARAMS: &[&str] = &["Signature", "SecurityToken", "Token"];
/// Headers whose values are secrets.
const SECRET_HEADERS: &[&str] = &["x-tc-token", "x-acs-security-token", "x-acs-bearer-token"];

/// How many of the latest journal lines are also kept in memory, for
/// `GET /_cloudtwin/request-log/entries` (the console's journal view).
pub const RECENT: usize = 500;

/// The journal file, when on, and its latest lines.
#[derive(Default)]
pub struct Journal {
    file: Mutex<Option<(PathBuf, File)>>,
    recent: Mutex<VecDeque<Value>>,
}

/// Hides the signature of an `Authorization` value, keeping the algorithm and credential.
pub fn redact_authorization(v: &str) -> String {
    v.split(',')
        .map(|part| match part.trim().split_once('=') {
            Some((k, _)) if k.trim().ends_with("Signature") => format!(
                "{}={REDACTED}",
                part.split_once('=').map(|x| x.0).unwrap_or(k)
            ),
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A query or form string with secret parameters hidden.
pub fn redact_pairs(raw: &str) -> String {
    form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| {
            let v = if SECRET_PARAMS.contains(&k.as_ref()) {
                REDACTED.to_string()
            } else {
                v.into_owned()
            };
            form_urlencoded::Serializer::new(String::new())
                .append_pair(&k, &v)
                .finish()
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn headers_json(h: &HeaderMap) -> Value {
    let mut m = serde_json::Map::new();
    for (name, value) in h {
        let v = value.to_str().unwrap_or("<binary>");
        let shown = if name.as_str() == "authorization" {
            redact_authorization(v)
        } else if SECRET_HEADERS.contains(&name.as_str()) {
            REDACTED.to_string()
        } else {
            v.to_string()
        };
        m.insert(name.as_str().to_string(), Value::String(shown));
    }
    Value::Object(m)
}

/// One exchange to record.
pub struct Exchange<'a> {
    /// Request id.
    pub request_id: &'a str,
    /// Dialect.
    pub dialect: &'a str,
    /// Method.
    pub method: &'a str,
    /// Path.
    pub path: &'a str,
    /// Raw query.
    pub query: &'a str,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// Request body.
    pub body: &'a [u8],
    /// Whether the body is a form.
    pub form: bool,
    /// Answer status.
    pub status: u16,
    /// Answer body.
    pub response: &'a [u8],
}

impl Journal {
    /// Turns the journal on (appending to `path`) or off (`None`).
    pub fn set(&self, path: Option<&Path>) -> Result<(), String> {
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        *f = match path {
            None => None,
            Some(p) => {
                let file = File::options()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|e| format!("cannot open {}: {e}", p.display()))?;
                Some((p.to_path_buf(), file))
            }
        };
        Ok(())
    }

    /// The file in use.
    pub fn path(&self) -> Option<PathBuf> {
        self.file
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(p, _)| p.clone())
    }

    /// Whether the journal is on.
    pub fn enabled(&self) -> bool {
        self.file
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Appends one exchange.
    pub fn record(&self, x: &Exchange<'_>) {
        let body = String::from_utf8_lossy(x.body);
        let line = json!({
            "time": crate::clock::rfc3339_nano_utc(crate::clock::now_ms()),
            "request_id": x.request_id,
            "dialect": x.dialect,
            "request": {
                "method": x.method,
                "path": x.path,
                "query": redact_pairs(x.query),
                "headers": headers_json(x.headers),
                "body": if x.form { redact_pairs(&body) } else { body.to_string() },
            },
            "response": {"status": x.status, "body": String::from_utf8_lossy(x.response)},
        });
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, file)) = f.as_mut() {
            if let Err(e) = writeln!(file, "{line}") {
                tracing::error!(error = %e, "request journal write failed");
            }
            let mut r = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            if r.len() == RECENT {
                r.pop_front();
            }
            r.push_back(line);
        }
    }

    /// The latest lines written while the journal was on (at most [`RECENT`]), oldest first.
    pub fn recent(&self) -> Vec<Value> {
        self.recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_and_tokens_are_redacted_but_key_ids_stay() {
        let a = redact_authorization("TC3-HMAC-SHA256 Credential=AKIDx/2026-01-01/cvm/tc3_request, SignedHeaders=content-type;host, Signature=abcdef");
        assert!(
            a.contains("Credential=AKIDx")
                && a.ends_with("Signature=<redacted>")
                && !a.contains("abcdef"),
            "{a}"
        );
        let b = redact_authorization(
            "ACS3-HMAC-SHA256 Credential=LTAIx,SignedHeaders=host,Signature=123",
        );
        assert!(
            b.ends_with("Signature=<redacted>") && !b.contains("123"),
            "{b}"
        );
        let q = redact_pairs("Action=X&Signature=abc%2B&SecurityToken=t&AccessKeyId=LTAIx");
        assert!(
            q.contains("Signature=%3Credacted%3E")
                && q.contains("AccessKeyId=LTAIx")
                && !q.contains("abc"),
            "{q}"
        );
    }
}
