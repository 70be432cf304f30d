//! Reads of many keys outside a transaction: [`ReadView`], and [`Store::read_consistent`], a
//! view of every tree as of one moment that neither takes the write gate nor flushes.
//!
//! sled 0.34 has no snapshots, so a consistent read is optimistic: every write (a transaction,
//! or a bulk write under the exclusive gate) is counted when it begins and when it ends
//! ([`Epoch`]). A read starts when no write is in flight (`begun == ended`) and holds if no
//! write began before it finished (`begun` unchanged); then every write is either wholly in
//! what it read or not at all. A read that overlapped a write runs again; after
//! [`OPTIMISTIC_ATTEMPTS`] overlaps it falls back to the exclusive gate (writers wait for that
//! one read, as they do for a copy), so it always ends.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use super::engine::Reader;
use super::error::StoreError;
use super::scan::{self, Scan};
use super::tree::Tree;
use super::Store;

/// Optimistic reads tried before [`Store::read_consistent`] takes the exclusive gate.
pub(crate) const OPTIMISTIC_ATTEMPTS: usize = 4;
/// How long one attempt waits for a moment with no write in flight.
const QUIET_PATIENCE: Duration = Duration::from_millis(20);

/// Reads of every tree: inside [`Store::rewrite`] (the exclusive gate is held), in
/// [`Store::read_consistent`] and [`Store::inspect`].
pub struct ReadView<'a> {
    engine: &'a dyn Reader,
}

impl<'a> ReadView<'a> {
    pub(crate) fn new(engine: &'a dyn Reader) -> ReadView<'a> {
        ReadView { engine }
    }

    /// Reads one key.
    pub fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.engine.get(tree, key)
    }

    /// Scans the keys that start with `prefix`.
    pub fn scan_prefix(&self, tree: Tree, prefix: &[u8]) -> Scan {
        scan::prefix(self.engine, tree, prefix)
    }

    /// Scans the keys that start with `prefix` after (before, when `descending`) `after`.
    pub fn scan_after(
        &self,
        tree: Tree,
        prefix: &[u8],
        after: Option<&[u8]>,
        descending: bool,
    ) -> Scan {
        scan::after(self.engine, tree, prefix, after, descending)
    }
}

/// Writes begun and ended, for optimistic reads.
#[derive(Default)]
pub(crate) struct Epoch {
    begun: AtomicU64,
    ended: AtomicU64,
}

/// A write in flight; counted as ended when dropped.
pub(crate) struct EpochGuard<'a>(&'a Epoch);

impl Drop for EpochGuard<'_> {
    fn drop(&mut self) {
        self.0.ended.fetch_add(1, SeqCst);
    }
}

impl Epoch {
    /// Counts a write that begins now.
    pub(crate) fn begin(&self) -> EpochGuard<'_> {
        self.begun.fetch_add(1, SeqCst);
        EpochGuard(self)
    }

    /// The count of writes begun, if none is in flight. `begun` is read first: if a write
    /// began after it, the check after the read sees it; if none did, `ended == begun` means
    /// every write counted in `begun` has ended.
    fn quiet(&self) -> Option<u64> {
        let begun = self.begun.load(SeqCst);
        (self.ended.load(SeqCst) == begun).then_some(begun)
    }

    /// Waits (spinning politely) up to `patience` for a moment with no write in flight.
    fn wait_quiet(&self, patience: Duration) -> Option<u64> {
        let deadline = Instant::now() + patience;
        loop {
            if let Some(b) = self.quiet() {
                return Some(b);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::yield_now();
        }
    }

    /// True if no write began since `begun` was read.
    fn unchanged(&self, begun: u64) -> bool {
        self.begun.load(SeqCst) == begun
    }
}

impl Store {
    /// Runs `read` over a view of every tree as of one moment: no write is half in it. Writers
    /// are not held off and nothing is flushed; `read` runs again if a write overlapped it (so
    /// it must have no effects outside what it returns), and after
    /// [`OPTIMISTIC_ATTEMPTS`] overlaps it runs once more under the exclusive gate. An error
    /// from a read that a write overlapped is not reported (it may come from a half-seen
    /// write); the read runs again.
    pub fn read_consistent<T, E>(
        &self,
        mut read: impl FnMut(&ReadView<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        // An engine with snapshots reads one moment of the database, whoever writes to it
        // (every node of a cluster); the counting below sees only this process's writes.
        match self.engine().snapshot() {
            Some(Ok(snapshot)) => return read(&ReadView::new(&*snapshot)),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "no snapshot; reading under the exclusive gate");
                let _exclusive = self.exclusive();
                return read(&ReadView::new(self.engine()));
            }
            None => {}
        }
        let epoch = &self.inner.epoch;
        let view = ReadView::new(self.engine());
        for _ in 0..OPTIMISTIC_ATTEMPTS {
            // Every transaction that returned is in the engine before the read begins (one that
            // joins the batch while it reads counts as an overlapping write).
            self.engine();
            let Some(begun) = epoch.wait_quiet(QUIET_PATIENCE) else {
                continue;
            };
            let result = read(&view);
            if epoch.unchanged(begun) {
                return result;
            }
        }
        tracing::debug!("consistent read overlapped writes; reading under the exclusive gate");
        let _exclusive = self.exclusive();
        read(&view)
    }

    /// The store's write generation: the number of writes this process has begun, when none is
    /// in flight and this process is the store's only writer (a data dir, which its lock keeps
    /// to one process); `None` otherwise (a write in flight, or a database that other nodes
    /// write). Every transaction, batch apply and bulk write counts (the acknowledged-sequence
    /// record in `meta` does not). A value read from the store between two equal generations
    /// is the store's state for as long as the generation stays the same, so it may be kept
    /// and answered again (`kept::KeptAnswers`).
    pub fn generation(&self) -> Option<u64> {
        if !self.is_local() {
            return None;
        }
        self.inner.epoch.quiet()
    }

    /// Number of writes begun so far (for tests of consistent reads).
    #[cfg(test)]
    pub(crate) fn writes_begun(&self) -> u64 {
        self.inner.epoch.begun.load(SeqCst)
    }
}
