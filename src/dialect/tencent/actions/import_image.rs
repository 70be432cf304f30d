//! `ImportImage` and `DescribeImportImageOs` (cvm.md §6.5, §6.10). No bytes are fetched: the
//! image is IMPORTING for the configured delay, then NORMAL. An `ImageUrl` containing
//! `cloudtwin-import-fail` ends in IMPORTFAILED instead (documented in docs/cvm.md), so that
//! clients can test their failure handling.
//!
//! # Format
//! `{"Architecture": "x86_64", "OsType": "CentOS", "OsVersion": "7", "ImageUrl": "https://...",
//!   "ImageName": "n"}` -> `{"ImageId": "img-..."}`

use serde_json::{json, Value};

use super::{tags_from_specs, Ctx, Output};
use crate::cvm::model::{BOOT_LEGACY_BIOS, BOOT_UEFI, LICENSE_BYOL, LICENSE_TENCENT_CLOUD};
use crate::cvm::rules;
use crate::cvm::ImportedImage;
use crate::dialect::tencent::error::{Code, TcError};
use crate::dialect::tencent::params::Params;

/// Marker in `ImageUrl` that makes the import fail.
pub const FAIL_MARKER: &str = "cloudtwin-import-fail";

const LINUX: &[&str] = &[
    "CentOS",
    "Ubuntu",
    "Debian",
    "OpenSUSE",
    "SUSE",
    "CoreOS",
    "FreeBSD",
    "Other Linux",
];
const WINDOWS: &[&str] = &[
    "Windows Server 2008",
    "Windows Server 2012",
    "Windows Server 2016",
];
/// (OS, versions) of the official DescribeImportImageOs example.
const VERSIONS: &[(&str, &[&str])] = &[
    ("Windows Server 2008", &["9"]),
    ("Windows Server 2012", &["9"]),
    ("Windows Server 2016", &["9"]),
    ("CentOS", &["5", "6", "7"]),
    ("CoreOS", &["7"]),
    ("Debian", &["6", "7", "8", "9"]),
    ("FreeBSD", &["10"]),
    ("Redhat", &["5", "6", "7"]),
    ("OpenSUSE", &["11", "12"]),
    ("SUSE", &["10", "11", "12", "13"]),
    ("Ubuntu", &["10", "12", "14", "16"]),
    ("Other Linux", &["8"]),
];

fn check_url(name: &str, url: &str) -> Result<(), TcError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host_ok = rest.is_some_and(|r| {
        let host = r.split('/').next().unwrap_or("");
        !host.is_empty() && !r.contains(char::is_whitespace)
    });
    if host_ok {
        Ok(())
    } else {
        Err(TcError::new(
            Code::InvalidParameterInvalidParameterUrlError,
            format!("`{name}` must be an http(s) URL of an image file in COS, got `{url}`."),
        )
        .zh(format!(
            "错误的url地址：`{name}` 须为 COS 中镜像文件的 http(s) URL，收到 `{url}`。"
        )))
    }
}

/// The validated ImportImage request.
pub struct ImportImage {
    req: ImportedImage,
}

