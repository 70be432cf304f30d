//! Prometheus metrics, rendered by hand in the text exposition format: requests by dialect,
//! action and code; latency histograms by dialect and action; store size; flushes; rate-limit
//! rejections; injected faults.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// Counters of the service.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, String), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
}

/// Other figures, read when rendering.
pub struct Gauges {
    /// Bytes of the store on disk.
    pub store_bytes: u64,
    /// Group-commit flushes so far.
    pub flushes: u64,
    /// Duration of the last flush, microseconds.
    pub last_flush_micros: u64,
    /// Transactions that joined the batch of committed writes (`store/pending.rs`).
    pub batched_transactions: u64,
    /// Batches of committed writes applied.
    pub batches_applied: u64,
    /// Requests refused by rate limits.
    pub rate_limited: u64,
    /// Faults injected.
    pub faults: u64,
}

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', " ")
}

impl Metrics {
    /// Counts one answered request.
    pub fn observe(&self, dialect: &str, action: &str, code: &str, elapsed: Duration) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((dialect.to_string(), action.to_string(), code.to_string()))
            .or_default() += 1;
        let secs = elapsed.as_secs_f64();
        let mut lat = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        let h = lat
            .entry((dialect.to_string(), action.to_string()))
            .or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    /// The exposition text.
    pub fn render(&self, g: &Gauges) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP cloudtwin_requests_total Cloud API requests answered, by dialect, action and answer code.");
        let _ = writeln!(out, "# TYPE cloudtwin_requests_total counter");
        for ((d, a, c), n) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "cloudtwin_requests_total{{dialect=\"{}\",action=\"{}\",code=\"{}\"}} {n}",
                label(d),
                label(a),
                label(c)
            );
        }
        let _ = writeln!(
            out,
            "# HELP cloudtwin_request_duration_seconds Time to answer a cloud API request."
        );
        let _ = writeln!(out, "# TYPE cloudtwin_request_duration_seconds histogram");
        for ((d, a), h) in self
            .latency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let l = format!("dialect=\"{}\",action=\"{}\"", label(d), label(a));
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "cloudtwin_request_duration_seconds_bucket{{{l},le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "cloudtwin_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "cloudtwin_request_duration_seconds_sum{{{l}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "cloudtwin_request_duration_seconds_count{{{l}}} {}",
                h.count
            );
        }
        for (name, kind, help, v) in [
            (
                "cloudtwin_store_size_bytes",
                "gauge",
                "Bytes of the store on disk.",
                g.store_bytes as f64,
            ),
            (
                "cloudtwin_store_flushes_total",
                "counter",
                "Group-commit flushes.",
                g.flushes as f64,
            ),
            (
                "cloudtwin_store_last_flush_seconds",
                "gauge",
                "Duration of the last flush.",
                g.last_flush_micros as f64 / 1e6,
            ),
            (
                "cloudtwin_store_batched_transactions_total",
                "counter",
                "Transactions that joined a batch of committed writes (sync mode on a data dir).",
                g.batched_transactions as f64,
            ),
            (
                "cloudtwin_store_batches_applied_total",
                "counter",
                "Batches of committed writes applied as one engine transaction.",
                g.batches_applied as f64,
            ),
            (
                "cloudtwin_rate_limited_total",
                "counter",
                "Requests refused by a rate limit.",
                g.rate_limited as f64,
            ),
            (
                "cloudtwin_injected_faults_total",
                "counter",
                "Faults injected by fault rules.",
                g.faults as f64,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_has_counters_buckets_and_gauges() {
        let m = Metrics::default();
        m.observe(
            "tencent",
            "DescribeImages",
            "Success",
            Duration::from_micros(700),
        );
        m.observe(
            "tencent",
            "DescribeImages",
            "Success",
            Duration::from_millis(30),
        );
        let t = m.render(&Gauges {
            store_bytes: 10,
            flushes: 2,
            last_flush_micros: 1500,
            batched_transactions: 12,
            batches_applied: 4,
            rate_limited: 3,
            faults: 1,
        });
        assert!(t.contains("cloudtwin_requests_total{dialect=\"tencent\",action=\"DescribeImages\",code=\"Success\"} 2"));
        assert!(t.contains("le=\"0.001\"} 1"));
        assert!(t.contains("le=\"0.05\"} 2"));
        assert!(t.contains("cloudtwin_rate_limited_total 3"));
        assert!(t.contains("cloudtwin_store_last_flush_seconds 0.0015"));
        assert!(t.contains("cloudtwin_store_batched_transactions_total 12"));
        assert!(t.contains("cloudtwin_store_batches_applied_total 4"));
    }
}
