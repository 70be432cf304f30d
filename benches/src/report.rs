//! The results: a table on stdout, `latest.json`, a `latest.png` chart, and the bars of the
//! benchmark issue checked against the figures of this one run.

use std::path::Path;

use plotters::prelude::*;
use serde_json::{json, Value};

use crate::load::Run;

/// One figure.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured.
    pub figure: String,
    /// Scenario key (`describe`, `modify`, ...).
    pub key: String,
    /// The scenario's variable (images, connections, clusters).
    pub x: f64,
    /// Requests per second, when a load run.
    pub rps: Option<f64>,
    /// Median latency, ms.
    pub p50: Option<f64>,
    /// 99th percentile, ms.
    pub p99: Option<f64>,
    /// A single value (seconds, MB, req/s).
    pub value: Option<(f64, &'static str)>,
    /// Errors during the run.
    pub errors: u64,
}

/// Every figure of a run.
#[derive(Default)]
pub struct Report {
    rows: Vec<Row>,
}

impl Report {
    /// Records a load run.
    pub fn run(&mut self, figure: &str, key: &str, x: f64, r: &Run) {
        eprintln!(
            "  {figure}: {:.0} req/s, p50 {:.3} ms, p99 {:.3} ms ({} answers, {} errors)",
            r.rps, r.p50_ms, r.p99_ms, r.count, r.errors
        );
        // A run without answers, or with wrong ones, measured nothing: no figures for bars.
        if r.count == 0 || r.errors > 0 {
            self.rows.push(Row {
                figure: format!(
                    "{figure} (FAILED: {} answers, {} errors)",
                    r.count, r.errors
                ),
                key: format!("{key}_failed"),
                x,
                rps: None,
                p50: None,
                p99: None,
                value: None,
                errors: r.errors,
            });
            return;
        }
        self.rows.push(Row {
            figure: figure.into(),
            key: key.into(),
            x,
            rps: Some(r.rps),
            p50: Some(r.p50_ms),
            p99: Some(r.p99_ms),
            value: None,
            errors: r.errors,
        });
    }

    /// Records one value.
    pub fn value(&mut self, figure: &str, key: &str, v: f64, unit: &'static str) {
        eprintln!("  {figure}: {v:.3} {unit}");
        self.rows.push(Row {
            figure: figure.into(),
            key: key.into(),
            x: 0.0,
            rps: None,
            p50: None,
            p99: None,
            value: Some((v, unit)),
            errors: 0,
        });
    }

    fn find(&self, key: &str, x: Option<f64>) -> Option<&Row> {
        self.rows
            .iter()
            .rfind(|r| r.key == key && x.is_none_or(|x| r.x == x))
    }

