//! Group commit: many writers share one `flush()`.
//!
//! A writer whose transaction has committed in memory takes a ticket and waits until a flush
//! that started after it took the ticket has finished. One flusher task runs the flushes, each
//! in `spawn_blocking` (sled 0.34.7's `flush_async` can deadlock), so N concurrent writers cost
//! about two flushes, not N.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify};

use super::StoreError;

/// How long a writer waits for its flush before it reports an error.
const FLUSH_WAIT_LIMIT: Duration = Duration::from_secs(60);

/// Shared state between writers and the flusher task.
pub(crate) struct GroupCommit {
    requested: AtomicU64,
    wake: Notify,
    done: watch::Sender<u64>,
    /// Microseconds spent in the last flush, for observability.
    pub(crate) last_flush_micros: AtomicU64,
    /// Number of flushes run.
    pub(crate) flushes: AtomicU64,
}

impl GroupCommit {
    pub(crate) fn new() -> Arc<Self> {
        let (done, _) = watch::channel(0);
        Arc::new(GroupCommit {
            requested: AtomicU64::new(0),
            wake: Notify::new(),
            done,
            last_flush_micros: AtomicU64::new(0),
            flushes: AtomicU64::new(0),
        })
    }

    /// Waits until everything committed before this call is on disk.
    pub(crate) async fn wait(&self) -> Result<(), StoreError> {
        let mut rx = self.done.subscribe();
        let ticket = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        self.wake.notify_one();
        let outcome = tokio::time::timeout(FLUSH_WAIT_LIMIT, rx.wait_for(|done| *done >= ticket))
            .await
            .map(|r| r.map(|_| ()));
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(StoreError::Closed),
            Err(_) => Err(StoreError::FlushTimeout),
        }
    }

    /// Runs flushes while there are waiting writers; returns when `stop` fires.
    pub(crate) async fn run<F>(self: Arc<Self>, flush: F, mut stop: watch::Receiver<bool>)
    where
        F: Fn() -> Result<(), String> + Send + Sync + Clone + 'static,
    {
        loop {
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = stop.changed() => return,
            }
            loop {
                let target = self.requested.load(Ordering::SeqCst);
                if target <= *self.done.borrow() {
                    break;
                }
                let f = flush.clone();
                let started = Instant::now();
                match tokio::task::spawn_blocking(f).await {
                    Ok(Ok(())) => {
                        self.last_flush_micros
                            .store(started.elapsed().as_micros() as u64, Ordering::Relaxed);
                        self.flushes.fetch_add(1, Ordering::Relaxed);
                        self.done.send_replace(target);
                    }
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "store flush failed; retrying");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "store flush task failed; retrying");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_share_flushes() {
        let gc = GroupCommit::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let flush = move || {
            c.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(20));
            Ok(())
        };
        let (stop_tx, stop_rx) = watch::channel(false);
        let runner = tokio::spawn(gc.clone().run(flush, stop_rx));
        let mut waiters = Vec::new();
        for _ in 0..64 {
            let g = gc.clone();
            waiters.push(tokio::spawn(async move { g.wait().await }));
        }
        for w in waiters {
            w.await.expect("join").expect("durable");
        }
        let n = calls.load(Ordering::SeqCst);
        assert!((1..64).contains(&n), "64 writers needed {n} flushes");
        stop_tx.send_replace(true);
        runner.await.expect("runner");
    }

    #[tokio::test]
    async fn a_writer_waits_for_a_flush_that_started_after_it() {
        let gc = GroupCommit::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let flush = move || {
            c.fetch_add(1, Ordering::SeqCst);
            Ok(())
        };
        let (_stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(gc.clone().run(flush, stop_rx));
        gc.wait().await.expect("first");
        let after_first = calls.load(Ordering::SeqCst);
        gc.wait().await.expect("second");
        assert!(calls.load(Ordering::SeqCst) > after_first);
    }
}
