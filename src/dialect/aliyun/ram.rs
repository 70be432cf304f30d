//! NOT BUILT YET: the management actions land in the next commit.

use super::access_api::Ctx;
use super::actions::Output;
use super::error::AliError;

/// Runs a RAM action.
pub async fn run(name: &str, _ctx: &Ctx<'_>) -> Result<Output, AliError> {
    Err(AliError::internal(&format!("{name} is not built yet")))
}
