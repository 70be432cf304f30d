//! The image domain's rules on names and values: what an `ImageName`, `ImageDescription`,
//! `ImageFamily` and the ids of images, instances, snapshots and disks may be. The dialect's
//! `parse` functions call them, the operations enforce them again, and a portable document is
//! checked against them; each refusal is a [`CvmError::Rule`] that `dialect::tencent::error`
//! turns into the wire code and message.

use super::error::CvmError;
pub use super::error::Violation;
use super::keys::{is_id_char, ID_SUFFIX_LEN, IMAGE_ID_PREFIX, SNAPSHOT_ID_PREFIX};

/// Longest `ImageName`, in characters.
pub const MAX_NAME_CHARS: usize = 60;
/// Longest `ImageDescription`, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 256;
/// Longest `ImageFamily`, in bytes (the pattern allows ASCII only).
pub const MAX_FAMILY_LEN: usize = 60;
/// Prefix of an instance id.
pub const INSTANCE_ID_PREFIX: &str = "ins-";
/// Prefix of a disk id.
pub const DISK_ID_PREFIX: &str = "disk-";

fn broken(v: Violation) -> Result<(), CvmError> {
    Err(CvmError::Rule(v))
}

/// `prefix` followed by [`ID_SUFFIX_LEN`] characters of the id alphabet.
fn is_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == ID_SUFFIX_LEN && rest.bytes().all(is_id_char))
}

/// An image name: not empty, no control characters, at most [`MAX_NAME_CHARS`] characters.
pub fn image_name(value: &str) -> Result<(), CvmError> {
    if value.trim().is_empty() {
        return broken(Violation::NameEmpty);
    }
    if value.chars().any(char::is_control) {
        return broken(Violation::NameControlChars);
    }
    let got = value.chars().count();
    if got > MAX_NAME_CHARS {
        return broken(Violation::NameTooLong {
            max: MAX_NAME_CHARS,
            got,
        });
    }
    Ok(())
}

/// An image description: at most [`MAX_DESCRIPTION_CHARS`] characters.
pub fn image_description(value: &str) -> Result<(), CvmError> {
    let got = value.chars().count();
    if got > MAX_DESCRIPTION_CHARS {
        return broken(Violation::DescriptionTooLong {
            max: MAX_DESCRIPTION_CHARS,
            got,
        });
    }
    Ok(())
}

/// An image family: `""` (none) or `[A-Za-z0-9][A-Za-z0-9._-]{0,59}`.
pub fn image_family(value: &str) -> Result<(), CvmError> {
    let mut chars = value.chars();
    let ok = match chars.next() {
        None => true,
        Some(first) => {
            first.is_ascii_alphanumeric()
                && value.len() <= MAX_FAMILY_LEN
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        }
    };
    if ok {
        Ok(())
    } else {
        broken(Violation::FamilyMalformed(value.to_string()))
    }
}

/// An image id: `img-` and eight of `[a-z0-9]`.
pub fn image_id(id: &str) -> Result<(), CvmError> {
    if is_id(id, IMAGE_ID_PREFIX) {
        Ok(())
    } else {
        broken(Violation::ImageIdMalformed(id.to_string()))
    }
}

/// An instance id: `ins-` and eight of `[a-z0-9]`.
pub fn instance_id(id: &str) -> Result<(), CvmError> {
    if is_id(id, INSTANCE_ID_PREFIX) {
        Ok(())
    } else {
        broken(Violation::InstanceIdMalformed(id.to_string()))
    }
}

/// A snapshot id: `snap-` and eight of `[a-z0-9]`.
pub fn snapshot_id(id: &str) -> Result<(), CvmError> {
    if is_id(id, SNAPSHOT_ID_PREFIX) {
        Ok(())
    } else {
        broken(Violation::SnapshotIdMalformed(id.to_string()))
    }
}

/// A disk id: `disk-` and eight of `[a-z0-9]`.
pub fn disk_id(id: &str) -> Result<(), CvmError> {
    if is_id(id, DISK_ID_PREFIX) {
        Ok(())
    } else {
        broken(Violation::DiskIdMalformed(id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(r: Result<(), CvmError>) -> Option<Violation> {
        match r {
            Err(CvmError::Rule(v)) => Some(v),
            _ => None,
        }
    }

    #[test]
    fn image_name_is_1_to_60_characters_without_control_characters() {
        assert!(image_name(&"名".repeat(60)).is_ok());
        assert_eq!(
            violation(image_name(&"名".repeat(61))),
            Some(Violation::NameTooLong { max: 60, got: 61 })
        );
        assert_eq!(violation(image_name("")), Some(Violation::NameEmpty));
        assert_eq!(violation(image_name("  ")), Some(Violation::NameEmpty));
        assert_eq!(
            violation(image_name("a\tb")),
            Some(Violation::NameControlChars)
        );
    }

    #[test]
    fn image_description_is_at_most_256_characters() {
        assert!(image_description("").is_ok());
        assert!(image_description(&"é".repeat(256)).is_ok());
        assert_eq!(
            violation(image_description(&"é".repeat(257))),
            Some(Violation::DescriptionTooLong { max: 256, got: 257 })
        );
    }

    #[test]
    fn image_family_is_empty_or_follows_the_documented_pattern() {
        assert!(image_family("business-daily-update").is_ok());
        assert!(image_family("").is_ok());
        assert!(image_family(&"a".repeat(60)).is_ok());
        for bad in ["-bad", "has space", &"a".repeat(61)] {
            assert_eq!(
                violation(image_family(bad)),
                Some(Violation::FamilyMalformed(bad.to_string())),
                "{bad}"
            );
        }
    }

    #[test]
    fn image_id_is_img_and_eight_lowercase_alphanumerics() {
        assert!(image_id("img-6pb6lrmy").is_ok());
        for bad in [
            "img-6pb6lrm",
            "img-6pb6lrmyy",
            "img-6PB6LRMY",
            "ins-6pb6lrmy",
            "",
            "img-6pb6lrm_",
        ] {
            assert_eq!(
                violation(image_id(bad)),
                Some(Violation::ImageIdMalformed(bad.to_string())),
                "{bad}"
            );
        }
    }

    #[test]
    fn instance_id_is_ins_and_eight_lowercase_alphanumerics() {
        assert!(instance_id("ins-abcd1234").is_ok());
        assert!(instance_id("img-abcd1234").is_err());
        assert!(instance_id("ins-abcd123").is_err());
    }

    #[test]
    fn snapshot_id_is_snap_and_eight_lowercase_alphanumerics() {
        assert!(snapshot_id("snap-abcd1234").is_ok());
        assert!(snapshot_id("snap-ABCD1234").is_err());
        assert!(snapshot_id("disk-abcd1234").is_err());
    }

    #[test]
    fn disk_id_is_disk_and_eight_lowercase_alphanumerics() {
        assert!(disk_id("disk-abcd1234").is_ok());
        assert!(disk_id("disk-abcd12345").is_err());
        assert!(disk_id("snap-abcd1234").is_err());
    }
}
