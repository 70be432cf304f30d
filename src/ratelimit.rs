//! Per-(account, action) request limits, with governor.
//!
//! The limit of an action is, in order: `rate_limit.per_action.<Action>` from the config, the
//! limit the cloud documents for the action, `rate_limit.default_per_second`. The check runs
//! after authentication, so an unsigned flood cannot use up an account's budget.
//!
//! Over a database shared by several nodes ([`RateLimits::shared_through`]) the buckets live
//! there (one GCRA row per (dialect, action, account), one statement per request, the same
//! rate and burst as governor's), so the limit holds across the cluster; governor stays for
//! the embedded mode.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::RateLimitConfig;

/// A refused request: how many came in this second, and the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    /// Requests seen in the current second, this one included.
    pub count: u32,
    /// Requests allowed per second.
    pub limit: u32,
}

struct Limiter {
    per_second: u32,
    governor: DefaultKeyedRateLimiter<String>,
    /// (second, count) per account, for the count in the error message.
    window: Mutex<HashMap<String, (u64, u32)>>,
}

/// Every limiter of the service.
pub struct RateLimits {
    enabled: bool,
    default_per_second: u32,
    overrides: BTreeMap<String, u32>,
    limiters: Mutex<HashMap<(&'static str, String), Arc<Limiter>>>,
    rejected: std::sync::atomic::AtomicU64,
    cluster: Option<crate::cluster::Cluster>,
}

impl RateLimits {
    /// Limits from the configuration.
    pub fn new(cfg: &RateLimitConfig) -> RateLimits {
        RateLimits {
            enabled: cfg.enabled,
            default_per_second: cfg.default_per_second,
            overrides: cfg.per_action.clone(),
            limiters: Mutex::new(HashMap::new()),
            rejected: std::sync::atomic::AtomicU64::new(0),
            cluster: None,
        }
    }

    /// Keeps the buckets in the store of `cluster` when it is shared by several nodes.
    pub fn shared_through(mut self, cluster: crate::cluster::Cluster) -> RateLimits {
        if cluster.is_shared() {
            self.cluster = Some(cluster);
        }
        self
    }

    /// The limit in force for an action.
    pub fn limit_for(&self, action: &str, documented: Option<u32>) -> u32 {
        self.overrides
            .get(action)
            .copied()
            .or(documented)
            .unwrap_or(self.default_per_second)
            .max(1)
    }

    /// Requests refused so far.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Counts one request of `account` to `action`; `Err` when it is over the limit.
    pub fn check(
        &self,
        dialect: &'static str,
        action: &str,
        documented: Option<u32>,
        account: &str,
    ) -> Result<(), Exceeded> {
        if !self.enabled {
            return Ok(());
        }
        let limiter = {
            let mut map = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
            map.entry((dialect, action.to_string()))
                .or_insert_with(|| {
                    let per_second = self.limit_for(action, documented);
                    let quota =
                        Quota::per_second(NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN));
                    Arc::new(Limiter {
                        per_second,
                        governor: RateLimiter::keyed(quota),
                        window: Mutex::new(HashMap::new()),
                    })
                })
                .clone()
        };
        let second = crate::clock::now_ms() / 1000;
        let count = {
            let mut w = limiter.window.lock().unwrap_or_else(|p| p.into_inner());
            let slot = w.entry(account.to_string()).or_insert((second, 0));
            if slot.0 != second {
                *slot = (second, 0);
            }
            slot.1 += 1;
            slot.1
        };
        let allowed = match &self.cluster {
            Some(cluster) => {
                // governor's quota: one cell every interval, a burst of `per_second`.
                let interval_us = 1_000_000 / u64::from(limiter.per_second.max(1));
                let tolerance_us = interval_us * u64::from(limiter.per_second.max(1) - 1);
                let bucket = format!("{dialect}/{action}/{account}");
                let now_us = crate::clock::now_ms().saturating_mul(1000);
                match cluster.gcra(&bucket, now_us, interval_us, tolerance_us) {
                    Some(Ok(wait)) => wait.is_none(),
                    // The database is away: the request fails at the store anyway; the
                    // limiter does not blame the caller for it.
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "shared rate limit unavailable; allowed");
                        true
                    }
                    None => limiter.governor.check_key(&account.to_string()).is_ok(),
                }
            }
            None => limiter.governor.check_key(&account.to_string()).is_ok(),
        };
        match allowed {
            true => Ok(()),
            false => {
                self.rejected
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Err(Exceeded {
                    count: count.max(limiter.per_second + 1),
                    limit: limiter.per_second,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(enabled: bool) -> RateLimits {
        let mut cfg = RateLimitConfig {
            enabled,
            ..RateLimitConfig::default()
        };
        cfg.per_action.insert("DescribeImages".into(), 3);
        RateLimits::new(&cfg)
    }

    #[test]
    fn the_eleventh_request_in_a_second_is_refused_at_the_default_limit() {
        let l = limits(true);
        for _ in 0..10 {
            l.check("tencent", "ModifyImageAttribute", Some(10), "1")
                .expect("within limit");
        }
        let e = l
            .check("tencent", "ModifyImageAttribute", Some(10), "1")
            .unwrap_err();
        assert_eq!(e.limit, 10);
        assert!(e.count >= 11);
    }

    #[test]
    fn accounts_and_actions_have_separate_budgets() {
        let l = limits(true);
        for _ in 0..10 {
            l.check("tencent", "ModifyImageAttribute", Some(10), "1")
                .expect("a");
        }
        l.check("tencent", "ModifyImageAttribute", Some(10), "2")
            .expect("other account");
        l.check("tencent", "CreateImage", Some(10), "1")
            .expect("other action");
    }

    #[test]
    fn a_configured_limit_overrides_the_documented_one() {
        let l = limits(true);
        assert_eq!(l.limit_for("DescribeImages", Some(40)), 3);
        assert_eq!(l.limit_for("CreateImage", Some(10)), 10);
        assert_eq!(l.limit_for("Unknown", None), 10);
    }

    #[test]
    fn disabled_limits_refuse_nothing() {
        let l = limits(false);
        for _ in 0..100 {
            l.check("tencent", "DescribeImages", Some(40), "1")
                .expect("off");
        }
    }
}
