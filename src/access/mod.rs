//! Access control of both clouds: Alibaba RAM and Tencent CAM sub-users, access keys,
//! policies and roles (`model.rs`, `service.rs`, `rules.rs`), who signed a request
//! (`principal.rs`), STS tokens (`tokens.rs`), the built-in policies (`system.rs`), the action →
//! resource tables (`resources.rs`), the policy stage of the pipeline (`authorize.rs`), and the
//! policy grammars and their evaluation (`policy.rs`, `eval.rs`, `glob.rs`: pure); the records
//! whole for fixtures (`portable.rs`) and `cloudtwin check` (`check.rs`).

pub mod authorize;
pub mod check;
pub mod error;
pub mod eval;
pub mod glob;
pub mod keys;
pub mod model;
pub mod policy;
pub mod portable;
pub mod principal;
pub mod resources;
pub mod rules;
pub mod service;
pub mod system;
pub mod tokens;

pub use error::{AccessError, Entity};
pub use model::{Cloud, KeyStatus, PolicyKind, PolicyRef, Target};
pub use principal::{
    AssumeError, AssumeRole, Credential, CredentialError, Issued, Principal, Verified,
};
pub use service::Access;
