//! The face domain of Alibaba Cloud IMM: projects, datasets, files with faces, figure clusters
//! and the tasks that form and merge them. Rules live here; the wire lives in
//! `dialect::aliyun`; bytes live in `store`.
//!
//! Invariants kept by every write (each a single store transaction):
//! - A face is in exactly one standing: pending (with an `imm.pending` entry), independent, or
//!   a member of exactly one cluster (listed in that cluster's `members`).
//! - A cluster has at least one member; the write that removes its last face removes it (and
//!   its identity hint).
//! - A dataset's `file_count` equals its files; a project's `dataset_count` its datasets.

pub mod check;
mod cluster_index;
pub mod clustering;
mod clustering_run;
pub mod clusters;
mod error;
pub mod files;
pub mod keys;
mod merging;
pub mod model;
mod order_index;
pub mod portable;
pub mod projects;
pub mod regions;
pub mod rules;
mod runner;
mod running;
mod service;
pub mod tasks;

pub use error::{not_found, ImmError, TaskFailure};
pub use service::{Caller, Imm, ImmSettings};
