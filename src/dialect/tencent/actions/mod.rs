//! One file per CVM action: a struct with the validated arguments, `parse` (all validation
//! of the wire input) and `run` (calls the domain, renders the output fields).

mod create_image;
mod delete_images;
mod describe_images;
mod export_images;
mod families;
mod import_image;
mod modify_image_attribute;
mod quota;
mod sharing;
mod sync_images;

use super::error::{Code, TcError};
use super::params::Params;
use super::router::Action;
use crate::accounts::Accounts;
use crate::clock::iso8601_utc;
use crate::cvm::{rules, Caller, Cvm, ImageView};

/// What an action runs against.
pub struct Ctx<'a> {
    /// The image service.
    pub cvm: &'a Cvm,
    /// The configured accounts (sharing checks that a receiver exists).
    pub accounts: &'a Accounts,
    /// The authenticated caller and the request's region.
    pub caller: Caller<'a>,
}

pub use crate::dialect::output::Output;

/// Parses the parameters for `action` and runs it.
pub async fn dispatch(action: Action, params: &Params, ctx: &Ctx<'_>) -> Result<Output, TcError> {
    match action {
        Action::CreateImage => create_image::CreateImage::parse(params)?.run(ctx).await,
        Action::DeleteImages => delete_images::DeleteImages::parse(params)?.run(ctx).await,
        Action::DescribeImages => describe_images::DescribeImages::parse(params)?.run(ctx),
        Action::ModifyImageAttribute => {
            modify_image_attribute::ModifyImageAttribute::parse(params)?
                .run(ctx)
                .await
        }
        Action::DescribeImageFromFamily => {
            families::DescribeImageFromFamily::parse(params)?.run(ctx)
        }
        Action::DescribeImageQuota => quota::DescribeImageQuota::parse(params)?.run(ctx),
        Action::DescribeImageSharePermission => {
            sharing::DescribeImageSharePermission::parse(params)?.run(ctx)
        }
        Action::DescribeImportImageOs => import_image::DescribeImportImageOs::parse(params)?.run(),
        Action::ExportImages => export_images::ExportImages::parse(params)?.run(ctx).await,
        Action::ImportImage => import_image::ImportImage::parse(params)?.run(ctx).await,
        Action::ModifyImageSharePermission => {
            sharing::ModifyImageSharePermission::parse(params)?
                .run(ctx)
                .await
        }
        Action::SyncImages => sync_images::SyncImages::parse(params)?.run(ctx).await,
    }
}

/// The wire `Image` model (cvm.md §5.1), serialised straight from the record.
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireImage<'a> {
    image_id: &'a str,
    os_name: &'a str,
    image_type: &'static str,
    created_time: String,
    image_name: &'a str,
    image_description: &'a str,
    image_size: u64,
    architecture: &'a str,
    image_state: &'static str,
    platform: &'a str,
    image_creator: &'a str,
    image_source: &'static str,
    sync_percent: u64,
    is_support_cloudinit: bool,
    snapshot_set: Vec<WireSnapshot<'a>>,
    tags: Vec<WireTag<'a>>,
    license_type: &'a str,
    image_family: &'a str,
    image_deprecated: bool,
}

/// The wire `Snapshot` of an image.
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct WireSnapshot<'a> {
    snapshot_id: &'a str,
    disk_usage: &'a str,
    disk_size: u64,
}

/// The wire `Tag`.
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct WireTag<'a> {
    key: &'a str,
    value: &'a str,
}

