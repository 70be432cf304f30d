//! Access control: the Alibaba RAM and Tencent CAM policy languages.
//!
//! [`policy`] parses policy documents into a checked model, [`eval`] decides a request
//! against parsed policies (identity, session and trust), and [`glob`] is the `*`/`?`
//! matcher both use. Everything here is pure: no storage, no I/O.

pub mod eval;
pub mod glob;
pub mod policy;
