//! cloudtwin: a persistent, self-hosted emulator of Tencent Cloud CVM images (and, next,
//! Alibaba Cloud IMM face clusters) that the official SDKs and CLIs talk to unchanged.
//!
//! A request flows one way: [`server`] -> [`dialect`] (verify, decode, limit) -> [`cvm`]
//! (rules) -> [`store`] (transaction, durability) and back out through the dialect's
//! envelope. See ARCHITECTURE.md.

pub mod access;
pub mod accounts;
pub mod admin;
pub mod app;
pub mod blocking;
pub mod check;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod console;
pub mod convert;
pub mod cvm;
pub mod dialect;
pub mod faults;
pub mod fixture;
pub mod imm;
pub mod journal;
pub mod kept;
pub mod metrics;
pub mod progress;
pub mod ratelimit;
pub mod server;
pub mod store;
pub mod wait;
