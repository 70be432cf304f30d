//! The CAM 2019-01-16 and STS 2018-08-13 actions (`cam.rs`, `sts.rs`): decode, call the access
//! service, render in the cloud's models.

use crate::access::{Access, Verified};
use crate::accounts::Accounts;

use super::actions::Output;
use super::error::TcError;
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
    /// The request's region (STS).
    pub region: &'a str,
    /// The business parameters.
    pub params: &'a Params,
}

/// Runs the CAM or STS action `name`.
pub async fn dispatch(product: Product, name: &str, ctx: &Ctx<'_>) -> Result<Output, TcError> {
    match product {
        Product::Cam => super::cam::run(name, ctx).await,
        Product::Sts => super::sts::run(name, ctx).await,
        Product::Cvm => Err(TcError::internal(
            "a CVM action was routed as an access action",
        )),
    }
}
