//! The configuration file (`config.toml`): listen address, data dir, accounts, limits.
//!
//! Unknown keys are errors, and every error names the key, so a typo is caught at start.
//! With no file the built-in defaults apply: the repository's `config.toml`, embedded.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::store::Durability;

/// The repository's `config.toml`, embedded: the built-in defaults of a start with no
/// `--config` and no `config.toml` in the working directory.
pub const DEFAULT_TEXT: &str = include_str!("../config.toml");

/// The file a command looks for in the working directory when `--config` is not given.
pub const WORKING_DIR_FILE: &str = "config.toml";

/// Where the configuration in force came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--config PATH`.
    Flag(PathBuf),
    /// `./config.toml`, found in the working directory.
    WorkingDir(PathBuf),
    /// No file: the embedded defaults ([`DEFAULT_TEXT`]).
    Builtin,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(p) => write!(f, "{} (--config)", p.display()),
            Source::WorkingDir(p) => write!(f, "{} (found in the working directory)", p.display()),
            Source::Builtin => f.write_str(
                "built-in defaults (the repository's config.toml, embedded; no --config and no ./config.toml)",
            ),
        }
    }
}

/// How much the per-request log line says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Request id, dialect, action, account, code, latency.
    #[default]
    Short,
    /// The short fields and the region.
    Full,
}

impl std::str::FromStr for LogFormat {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s {
            "short" => Ok(LogFormat::Short),
            "full" => Ok(LogFormat::Full),
            other => Err(ConfigError(format!(
                "log_format: {other:?} is not \"short\" or \"full\""
            ))),
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on, `host:port` (port 0 picks a free port).
    pub listen: String,
    /// Data dir: the sled store and its lock.
    pub data_dir: PathBuf,
    /// Bearer token for the `/_cloudtwin/` admin routes.
    pub admin_token: String,
    /// `sync` (acknowledge after flush, default) or `interval`.
    #[serde(default = "default_durability")]
    pub durability: String,
    /// Flush period in `interval` mode.
    #[serde(default = "default_flush_interval")]
    pub flush_interval_ms: u64,
    /// Memory the store may use as page cache, MiB.
    #[serde(default = "default_cache_mb")]
    pub cache_mb: u64,
    /// The accounts the service knows, with their credentials.
    pub accounts: Vec<Account>,
    /// Signature checking.
    #[serde(default)]
    pub auth: AuthConfig,
    /// CVM image behaviour.
    #[serde(default)]
    pub cvm: CvmConfig,
    /// Per-(account, action) request limits.
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    /// IMM face-cluster behaviour.
    #[serde(default)]
    pub imm: ImmConfig,
    /// A fixture file (JSON or TOML) loaded at start, idempotently.
    #[serde(default)]
    pub seed: Option<PathBuf>,
    /// A file to append every cloud API request and response to (secrets redacted).
    #[serde(default)]
    pub request_log: Option<PathBuf>,
    /// Connection handling: timeouts and the connection cap.
    #[serde(default)]
    pub server: ServerConfig,
    /// The per-request log line: `short` (default) or `full`.
    #[serde(default)]
    pub log_format: LogFormat,
    /// Access control: the policy stage's mode, denial form, limits.
    #[serde(default)]
    pub access: AccessConfig,
    /// An optional second listener that speaks HTTPS (off unless `tls.listen` is set).
    #[serde(default)]
    pub tls: TlsConfig,
    /// Where the store is: sled in `data_dir` (default) or a PostgreSQL database.
    #[serde(default)]
    pub store: StoreConfig,
    /// Several nodes over one database: this node's name and what they share.
    #[serde(default)]
    pub cluster: ClusterConfig,
}

/// `[store]`: the engine (docs/configuration.md, "Scale-out on PostgreSQL").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sled` (the default, in `data_dir`) or `postgres`; when left out, `postgres` if `url`
    /// is set.
    #[serde(default)]
    pub backend: Option<String>,
    /// The database, `postgres://user[:password]@host:port/dbname` (`CLOUDTWIN_STORE_URL`
    /// overrides it).
    #[serde(default)]
    pub url: Option<String>,
    /// Connections this node keeps to the database.
    #[serde(default = "default_store_pool")]
    pub pool: usize,
}

/// `[cluster]`: this node among several over one database.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// This node's name in task leases and logs (a generated one when left out).
    #[serde(default)]
    pub node_id: Option<String>,
    /// Accepted for the issue's layout, refused when set: the shared limiter and nonce cache
    /// live in the database (`store.url`), no Redis is used.
    #[serde(default)]
    pub redis_url: Option<String>,
    /// How long a task lease lasts without renewal, ms: after a node dies, another takes its
    /// tasks over this long after its last renewal.
    #[serde(default = "default_lease_ms")]
    pub task_lease_ms: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            backend: None,
            url: None,
            pool: default_store_pool(),
        }
    }
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            node_id: None,
            redis_url: None,
            task_lease_ms: default_lease_ms(),
        }
    }
}

/// Where a store is, as the configuration says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreTarget {
    /// sled in a data dir.
    Dir(PathBuf),
    /// A PostgreSQL database, with the connections to keep.
    Database {
        /// Its URL.
        url: String,
        /// Connections to keep.
        pool: usize,
    },
}

impl StoreTarget {
    /// A store named on a command line: a `postgres://` (or `postgresql://`) URL, else a data
    /// dir.
    pub fn named(s: &str, pool: usize) -> StoreTarget {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            StoreTarget::Database {
                url: s.to_string(),
                pool,
            }
        } else {
            StoreTarget::Dir(PathBuf::from(s))
        }
    }
}

