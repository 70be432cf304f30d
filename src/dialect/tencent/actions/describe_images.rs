//! `DescribeImages` (cvm.md §6.2): the caller's images in the region, newest first.
//!
//! # Format
//! `{"ImageIds": [...]}` or `{"Filters": [{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}],
//! "Offset": 0, "Limit": 20, "InstanceType": "S5.MEDIUM4"}`
//! -> `{"TotalCount": 1, "ImageSet": [Image...]}`

use serde_json::json;

use super::{check_image_ids, write_image_set, Ctx, Output};
use crate::cvm::{catalogue, ImageFilter, ImageQuery, ImageState, ImageType};
use crate::dialect::tencent::error::{Code, TcError};
use crate::dialect::tencent::params::{Filter, Params};

/// Most filters in one call.
const MAX_FILTERS: usize = 10;
/// Most values in one filter.
const MAX_FILTER_VALUES: usize = 5;
/// Default and largest `Limit`.
const DEFAULT_LIMIT: u64 = 20;
const MAX_LIMIT: u64 = 100;

/// The validated request.
pub struct DescribeImages {
    query: ImageQuery,
}

fn filter(i: usize, f: &Filter) -> Result<ImageFilter, TcError> {
    if f.values.len() > MAX_FILTER_VALUES {
        return Err(TcError::new(
            Code::InvalidFilterValueLimitExceeded,
            format!(
                "Filter `{}` has {} values; at most {MAX_FILTER_VALUES} are allowed.",
                f.name,
                f.values.len()
            ),
        )
        .zh(format!(
            "Filter传值超出限制：过滤器 `{}` 有 {} 个值，最多允许 {MAX_FILTER_VALUES} 个。",
            f.name,
            f.values.len()
        )));
    }
    let values = f.values.clone();
    let parsed = match f.name.as_str() {
        "image-id" => {
            check_image_ids(&format!("Filters.{i}.Values"), &values)?;
            ImageFilter::Id(values)
        }
        "image-type" => ImageFilter::Type(
            values
                .iter()
                .map(|v| {
                    ImageType::from_wire(v).ok_or_else(|| {
                        TcError::invalid_value(
                            &format!("Filters.{i}.Values"),
                            &format!("`{v}` is not PRIVATE_IMAGE, PUBLIC_IMAGE or SHARED_IMAGE"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        "image-name" => ImageFilter::NameContains(values),
        "platform" => ImageFilter::PlatformContains(values),
        "tag-key" => ImageFilter::TagKey(values),
        "tag-value" => ImageFilter::TagValue(values),
        "image-state" => ImageFilter::State(
            values
                .iter()
                .map(|v| {
                    ImageState::from_wire(v).ok_or_else(|| {
                        TcError::invalid_value(
                            &format!("Filters.{i}.Values"),
                            &format!("`{v}` is not an image state"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        other => match other.strip_prefix("tag:") {
            Some(key) if !key.is_empty() => ImageFilter::Tag {
                key: key.to_string(),
                values,
            },
            _ => {
                return Err(TcError::new(
                    Code::InvalidFilter,
                    format!("Filter name `{other}` is not supported: use image-id, image-type, image-name, platform, tag-key, tag-value, tag:<key> or image-state."),
                ).zh(format!("无效的过滤器：不支持过滤条件 `{other}`。")))
            }
        },
    };
    Ok(parsed)
}

fn check_instance_type(t: &str) -> Result<(), TcError> {
    let ok = t.split_once('.').is_some_and(|(family, size)| {
        family.starts_with(|c: char| c.is_ascii_uppercase())
            && family
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && !size.is_empty()
            && size
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    });
    if ok {
        Ok(())
    } else {
        Err(TcError::new(
            Code::InvalidInstanceTypeMalformed,
            format!("InstanceType `{t}` is malformed: it looks like S5.MEDIUM4."),
        )
        .zh(format!(
            "指定InstanceType参数格式不合法：`{t}`，形如 S5.MEDIUM4。"
        )))
    }
}

impl DescribeImages {
    const PARAMS: &'static [&'static str] =
        &["ImageIds", "Filters", "Offset", "Limit", "InstanceType"];

    /// Validates the wire input.
    pub fn parse(p: &Params) -> Result<Self, TcError> {
        p.reject_unknown(Self::PARAMS)?;
        let ids = p.opt_str_list("ImageIds")?;
        let filters = p.opt_filters("Filters")?;
        let offset = p.opt_u64("Offset")?.unwrap_or(0);
        let limit = p.opt_u64("Limit")?.unwrap_or(DEFAULT_LIMIT);
        let instance_type = p.opt_str("InstanceType")?;
        if ids.is_some() && filters.is_some() {
            return Err(TcError::new(
                Code::InvalidParameterCoexistImageIdsFilters,
                "`ImageIds` and `Filters` cannot be given together.",
            ));
        }
        if let Some(ids) = &ids {
            check_image_ids("ImageIds", ids)?;
        }
        let filters = filters.unwrap_or_default();
        if filters.len() > MAX_FILTERS {
            return Err(TcError::new(
                Code::InvalidParameterValueLimitExceeded,
                format!(
                    "{} filters were given; at most {MAX_FILTERS} are allowed.",
                    filters.len()
                ),
            )
            .zh(format!(
                "参数值数量超过限制：给出了 {} 个过滤器，最多允许 {MAX_FILTERS} 个。",
                filters.len()
            )));
        }
        let filters = filters
            .iter()
            .enumerate()
            .map(|(i, f)| filter(i, f))
            .collect::<Result<Vec<_>, _>>()?;
        if limit > MAX_LIMIT {
            return Err(TcError::new(
                Code::InvalidParameterValueInvalidParameterValueLimit,
                format!("Limit {limit} is too large; it must be between 1 and {MAX_LIMIT}."),
            )
            .zh(format!(
                "参数值错误：Limit {limit} 过大，须在 1 到 {MAX_LIMIT} 之间。"
            )));
        }
        let mut filters = filters;
        if let Some(t) = &instance_type {
            check_instance_type(t)?;
            let archs = catalogue::architectures_for(t).ok_or_else(|| {
                TcError::new(
                    Code::InvalidParameterValueInstanceTypeNotFound,
                    format!(
                        "InstanceType `{t}` is not an instance type cloudtwin knows (see docs/cvm.md)."
                    ),
                ).zh(format!("指定机型不存在：`{t}`。"))
            })?;
            filters.push(ImageFilter::Architecture(
                archs.iter().map(|a| a.to_string()).collect(),
            ));
        }
        Ok(DescribeImages {
            query: ImageQuery {
                ids,
                filters,
                offset,
                limit: if limit == 0 { DEFAULT_LIMIT } else { limit },
            },
        })
    }

    /// Lists the page.
    pub fn run(self, ctx: &Ctx<'_>) -> Result<Output, TcError> {
        let page = ctx.cvm.describe_images(ctx.caller, &self.query)?;
        let mut out = Output::new();
        out.insert("TotalCount".into(), json!(page.total));
        let mut images = String::new();
        write_image_set(&mut images, &page.images);
        out.insert_text("ImageSet", images);
        Ok(out)
    }
}
