//! `DescribeImageQuota` (cvm.md §6.9): the custom image quota per region.
//!
//! # Format
//! `{}` -> `{"ImageNumQuota": 500}`

use serde_json::json;

use super::{Ctx, Output};
use crate::dialect::tencent::error::TcError;
use crate::dialect::tencent::params::Params;

/// The validated request (no parameters).
pub struct DescribeImageQuota;

impl DescribeImageQuota {
    /// Validates the wire input.
    pub fn parse(p: &Params) -> Result<Self, TcError> {
        p.reject_unknown(&[])?;
        Ok(DescribeImageQuota)
    }

    /// Answers the quota.
    pub fn run(self, ctx: &Ctx<'_>) -> Result<Output, TcError> {
        let mut out = Output::new();
        out.insert("ImageNumQuota".into(), json!(ctx.cvm.quota()));
        Ok(out)
    }
}