impl StoreTarget {
    /// Opens the store (a data dir's lock and engine, or the database's connections and
    /// tables) and brings it to this build's schema.
    pub fn open(
        &self,
        durability: Durability,
        cache_mb: u64,
    ) -> Result<crate::store::Store, crate::store::StoreError> {
        match self {
            StoreTarget::Dir(d) => crate::store::Store::open_sized(d, durability, cache_mb),
            StoreTarget::Database { url, pool } => {
                crate::store::Store::open_database(url, durability, *pool)
            }
        }
    }
}

impl std::fmt::Display for StoreTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreTarget::Dir(d) => write!(f, "{}", d.display()),
            StoreTarget::Database { url, .. } => {
                write!(f, "{}", crate::store::redact_url(url))
            }
        }
    }
}

fn default_store_pool() -> usize {
    crate::store::DEFAULT_DB_POOL
}

fn default_lease_ms() -> u64 {
    10_000
}

/// `[access]`: how sub-users' and role sessions' policies are enforced (README, "Access
/// control").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    /// `enforce` (default), `soft` (decide, log, allow) or `off`.
    #[serde(default = "default_access_mode")]
    pub mode: String,
    /// The code of an IMM access denial (`AccessDenied`; the cloud also answers
    /// `Forbidden.RAM` or `NoPermission`).
    #[serde(default = "default_denial_code")]
    pub aliyun_denial_code: String,
    /// Its HTTP status (403; 400 is also seen).
    #[serde(default = "default_denial_status")]
    pub aliyun_denial_status: u16,
    /// Access keys per sub-user.
    #[serde(default = "default_keys_per_user")]
    pub keys_per_user: u64,
    /// Versions per custom policy (RAM).
    #[serde(default = "default_versions_per_policy")]
    pub versions_per_policy: u64,
    /// Policies attached to one user or role.
    #[serde(default = "default_policies_per_principal")]
    pub policies_per_principal: u64,
    /// Longest policy document, characters.
    #[serde(default = "default_max_document_chars")]
    pub max_document_chars: u64,
}

fn default_access_mode() -> String {
    "enforce".into()
}
fn default_denial_code() -> String {
    "AccessDenied".into()
}
fn default_denial_status() -> u16 {
    403
}
fn default_keys_per_user() -> u64 {
    2
}
fn default_versions_per_policy() -> u64 {
    5
}
fn default_policies_per_principal() -> u64 {
    25
}
fn default_max_document_chars() -> u64 {
    6144
}

impl Default for AccessConfig {
    fn default() -> Self {
        AccessConfig {
            mode: default_access_mode(),
            aliyun_denial_code: default_denial_code(),
            aliyun_denial_status: default_denial_status(),
            keys_per_user: default_keys_per_user(),
            versions_per_policy: default_versions_per_policy(),
            policies_per_principal: default_policies_per_principal(),
            max_document_chars: default_max_document_chars(),
        }
    }
}

impl AccessConfig {
    /// Checks every key (errors name it).
    pub fn check(&self) -> Result<(), ConfigError> {
        if !["enforce", "soft", "off"].contains(&self.mode.as_str()) {
            return Err(ConfigError(format!(
                "access.mode: {:?} is not one of \"enforce\", \"soft\", \"off\"",
                self.mode
            )));
        }
        if self.aliyun_denial_code.trim().is_empty() {
            return Err(ConfigError(
                "access.aliyun_denial_code: must not be empty".into(),
            ));
        }
        if !(400..=499).contains(&self.aliyun_denial_status) {
            return Err(ConfigError(format!(
                "access.aliyun_denial_status: {} is not a 4xx status",
                self.aliyun_denial_status
            )));
        }
        for (name, v, range) in [
            ("keys_per_user", self.keys_per_user, 1..=100),
            ("versions_per_policy", self.versions_per_policy, 1..=100),
            (
                "policies_per_principal",
                self.policies_per_principal,
                1..=1000,
            ),
            (
                "max_document_chars",
                self.max_document_chars,
                64..=1_000_000,
            ),
        ] {
            if !range.contains(&v) {
                return Err(ConfigError(format!(
                    "access.{name}: {v} is outside {}..={}",
                    range.start(),
                    range.end()
                )));
            }
        }
        Ok(())
    }
}

/// The optional TLS listener: the same routes as `listen`, over HTTPS.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// `host:port` of the HTTPS listener; absent: no TLS listener.
    #[serde(default)]
    pub listen: Option<String>,
    /// A PEM certificate chain to serve (with `key`); absent: a generated one in
    /// `DATA_DIR/tls/`.
    #[serde(default)]
    pub cert: Option<PathBuf>,
    /// The PEM private key of `cert`.
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// Extra subject names (DNS names or IP addresses) of the generated certificate.
    #[serde(default)]
    pub names: Vec<String>,
}

/// Most entries of `tls.names`.
pub const MAX_TLS_NAMES: usize = 100;

/// Connection handling: how long a client may take to send a request header or leave a
/// keep-alive connection idle, and how many connections are open at once.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Time a connection has to send a complete request header: from accept for the first
    /// request, from its first byte for a later one on a keep-alive connection.
    #[serde(default = "default_header_read_timeout")]
    pub header_read_timeout_ms: u64,
    /// Time a keep-alive connection may wait between an answer and the next request.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_ms: u64,
    /// Most connections open at once (lowered to the open-file limit minus a reserve).
    #[serde(default = "default_max_connections")]
    pub max_connections: u64,
    /// After SIGTERM/SIGINT, how long in-flight requests (and background work) may take to
    /// finish before they are cut off and the store is closed.
    #[serde(default = "default_shutdown_grace")]
    pub shutdown_grace_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            header_read_timeout_ms: default_header_read_timeout(),
            idle_timeout_ms: default_idle_timeout(),
            max_connections: default_max_connections(),
            shutdown_grace_ms: default_shutdown_grace(),
        }
    }
}

