//! NOT BUILT YET: the management actions land in the next commit.

use super::access_api::Ctx;
use super::actions::Output;
use super::error::TcError;

/// Runs an STS action.
pub async fn run(name: &str, _ctx: &Ctx<'_>) -> Result<Output, TcError> {
    Err(TcError::internal(&format!("{name} is not built yet")))
}
