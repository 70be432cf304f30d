//! Fault injection for clients' retry code: rules that make matching requests answer a chosen
//! cloud error, or wait first. Rules live in memory only (they are test settings, not state).
//!
//! A rule matches on dialect, action and account (each optional), fires with a probability
//! (default always), and at most `count` times (default forever). The first matching rule, in
//! the order they were added, decides.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// The error a rule answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultError {
    /// The cloud error code (`RequestLimitExceeded`, `InternalError`, `Throttling.User`, ...).
    pub code: String,
    /// The message (a default names the rule).
    #[serde(default)]
    pub message: Option<String>,
    /// HTTP status for the Alibaba dialect (default 400; Tencent answers are always 200).
    #[serde(default)]
    pub status: Option<u16>,
}

/// A rule as given by a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// `tencent` or `aliyun`; any when absent.
    #[serde(default)]
    pub dialect: Option<String>,
    /// Action name; any when absent.
    #[serde(default)]
    pub action: Option<String>,
    /// Account id; any when absent.
    #[serde(default)]
    pub account: Option<String>,
    /// Chance to fire, in (0, 1]; always when absent.
    #[serde(default)]
    pub probability: Option<f64>,
    /// Fires at most this many times; forever when absent.
    #[serde(default)]
    pub count: Option<u64>,
    /// Answer with this error.
    #[serde(default)]
    pub error: Option<FaultError>,
    /// Wait this long first.
    #[serde(default)]
    pub latency_ms: Option<u64>,
}

/// A stored rule.
#[derive(Debug, Clone, Serialize)]
pub struct FaultRule {
    /// Id, for deletion.
    pub id: String,
    /// The rule.
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// Times it fired.
    pub hits: u64,
}

/// What a fired rule does to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    /// Wait first.
    pub latency_ms: u64,
    /// Then answer with this error, if any.
    pub error: Option<FaultError>,
}

/// Every rule.
#[derive(Default)]
pub struct Faults {
    rules: Mutex<Vec<FaultRule>>,
    fired: AtomicU64,
}

fn chance() -> f64 {
    let b = uuid::Uuid::new_v4();
    let n = u64::from_le_bytes(b.as_bytes()[..8].try_into().unwrap_or([0; 8]));
    (n >> 11) as f64 / (1u64 << 53) as f64
}

impl Faults {
    /// Adds a rule after checking it; returns its id.
    pub fn add(&self, spec: FaultSpec) -> Result<String, String> {
        if spec.error.is_none() && spec.latency_ms.is_none() {
            return Err("a rule needs an error, a latency_ms, or both".into());
        }
        if let Some(d) = &spec.dialect {
            if crate::dialect::Dialect::from_name(d).is_none() {
                return Err(format!(
                    "dialect {d:?} is not {:?} or {:?}",
                    crate::dialect::Dialect::Tencent.name(),
                    crate::dialect::Dialect::Aliyun.name()
                ));
            }
        }
        if let Some(p) = spec.probability {
            if !(p > 0.0 && p <= 1.0) {
                return Err(format!("probability {p} is not in (0, 1]"));
            }
        }
        if spec.count == Some(0) {
            return Err("count must be at least 1".into());
        }
        if let Some(e) = &spec.error {
            if e.code.trim().is_empty() {
                return Err("error.code must not be empty".into());
            }
            if let Some(s) = e.status {
                if !(400..=599).contains(&s) {
                    return Err(format!("error.status {s} is not between 400 and 599"));
                }
            }
        }
        if spec.latency_ms.is_some_and(|l| l > 600_000) {
            return Err("latency_ms is at most 600000".into());
        }
        let id = format!("fault-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        self.rules
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(FaultRule {
                id: id.clone(),
                spec,
                hits: 0,
            });
        Ok(id)
    }

    /// The rules in force.
    pub fn list(&self) -> Vec<FaultRule> {
        self.rules.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Removes every rule; returns how many there were.
    pub fn clear(&self) -> usize {
        let mut r = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        let n = r.len();
        r.clear();
        n
    }

    /// Removes one rule.
    pub fn remove(&self, id: &str) -> bool {
        let mut r = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        let before = r.len();
        r.retain(|x| x.id != id);
        r.len() != before
    }

    /// Faults fired so far.
    pub fn fired(&self) -> u64 {
        self.fired.load(Ordering::Relaxed)
    }

    /// The rule that fires for this request, if any (counts it; a rule whose count is spent
    /// goes away).
    pub fn pick(&self, dialect: &str, action: &str, account: &str) -> Option<Fired> {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        let idx = rules.iter().position(|r| {
            let s = &r.spec;
            s.dialect.as_deref().is_none_or(|d| d == dialect)
                && s.action.as_deref().is_none_or(|a| a == action)
                && s.account.as_deref().is_none_or(|a| a == account)
                && s.probability.is_none_or(|p| chance() < p)
        })?;
        let rule = &mut rules[idx];
        rule.hits += 1;
        let fired = Fired {
            latency_ms: rule.spec.latency_ms.unwrap_or(0),
            error: rule.spec.error.clone().map(|mut e| {
                if e.message.is_none() {
                    e.message = Some(format!("Injected by cloudtwin fault rule {}.", rule.id));
                }
                e
            }),
        };
        if rule.spec.count.is_some_and(|c| rule.hits >= c) {
            rules.remove(idx);
        }
        self.fired.fetch_add(1, Ordering::Relaxed);
        Some(fired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(count: Option<u64>, probability: Option<f64>) -> FaultSpec {
        FaultSpec {
            dialect: Some("tencent".into()),
            action: Some("DescribeImages".into()),
            account: None,
            probability,
            count,
            error: Some(FaultError {
                code: "InternalError".into(),
                message: None,
                status: None,
            }),
            latency_ms: None,
        }
    }

    #[test]
    fn a_counted_rule_fires_that_many_times_then_goes_away() {
        let f = Faults::default();
        f.add(spec(Some(2), None)).expect("add");
        assert!(f.pick("tencent", "DescribeImages", "1").is_some());
        assert!(
            f.pick("aliyun", "DescribeImages", "1").is_none(),
            "other dialect"
        );
        assert!(
            f.pick("tencent", "CreateImage", "1").is_none(),
            "other action"
        );
        assert!(f.pick("tencent", "DescribeImages", "2").is_some());
        assert!(f.pick("tencent", "DescribeImages", "1").is_none());
        assert!(f.list().is_empty());
        assert_eq!(f.fired(), 2);
    }

    #[test]
    fn a_probability_fires_about_that_often() {
        let f = Faults::default();
        f.add(spec(None, Some(0.3))).expect("add");
        let hits = (0..4000)
            .filter(|_| f.pick("tencent", "DescribeImages", "1").is_some())
            .count();
        assert!((900..1500).contains(&hits), "{hits} of 4000 at p=0.3");
    }

    #[test]
    fn bad_rules_are_refused() {
        let f = Faults::default();
        let mut s = spec(None, Some(1.5));
        assert!(f.add(s.clone()).is_err());
        s.probability = None;
        s.error = None;
        assert!(f.add(s).is_err());
    }
}