    fn bars(&self) -> Vec<(String, Option<f64>, String, bool)> {
        let mut out = Vec::new();
        let mut bar = |name: &str, v: Option<f64>, target: &str, ok: fn(f64) -> bool| {
            out.push((name.to_string(), v, target.to_string(), v.is_some_and(ok)));
        };
        for (key, what) in [
            ("health_idle", "2000 idle connections held"),
            ("health_idle_1024", "2000 idle connections, 1024 open files"),
        ] {
            bar(
                &format!("GET /_cloudtwin/health p99 ms, {what}"),
                self.find(key, None).and_then(|r| r.p99),
                "< 100",
                |v| v < 100.0,
            );
        }
        let d10k = self.find("describe", Some(10_000.0));
        let moto = self.find("moto_describe", None);
        bar(
            "DescribeImages 10k: cloudtwin / moto req/s",
            d10k.zip(moto)
                .and_then(|(a, b)| Some(a.rps? / b.rps?.max(1e-9))),
            ">= 200",
            |v| v >= 200.0,
        );
        bar(
            "DescribeImages 10k, 16 conns: p99 ms",
            d10k.and_then(|r| r.p99),
            "< 5",
            |v| v < 5.0,
        );
        let m64 = self.find("modify", Some(64.0)).and_then(|r| r.rps);
        let sled = self.find("sled", None).and_then(|r| r.value.map(|v| v.0));
        bar(
            "durable ModifyImageAttribute 64 conns / sled insert+flush",
            m64.zip(sled).map(|(a, b)| a / b),
            ">= 0.5",
            |v| v >= 0.5,
        );
        let dmax = self
            .rows
            .iter()
            .filter(|r| r.key == "describe")
            .max_by(|a, b| a.x.total_cmp(&b.x));
        let d1k = self.find("describe", Some(1_000.0));
        bar(
            &format!(
                "DescribeImages p50 at {} / at 1k",
                dmax.map(|r| r.x).unwrap_or(0.0)
            ),
            dmax.zip(d1k).and_then(|(a, b)| Some(a.p50? / b.p50?)),
            "<= 2",
            |v| v <= 2.0,
        );
        let qmax = self
            .rows
            .iter()
            .filter(|r| r.key == "query")
            .max_by(|a, b| a.x.total_cmp(&b.x));
        let q1k = self.find("query", Some(1_000.0));
        bar(
            &format!(
                "QueryFigureClusters p50 at {} / at 1k",
                qmax.map(|r| r.x).unwrap_or(0.0)
            ),
            qmax.zip(q1k).and_then(|(a, b)| Some(a.p50? / b.p50?)),
            "<= 2",
            |v| v <= 2.0,
        );
        bar(
            "start to first answer at the largest size, after a clean stop, s",
            self.find("startup", None)
                .and_then(|r| r.value.map(|v| v.0)),
            "< 0.5",
            |v| v < 0.5,
        );
        bar(
            "start to first answer at the largest size, after kill -9, s",
            self.find("startup_kill9", None)
                .and_then(|r| r.value.map(|v| v.0)),
            "< 0.5",
            |v| v < 0.5,
        );
        bar(
            "RSS at the largest size, MB",
            self.find("rss", None).and_then(|r| r.value.map(|v| v.0)),
            "< 300",
            |v| v < 300.0,
        );
        out
    }

