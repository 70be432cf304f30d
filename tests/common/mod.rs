//! Test support: run the real `cloudtwin` binary on a free port with a config of the test's
//! own, and talk to it over HTTP with a TC3 signer written here, apart from the server's.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub mod imm;
pub mod pg;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const ACCOUNT_1: &str = "100000000001";
pub const ACCOUNT_2: &str = "100000000002";
pub const SECRET_ID_1: &str = "AKIDTEST0000000000000000000000000001";
pub const SECRET_KEY_1: &str = "testSecretKey00000000000000000001";
pub const SECRET_ID_2: &str = "AKIDTEST0000000000000000000000000002";
pub const SECRET_KEY_2: &str = "testSecretKey00000000000000000002";
pub const ADMIN_TOKEN: &str = "test-admin-token";
pub const AK_ID_1: &str = "LTAITEST000000000000001";
pub const AK_SECRET_1: &str = "testAccessKeySecret0000000000001";
pub const REGION: &str = "ap-guangzhou";

/// Options of a test server's config.
#[derive(Clone)]
pub struct Opts {
    pub ready_after_ms: u64,
    pub rate_limits: bool,
    pub durability: &'static str,
    pub quota: u64,
    /// Extra accounts (ids 200000000000 + i) without API keys, as sharing targets.
    pub extra_accounts: usize,
    /// `imm.task_min_duration_ms`.
    pub imm_task_ms: u64,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            ready_after_ms: 0,
            rate_limits: false,
            durability: "sync",
            quota: 500,
            extra_accounts: 0,
            imm_task_ms: 0,
        }
    }
}

pub fn config_text(data_dir: &Path, o: &Opts) -> String {
    let extra: String = (0..o.extra_accounts)
        .map(|i| {
            format!(
                "[[accounts]]\nid = \"{}\"\nname = \"extra-{i}\"\n",
                200_000_000_000u64 + i as u64
            )
        })
        .collect();
    let main = format!(
        r#"listen = "127.0.0.1:0"
data_dir = "{dir}"
admin_token = "{ADMIN_TOKEN}"
durability = "{dur}"
[[accounts]]
id = "{ACCOUNT_1}"
name = "one"
[accounts.tencent]
app_id = 1300000001
secret_id = "{SECRET_ID_1}"
secret_key = "{SECRET_KEY_1}"
[accounts.aliyun]
access_key_id = "{AK_ID_1}"
access_key_secret = "{AK_SECRET_1}"
[[accounts]]
id = "{ACCOUNT_2}"
name = "two"
[accounts.tencent]
app_id = 1300000002
secret_id = "{SECRET_ID_2}"
secret_key = "{SECRET_KEY_2}"
[cvm]
image_ready_after_ms = {ready}
image_quota = {quota}
[rate_limit]
enabled = {rl}
default_per_second = 10
[imm]
task_min_duration_ms = {imm_task}
"#,
        dir = data_dir.display(),
        dur = o.durability,
        ready = o.ready_after_ms,
        rl = o.rate_limits,
        quota = o.quota,
        imm_task = o.imm_task_ms,
    );
    // Extra [[accounts]] go with the others, before the [cvm] table.
    main.replacen("[cvm]\n", &format!("{extra}[cvm]\n"), 1)
}

/// The first line a started `serve` prints on stdout (its stdout must be piped).
pub fn first_line(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("stdout piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read address line");
    line
}

/// The base URL (`http://host:port`) from a started `serve`'s first line.
pub fn read_base(child: &mut Child) -> String {
    let line = first_line(child);
    line.trim()
        .strip_prefix("cloudtwin listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string()
}

/// The `host:port` of a base URL, `http://` or `https://`.
pub fn host_of(base: &str) -> String {
    base.trim_start_matches("https://")
        .trim_start_matches("http://")
        .to_string()
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_cloudtwin")
}

/// A running server.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub config: PathBuf,
    pub data_dir: PathBuf,
    pub _tmp: Option<tempfile::TempDir>,
}