fn default_shutdown_grace() -> u64 {
    30_000
}

/// Accepted range of `server.header_read_timeout_ms`.
pub const HEADER_READ_TIMEOUT_MS: std::ops::RangeInclusive<u64> = 10..=600_000;
/// Accepted range of `server.idle_timeout_ms`.
pub const IDLE_TIMEOUT_MS: std::ops::RangeInclusive<u64> = 10..=3_600_000;
/// Accepted range of `server.max_connections`.
pub const MAX_CONNECTIONS: std::ops::RangeInclusive<u64> = 1..=1_048_576;

/// One account (a Tencent main account / an Alibaba Cloud account).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// Account id: the Tencent uin / OwnerId, a decimal string.
    pub id: String,
    /// Human name, for logs.
    pub name: String,
    /// Tencent Cloud API credentials.
    pub tencent: Option<TencentCredentials>,
    /// Alibaba Cloud AccessKey pair.
    pub aliyun: Option<AliyunCredentials>,
    /// RAM users created at start when missing (`[[accounts.ram_users]]`).
    #[serde(default)]
    pub ram_users: Vec<DeclaredUser>,
    /// CAM sub-users created at start when missing (`[[accounts.cam_users]]`).
    #[serde(default)]
    pub cam_users: Vec<DeclaredUser>,
    /// RAM custom policies created at start when missing (`[[accounts.ram_policies]]`).
    #[serde(default)]
    pub ram_policies: Vec<DeclaredPolicy>,
    /// CAM custom policies created at start when missing (`[[accounts.cam_policies]]`).
    #[serde(default)]
    pub cam_policies: Vec<DeclaredPolicy>,
    /// RAM roles created at start when missing (`[[accounts.ram_roles]]`).
    #[serde(default)]
    pub ram_roles: Vec<DeclaredRole>,
    /// CAM roles created at start when missing (`[[accounts.cam_roles]]`).
    #[serde(default)]
    pub cam_roles: Vec<DeclaredRole>,
}

/// A sub-user declared in the configuration. Its key is `access_key_id`/`access_key_secret`
/// (RAM) or `secret_id`/`secret_key` (CAM; either spelling is accepted for both).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredUser {
    /// User name.
    pub name: String,
    /// Display name (RAM) / remark (CAM).
    #[serde(default)]
    pub display_name: String,
    /// Comments.
    #[serde(default)]
    pub comments: String,
    /// E-mail.
    #[serde(default)]
    pub email: String,
    /// The access key id (none: a user without a key).
    #[serde(default, alias = "secret_id")]
    pub access_key_id: Option<String>,
    /// The access key secret.
    #[serde(default, alias = "secret_key")]
    pub access_key_secret: Option<String>,
    /// Attached policies by name: a system policy of the cloud, else a custom policy of the
    /// account.
    #[serde(default)]
    pub policies: Vec<String>,
}

/// A custom policy declared in the configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredPolicy {
    /// Policy name.
    pub name: String,
    /// The policy document (JSON text in the cloud's grammar).
    pub document: String,
    /// Description.
    #[serde(default)]
    pub description: String,
}

/// A role declared in the configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredRole {
    /// Role name.
    pub name: String,
    /// The trust policy (JSON text).
    pub trust: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Longest session, seconds (RAM 3600, CAM 43200 when absent).
    #[serde(default)]
    pub max_session_secs: Option<u64>,
    /// Attached policies by name, as for users.
    #[serde(default)]
    pub policies: Vec<String>,
}

impl Account {
    /// True when the account declares any principal.
    pub fn declares_principals(&self) -> bool {
        !(self.ram_users.is_empty()
            && self.cam_users.is_empty()
            && self.ram_policies.is_empty()
            && self.cam_policies.is_empty()
            && self.ram_roles.is_empty()
            && self.cam_roles.is_empty())
    }