/// An image as the wire shows it.
pub fn render_image(v: &ImageView) -> WireImage<'_> {
    let i = &v.image;
    WireImage {
        image_id: &i.id,
        os_name: &i.os_name,
        image_type: v.image_type.as_wire(),
        created_time: iso8601_utc(i.created_ms),
        image_name: &i.name,
        image_description: &i.description,
        image_size: i.size_gb,
        architecture: &i.architecture,
        image_state: v.state.as_wire(),
        platform: &i.platform,
        image_creator: &i.owner,
        image_source: i.source.as_wire(),
        sync_percent: v.progress,
        is_support_cloudinit: i.cloudinit,
        snapshot_set: i
            .snapshots
            .iter()
            .map(|s| WireSnapshot {
                snapshot_id: &s.id,
                disk_usage: &s.disk_usage,
                disk_size: s.size_gb,
            })
            .collect(),
        tags: i
            .tags
            .iter()
            .map(|t| WireTag {
                key: &t.key,
                value: &t.value,
            })
            .collect(),
        license_type: &i.license_type,
        image_family: &i.family,
        image_deprecated: i.deprecated,
    }
}

/// Tags from `TagSpecification` (ResourceType `image`; a repeated key keeps the last value).
pub fn tags_from_specs(
    specs: &[super::params::TagSpecification],
) -> Result<Vec<crate::cvm::Tag>, TcError> {
    let mut tags: Vec<crate::cvm::Tag> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        if spec.resource_type != "image" {
            return Err(TcError::invalid_value(
                &format!("TagSpecification.{i}.ResourceType"),
                "only `image` can be tagged here",
            ));
        }
        for (j, t) in spec.tags.iter().enumerate() {
            if t.key.is_empty() {
                return Err(TcError::invalid_value(
                    &format!("TagSpecification.{i}.Tags.{j}.Key"),
                    "a tag key must not be empty",
                ));
            }
            tags.retain(|old| old.key != t.key);
            tags.push(crate::cvm::Tag {
                key: t.key.clone(),
                value: t.value.clone(),
            });
        }
    }
    Ok(tags)
}

/// Longest id list in one call.
pub const MAX_IDS: usize = 100;

/// A list of image ids: at most [`MAX_IDS`], each well formed (`cvm::rules::image_id`).
pub fn check_image_ids(name: &str, ids: &[String]) -> Result<(), TcError> {
    if ids.len() > MAX_IDS {
        return Err(TcError::new(
            Code::InvalidParameterValueLimitExceeded,
            format!(
                "The parameter `{name}` has {} items; at most {MAX_IDS} are allowed.",
                ids.len()
            ),
        )
        .zh(format!(
            "参数值数量超过限制：参数 `{name}` 有 {} 项，最多允许 {MAX_IDS} 项。",
            ids.len()
        )));
    }
    ids.iter().try_for_each(|id| Ok(rules::image_id(id)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<(), crate::cvm::CvmError>) -> Code {
        TcError::from(r.expect_err("refused")).code
    }

    #[test]
    fn broken_domain_rules_answer_the_documented_codes() {
        assert_eq!(
            code(rules::image_id("img-6PB6LRMY")),
            Code::InvalidImageIdMalformed
        );
        assert_eq!(
            code(rules::image_name(&"名".repeat(61))),
            Code::InvalidParameterValueTooLarge
        );
        assert_eq!(code(rules::image_name("")), Code::InvalidParameterValue);
        assert_eq!(
            code(rules::image_description(&"é".repeat(257))),
            Code::InvalidParameterValueTooLarge
        );
        assert_eq!(
            code(rules::image_family("-bad")),
            Code::InvalidParameterValueInvalidImageFamily
        );
        assert_eq!(
            code(rules::instance_id("ins-x")),
            Code::InvalidInstanceIdMalformed
        );
        assert_eq!(code(rules::snapshot_id("x")), Code::InvalidParameterValue);
        assert_eq!(code(rules::disk_id("x")), Code::InvalidParameterValue);
    }

    #[test]
    fn image_id_lists_are_limited_to_one_hundred() {
        let ids: Vec<String> = (0..101).map(|_| "img-6pb6lrmy".to_string()).collect();
        assert_eq!(
            check_image_ids("ImageIds", &ids).unwrap_err().code,
            Code::InvalidParameterValueLimitExceeded
        );
        assert!(check_image_ids("ImageIds", &ids[..100]).is_ok());
    }
}
