//! CPU-heavy work on a request path without stalling the async workers: a large file write or
//! a scan of a whole dataset would otherwise hold a worker thread and starve every request
//! queued behind it (health probes included).

/// Runs `f` where it does not starve other requests: on a multi-thread runtime the worker first
/// hands its queued tasks to another thread (`block_in_place`); elsewhere (tests on a
/// current-thread runtime, plain threads) `f` simply runs.
pub fn off_workers<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Inputs at least this large (faces, files, scanned records) go through [`off_workers`].
pub const HEAVY: usize = 256;