impl Server {
    /// A server on a fresh temporary data dir.
    pub fn start(o: Opts) -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        let mut s = Self::start_at(tmp.path(), &data, &o);
        s._tmp = Some(tmp);
        s
    }

    /// A server with its config in `dir` and its data in `data_dir`.
    pub fn start_at(dir: &Path, data_dir: &Path, o: &Opts) -> Server {
        let config = dir.join("config.toml");
        std::fs::write(&config, config_text(data_dir, o)).expect("write config");
        Self::spawn(&config, data_dir)
    }

    /// Starts the binary on an existing config.
    pub fn spawn(config: &Path, data_dir: &Path) -> Server {
        Self::spawn_with(config, data_dir, &[])
    }

    /// Starts the binary on an existing config, with extra `serve` arguments.
    pub fn spawn_with(config: &Path, data_dir: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(bin())
            .args(["serve", "--config"])
            .arg(config)
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env_remove("CLOUDTWIN_TLS_LISTEN")
            .env("CLOUDTWIN_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn cloudtwin");
        let base = read_base(&mut child);
        Server {
            child,
            base,
            config: config.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            _tmp: None,
        }
    }

    pub fn host(&self) -> String {
        self.base.trim_start_matches("http://").to_string()
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base, SECRET_ID_1, SECRET_KEY_1)
    }

    pub fn imm(&self) -> imm::ImmClient {
        imm::ImmClient::new(&self.base, AK_ID_1, AK_SECRET_1)
    }

    pub fn client2(&self) -> Client {
        Client::new(&self.base, SECRET_ID_2, SECRET_KEY_2)
    }

    /// SIGKILL, no chance to flush.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait; returns the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        self.child.wait().expect("wait")
    }

    /// Sets an image's state through state control (`POST /_cloudtwin/cvm/images/{id}/state`),
    /// e.g. `{"state": "NORMAL"}` or `{"state": "SYNCING", "then": "NORMAL", "after_ms": 300}`.
    pub fn set_image_state(&self, id: &str, body: Value) {
        let path = format!("/_cloudtwin/cvm/images/{id}/state");
        let (code, answer) = admin_post(&self.base, &path, Some(ADMIN_TOKEN), &body);
        assert_eq!(code, 200, "state control {body}: {answer}");
    }

    /// Changes `cvm.image_ready_after_ms` at run time (`PUT /_cloudtwin/settings`): the delay of
    /// images created, imported or synced from now on.
    pub fn set_ready_after_ms(&self, ms: u64) {
        let body = serde_json::json!({"cvm": {"image_ready_after_ms": ms}});
        let (code, answer) = admin_send("PUT", &self.base, "/_cloudtwin/settings", &body);
        assert_eq!(code, 200, "settings: {answer}");
        assert_eq!(answer["cvm"]["image_ready_after_ms"], ms);
    }

    /// Restarts on the same config and data dir, after the old process is gone.
    pub fn restart(mut self) -> Server {
        let mut next = Server::spawn(&self.config, &self.data_dir);
        next._tmp = self._tmp.take();
        next
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn hmac(key: &[u8], msg: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("hmac key");
    m.update(msg.as_bytes());
    m.finalize().into_bytes().to_vec()
}

pub fn hexsha(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

pub fn date_of(ts: i64) -> String {
    // Days since epoch -> civil date (Howard Hinnant's algorithm), kept apart from the server's.
    let z = ts.div_euclid(86400) + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}")
}

/// A TC3 POST JSON client.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub host: String,
    pub secret_id: String,
    pub secret_key: String,
    pub region: String,
    /// `X-TC-Language` (outside the signature, as the SDKs send it); none when `None`.
    pub language: Option<String>,
    agent: ureq::Agent,
}

/// A decoded answer: the `Response` object.
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub response: Value,
}

