//! The results: a table on stdout, `latest.json`, a `latest.png` chart, and the bars of the
//! benchmark issue checked against the figures of this one run.

use std::path::Path;

use plotters::prelude::*;
use serde_json::{json, Value};

use crate::load::Run;
use crate::pairs::Pairs;

/// A line of a chart: its points, colour and legend.
type Series<'a> = (Vec<(f64, f64)>, RGBColor, &'a str);

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
    /// For a ratio of interleaved pairs: the lowest and highest pair's ratio.
    pub spread: Option<(f64, f64)>,
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
                spread: None,
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
            spread: None,
        });
    }

    /// Records one value.
    pub fn value(&mut self, figure: &str, key: &str, v: f64, unit: &'static str) {
        self.value_at(figure, key, 0.0, v, unit);
    }

    /// Records one value at a point of its scenario's variable (faces, clusters).
    pub fn value_at(&mut self, figure: &str, key: &str, x: f64, v: f64, unit: &'static str) {
        eprintln!("  {figure}: {v:.3} {unit}");
        self.rows.push(Row {
            figure: figure.into(),
            key: key.into(),
            x,
            rps: None,
            p50: None,
            p99: None,
            value: Some((v, unit)),
            errors: 0,
            spread: None,
        });
    }

    /// Records interleaved pairs: the figure's median run (key `key`, at `x`), the median
    /// ceiling (key `ceiling_key`) and the median ratio with its spread (key `ratio_key`).
    #[allow(clippy::too_many_arguments)]
    pub fn pairs(
        &mut self,
        figure: &str,
        key: &str,
        x: f64,
        ceiling: &str,
        ceiling_key: &str,
        ratio_key: &str,
        p: &Pairs,
    ) {
        if let Some(run) = p.median_run() {
            self.run(
                &format!("{figure} (median of {} pairs)", p.runs.len()),
                key,
                x,
                run,
            );
        }
        self.value(
            &format!("{ceiling} (median of the same pairs)"),
            ceiling_key,
            p.median_ceiling(),
            "req/s",
        );
        let Some((median, lo, hi)) = p.summary() else {
            eprintln!("  {figure} / {ceiling}: no ratio (a run failed)");
            return;
        };
        eprintln!("  {figure} / {ceiling}: median {median:.3}, spread {lo:.3}..{hi:.3}");
        self.rows.push(Row {
            figure: format!(
                "{figure} / {ceiling}: median of {} interleaved pairs (spread {lo:.3}..{hi:.3})",
                p.runs.len()
            ),
            key: ratio_key.into(),
            x,
            rps: None,
            p50: None,
            p99: None,
            value: Some((median, "ratio")),
            errors: 0,
            spread: Some((lo, hi)),
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
        // A moto window without a single answer bounds its rate by one answer per window: the
        // ratio is then at least cloudtwin's rate times the window.
        let moto_window = self
            .find("moto_describe_window", None)
            .and_then(|r| r.value.map(|v| v.0));
        let (name, ratio) = match (d10k.and_then(|r| r.rps), moto, moto_window) {
            (Some(a), Some(m), _) => (
                "DescribeImages 10k: cloudtwin / moto req/s".to_string(),
                m.rps.map(|b| a / b.max(1e-9)),
            ),
            (Some(a), None, Some(window)) => (
                format!(
                    "DescribeImages 10k: cloudtwin / moto req/s, a lower bound (moto answered nothing in {window:.0} s)"
                ),
                Some(a * window),
            ),
            _ => ("DescribeImages 10k: cloudtwin / moto req/s".to_string(), None),
        };
        bar(&name, ratio, ">= 200", |v| v >= 200.0);
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
        // Issue 15: the request path and durable writes, as ratios of interleaved pairs.
        let ratio = |key: &str| self.find(key, None).and_then(|r| r.value.map(|v| v.0));
        bar(
            "DescribeImages 16 conns / trivial axum handler (median of pairs)",
            ratio("describe_axum_ratio"),
            ">= 0.25",
            |v| v >= 0.25,
        );
        bar(
            "DescribeImages p99 ms at 1M images, 16 conns",
            self.find("describe", Some(1_000_000.0)).and_then(|r| r.p99),
            "<= 2",
            |v| v <= 2.0,
        );
        bar(
            "QueryFigureClusters p50 ms at 1M clusters, 16 conns",
            self.find("query", Some(1_000_000.0)).and_then(|r| r.p50),
            "<= 1.5",
            |v| v <= 1.5,
        );
        bar(
            "durable ModifyImageAttribute 16 conns / sled insert+flush (median of pairs)",
            ratio("modify_sled_ratio"),
            ">= 0.85",
            |v| v >= 0.85,
        );
        let at = |key: &str, x: f64| self.find(key, Some(x)).and_then(|r| r.value.map(|v| v.0));
        bar(
            "embedding clustering, 1M faces x 128 (indexed, in process), s",
            at("faces_indexed", 1e6),
            "<= 300",
            |v| v <= 300.0,
        );
        let worst_vs_exact = self
            .rows
            .iter()
            .filter(|r| r.key == "faces_quality_vs_exact")
            .filter_map(|r| r.value.map(|v| v.0))
            .reduce(f64::min);
        bar(
            "embedding clustering: indexed vs exact, lowest pairwise precision/recall",
            worst_vs_exact,
            ">= 0.99",
            |v| v >= 0.99,
        );
        bar(
            "embedding clustering at 1M: pairwise precision/recall vs the truth (lower)",
            at("faces_quality_vs_truth", 1e6),
            ">= 0.99",
            |v| v >= 0.99,
        );
        bar(
            "10k new faces into the clustered million (in process), s",
            at("faces_incremental", 1e6),
            "<= 10",
            |v| v <= 10.0,
        );
        bar(
            "peak RSS clustering 1M faces (in process, faces included), MB",
            at("faces_rss", 1e6),
            "<= 2048",
            |v| v <= 2048.0,
        );
        for (key, what) in [
            ("qfc_label_imagecount", "CustomLabels filter, by ImageCount"),
            ("qfc_label_name", "CustomLabels filter, by Name"),
            ("qfc_time_updatetime", "UpdateTimeRange, by UpdateTime"),
            ("qfc_time_imagecount", "UpdateTimeRange, by ImageCount"),
        ] {
            let big = self.find(key, Some(1e6)).and_then(|r| r.p50);
            let small = self.find(key, Some(1e3)).and_then(|r| r.p50);
            bar(
                &format!("QueryFigureClusters {what}: p50 ms at 1M clusters"),
                big,
                "<= 10",
                |v| v <= 10.0,
            );
            bar(
                &format!("QueryFigureClusters {what}: p50 at 1M / at 1k"),
                big.zip(small).map(|(a, b)| a / b),
                "<= 2 (flat)",
                |v| v <= 2.0,
            );
        }
        // Bar 2 says "1M hinted faces"; its "now 344 s" was taken at 1M identities (2.5M
        // faces): both are reported.
        for (name, faces) in [
            (
                "CreateFigureClusteringTask, 1M hinted faces (400k identities), s",
                1e6,
            ),
            (
                "CreateFigureClusteringTask, 1M identity hints (2.5M faces), s",
                2.5e6,
            ),
        ] {
            bar(
                name,
                self.find("clustering_hints", Some(faces))
                    .and_then(|r| r.value.map(|v| v.0)),
                "<= 60",
                |v| v <= 60.0,
            );
        }
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
                "value": r.value.map(|v| v.0), "unit": r.value.map(|v| v.1), "errors": r.errors,
                "spread": r.spread.map(|(lo, hi)| json!([lo, hi]))})).collect::<Vec<_>>(),
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
        let root = BitMapBackend::new(path, (1800, 600)).into_drawing_area();
        root.fill(&WHITE)?;
        let panels = root.split_evenly((1, 3));
        self.reads_panel(&panels[0])?;
        self.writes_panel(&panels[1])?;
        self.clustering_panel(&panels[2])?;
        root.present()?;
        Ok(())
    }

    /// The load runs of one key as (x, k req/s).
    fn krps(&self, key: &str) -> Vec<(f64, f64)> {
        let mut pts: Vec<(f64, f64)> = self
            .rows
            .iter()
            .filter(|r| r.key == key)
            .filter_map(|r| Some((r.x, r.rps? / 1000.0)))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        pts
    }

    /// Panel 1: read throughput against the size of the store, sizes on a log axis.
    fn reads_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), Box<dyn std::error::Error>>
    where
        DB::ErrorType: 'static,
    {
        let series: Vec<Series> = vec![
            (self.krps("describe"), BLUE, "DescribeImages (16 conns)"),
            (
                self.krps("query"),
                RED,
                "QueryFigureClusters by ImageCount (16 conns)",
            ),
            (
                self.krps("qfc_label_imagecount"),
                MAGENTA,
                "QFC, CustomLabels filter, by ImageCount (4 conns)",
            ),
            (
                self.krps("qfc_time_updatetime"),
                GREEN,
                "QFC, UpdateTimeRange, by UpdateTime (4 conns)",
            ),
            (
                self.krps("qfc_time_imagecount"),
                RGBColor(120, 60, 160),
                "QFC, UpdateTimeRange, by ImageCount (4 conns)",
            ),
        ];
        let axum = self
            .find("axum_pair", None)
            .and_then(|r| r.value.map(|v| v.0))
            .or_else(|| self.find("axum", None).and_then(|r| r.rps))
            .map(|v| v / 1000.0);
        let moto = self.find("moto_describe", None).and_then(|r| r.rps);
        let top = series
            .iter()
            .flat_map(|s| s.0.iter().map(|p| p.1))
            .chain(axum)
            .fold(1.0f64, f64::max)
            * 1.15;
        let mut c = ChartBuilder::on(area)
            .caption("Reads vs size", ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(55)
            .build_cartesian_2d(
                (500f64..4_000_000f64)
                    .log_scale()
                    .with_key_points(vec![1e3, 1e4, 1e5, 1e6]),
                0f64..top,
            )?;
        c.configure_mesh()
            .x_desc("images / clusters in the store")
            .y_desc("k req/s")
            .x_label_formatter(&|x| size_label(*x))
            .draw()?;
        for (pts, color, label) in series {
            lines(&mut c, pts, color, label)?;
        }
        if let Some(a) = axum {
            c.draw_series(LineSeries::new(
                vec![(500.0, a), (2_000_000.0, a)],
                BLACK.stroke_width(1),
            ))?
            .label(format!("ceiling: trivial axum handler ({a:.0}k)"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        }
        if let Some(m) = moto {
            let color = RGBColor(230, 140, 0);
            c.draw_series(std::iter::once(TriangleMarker::new(
                (10_000.0, m / 1000.0),
                7,
                color.filled(),
            )))?
            .label(format!("moto DescribeImages at 10k ({m:.2} req/s)"))
            .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 5, color.filled()));
        }
        c.configure_series_labels()
            .position(SeriesLabelPosition::MiddleRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }

    /// Panel 2: durable writes against the number of connections.
    fn writes_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), Box<dyn std::error::Error>>
    where
        DB::ErrorType: 'static,
    {
        let modify = self.krps("modify");
        let sled = self
            .find("sled_pair", None)
            .or_else(|| self.find("sled", None))
            .and_then(|r| r.value.map(|v| v.0 / 1000.0));
        let moto = self
            .find("moto_modify", None)
            .and_then(|r| r.rps)
            .map(|v| v / 1000.0);
        let top = modify
            .iter()
            .map(|p| p.1)
            .chain(sled)
            .chain(moto)
            .fold(0.1f64, f64::max)
            * 1.2;
        let mut c = ChartBuilder::on(area)
            .caption("Durable ModifyImageAttribute", ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(55)
            .build_cartesian_2d(0f64..70f64, 0f64..top)?;
        c.configure_mesh()
            .x_desc("connections")
            .y_desc("k req/s")
            .draw()?;
        c.draw_series(LineSeries::new(modify.clone(), BLUE.stroke_width(2)))?
            .label("cloudtwin, durability = sync")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
        c.draw_series(modify.into_iter().map(|p| Circle::new(p, 4, BLUE.filled())))?;
        if let Some(s) = sled {
            c.draw_series(LineSeries::new(
                vec![(0.0, s), (70.0, s)],
                BLACK.stroke_width(1),
            ))?
            .label(format!("ceiling: sled insert+flush loop ({s:.1}k)"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        }
        if let Some(m) = moto {
            let color = RGBColor(230, 140, 0);
            c.draw_series(std::iter::once(TriangleMarker::new(
                (64.0, m),
                7,
                color.filled(),
            )))?
            .label(format!("moto, 64 conns ({:.0} req/s)", m * 1000.0))
            .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 5, color.filled()));
        }
        c.configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }

    /// Panel 3: clustering time against the number of faces, both on log axes.
    fn clustering_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), Box<dyn std::error::Error>>
    where
        DB::ErrorType: 'static,
    {
        let secs = |key: &str| -> Vec<(f64, f64)> {
            let mut pts: Vec<(f64, f64)> = self
                .rows
                .iter()
                .filter(|r| r.key == key && r.x > 0.0)
                .filter_map(|r| Some((r.x, r.value?.0)))
                .filter(|p| p.1.is_finite() && p.1 > 0.0)
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            pts
        };
        let series = [
            (
                secs("faces_indexed"),
                BLUE,
                "by embedding, 128 dims, indexed (in process)",
            ),
            (
                secs("faces_exact"),
                CYAN,
                "by embedding, exact (in process)",
            ),
            (
                secs("clustering"),
                GREEN,
                "by embedding, one task through the server",
            ),
            (
                secs("clustering_hints"),
                RED,
                "by identity hint, one task through the server",
            ),
        ];
        let top = series
            .iter()
            .flat_map(|s| s.0.iter().map(|p| p.1))
            .fold(10.0f64, f64::max)
            * 2.0;
        let mut c = ChartBuilder::on(area)
            .caption("Clustering time vs faces", ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(55)
            .build_cartesian_2d(
                (500f64..4_000_000f64)
                    .log_scale()
                    .with_key_points(vec![1e3, 1e4, 1e5, 1e6]),
                (0.01f64..top).log_scale(),
            )?;
        c.configure_mesh()
            .x_desc("faces")
            .y_desc("seconds")
            .x_label_formatter(&|x| size_label(*x))
            .draw()?;
        for (pts, color, label) in series {
            lines(&mut c, pts, color, label)?;
        }
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

/// 1000 → "1k", 1000000 → "1M".
fn size_label(x: f64) -> String {
    if x >= 1e6 {
        format!("{}M", (x / 1e6).round())
    } else if x >= 1e3 {
        format!("{}k", (x / 1e3).round())
    } else {
        format!("{}", x.round())
    }
}

/// One labelled line with its points marked (nothing when it has no points).
fn lines<DB: DrawingBackend, X, Y>(
    c: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    pts: Vec<(f64, f64)>,
    color: RGBColor,
    label: &str,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    if pts.is_empty() {
        return Ok(());
    }
    c.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    c.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, color.filled())))?;
    Ok(())
}
