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

use std::fmt::Write as _;

use super::error::{Code, TcError};
use super::params::Params;
use super::router::Action;
use crate::accounts::Accounts;
use crate::clock::iso8601_utc;
use crate::cvm::{rules, Caller, Cvm, Image, ImageView, PageImage};

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
    render_record(
        &v.image,
        v.image_type.as_wire(),
        v.state.as_wire(),
        v.progress,
    )
}

/// A record as the wire shows it, with what the caller and the time make of it.
fn render_record<'a>(
    i: &'a Image,
    image_type: &'static str,
    image_state: &'static str,
    sync_percent: u64,
) -> WireImage<'a> {
    WireImage {
        image_id: &i.id,
        os_name: &i.os_name,
        image_type,
        created_time: iso8601_utc(i.created_ms),
        image_name: &i.name,
        image_description: &i.description,
        image_size: i.size_gb,
        architecture: &i.architecture,
        image_state,
        platform: &i.platform,
        image_creator: &i.owner,
        image_source: i.source.as_wire(),
        sync_percent,
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

/// A record's wire text (the serialised [`WireImage`]) without the three fields a request
/// works out (`ImageType`, `ImageState`, `SyncPercent`): made once per kept record
/// (`cvm::Decoded`), then written around those fields on every page that lists it.
pub struct WireText {
    text: String,
    /// Where each left-out value goes, in `text`.
    cuts: [usize; 3],
}

/// The field names before the three left-out values, as the serialiser writes them. A key
/// cannot be matched inside a string value (its quotes would be escaped there), nor in a
/// nested object (snapshots and tags have other keys).
const CUT_KEYS: [&str; 3] = [",\"ImageType\":", ",\"ImageState\":", ",\"SyncPercent\":"];
/// The placeholders rendered for them.
const CUT_VALUES: [&str; 3] = ["\"\"", "\"\"", "0"];

impl WireText {
    /// The text of `i`; `None` if the serialiser's output is not laid out as expected (then
    /// each page renders the record in full).
    pub fn new(i: &Image) -> Option<WireText> {
        let full = serde_json::to_string(&render_record(i, "", "", 0)).ok()?;
        let mut text = String::with_capacity(full.len());
        let mut cuts = [0; 3];
        let mut rest = full.as_str();
        for (n, (key, value)) in CUT_KEYS.iter().zip(CUT_VALUES).enumerate() {
            let at = rest.find(key)? + key.len();
            text.push_str(&rest[..at]);
            cuts[n] = text.len();
            rest = rest[at..].strip_prefix(value)?;
        }
        text.push_str(rest);
        Some(WireText { text, cuts })
    }

    /// Bytes of the text (a page's buffer is sized from it).
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether the text is empty (never).
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Appends the image's JSON object to `out`.
    pub fn write(&self, out: &mut String, image_type: &str, image_state: &str, sync_percent: u64) {
        let [a, b, c] = self.cuts;
        out.push_str(&self.text[..a]);
        out.push('"');
        out.push_str(image_type);
        out.push('"');
        out.push_str(&self.text[a..b]);
        out.push('"');
        out.push_str(image_state);
        out.push('"');
        out.push_str(&self.text[b..c]);
        // Writing to a String cannot fail.
        let _ = write!(out, "{sync_percent}");
        out.push_str(&self.text[c..]);
    }
}

/// Appends a page's images to `out` as a JSON array, each from its record's kept wire text.
pub fn write_image_set(out: &mut String, images: &[PageImage]) {
    let texts: Vec<Option<&WireText>> = images
        .iter()
        .map(|p| p.record.wire(WireText::new).and_then(Option::as_ref))
        .collect();
    let room: usize = texts.iter().map(|t| t.map_or(1024, |t| t.len() + 48)).sum();
    out.reserve(room + 2);
    out.push('[');
    for (n, (p, text)) in images.iter().zip(texts).enumerate() {
        if n > 0 {
            out.push(',');
        }
        let (image_type, image_state) = (p.image_type.as_wire(), p.state.as_wire());
        match text {
            Some(t) => t.write(out, image_type, image_state, p.progress),
            None => out.push_str(
                &serde_json::to_string(&render_record(
                    p.image(),
                    image_type,
                    image_state,
                    p.progress,
                ))
                .unwrap_or_else(|_| "null".into()),
            ),
        }
    }
    out.push(']');
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

    fn tricky() -> Image {
        use crate::cvm::model::{ImageSource, ImageState, Snapshot};
        Image {
            id: "img-abcdefgh".into(),
            owner: "100000000001".into(),
            region: "ap-guangzhou".into(),
            name: "a \"name\", with ,\"ImageType\":\"\" inside".into(),
            description: "back\\slash \u{1} 名字 ,\"SyncPercent\":0".into(),
            family: "fam-1".into(),
            deprecated: true,
            os_name: "TencentOS".into(),
            platform: "TencentOS".into(),
            architecture: "arm".into(),
            size_gb: 50,
            source: ImageSource::ExternalImport,
            state: ImageState::Importing,
            pending: None,
            created_ms: 1_700_000_000_123,
            updated_ms: 1_700_000_000_123,
            instance_id: None,
            snapshots: vec![Snapshot {
                id: "snap-12345678".into(),
                disk_usage: "SYSTEM_DISK".into(),
                size_gb: 50,
            }],
            tags: vec![crate::cvm::Tag {
                key: "ImageState".into(),
                value: ",\"ImageState\":\"\"".into(),
            }],
            license_type: "BYOL".into(),
            cloudinit: false,
            boot_mode: "UEFI".into(),
            shared_with: vec![],
            sync_source: None,
        }
    }

    #[test]
    fn the_kept_wire_text_writes_what_the_serialiser_writes() {
        let img = tricky();
        let text = WireText::new(&img).expect("laid out as expected");
        for (t, st, pct) in [
            ("PRIVATE_IMAGE", "NORMAL", 100),
            ("SHARED_IMAGE", "IMPORTING", 0),
            ("PRIVATE_IMAGE", "CREATING", 42),
        ] {
            let mut out = String::new();
            text.write(&mut out, t, st, pct);
            let want = serde_json::to_string(&render_record(&img, t, st, pct)).expect("json");
            assert_eq!(out, want);
        }
    }
}