    /// Prints the table and writes the JSON and the chart into `dir`.
    pub fn finish(&self, dir: &Path) {
        println!("\n| figure | req/s | p50 ms | p99 ms | value |");
        println!("|---|---:|---:|---:|---:|");
        let f = |v: Option<f64>, d: usize| v.map(|x| format!("{x:.d$}")).unwrap_or_default();
        for r in &self.rows {
            println!(
                "| {} | {} | {} | {} | {} |",
                r.figure,
                // moto's DescribeImages answers a few times a minute: keep its decimals.
                f(
                    r.rps,
                    if r.rps.is_some_and(|v| v < 10.0) {
                        3
                    } else {
                        0
                    }
                ),
                f(r.p50, 3),
                f(r.p99, 3),
                r.value
                    .map(|(v, u)| format!("{v:.3} {u}"))
                    .unwrap_or_default()
            );
        }
        println!("\n| bar | measured | target | met |");
        println!("|---|---:|---|---|");
        let bars = self.bars();
        for (name, v, target, ok) in &bars {
            println!(
                "| {name} | {} | {target} | {} |",
                f(*v, 3),
                if *ok {
                    "yes"
                } else if v.is_none() {
                    "not measured"
                } else {
                    "NO"
                }
            );
        }
        let doc: Value = json!({
            "machine": {"cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)},
            "rows": self.rows.iter().map(|r| json!({"figure": r.figure, "key": r.key, "x": r.x, "rps": r.rps, "p50_ms": r.p50, "p99_ms": r.p99,
                "value": r.value.map(|v| v.0), "unit": r.value.map(|v| v.1), "errors": r.errors})).collect::<Vec<_>>(),
            "bars": bars.iter().map(|(n, v, t, ok)| json!({"bar": n, "measured": v, "target": t, "met": ok})).collect::<Vec<_>>(),
        });
        let _ = std::fs::create_dir_all(dir);
        let json_path = dir.join("latest.json");
        match serde_json::to_string_pretty(&doc) {
            Ok(text) => {
                if let Err(e) = std::fs::write(&json_path, text + "\n") {
                    eprintln!("cannot write {}: {e}", json_path.display());
                }
            }
            Err(e) => eprintln!("cannot encode the results: {e}"),
        }
        let png = dir.join("latest.png");
        match self.chart(&png) {
            Ok(()) => eprintln!("wrote {} and {}", json_path.display(), png.display()),
            Err(e) => eprintln!("chart not drawn ({e}); wrote {}", json_path.display()),
        }
    }

    fn chart(&self, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
        let font = [
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        ]
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .ok_or("no DejaVuSans.ttf (apt-get install fonts-dejavu-core)")?;
        let font: &'static [u8] = Box::leak(font.into_boxed_slice());
        plotters::style::register_font("sans-serif", FontStyle::Normal, font)
            .map_err(|_| "bad font")?;
        let root = BitMapBackend::new(path, (1400, 560)).into_drawing_area();
        root.fill(&WHITE)?;
        let (left, right) = root.split_horizontally(700);
        let describe: Vec<&Row> = self.rows.iter().filter(|r| r.key == "describe").collect();
        let query: Vec<&Row> = self.rows.iter().filter(|r| r.key == "query").collect();
        let ymax = describe
            .iter()
            .chain(query.iter())
            .filter_map(|r| r.p99)
            .fold(1.0f64, f64::max)
            * 1.2;
        let mut c = ChartBuilder::on(&left)
            .caption("Read latency vs size (16 conns)", ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d((500f64..2_000_000f64).log_scale(), 0f64..ymax)?;
        c.configure_mesh()
            .x_desc("images / clusters")
            .y_desc("ms")
            .draw()?;
        for (rows, metric, color, label) in [
            (&describe, 0, BLUE, "DescribeImages p50"),
            (&describe, 1, CYAN, "DescribeImages p99"),
            (&query, 0, RED, "QueryFigureClusters p50"),
            (&query, 1, MAGENTA, "QueryFigureClusters p99"),
        ] {
            let pts: Vec<(f64, f64)> = rows
                .iter()
                .filter_map(|r| Some((r.x, if metric == 0 { r.p50? } else { r.p99? })))
                .collect();
            c.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
            c.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, color.filled())))?;
        }
        c.configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        let modify: Vec<&Row> = self.rows.iter().filter(|r| r.key == "modify").collect();
        let sled = self
            .find("sled", None)
            .and_then(|r| r.value.map(|v| v.0))
            .unwrap_or(0.0);
        let moto = self
            .find("moto_modify", None)
            .and_then(|r| r.rps)
            .unwrap_or(0.0);
        let top = modify
            .iter()
            .filter_map(|r| r.rps)
            .fold(sled.max(moto), f64::max)
            * 1.2
            + 1.0;
        let mut c = ChartBuilder::on(&right)
            .caption("Durable ModifyImageAttribute", ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(65)
            .build_cartesian_2d(0f64..70f64, 0f64..top)?;
        c.configure_mesh()
            .x_desc("connections")
            .y_desc("req/s")
            .draw()?;
        let pts: Vec<(f64, f64)> = modify.iter().filter_map(|r| Some((r.x, r.rps?))).collect();
        c.draw_series(LineSeries::new(pts.clone(), BLUE.stroke_width(2)))?
            .label("cloudtwin (sync)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
        c.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, BLUE.filled())))?;
        c.draw_series(LineSeries::new(
            vec![(0.0, sled), (70.0, sled)],
            RED.stroke_width(1),
        ))?
        .label("sled insert+flush ceiling")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
        if moto > 0.0 {
            c.draw_series(std::iter::once(Circle::new(
                (64.0, moto),
                5,
                GREEN.filled(),
            )))?
            .label("moto, 64 conns")
            .legend(|(x, y)| Circle::new((x + 10, y), 4, GREEN.filled()));
        }
        c.configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
        Ok(())
    }
}
