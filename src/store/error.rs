//! What can go wrong in the store: [`StoreError`] (the store failed), and how a transaction body
//! stops ([`TxError`]) and what the caller gets back ([`TxFailure`], [`RewriteError`]).

use std::path::PathBuf;

/// Errors of the store. None of them is a client mistake.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the data dir.
    #[error("data dir {0} is in use by another cloudtwin process (its LOCK file is held)")]
    InUse(PathBuf),
    /// The data dir cannot be brought to this build's schema.
    #[error("cannot open data dir {path}: {detail}")]
    Schema {
        /// The data dir.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A record could not be read or written.
    #[error("corrupt {kind} record: {detail}")]
    Corrupt {
        /// Record kind.
        kind: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The data dir lost data or cannot be read: it must be restored from a backup.
    #[error(
        "data dir {} is damaged: {detail}. Restore it from a backup with \
         `cloudtwin restore --data-dir NEW_DIR --from BACKUP_DIR`; \
         `cloudtwin check --data-dir {}` lists what the store still holds",
        path.display(),
        path.display()
    )]
    Damaged {
        /// The data dir.
        path: PathBuf,
        /// What was found.
        detail: String,
    },
    /// A backup or restore target is not usable.
    #[error("{0}")]
    Target(String),
    /// File-system error.
    #[error("{0}")]
    Io(String),
    /// Error inside the storage engine.
    #[error("storage engine: {0}")]
    Backend(String),
    /// The database cannot be reached (or the connection broke): retriable.
    #[error("the database is unavailable ({0}); retry the request once it is back")]
    Unavailable(String),
    /// The flush a writer waited for did not finish in time.
    #[error("the store did not flush within the time limit")]
    FlushTimeout,
    /// The store is shutting down.
    #[error("the store is closed")]
    Closed,
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Io(e.to_string())
    }
}

/// A storage conflict inside a transaction; the transaction is retried by the store (or, when
/// the engine failed, ends with [`TxFailure::Store`]). Opaque on purpose: callers only pass it
/// on with `?`.
#[derive(Debug)]
pub struct Conflict(pub(crate) ConflictKind);

/// What an engine reports from inside a transaction.
#[derive(Debug)]
pub(crate) enum ConflictKind {
    /// Another transaction got there first: run the body again (sled's conflict, a
    /// serialization failure of a database).
    Retry,
    /// The engine failed; the transaction ends with this error.
    Failed(StoreError),
}

/// How a transaction body stops: a rule of the caller's (`Abort`) or a storage conflict.
#[derive(Debug)]
pub enum TxError<E> {
    /// The caller's rule refused the change; nothing is written.
    Abort(E),
    /// A storage conflict; pass it on with `?`.
    Conflict(Conflict),
}

impl<E> From<Conflict> for TxError<E> {
    fn from(c: Conflict) -> Self {
        TxError::Conflict(c)
    }
}

/// Why a transaction did not commit.
#[derive(Debug)]
pub enum TxFailure<E> {
    /// The caller's rule refused the change; nothing was written.
    Abort(E),
    /// The store failed.
    Store(StoreError),
}

/// Why a [`super::Store::rewrite`] did not apply.
#[derive(Debug)]
pub enum RewriteError<E> {
    /// The plan refused (nothing written).
    Plan(E),
    /// The store failed (nothing written).
    Store(StoreError),
}