    /// Checks the declared principals; `keys` holds every key id seen so far (root keys
    /// first). Errors name the key (`accounts[0].ram_users[1].name`).
    fn check_principals(&self, i: usize, keys: &mut HashSet<String>) -> Result<(), ConfigError> {
        use crate::access::model::Cloud;
        use crate::access::policy::{self, Grammar};
        use crate::access::{rules, system};
        let e = |key: String, why: &dyn fmt::Display| ConfigError(format!("{key}: {why}"));
        for (cloud, tag, grammar, users, pols, roles) in [
            (
                Cloud::Aliyun,
                "ram",
                Grammar::Ram,
                &self.ram_users,
                &self.ram_policies,
                &self.ram_roles,
            ),
            (
                Cloud::Tencent,
                "cam",
                Grammar::Cam,
                &self.cam_users,
                &self.cam_policies,
                &self.cam_roles,
            ),
        ] {
            let (id_key, secret_key) = match cloud {
                Cloud::Aliyun => ("access_key_id", "access_key_secret"),
                Cloud::Tencent => ("secret_id", "secret_key"),
            };
            let mut names = HashSet::new();
            for (j, p) in pols.iter().enumerate() {
                let at = format!("accounts[{i}].{tag}_policies[{j}]");
                rules::policy_name(cloud, "name", &p.name)
                    .map_err(|x| e(format!("{at}.name"), &x))?;
                if system::by_name(cloud, &p.name).is_some() {
                    return Err(e(format!("{at}.name"), &"is the name of a system policy"));
                }
                if !names.insert(p.name.clone()) {
                    return Err(e(
                        format!("{at}.name"),
                        &format!("{} appears twice", p.name),
                    ));
                }
                policy::parse(grammar, &p.document).map_err(|x| {
                    e(
                        format!("{at}.document"),
                        &format!("{:?}: {}", x.kind, x.message),
                    )
                })?;
            }
            let attached = |at: &str, list: &[String]| -> Result<(), ConfigError> {
                for (k, name) in list.iter().enumerate() {
                    if system::by_name(cloud, name).is_none() && !names.contains(name) {
                        return Err(e(
                            format!("{at}.policies[{k}]"),
                            &format!(
                                "{name} is neither a system policy nor one of the account's {tag}_policies"
                            ),
                        ));
                    }
                }
                Ok(())
            };
            let mut users_seen = HashSet::new();
            for (j, u) in users.iter().enumerate() {
                let at = format!("accounts[{i}].{tag}_users[{j}]");
                rules::user_name(cloud, "name", &u.name)
                    .map_err(|x| e(format!("{at}.name"), &x))?;
                if !users_seen.insert(u.name.clone()) {
                    return Err(e(
                        format!("{at}.name"),
                        &format!("{} appears twice", u.name),
                    ));
                }
                match (&u.access_key_id, &u.access_key_secret) {
                    (None, None) => {}
                    (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => {
                        if !keys.insert(id.clone()) {
                            return Err(e(
                                format!("{at}.{id_key}"),
                                &"used by an account or another user",
                            ));
                        }
                    }
                    _ => {
                        return Err(e(
                            at,
                            &format!("{id_key} and {secret_key} come together and are not empty"),
                        ))
                    }
                }
                attached(&at, &u.policies)?;
            }
            let mut roles_seen = HashSet::new();
            for (j, r) in roles.iter().enumerate() {
                let at = format!("accounts[{i}].{tag}_roles[{j}]");
                rules::role_name(cloud, "name", &r.name)
                    .map_err(|x| e(format!("{at}.name"), &x))?;
                if !roles_seen.insert(r.name.clone()) {
                    return Err(e(
                        format!("{at}.name"),
                        &format!("{} appears twice", r.name),
                    ));
                }
                policy::parse_trust(grammar, &r.trust).map_err(|x| {
                    e(
                        format!("{at}.trust"),
                        &format!("{:?}: {}", x.kind, x.message),
                    )
                })?;
                if let Some(secs) = r.max_session_secs {
                    rules::max_session(cloud, "max_session_secs", secs)
                        .map_err(|x| e(format!("{at}.max_session_secs"), &x))?;
                }
                attached(&at, &r.policies)?;
            }
        }
        Ok(())
    }
}

/// Tencent Cloud API key of an account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TencentCredentials {
    /// AppId of the account.
    pub app_id: u64,
    /// SecretId (`AKID...`).
    pub secret_id: String,
    /// SecretKey.
    pub secret_key: String,
}

/// Alibaba Cloud AccessKey pair of an account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AliyunCredentials {
    /// AccessKey id.
    pub access_key_id: String,
    /// AccessKey secret.
    pub access_key_secret: String,
}

/// Signature checking.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Tencent: largest accepted difference between a request's timestamp and the server clock.
    #[serde(default = "default_skew")]
    pub max_skew_seconds: u64,
    /// Alibaba Cloud: the same window (the gateway's is 15 minutes).
    #[serde(default = "default_aliyun_skew")]
    pub aliyun_max_skew_seconds: u64,
    /// Alibaba Cloud: refuse a signature nonce seen within the window (`SignatureNonceUsed`).
    #[serde(default = "default_true")]
    pub reject_replayed_nonces: bool,
    /// Alibaba Cloud: most signature nonces remembered (about 50 bytes each); see
    /// `NonceCache` for what happens at the bound.
    #[serde(default = "default_nonce_capacity")]
    pub nonce_cache_capacity: usize,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            max_skew_seconds: default_skew(),
            aliyun_max_skew_seconds: default_aliyun_skew(),
            reject_replayed_nonces: true,
            nonce_cache_capacity: default_nonce_capacity(),
        }
    }
}

/// IMM face-cluster behaviour.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImmConfig {
    /// Region of requests that name none (no `RegionId`, no `imm.<region>.` Host).
    #[serde(default = "default_imm_region")]
    pub default_region: String,
    /// Cosine similarity at or above which a face with an embedding joins a cluster.
    #[serde(default = "default_threshold")]
    pub cluster_similarity_threshold: f32,
    /// Shortest time a clustering or merging task stays Running.
    #[serde(default = "default_task_ms")]
    pub task_min_duration_ms: u64,
    /// How long tasks stay visible to GetTask/ListTasks.
    #[serde(default = "default_retention")]
    pub task_retention_seconds: u64,
    /// Most faces (`Figures`) one file may have.
    #[serde(default = "default_max_figures")]
    pub max_figures_per_file: usize,
}

impl Default for ImmConfig {
    fn default() -> Self {
        ImmConfig {
            default_region: default_imm_region(),
            cluster_similarity_threshold: default_threshold(),
            task_min_duration_ms: default_task_ms(),
            task_retention_seconds: default_retention(),
            max_figures_per_file: default_max_figures(),
        }
    }
}

/// CVM image behaviour.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CvmConfig {
    /// How long CREATING (and later IMPORTING/SYNCING) lasts before NORMAL.
    #[serde(default = "default_ready_after")]
    pub image_ready_after_ms: u64,
    /// Custom images per account per region.
    #[serde(default = "default_quota")]
    pub image_quota: u64,
}

impl Default for CvmConfig {
    fn default() -> Self {
        CvmConfig {
            image_ready_after_ms: default_ready_after(),
            image_quota: default_quota(),
        }
    }
}

