//! The access domain's errors. Each dialect translates them into its cloud's wire codes.

/// What kind of thing an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A sub-user.
    User,
    /// An access key.
    AccessKey,
    /// A policy.
    Policy,
    /// A policy version.
    PolicyVersion,
    /// A role.
    Role,
    /// An attachment of a policy to a principal.
    Attachment,
}

impl Entity {
    /// Its name in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::User => "user",
            Entity::AccessKey => "access key",
            Entity::Policy => "policy",
            Entity::PolicyVersion => "policy version",
            Entity::Role => "role",
            Entity::Attachment => "policy attachment",
        }
    }
}

/// Why an access-control operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// No such entity.
    #[error("the {kind} `{name}` does not exist", kind = .0.as_str(), name = .1)]
    NotFound(Entity, String),
    /// The name is taken.
    #[error("the {kind} `{name}` already exists", kind = .0.as_str(), name = .1)]
    AlreadyExists(Entity, String),
    /// A limit (keys per user, versions per policy, policies per principal) is reached.
    #[error("{kind}: at most {limit}", kind = .what.as_str())]
    LimitExceeded {
        /// What is limited.
        what: Entity,
        /// The limit.
        limit: usize,
    },
    /// A parameter breaks a rule; the message says which and why.
    #[error("{field}: {message}")]
    Invalid {
        /// The parameter.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A policy document does not parse or breaks the grammar.
    #[error("{field}: {message}")]
    Document {
        /// The parameter holding the document.
        field: &'static str,
        /// Which rule of the grammar (the parser's kind).
        kind: String,
        /// What is wrong.
        message: String,
    },
    /// The entity is still in use (a policy attached, a default version).
    #[error("{message}")]
    DeleteConflict {
        /// What cannot be deleted.
        what: Entity,
        /// Why.
        message: String,
    },
    /// A system policy cannot be changed.
    #[error("the system policy `{0}` cannot be changed")]
    SystemPolicy(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(String),
}

impl From<crate::store::StoreError> for AccessError {
    fn from(e: crate::store::StoreError) -> Self {
        AccessError::Store(e.to_string())
    }
}

impl AccessError {
    /// A parameter breaks a rule.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> AccessError {
        AccessError::Invalid {
            field,
            message: message.into(),
        }
    }
}