impl ImportImage {
    const PARAMS: &'static [&'static str] = &[
        "Architecture",
        "OsType",
        "OsVersion",
        "ImageUrl",
        "ImageName",
        "ImageDescription",
        "DryRun",
        "Force",
        "TagSpecification",
        "LicenseType",
        "BootMode",
        "ImageFamily",
        "ImportImageDataDiskList",
    ];

    /// Validates the wire input.
    pub fn parse(p: &Params) -> Result<Self, TcError> {
        p.reject_unknown(Self::PARAMS)?;
        let architecture = p.req_str("Architecture")?;
        let os_type = p.req_str("OsType")?;
        let os_version = p.req_str("OsVersion")?;
        let url = p.req_str("ImageUrl")?;
        let name = p.req_str("ImageName")?;
        let description = p.opt_str("ImageDescription")?.unwrap_or_default();
        let dry_run = p.opt_bool("DryRun")?.unwrap_or(false);
        let force = p.opt_bool("Force")?.unwrap_or(false);
        let specs = p.opt_tag_specs("TagSpecification")?.unwrap_or_default();
        let license_type = p
            .opt_str("LicenseType")?
            .unwrap_or_else(|| LICENSE_TENCENT_CLOUD.into());
        let boot_mode = p
            .opt_str("BootMode")?
            .unwrap_or_else(|| BOOT_LEGACY_BIOS.into());
        let family = p.opt_str("ImageFamily")?.unwrap_or_default();
        let disks = p
            .opt_objects("ImportImageDataDiskList", &["ImageUrl"])?
            .unwrap_or_default();

        let architecture = match architecture.as_str() {
            "x86_64" | "i386" => architecture,
            "arm_64" => "arm".to_string(),
            other => {
                return Err(TcError::invalid_value(
                    "Architecture",
                    &format!("`{other}` is not x86_64, i386 or arm_64"),
                ))
            }
        };
        if !LINUX.contains(&os_type.as_str()) && !WINDOWS.contains(&os_type.as_str()) {
            return Err(TcError::new(
                Code::InvalidImageOsTypeUnsupported,
                format!("OsType `{os_type}` is not supported; DescribeImportImageOs lists the supported ones."),
            ).zh(format!("不支持的操作系统类型：`{os_type}`，支持的类型见 DescribeImportImageOs。")));
        }
        let versions = VERSIONS
            .iter()
            .find(|(os, _)| *os == os_type)
            .map(|(_, v)| *v)
            .unwrap_or(&[]);
        if !versions.contains(&os_version.as_str()) {
            return Err(TcError::new(
                Code::InvalidImageOsVersionUnsupported,
                format!(
                    "OsVersion `{os_version}` of {os_type} is not supported; supported: {}.",
                    versions.join(", ")
                ),
            )
            .zh(format!(
                "不支持的操作系统版本：{os_type} 的 `{os_version}`，支持：{}。",
                versions.join(", ")
            )));
        }
        check_url("ImageUrl", &url)?;
        let mut disk_urls = Vec::new();
        for (i, d) in disks.iter().enumerate() {
            let u = d
                .req_str("ImageUrl")
                .map_err(|_| TcError::missing(&format!("ImportImageDataDiskList.{i}.ImageUrl")))?;
            check_url(&format!("ImportImageDataDiskList.{i}.ImageUrl"), &u)?;
            disk_urls.push(u);
        }
        if url.to_ascii_lowercase().ends_with(".iso") && !force {
            return Err(TcError::new(
                Code::InvalidParameterValueISOMustImportByForce,
                "An ISO file can only be imported with Force=true.",
            ));
        }
        rules::image_name(&name)?;
        rules::image_description(&description)?;
        rules::image_family(&family)?;
        if license_type != LICENSE_TENCENT_CLOUD && license_type != LICENSE_BYOL {
            return Err(TcError::new(
                Code::InvalidParameterValueInvalidLicenseType,
                format!(
                    "LicenseType `{license_type}` is not {LICENSE_TENCENT_CLOUD} or {LICENSE_BYOL}."
                ),
            ).zh(format!("许可证类型不可用：`{license_type}` 不是 {LICENSE_TENCENT_CLOUD} 或 {LICENSE_BYOL}。")));
        }
        if boot_mode != BOOT_LEGACY_BIOS && boot_mode != BOOT_UEFI {
            return Err(TcError::new(
                Code::InvalidParameterValueInvalidBootMode,
                format!("BootMode `{boot_mode}` is not `{BOOT_LEGACY_BIOS}` or `{BOOT_UEFI}`."),
            )
            .zh(format!(
                "不支持指定的启动模式：`{boot_mode}` 不是 `{BOOT_LEGACY_BIOS}` 或 `{BOOT_UEFI}`。"
            )));
        }
        let tags = tags_from_specs(&specs)?;
        let will_fail =
            url.contains(FAIL_MARKER) || disk_urls.iter().any(|u| u.contains(FAIL_MARKER));
        Ok(ImportImage {
            req: ImportedImage {
                name,
                description,
                family,
                architecture,
                os_type,
                os_version,
                license_type,
                boot_mode,
                data_disks: disk_urls.len(),
                tags,
                will_fail,
                dry_run,
            },
        })
    }

    /// Starts the import.
    pub async fn run(self, ctx: &Ctx<'_>) -> Result<Output, TcError> {
        let id = ctx.cvm.import_image(ctx.caller, self.req).await?;
        let mut out = Output::new();
        if let Some(id) = id {
            out.insert("ImageId".into(), Value::String(id));
        }
        Ok(out)
    }
}

/// The validated DescribeImportImageOs request (no parameters).
pub struct DescribeImportImageOs;

impl DescribeImportImageOs {
    /// Validates the wire input.
    pub fn parse(p: &Params) -> Result<Self, TcError> {
        p.reject_unknown(&[])?;
        Ok(DescribeImportImageOs)
    }

    /// The static list of the official example.
    pub fn run(self) -> Result<Output, TcError> {
        let mut out = Output::new();
        out.insert(
            "ImportImageOsListSupported".into(),
            json!({"Linux": LINUX, "Windows": WINDOWS}),
        );
        out.insert(
            "ImportImageOsVersionSet".into(),
            Value::Array(
                VERSIONS
                    .iter()
                    .map(|(os, v)| json!({"OsName": os, "OsVersions": v, "Architecture": ["x86_64", "i386"]}))
                    .collect(),
            ),
        );
        Ok(out)
    }
}
