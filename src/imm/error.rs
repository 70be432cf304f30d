//! The face domain's errors. The Alibaba dialect translates them into codes and statuses.

/// Why an IMM operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImmError {
    /// A named resource does not exist (`kind`: project, dataset, file, figure-cluster, task).
    #[error("the specified resource {kind} is not found: {name}")]
    NotFound {
        /// Lower-case resource noun.
        kind: &'static str,
        /// Its name or id.
        name: String,
    },
    /// A resource with that name exists already.
    #[error("the specified resource {kind} already exists: {name}")]
    AlreadyExists {
        /// Lower-case resource noun.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// A parent still has children.
    #[error("cannot delete {kind} {name}: sub resources exist")]
    NotEmpty {
        /// Lower-case resource noun.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// A configured limit would be exceeded.
    #[error("{0}")]
    LimitExceeded(String),
    /// `MetaLockVersion` does not match.
    #[error("MetaLockVersion {given} does not match the current version {current}")]
    LockMismatch {
        /// The client's version.
        given: i64,
        /// The stored version.
        current: i64,
    },
    /// A value the domain refuses (a cover face that is not in the cluster, ...).
    #[error("{0}")]
    Invalid(String),
    /// A name or value breaks a rule of the domain (`rules.rs`).
    #[error("{0}")]
    Rule(Violation),
    /// The store failed (not the caller's fault).
    #[error("store: {0}")]
    Store(String),
}

impl From<crate::store::StoreError> for ImmError {
    fn from(e: crate::store::StoreError) -> Self {
        ImmError::Store(e.to_string())
    }
}

/// Shorthand for a not-found error.
pub fn not_found(kind: &'static str, name: &str) -> ImmError {
    ImmError::NotFound {
        kind,
        name: name.to_string(),
    }
}

/// How a task failed, as the face domain sees it. The stored record keeps a code string (its
/// bincode layout is version 1); the dialect says how each kind is spelled
/// ([`super::ImmSettings::task_failure_code`]), so the domain never spells a wire code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskFailure {
    /// A resource the task works on is gone (a merge's destination cluster, ...).
    NotFound,
    /// Anything else (the store failed).
    Internal,
}

impl TaskFailure {
    /// The kind of failure of a task that ended with `e`.
    pub fn of(e: &ImmError) -> TaskFailure {
        match e {
            ImmError::NotFound { .. } => TaskFailure::NotFound,
            _ => TaskFailure::Internal,
        }
    }
}

/// What a name names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameOf {
    /// A project.
    Project,
    /// A dataset.
    Dataset,
}

/// A text field of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterText {
    /// `Name`.
    Name,
    /// `CustomId`.
    CustomId,
}

/// Which rule of `rules.rs` a value breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// A project or dataset name is not 1-128 of `[A-Za-z0-9_-]` starting with a letter or `_`.
    #[error("{of:?} name `{value}` is malformed")]
    Name {
        /// What it names.
        of: NameOf,
        /// The name.
        value: String,
    },
    /// A description is empty or longer than `rules::MAX_DESCRIPTION_CHARS`.
    #[error("a description has {chars} characters")]
    DescriptionLength {
        /// Its length in characters.
        chars: usize,
    },
    /// `UserData` is longer than `rules::MAX_USER_DATA`.
    #[error("UserData has {bytes} bytes")]
    UserDataTooLong {
        /// Its length in bytes.
        bytes: usize,
    },
    /// A cluster's `Name` or `CustomId` is longer than `rules::MAX_CLUSTER_TEXT_CHARS`.
    #[error("the cluster's {0:?} is too long")]
    ClusterTextTooLong(ClusterText),
    /// More than `rules::MAX_LABELS` custom labels.
    #[error("{count} custom labels")]
    TooManyLabels {
        /// How many were given.
        count: usize,
    },
    /// A label key that is empty or too long, or a value too long.
    #[error("custom label `{key}` is too long")]
    LabelSize {
        /// The key.
        key: String,
    },
}