impl Answer {
    pub fn code(&self) -> Option<&str> {
        self.response["Error"]["Code"].as_str()
    }
    pub fn ok(&self) -> bool {
        self.response.get("Error").is_none()
    }
    pub fn expect_ok(self) -> Value {
        assert!(self.ok(), "expected success, got {}", self.response);
        self.response
    }
    pub fn expect_code(&self, code: &str) {
        assert_eq!(self.code(), Some(code), "answer {}", self.response);
    }
}

impl Client {
    pub fn new(base: &str, id: &str, key: &str) -> Client {
        Client {
            base: base.to_string(),
            host: host_of(base),
            secret_id: id.to_string(),
            secret_key: key.to_string(),
            region: REGION.to_string(),
            language: None,
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build(),
        }
    }

    /// The same client over `agent` (e.g. one that trusts a test CA, for `https://`).
    pub fn with_agent(mut self, agent: ureq::Agent) -> Client {
        self.agent = agent;
        self
    }

    /// The same client asking for error messages in `language` (`X-TC-Language`).
    pub fn in_language(mut self, language: &str) -> Client {
        self.language = Some(language.to_string());
        self
    }

    pub fn in_region(mut self, region: &str) -> Client {
        self.region = region.to_string();
        self
    }

    /// Signs and sends `action` with a JSON body, at timestamp `ts`.
    pub fn call_at(&self, action: &str, body: &Value, ts: i64) -> Answer {
        self.try_call_at(action, body, ts)
            .unwrap_or_else(|e| panic!("transport error: {e}"))
    }

    /// Like [`Client::call`], but a transport failure (server gone) is an `Err`.
    pub fn try_call(&self, action: &str, body: Value) -> Result<Answer, String> {
        self.try_call_at(action, &body, now())
    }

    fn try_call_at(&self, action: &str, body: &Value, ts: i64) -> Result<Answer, String> {
        let payload = body.to_string();
        let date = date_of(ts);
        let canonical = format!(
            "POST\n/\n\ncontent-type:application/json\nhost:{}\n\ncontent-type;host\n{}",
            self.host,
            hexsha(payload.as_bytes())
        );
        let sts = format!(
            "TC3-HMAC-SHA256\n{ts}\n{date}/cvm/tc3_request\n{}",
            hexsha(canonical.as_bytes())
        );
        let k = hmac(format!("TC3{}", self.secret_key).as_bytes(), &date);
        let k = hmac(&k, "cvm");
        let k = hmac(&k, "tc3_request");
        let sig = hex::encode(hmac(&k, &sts));
        let auth = format!(
            "TC3-HMAC-SHA256 Credential={}/{date}/cvm/tc3_request, SignedHeaders=content-type;host, Signature={sig}",
            self.secret_id
        );
        let mut req = self
            .agent
            .post(&format!("{}/", self.base))
            .set("Content-Type", "application/json")
            .set("X-TC-Action", action)
            .set("X-TC-Version", "2017-03-12")
            .set("X-TC-Region", &self.region)
            .set("X-TC-Timestamp", &ts.to_string())
            .set("Authorization", &auth);
        if let Some(language) = &self.language {
            req = req.set("X-TC-Language", language);
        }
        let resp = req.send_string(&payload);
        let resp = match resp {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(e.to_string()),
        };
        let status = resp.status();
        let content_type = resp.header("content-type").unwrap_or("").to_string();
        let text = resp.into_string().map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_str(&text).map_err(|_| format!("not JSON: {text}"))?;
        Ok(Answer {
            status,
            content_type,
            response: v["Response"].clone(),
        })
    }

    pub fn call(&self, action: &str, body: Value) -> Answer {
        self.call_at(action, &body, now())
    }

    /// CreateImage from a made-up instance; returns the id.
    pub fn create(&self, name: &str) -> String {
        let r = self
            .call(
                "CreateImage",
                serde_json::json!({"ImageName": name, "InstanceId": "ins-abcdefgh"}),
            )
            .expect_ok();
        r["ImageId"].as_str().expect("ImageId").to_string()
    }

