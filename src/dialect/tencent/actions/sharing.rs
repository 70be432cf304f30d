//! `ModifyImageSharePermission` and `DescribeImageSharePermission` (cvm.md §6.7, §6.8).
//!
//! # Format
//! `{"ImageId": "img-...", "AccountIds": ["100000000002"], "Permission": "SHARE"}` -> `{}`
//! `{"ImageId": "img-..."}` -> `{"SharePermissionSet": [{"CreatedTime", "AccountId"}]}`

use serde_json::{json, Value};

use super::{Ctx, Output};
use crate::clock::iso8601_utc;
use crate::cvm::rules;
use crate::cvm::SharePermission;
use crate::dialect::tencent::error::{Code, TcError};
use crate::dialect::tencent::params::Params;

/// The validated ModifyImageSharePermission request.
pub struct ModifyImageSharePermission {
    id: String,
    accounts: Vec<String>,
    permission: SharePermission,
}

impl ModifyImageSharePermission {
    const PARAMS: &'static [&'static str] = &["ImageId", "AccountIds", "Permission"];

    /// Validates the wire input.
    pub fn parse(p: &Params) -> Result<Self, TcError> {
        p.reject_unknown(Self::PARAMS)?;
        let id = p.req_str("ImageId")?;
        let mut accounts = p
            .opt_str_list("AccountIds")?
            .filter(|l| !l.is_empty())
            .ok_or_else(|| TcError::missing("AccountIds"))?;
        let permission = p.req_str("Permission")?;
        rules::image_id(&id)?;
        let permission = match permission.to_ascii_uppercase().as_str() {
            "SHARE" => SharePermission::Share,
            "CANCEL" => SharePermission::Cancel,
            _ => {
                return Err(TcError::invalid_value(
                    "Permission",
                    &format!("`{permission}` is not SHARE or CANCEL"),
                ))
            }
        };
        for a in &accounts {
            if a.is_empty() || !a.bytes().all(|b| b.is_ascii_digit()) {
                return Err(TcError::new(
                    Code::InvalidAccountIdNotFound,
                    format!("Account `{a}` does not exist: account ids are decimal numbers."),
                )
                .zh(format!("无效的账户Id：`{a}`，账号ID为十进制数字。")));
            }
        }
        let mut seen = std::collections::HashSet::new();
        accounts.retain(|a| seen.insert(a.clone()));
        Ok(ModifyImageSharePermission {
            id,
            accounts,
            permission,
        })
    }

    /// Shares or cancels.
    pub async fn run(self, ctx: &Ctx<'_>) -> Result<Output, TcError> {
        let accounts = ctx.accounts;
        let known = move |a: &str| accounts.by_id(a).is_some();
        ctx.cvm
            .modify_share(
                ctx.caller,
                &self.id,
                &self.accounts,
                self.permission,
                &known,
            )
            .await?;
        Ok(Output::new())
    }
}

/// The validated DescribeImageSharePermission request.
pub struct DescribeImageSharePermission {
    id: String,
}

impl DescribeImageSharePermission {
    /// Validates the wire input.
    pub fn parse(p: &Params) -> Result<Self, TcError> {
        p.reject_unknown(&["ImageId"])?;
        let id = p.req_str("ImageId")?;
        rules::image_id(&id)?;
        Ok(DescribeImageSharePermission { id })
    }

    /// Lists the receivers.
    pub fn run(self, ctx: &Ctx<'_>) -> Result<Output, TcError> {
        let grants = ctx.cvm.describe_share(ctx.caller, &self.id)?;
        let mut out = Output::new();
        out.insert(
            "SharePermissionSet".into(),
            Value::Array(
                grants
                    .iter()
                    .map(|g| json!({"CreatedTime": iso8601_utc(g.created_ms), "AccountId": g.account}))
                    .collect(),
            ),
        );
        Ok(out)
    }
}