/// Per-(account, action) request limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Off for benchmarks and test suites that hammer the service.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Limit for actions whose cloud documents no other.
    #[serde(default = "default_per_second")]
    pub default_per_second: u32,
    /// Overrides by action name.
    #[serde(default)]
    pub per_action: BTreeMap<String, u32>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            default_per_second: default_per_second(),
            per_action: BTreeMap::new(),
        }
    }
}

fn default_durability() -> String {
    "sync".into()
}
fn default_flush_interval() -> u64 {
    500
}
fn default_skew() -> u64 {
    300
}
fn default_cache_mb() -> u64 {
    crate::store::DEFAULT_CACHE_MB
}
fn default_aliyun_skew() -> u64 {
    900
}
fn default_imm_region() -> String {
    "cn-hangzhou".into()
}
fn default_threshold() -> f32 {
    0.5
}
fn default_task_ms() -> u64 {
    500
}
fn default_retention() -> u64 {
    7 * 24 * 3600
}
fn default_ready_after() -> u64 {
    2000
}
fn default_quota() -> u64 {
    500
}
fn default_nonce_capacity() -> usize {
    1_000_000
}
fn default_max_figures() -> usize {
    crate::imm::files::DEFAULT_MAX_FIGURES_PER_FILE
}
fn default_header_read_timeout() -> u64 {
    10_000
}
fn default_idle_timeout() -> u64 {
    30_000
}
fn default_max_connections() -> u64 {
    4096
}
fn default_true() -> bool {
    true
}
fn default_per_second() -> u32 {
    10
}

