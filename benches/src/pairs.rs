//! Ratios that hold on a noisy machine: a figure and its ceiling measured interleaved
//! (ceiling, figure, figure, ceiling, ...: the order alternates so that neither always runs
//! second), the ratio taken per pair, and the median of the pairs reported with its spread.

use std::future::Future;

use crate::load::Run;

/// The pairs of one interleaved measurement.
#[derive(Debug, Clone, Default)]
pub struct Pairs {
    /// The ceiling of each pair (req/s).
    pub ceilings: Vec<f64>,
    /// The figure's run of each pair.
    pub runs: Vec<Run>,
}

impl Pairs {
    /// figure / ceiling of each pair, in the order measured.
    pub fn ratios(&self) -> Vec<f64> {
        self.ceilings
            .iter()
            .zip(&self.runs)
            .map(|(c, r)| if *c > 0.0 { r.rps / c } else { f64::NAN })
            .collect()
    }

    /// The median ratio and the lowest and highest ratio.
    pub fn summary(&self) -> Option<(f64, f64, f64)> {
        let mut v: Vec<f64> = self
            .ratios()
            .into_iter()
            .filter(|x| x.is_finite())
            .collect();
        if v.is_empty() || self.runs.iter().any(|r| r.count == 0 || r.errors > 0) {
            return None;
        }
        v.sort_by(f64::total_cmp);
        Some((median(&v), v[0], v[v.len() - 1]))
    }

    /// The figure's run whose rate is the median of the pairs (its p50 and p99 are reported).
    pub fn median_run(&self) -> Option<&Run> {
        let mut idx: Vec<usize> = (0..self.runs.len()).collect();
        idx.sort_by(|a, b| self.runs[*a].rps.total_cmp(&self.runs[*b].rps));
        idx.get(idx.len() / 2).map(|i| &self.runs[*i])
    }

    /// The median ceiling.
    pub fn median_ceiling(&self) -> f64 {
        let mut v = self.ceilings.clone();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            f64::NAN
        } else {
            median(&v)
        }
    }
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Measures `n` pairs of (`ceiling`, `figure`), alternating which runs first.
pub async fn interleaved<C, CF, F, FF>(n: usize, mut ceiling: C, mut figure: F) -> Pairs
where
    C: FnMut() -> CF,
    CF: Future<Output = f64>,
    F: FnMut() -> FF,
    FF: Future<Output = Run>,
{
    let mut out = Pairs::default();
    for i in 0..n {
        let (c, r) = if i % 2 == 0 {
            let c = ceiling().await;
            (c, figure().await)
        } else {
            let r = figure().await;
            (ceiling().await, r)
        };
        eprintln!(
            "    pair {}: ceiling {c:.0} req/s, figure {:.0} req/s (p50 {:.3} ms, p99 {:.3} ms), ratio {:.3}",
            i + 1,
            r.rps,
            r.p50_ms,
            r.p99_ms,
            if c > 0.0 { r.rps / c } else { f64::NAN }
        );
        out.ceilings.push(c);
        out.runs.push(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rps: f64) -> Run {
        Run {
            rps,
            p50_ms: 1.0,
            p99_ms: 2.0,
            count: 10,
            errors: 0,
        }
    }

    #[test]
    fn the_summary_is_the_median_ratio_with_its_spread() {
        let p = Pairs {
            ceilings: vec![100.0, 200.0, 100.0],
            runs: vec![run(50.0), run(20.0), run(30.0)],
        };
        assert_eq!(p.summary(), Some((0.3, 0.1, 0.5)));
        assert_eq!(p.median_run().map(|r| r.rps), Some(30.0));
        assert_eq!(p.median_ceiling(), 100.0);
    }

    #[test]
    fn a_pair_whose_figure_failed_gives_no_summary() {
        let mut bad = run(10.0);
        bad.errors = 1;
        let p = Pairs {
            ceilings: vec![100.0, 100.0],
            runs: vec![run(50.0), bad],
        };
        assert_eq!(p.summary(), None);
    }
}