    pub fn describe_ids(&self, ids: &[&str]) -> Value {
        self.call("DescribeImages", serde_json::json!({"ImageIds": ids}))
            .expect_ok()
    }

    pub fn image(&self, id: &str) -> Option<Value> {
        let r = self.describe_ids(&[id]);
        r["ImageSet"].as_array().and_then(|a| a.first().cloned())
    }
}

/// How long a test waits for what the server does on its own (a timed transition, a task)
/// before it fails: generous, so that a loaded machine makes a test slow, never wrong.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Calls `f` every 20 ms until it returns `Some`, for up to [`PATIENCE`]; panics naming `what`.
pub fn poll_until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let t = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(t.elapsed() < PATIENCE, "{what}: not within {PATIENCE:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The instant a test starts a server-side timer, read from the clock the server times its
/// transitions by: the wall clock in whole milliseconds (a timer is stored as a wall-clock
/// deadline so that it outlives a restart). Comparing against the monotonic clock instead
/// would let the drift between the two clocks, and the server's rounding down to the
/// millisecond, make a correct server look early.
#[derive(Clone, Copy, Debug)]
pub struct TimerStart(u64);

impl TimerStart {
    /// Read just before the request that starts the timer.
    pub fn now() -> TimerStart {
        TimerStart(wall_ms())
    }

    /// Whole milliseconds on the wall clock since this start.
    pub fn elapsed_ms(self) -> u64 {
        wall_ms().saturating_sub(self.0)
    }
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Watches an image whose timer of `delay_ms` started no earlier than `t0` (read before the
/// request that started it) go from `from` to `to`, and returns it in `to`.
///
/// Every answer is checked against what the clock allows, however slow the machine: the
/// server flips the state once its wall clock, in whole milliseconds, reaches its start plus
/// the delay, and its start is no earlier than `t0`. So an answer received (by the same
/// clock) before `t0 + delay_ms` was computed before the timer ran out and must say `from`;
/// any later answer says `from` or `to`; `to` must come within [`PATIENCE`].
pub fn watch_transition(
    t0: TimerStart,
    delay_ms: u64,
    from: &str,
    to: &str,
    mut read: impl FnMut() -> Value,
) -> Value {
    let patience = PATIENCE.as_millis() as u64;
    loop {
        let img = read();
        let seen = t0.elapsed_ms();
        let state = img["ImageState"].as_str().unwrap_or("").to_string();
        if seen < delay_ms {
            assert_eq!(state, from, "{seen} ms into a {delay_ms} ms timer: {img}");
        } else {
            assert!(
                state == from || state == to,
                "expected {from} or {to}: {img}"
            );
        }
        if state == to {
            return img;
        }
        assert!(seen < patience, "still {from} after {seen} ms: {img}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends an admin request with a JSON body and the admin token.
pub fn admin_send(method: &str, base: &str, path: &str, body: &Value) -> (u16, Value) {
    let req = ureq::request(method, &format!("{base}{path}"))
        .set("Content-Type", "application/json")
        .set("Authorization", &format!("Bearer {ADMIN_TOKEN}"));
    match req.send_string(&body.to_string()) {
        Ok(r) => (r.status(), r.into_json().unwrap_or(Value::Null)),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or(Value::Null)),
        Err(e) => panic!("transport: {e}"),
    }
}

/// Plain HTTP for the admin routes.
pub fn admin_post(base: &str, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = ureq::post(&format!("{base}{path}")).set("Content-Type", "application/json");
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    match req.send_string(&body.to_string()) {
        Ok(r) => (r.status(), r.into_json().unwrap_or(Value::Null)),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or(Value::Null)),
        Err(e) => panic!("transport: {e}"),
    }
}

pub fn get_json(url: &str) -> (u16, Value) {
    match ureq::get(url).call() {
        Ok(r) => (r.status(), r.into_json().unwrap_or(Value::Null)),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or(Value::Null)),
        Err(e) => panic!("transport: {e}"),
    }
}