/// A configuration problem, naming the key.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Config {
    /// The built-in defaults: [`DEFAULT_TEXT`], parsed.
    pub fn builtin() -> Result<Config, ConfigError> {
        Self::parse(DEFAULT_TEXT).map_err(|e| ConfigError(format!("the built-in config: {}", e.0)))
    }

    /// The configuration of a command: `explicit` (`--config`) when given, else
    /// `config.toml` in the working directory when there is one, else the built-in defaults.
    pub fn resolve(explicit: Option<&Path>) -> Result<(Config, Source), ConfigError> {
        if let Some(p) = explicit {
            return Ok((Self::load(p)?, Source::Flag(p.to_path_buf())));
        }
        let here = Path::new(WORKING_DIR_FILE);
        if here.exists() {
            return Ok((Self::load(here)?, Source::WorkingDir(here.to_path_buf())));
        }
        Ok((Self::builtin()?, Source::Builtin))
    }

    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
        Self::parse(&text).map_err(|e| ConfigError(format!("{}: {}", path.display(), e.0)))
    }

    /// Parses and checks configuration text.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        cfg.check()?;
        Ok(cfg)
    }

    /// Where the store is: `[store]`, else sled in `data_dir`.
    pub fn store_target(&self) -> Result<StoreTarget, ConfigError> {
        let backend = match (&self.store.backend, &self.store.url) {
            (Some(b), _) => b.as_str(),
            (None, Some(_)) => "postgres",
            (None, None) => "sled",
        };
        match (backend, &self.store.url) {
            ("sled", None) => Ok(StoreTarget::Dir(self.data_dir.clone())),
            ("sled", Some(_)) => Err(ConfigError(
                "store.url is set but store.backend is \"sled\": set backend = \"postgres\" \
                 or remove the url"
                    .into(),
            )),
            ("postgres", Some(url)) => {
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    return Err(ConfigError(format!(
                        "store.url: {} is not a postgres:// URL",
                        crate::store::redact_url(url)
                    )));
                }
                Ok(StoreTarget::Database {
                    url: url.clone(),
                    pool: self.store.pool,
                })
            }
            ("postgres", None) => Err(ConfigError(
                "store.backend is \"postgres\" but store.url is missing (or set \
                 CLOUDTWIN_STORE_URL)"
                    .into(),
            )),
            (other, _) => Err(ConfigError(format!(
                "store.backend: {other:?} is not \"sled\" or \"postgres\""
            ))),
        }
    }

    /// This node's name: `cluster.node_id`, else one made for this process.
    pub fn node_id(&self) -> String {
        match &self.cluster.node_id {
            Some(id) => id.clone(),
            None => {
                static GENERATED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                GENERATED
                    .get_or_init(|| {
                        let id = uuid::Uuid::new_v4().simple().to_string();
                        format!("node-{}", &id[..8])
                    })
                    .clone()
            }
        }
    }

    /// Checks what the types cannot.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.check_listen()?;
        self.store_target()?;
        if self.cluster.redis_url.is_some() {
            return Err(ConfigError(
                "cluster.redis_url: this build keeps the shared rate limits and Alibaba nonces \
                 in the database of store.url (one statement each), and uses no Redis; remove \
                 the key"
                    .into(),
            ));
        }
        if matches!(&self.cluster.node_id, Some(id) if id.trim().is_empty() || id.len() > 64) {
            return Err(ConfigError(
                "cluster.node_id: must be 1 to 64 characters".into(),
            ));
        }
        self.access.check()?;
        self.check_tls()?;
        self.durability_mode()?;
        if self.admin_token.trim().is_empty() {
            return Err(ConfigError("admin_token: must not be empty".into()));
        }
        if self.accounts.is_empty() {
            return Err(ConfigError(
                "accounts: at least one [[accounts]] entry is needed".into(),
            ));
        }
        let mut ids = HashSet::new();
        let mut keys = HashSet::new();
        for (i, a) in self.accounts.iter().enumerate() {
            if a.id.is_empty() || !a.id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ConfigError(format!(
                    "accounts[{i}].id: {:?} is not a decimal account id",
                    a.id
                )));
            }
            if !ids.insert(a.id.clone()) {
                return Err(ConfigError(format!(
                    "accounts[{i}].id: {} appears twice",
                    a.id
                )));
            }
            if let Some(t) = &a.tencent {
                if t.secret_id.is_empty() || t.secret_key.is_empty() {
                    return Err(ConfigError(format!(
                        "accounts[{i}].tencent: secret_id and secret_key must not be empty"
                    )));
                }
                if !keys.insert(t.secret_id.clone()) {
                    return Err(ConfigError(format!(
                        "accounts[{i}].tencent.secret_id: used by another account"
                    )));
                }
            }
            if let Some(k) = &a.aliyun {
                if k.access_key_id.is_empty() || k.access_key_secret.is_empty() {
                    return Err(ConfigError(format!(
                        "accounts[{i}].aliyun: access_key_id and access_key_secret must not be empty"
                    )));
                }
                if !keys.insert(k.access_key_id.clone()) {
                    return Err(ConfigError(format!(
                        "accounts[{i}].aliyun.access_key_id: used by another account"
                    )));
                }
            }
        }
        for (i, a) in self.accounts.iter().enumerate() {
            a.check_principals(i, &mut keys)?;
        }
        if !(-1.0..=1.0).contains(&self.imm.cluster_similarity_threshold) {
            return Err(ConfigError(
                "imm.cluster_similarity_threshold: must be between -1 and 1".into(),
            ));
        }
        if !crate::imm::regions::is_known(&self.imm.default_region) {
            return Err(ConfigError(format!(
                "imm.default_region: {:?} is not an IMM region",
                self.imm.default_region
            )));
        }
        self.check_ranges()?;
        if self.rate_limit.default_per_second == 0 {
            return Err(ConfigError(
                "rate_limit.default_per_second: must be at least 1".into(),
            ));
        }
        for (action, n) in &self.rate_limit.per_action {
            if *n == 0 {
                return Err(ConfigError(format!(
                    "rate_limit.per_action.{action}: must be at least 1"
                )));
            }
        }
        let server = [
            (
                "server.header_read_timeout_ms",
                self.server.header_read_timeout_ms,
                HEADER_READ_TIMEOUT_MS,
            ),
            (
                "server.idle_timeout_ms",
                self.server.idle_timeout_ms,
                IDLE_TIMEOUT_MS,
            ),
            (
                "server.max_connections",
                self.server.max_connections,
                MAX_CONNECTIONS,
            ),
        ];
        for (key, value, range) in server {
            if !range.contains(&value) {
                return Err(ConfigError(format!(
                    "{key}: {value} is not between {} and {}",
                    range.start(),
                    range.end()
                )));
            }
        }
        Ok(())
    }

    /// Numbers that later combine with others (times, counters) stay in ranges where that
    /// arithmetic cannot overflow; each error names the key and the range.
    fn check_ranges(&self) -> Result<(), ConfigError> {
        let day_s = 24 * 3600;
        let checks: [(&str, u64, u64, u64); 14] = [
            (
                "auth.max_skew_seconds",
                self.auth.max_skew_seconds,
                1,
                day_s,
            ),
            (
                "auth.aliyun_max_skew_seconds",
                self.auth.aliyun_max_skew_seconds,
                1,
                day_s,
            ),
            (
                "auth.nonce_cache_capacity",
                self.auth.nonce_cache_capacity as u64,
                1000,
                100_000_000,
            ),
            (
                "cvm.image_ready_after_ms",
                self.cvm.image_ready_after_ms,
                0,
                crate::clock::MAX_DELAY_MS,
            ),
            ("cvm.image_quota", self.cvm.image_quota, 1, 1_000_000_000),
            (
                "imm.task_min_duration_ms",
                self.imm.task_min_duration_ms,
                0,
                crate::clock::MAX_DELAY_MS,
            ),
            (
                "imm.task_retention_seconds",
                self.imm.task_retention_seconds,
                1,
                10 * 365 * day_s,
            ),
            (
                "imm.max_figures_per_file",
                self.imm.max_figures_per_file as u64,
                1,
                crate::imm::files::FIGURES_PER_FILE_CEILING as u64,
            ),
            ("flush_interval_ms", self.flush_interval_ms, 1, 60_000),
            ("cache_mb", self.cache_mb, 1, 1 << 20),
            ("store.pool", self.store.pool as u64, 1, 256),
            (
                "server.shutdown_grace_ms",
                self.server.shutdown_grace_ms,
                0,
                3_600_000,
            ),
            (
                "cluster.task_lease_ms",
                self.cluster.task_lease_ms,
                500,
                3_600_000,
            ),
            (
                "rate_limit.default_per_second",
                u64::from(self.rate_limit.default_per_second),
                1,
                1_000_000,
            ),
        ];
        for (key, v, lo, hi) in checks {
            if !(lo..=hi).contains(&v) {
                return Err(ConfigError(format!(
                    "{key}: {v} is out of range; it must be between {lo} and {hi}"
                )));
            }
        }
        for (action, n) in &self.rate_limit.per_action {
            if *n > 1_000_000 {
                return Err(ConfigError(format!(
                    "rate_limit.per_action.{action}: {n} is out of range; it must be between 1 and 1000000"
                )));
            }
        }
        Ok(())
    }

    /// Checks the form of `listen`, `host:port` (a host name, an IPv4 address or a bracketed
    /// IPv6 one), without resolving the name: offline commands never look it up.
    fn check_listen(&self) -> Result<(), ConfigError> {
        check_host_port("listen", &self.listen)
    }

    /// Checks the `[tls]` table: the form of `tls.listen`, `cert` and `key` both or neither,
    /// the form and count of `names`.
    fn check_tls(&self) -> Result<(), ConfigError> {
        let tls = &self.tls;
        if let Some(l) = &tls.listen {
            check_host_port("tls.listen", l)?;
        }
        match (&tls.cert, &tls.key) {
            (Some(_), None) => {
                return Err(ConfigError(
                    "tls.key: must be given with tls.cert (both or neither)".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError(
                    "tls.cert: must be given with tls.key (both or neither)".into(),
                ))
            }
            (Some(c), Some(k)) if c.as_os_str().is_empty() || k.as_os_str().is_empty() => {
                return Err(ConfigError(
                    "tls.cert, tls.key: must not be empty paths".into(),
                ))
            }
            _ => {}
        }
        if tls.names.len() > MAX_TLS_NAMES {
            return Err(ConfigError(format!(
                "tls.names: {} names is out of range; at most {MAX_TLS_NAMES}",
                tls.names.len()
            )));
        }
        for (i, n) in tls.names.iter().enumerate() {
            let dns = n.len() <= 253
                && !n.is_empty()
                && n.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'*')
                });
            if !dns && n.parse::<std::net::IpAddr>().is_err() {
                return Err(ConfigError(format!(
                    "tls.names[{i}]: {n:?} is not a DNS name or an IP address"
                )));
            }
        }
        Ok(())
    }

    /// The addresses of `tls.listen`, resolved like [`Config::listen_addrs`]; `None` when
    /// there is no TLS listener.
    pub fn tls_listen_addrs(&self) -> Result<Option<Vec<SocketAddr>>, ConfigError> {
        match &self.tls.listen {
            None => Ok(None),
            Some(l) => resolve("tls.listen", l).map(Some),
        }
    }

    /// The listen addresses: `listen` resolved (a host name may give several, e.g. `::1` and
    /// `127.0.0.1` for `localhost`; the server binds the first that it can).
    pub fn listen_addrs(&self) -> Result<Vec<SocketAddr>, ConfigError> {
        resolve("listen", &self.listen)
    }

    /// The durability mode.
    pub fn durability_mode(&self) -> Result<Durability, ConfigError> {
        match self.durability.as_str() {
            "sync" => Ok(Durability::Sync),
            "interval" => Ok(Durability::Interval {
                ms: self.flush_interval_ms,
            }),
            other => Err(ConfigError(format!(
                "durability: {other:?} is not \"sync\" or \"interval\""
            ))),
        }
    }
}

