//! Progress of long work (backup, restore, migration, import, export): a bar on a terminal
//! (indicatif), a log line every few seconds otherwise.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How often a log line is written when stderr is not a terminal.
const LOG_EVERY: Duration = Duration::from_secs(2);

/// One piece of long work.
pub struct Progress {
    label: &'static str,
    total: u64,
    done: u64,
    bar: Option<indicatif::ProgressBar>,
    last_log: Instant,
    started: Instant,
}

impl Progress {
    /// Starts reporting `total` steps of `label`.
    pub fn new(label: &'static str, total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(total);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            {
                b.set_style(style);
            }
            b.set_message(label);
            b
        });
        Progress {
            label,
            total,
            done: 0,
            bar,
            last_log: Instant::now(),
            started: Instant::now(),
        }
    }

    /// Counts `n` more steps.
    pub fn inc(&mut self, n: u64) {
        self.done += n;
        match &self.bar {
            Some(b) => b.inc(n),
            None => {
                if self.last_log.elapsed() >= LOG_EVERY {
                    self.last_log = Instant::now();
                    tracing::info!(
                        work = self.label,
                        done = self.done,
                        total = self.total,
                        "progress"
                    );
                }
            }
        }
    }

    /// Ends the report.
    pub fn finish(self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        if self.total > 0 {
            tracing::info!(
                work = self.label,
                done = self.done,
                seconds = self.started.elapsed().as_secs_f64(),
                "done"
            );
        }
    }
}
