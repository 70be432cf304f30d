//! The RAM 2015-05-01 and STS 2015-04-01 actions (`ram.rs`, `sts.rs`): decode, call the access
//! service, render in the cloud's models.

use std::net::IpAddr;

use crate::access::{Access, Verified};
use crate::accounts::Accounts;

use super::actions::Output;
use super::error::AliError;
use super::params::Params;
use super::router::Product;

/// What an access action runs with.
pub struct Ctx<'a> {
    /// The access service.
    pub access: &'a Access,
    /// The configured accounts.
    pub accounts: &'a Accounts,
    /// Who signed.
    pub who: &'a Verified,
    /// The business parameters.
    pub params: &'a Params,
    /// The TCP peer (trust-policy conditions).
    pub peer: Option<IpAddr>,
    /// Whether the request came over TLS.
    pub secure: bool,
}

/// Runs the RAM or STS action `name`.
pub async fn dispatch(product: Product, name: &str, ctx: &Ctx<'_>) -> Result<Output, AliError> {
    match product {
        Product::Ram => super::ram::run(name, ctx).await,
        Product::Sts => super::sts::run(name, ctx).await,
        Product::Imm => Err(AliError::internal(
            "an IMM action was routed as an access action",
        )),
    }
}
