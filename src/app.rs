//! The application: everything a request can reach, built once over an open store. The server
//! routes to it, the admin routes and the dialects act on it; it imports neither.

use std::sync::Arc;
use std::time::Instant;

use crate::access::authorize::Mode;
use crate::access::service::Limits;
use crate::access::Access;
use crate::accounts::Accounts;
use crate::config::Config;
use crate::cvm::Cvm;
use crate::dialect::aliyun::{verify as ali_verify, Aliyun};
use crate::dialect::pipeline::Shared;
use crate::dialect::tencent::Tencent;
use crate::imm::{Imm, ImmSettings};
use crate::ratelimit::RateLimits;
use crate::store::Store;

/// Everything a request handler can reach.
pub struct App {
    /// The configuration in force (after CLI and environment overrides).
    pub config: Config,
    /// Accounts by credential.
    pub accounts: Arc<Accounts>,
    /// Sub-users, policies, roles, sessions and the policy stage.
    pub access: Arc<Access>,
    /// The store.
    pub store: Store,
    /// The image service.
    pub cvm: Arc<Cvm>,
    /// The face service.
    pub imm: Arc<Imm>,
    /// The Tencent Cloud dialect (CVM).
    pub tencent: Tencent,
    /// The Alibaba Cloud dialect (IMM), with its nonce cache.
    pub aliyun: Aliyun,
    /// Request limits.
    pub limits: RateLimits,
    /// This node among the nodes of the store (its name, task leases, what nodes share).
    pub cluster: crate::cluster::Cluster,
    /// Fault-injection rules.
    pub faults: crate::faults::Faults,
    /// Request counters and latencies.
    pub metrics: crate::metrics::Metrics,
    /// The request journal.
    pub journal: crate::journal::Journal,
    /// When the server started.
    pub started: Instant,
    /// The store's schema version, read once at start (it changes only when a store is
    /// opened and migrated), so that health never waits on the store.
    pub schema_version: u32,
}

impl App {
    /// Builds the application over an open store.
    pub fn new(config: Config, store: Store) -> Result<App, crate::store::StoreError> {
        let accounts = Arc::new(Accounts::new(&config.accounts));
        let cluster = crate::cluster::Cluster::new(
            store.clone(),
            config.node_id(),
            config.cluster.task_lease_ms,
        );
        let a = &config.access;
        let access = Arc::new(Access::open(
            store.clone(),
            Limits {
                keys_per_user: a.keys_per_user as usize,
                versions_per_policy: a.versions_per_policy as usize,
                policies_per_principal: a.policies_per_principal as usize,
                max_document_chars: a.max_document_chars as usize,
            },
            Mode::parse(&a.mode).unwrap_or_default(),
        )?);
        let cvm = Arc::new(Cvm::new(
            store.clone(),
            config.cvm.image_ready_after_ms,
            config.cvm.image_quota,
        ));
        let imm = Arc::new(
            Imm::new(
                store.clone(),
                ImmSettings {
                    similarity_threshold: config.imm.cluster_similarity_threshold,
                    task_retention_ms: config.imm.task_retention_seconds.saturating_mul(1000),
                    task_min_duration_ms: config.imm.task_min_duration_ms,
                    max_figures_per_file: config.imm.max_figures_per_file,
                    task_failure_code: crate::dialect::aliyun::error::task_failure_code,
                },
            )
            .with_cluster(cluster.clone()),
        );
        Ok(App {
            tencent: Tencent {
                cvm: cvm.clone(),
                accounts: accounts.clone(),
                access: access.clone(),
                max_skew_seconds: config.auth.max_skew_seconds,
            },
            aliyun: Aliyun {
                imm: imm.clone(),
                accounts: accounts.clone(),
                access: access.clone(),
                denial: (a.aliyun_denial_code.clone(), a.aliyun_denial_status),
                nonces: ali_verify::NonceCache::with_capacity(config.auth.nonce_cache_capacity)
                    .shared_through(cluster.clone()),
                freshness: ali_verify::Freshness {
                    max_skew_seconds: config.auth.aliyun_max_skew_seconds,
                    reject_replayed_nonces: config.auth.reject_replayed_nonces,
                },
                default_region: config.imm.default_region.clone(),
            },
            accounts,
            access,
            cvm,
            imm,
            limits: RateLimits::new(&config.rate_limit).shared_through(cluster.clone()),
            cluster,
            faults: crate::faults::Faults::default(),
            metrics: crate::metrics::Metrics::default(),
            journal: crate::journal::Journal::default(),
            schema_version: store.schema_version().unwrap_or(0),
            store,
            config,
            started: Instant::now(),
        })
    }

    /// What the pipeline's shared stages use.
    pub fn shared(&self) -> Shared<'_> {
        Shared {
            faults: &self.faults,
            limits: &self.limits,
            metrics: &self.metrics,
            journal: &self.journal,
            log_format: self.config.log_format,
        }
    }
}
