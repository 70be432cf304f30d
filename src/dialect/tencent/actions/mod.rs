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

use serde_json::{json, Map, Value};

use super::error::{Code, TcError};
use super::params::Params;
use super::router::Action;
use crate::accounts::Accounts;
use crate::clock::iso8601_utc;
use crate::cvm::{Caller, Cvm, ImageView};

/// What an action runs against.
pub struct Ctx<'a> {
    /// The image service.
    pub cvm: &'a Cvm,
    /// The configured accounts (sharing checks that a receiver exists).
    pub accounts: &'a Accounts,
    /// The authenticated caller and the request's region.
    pub caller: Caller<'a>,
}

/// Output fields of a successful action (without `RequestId`).
pub type Output = Map<String, Value>;

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

/// The wire `Image` model (cvm.md §5.1).
pub fn render_image(v: &ImageView) -> Value {
    let i = &v.image;
    json!({
        "ImageId": i.id,
        "OsName": i.os_name,
        "ImageType": v.image_type.as_wire(),
        "CreatedTime": iso8601_utc(i.created_ms),
        "ImageName": i.name,
        "ImageDescription": i.description,
        "ImageSize": i.size_gb,
        "Architecture": i.architecture,
        "ImageState": v.state.as_wire(),
        "Platform": i.platform,
        "ImageCreator": i.owner,
        "ImageSource": i.source.as_wire(),
        "SyncPercent": v.progress,
        "IsSupportCloudinit": i.cloudinit,
        "SnapshotSet": i.snapshots.iter().map(|s| json!({
            "SnapshotId": s.id, "DiskUsage": s.disk_usage, "DiskSize": s.size_gb,
        })).collect::<Vec<_>>(),
        "Tags": i.tags.iter().map(|t| json!({"Key": t.key, "Value": t.value})).collect::<Vec<_>>(),
        "LicenseType": i.license_type,
        "ImageFamily": i.family,
        "ImageDeprecated": i.deprecated,
    })
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

/// Longest `ImageName`, in characters.
pub const MAX_NAME_CHARS: usize = 60;
/// Longest `ImageDescription`, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 256;
/// Longest id list in one call.
pub const MAX_IDS: usize = 100;

fn is_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() == 8
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// `img-` + 8 of `[a-z0-9]`, else `InvalidImageId.Malformed`.
pub fn check_image_id(id: &str) -> Result<(), TcError> {
    if is_id(id, "img-") {
        Ok(())
    } else {
        Err(TcError::malformed_image_id(id))
    }
}

/// A list of image ids: each well formed, at most [`MAX_IDS`].
pub fn check_image_ids(name: &str, ids: &[String]) -> Result<(), TcError> {
    if ids.len() > MAX_IDS {
        return Err(TcError::new(
            Code::InvalidParameterValueLimitExceeded,
            format!(
                "The parameter `{name}` has {} items; at most {MAX_IDS} are allowed.",
                ids.len()
            ),
        ));
    }
    ids.iter().try_for_each(|id| check_image_id(id))
}

/// An image name: not empty, no control characters, at most 60 characters.
pub fn check_name(name: &str, value: &str) -> Result<(), TcError> {
    if value.trim().is_empty() {
        return Err(TcError::invalid_value(
            name,
            "the image name must not be empty",
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(TcError::invalid_value(
            name,
            "the image name must not contain control characters",
        ));
    }
    let n = value.chars().count();
    if n > MAX_NAME_CHARS {
        return Err(TcError::too_long(name, MAX_NAME_CHARS, n));
    }
    Ok(())
}

/// An image description: at most 256 characters.
pub fn check_description(name: &str, value: &str) -> Result<(), TcError> {
    let n = value.chars().count();
    if n > MAX_DESCRIPTION_CHARS {
        return Err(TcError::too_long(name, MAX_DESCRIPTION_CHARS, n));
    }
    Ok(())
}

/// An image family: `""` (none) or `[A-Za-z0-9][A-Za-z0-9._-]{0,59}`.
pub fn check_family(value: &str) -> Result<(), TcError> {
    let mut chars = value.chars();
    let ok = match chars.next() {
        None => true,
        Some(first) => {
            first.is_ascii_alphanumeric()
                && value.len() <= 60
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(TcError::new(
            Code::InvalidParameterValueInvalidImageFamily,
            format!("ImageFamily `{value}` is invalid: use 1-60 letters, digits, '.', '_' or '-', starting with a letter or digit."),
        ))
    }
}

/// `ins-` + 8 of `[a-z0-9]`.
pub fn check_instance_id(id: &str) -> Result<(), TcError> {
    if is_id(id, "ins-") {
        Ok(())
    } else {
        Err(TcError::new(
            Code::InvalidInstanceIdMalformed,
            format!("InstanceId `{id}` is malformed: an instance id looks like ins-xxxxxxxx, x a lowercase letter or digit."),
        ))
    }
}

/// `snap-` + 8 of `[a-z0-9]`.
pub fn check_snapshot_id(name: &str, id: &str) -> Result<(), TcError> {
    if is_id(id, "snap-") {
        Ok(())
    } else {
        Err(TcError::invalid_value(
            name,
            &format!("`{id}` is not a snapshot id like snap-xxxxxxxx"),
        ))
    }
}

/// `disk-` + 8 of `[a-z0-9]`.
pub fn check_disk_id(name: &str, id: &str) -> Result<(), TcError> {
    if is_id(id, "disk-") {
        Ok(())
    } else {
        Err(TcError::invalid_value(
            name,
            &format!("`{id}` is not a disk id like disk-xxxxxxxx"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_ids_are_img_and_eight_lowercase_alphanumerics() {
        assert!(check_image_id("img-6pb6lrmy").is_ok());
        for bad in [
            "img-6pb6lrm",
            "img-6pb6lrmyy",
            "img-6PB6LRMY",
            "ins-6pb6lrmy",
            "",
            "img-6pb6lrm_",
        ] {
            assert_eq!(
                check_image_id(bad).unwrap_err().code,
                Code::InvalidImageIdMalformed,
                "{bad}"
            );
        }
    }

    #[test]
    fn names_are_counted_in_unicode_characters() {
        assert!(check_name("ImageName", &"名".repeat(60)).is_ok());
        assert_eq!(
            check_name("ImageName", &"名".repeat(61)).unwrap_err().code,
            Code::InvalidParameterValueTooLarge
        );
        assert!(check_description("ImageDescription", &"é".repeat(256)).is_ok());
        assert_eq!(
            check_description("ImageDescription", &"é".repeat(257))
                .unwrap_err()
                .code,
            Code::InvalidParameterValueTooLarge
        );
    }

    #[test]
    fn families_follow_the_documented_shape() {
        assert!(check_family("business-daily-update").is_ok());
        assert!(check_family("").is_ok());
        assert!(check_family("-bad").is_err());
        assert!(check_family("has space").is_err());
    }
}