/// Checks that `value` (of config key `key`) is `host:port` like 127.0.0.1:9400, without
/// resolving the name.
fn check_host_port(key: &str, value: &str) -> Result<(), ConfigError> {
    let bad = || {
        ConfigError(format!(
            "{key}: {value:?} is not host:port like 127.0.0.1:9400 or localhost:9400"
        ))
    };
    if value.parse::<SocketAddr>().is_ok() {
        return Ok(());
    }
    let (host, port) = value.rsplit_once(':').ok_or_else(bad)?;
    port.parse::<u16>().map_err(|_| bad())?;
    let name_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if name_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

/// `value` (of config key `key`) checked and resolved; never empty.
fn resolve(key: &str, value: &str) -> Result<Vec<SocketAddr>, ConfigError> {
    check_host_port(key, value)?;
    let addrs: Vec<SocketAddr> = value
        .to_socket_addrs()
        .map_err(|e| ConfigError(format!("{key}: cannot resolve {value:?}: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(ConfigError(format!(
            "{key}: {value:?} resolves to no address"
        )));
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
listen = "127.0.0.1:9400"
data_dir = "data"
admin_token = "t"
[[accounts]]
id = "100000000001"
name = "default"
[accounts.tencent]
app_id = 1300000001
secret_id = "AKIDa"
secret_key = "k"
[accounts.aliyun]
access_key_id = "LTAIa"
access_key_secret = "s"
[cvm]
image_ready_after_ms = 5
[rate_limit]
enabled = true
default_per_second = 10
[rate_limit.per_action]
DescribeImages = 40
"#;

    fn with_principals(extra: &str) -> Result<Config, ConfigError> {
        Config::parse(&GOOD.replacen("[cvm]\n", &format!("{extra}[cvm]\n"), 1))
    }

    #[test]
    fn declared_principals_parse_and_their_errors_name_the_key() {
        let ok = with_principals(
            "[[accounts.ram_users]]\nname = \"r\"\naccess_key_id = \"LTAIr\"\n\
             access_key_secret = \"x\"\npolicies = [\"AliyunIMMReadOnlyAccess\", \"mine\"]\n\
             [[accounts.ram_policies]]\nname = \"mine\"\n\
             document = '{\"Version\":\"1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}'\n\
             [[accounts.cam_users]]\nname = \"d\"\nsecret_id = \"AKIDd\"\nsecret_key = \"y\"\n",
        )
        .expect("parse");
        assert_eq!(ok.accounts[0].ram_users[0].policies.len(), 2);
        assert_eq!(
            ok.accounts[0].cam_users[0].access_key_id.as_deref(),
            Some("AKIDd")
        );
        let err = |extra: &str| with_principals(extra).expect_err("refused").0;
        let e = err("[[accounts.ram_users]]\nname = \"a b\"\n");
        assert!(e.starts_with("accounts[0].ram_users[0].name:"), "{e}");
        let e = err(
            "[[accounts.cam_users]]\nname = \"d\"\nsecret_id = \"AKIDa\"\nsecret_key = \"y\"\n",
        );
        assert!(e.starts_with("accounts[0].cam_users[0].secret_id:"), "{e}");
        let e = err("[[accounts.ram_users]]\nname = \"r\"\npolicies = [\"Nope\"]\n");
        assert!(
            e.starts_with("accounts[0].ram_users[0].policies[0]:"),
            "{e}"
        );
        let e = err("[[accounts.ram_policies]]\nname = \"p\"\ndocument = \"{}\"\n");
        assert!(
            e.starts_with("accounts[0].ram_policies[0].document:"),
            "{e}"
        );
        let e = err("[[accounts.ram_roles]]\nname = \"r\"\ntrust = \"x\"\n");
        assert!(e.starts_with("accounts[0].ram_roles[0].trust:"), "{e}");
    }

    #[test]
    fn the_documented_schema_parses() {
        let c = Config::parse(GOOD).expect("parse");
        assert_eq!(c.cvm.image_ready_after_ms, 5);
        assert_eq!(c.rate_limit.per_action.get("DescribeImages"), Some(&40));
        assert_eq!(c.durability_mode().expect("mode"), Durability::Sync);
    }

    #[test]
    fn an_unknown_key_is_named_in_the_error() {
        let bad = GOOD.replace("image_ready_after_ms", "image_ready_afterms");
        let e = Config::parse(&bad).unwrap_err().0;
        assert!(e.contains("image_ready_afterms"), "{e}");
    }

    #[test]
    fn a_bad_listen_address_is_named_in_the_error() {
        let bad = GOOD.replace("127.0.0.1:9400", "localhost");
        let e = Config::parse(&bad).unwrap_err().0;
        assert!(e.starts_with("listen:"), "{e}");
    }

    #[test]
    fn a_missing_key_is_named_in_the_error() {
        let bad = GOOD.replace("admin_token = \"t\"\n", "");
        let e = Config::parse(&bad).unwrap_err().0;
        assert!(e.contains("admin_token"), "{e}");
    }

    #[test]
    fn server_keys_have_documented_defaults() {
        let c = Config::parse(GOOD).expect("parse");
        assert_eq!(c.server.header_read_timeout_ms, 10_000);
        assert_eq!(c.server.idle_timeout_ms, 30_000);
        assert_eq!(c.server.max_connections, 4096);
    }

    #[test]
    fn an_out_of_range_server_key_is_named_in_the_error() {
        for (key, bad) in [
            ("header_read_timeout_ms", "0"),
            ("header_read_timeout_ms", "600001"),
            ("idle_timeout_ms", "5"),
            ("max_connections", "0"),
            ("max_connections", "2000000"),
        ] {
            let text = format!("{GOOD}[server]\n{key} = {bad}\n");
            let e = Config::parse(&text).unwrap_err().0;
            assert!(e.starts_with(&format!("server.{key}:")), "{e}");
        }
        let text = format!("{GOOD}[server]\nmax_conections = 5\n");
        let e = Config::parse(&text).unwrap_err().0;
        assert!(e.contains("max_conections"), "{e}");
    }

    #[test]
    fn the_repository_config_parses() {
        let text = include_str!("../config.toml");
        Config::parse(text).expect("config.toml must parse");
    }

    #[test]
    fn the_built_in_defaults_are_the_repository_config() {
        let file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml"))
            .expect("read config.toml");
        assert_eq!(DEFAULT_TEXT, file);
        let c = Config::builtin().expect("builtin");
        assert_eq!(c.listen, "127.0.0.1:9400");
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(c.accounts.len(), 2);
        assert_eq!(c.log_format, LogFormat::Short);
    }

    #[test]
    fn a_host_name_is_accepted_as_listen() {
        let c = Config::parse(&GOOD.replace("127.0.0.1:9400", "localhost:0")).expect("parse");
        let addrs = c.listen_addrs().expect("resolve localhost");
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
        for bad in [
            "localhost",
            "local host:1",
            ":9400",
            "localhost:99999",
            "[::1:5",
        ] {
            let e = Config::parse(&GOOD.replace("127.0.0.1:9400", bad))
                .unwrap_err()
                .0;
            assert!(e.starts_with("listen:"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_tls_table_is_checked_and_named() {
        let c = Config::parse(GOOD).expect("parse");
        assert!(c.tls.listen.is_none(), "TLS is off by default");
        assert!(c.tls_listen_addrs().expect("none").is_none());
        let on = format!(
            "{GOOD}[tls]\nlisten = \"127.0.0.1:0\"\nnames = [\"twin.test\", \"10.0.0.1\"]\n"
        );
        let c = Config::parse(&on).expect("parse");
        assert_eq!(
            c.tls_listen_addrs().expect("resolve").map(|a| a.len()),
            Some(1)
        );
        for (tail, key) in [
            ("listen = \"nope\"", "tls.listen:"),
            ("listen = \"127.0.0.1:0\"\ncert = \"c.pem\"", "tls.key:"),
            ("listen = \"127.0.0.1:0\"\nkey = \"k.pem\"", "tls.cert:"),
            ("names = [\"bad name\"]", "tls.names[0]:"),
            ("names = [\"\"]", "tls.names[0]:"),
        ] {
            let e = Config::parse(&format!("{GOOD}[tls]\n{tail}\n"))
                .unwrap_err()
                .0;
            assert!(e.starts_with(key), "{tail}: {e}");
        }
        let e = Config::parse(&format!("{GOOD}[tls]\nlisten_on = \"x\"\n"))
            .unwrap_err()
            .0;
        assert!(e.contains("listen_on"), "{e}");
    }

    #[test]
    fn log_format_is_short_or_full() {
        let c = Config::parse(&format!("log_format = \"full\"\n{GOOD}")).expect("parse");
        assert_eq!(c.log_format, LogFormat::Full);
        let e = Config::parse(&format!("log_format = \"long\"\n{GOOD}"))
            .unwrap_err()
            .0;
        assert!(e.contains("log_format") || e.contains("long"), "{e}");
    }
}
