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

/// Requests with at least this many bytes of query and body are answered through [`heavy`].
pub const HEAVY_REQUEST_BYTES: usize = 256 * 1024;

/// Runs a future where a large request's CPU work (decoding a multi-megabyte form, hashing it
/// for the signature, parsing its JSON) does not hold an async worker: with `big` on a
/// multi-thread runtime the worker hands its queued tasks over and drives `f` itself
/// (`block_in_place` + `block_on`); otherwise `f` is simply awaited.
pub async fn heavy<F: std::future::Future>(big: bool, f: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if big && h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| h.block_on(f))
        }
        _ => f.await,
    }
}
