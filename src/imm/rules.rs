//! The face domain's rules on names and values: project and dataset names, descriptions,
//! `UserData`, and a cluster's `Name`, `CustomId` and custom labels. The dialect's `parse`
//! functions call them, the operations enforce them again, and a portable document is checked
//! against them; each refusal is an [`ImmError::Rule`] that `dialect::aliyun::error` turns into
//! the wire code and message.

use super::error::ImmError;
pub use super::error::{ClusterText, NameOf, Violation};

/// Longest project or dataset name, in bytes (the pattern allows ASCII only).
pub const MAX_NAME_LEN: usize = 128;
/// Longest description, in characters (and at least one).
pub const MAX_DESCRIPTION_CHARS: usize = 256;
/// Longest `UserData`, in bytes.
pub const MAX_USER_DATA: usize = 2048;
/// Longest cluster `Name` and `CustomId`, in characters.
pub const MAX_CLUSTER_TEXT_CHARS: usize = 128;
/// Most custom labels on a cluster.
pub const MAX_LABELS: usize = 100;
/// Longest custom label key, in bytes (and at least one).
pub const MAX_LABEL_KEY_LEN: usize = 128;
/// Longest custom label value (its JSON text), in bytes.
pub const MAX_LABEL_VALUE_LEN: usize = 1024;

fn broken(v: Violation) -> Result<(), ImmError> {
    Err(ImmError::Rule(v))
}

/// A project or dataset name: 1-128 of `[A-Za-z0-9_-]`, starting with a letter or `_`.
pub fn name(of: NameOf, value: &str) -> Result<(), ImmError> {
    let mut chars = value.chars();
    let ok = value.len() <= MAX_NAME_LEN
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        broken(Violation::Name {
            of,
            value: value.to_string(),
        })
    }
}

/// A project name ([`name`]).
pub fn project_name(value: &str) -> Result<(), ImmError> {
    name(NameOf::Project, value)
}

/// A dataset name ([`name`]).
pub fn dataset_name(value: &str) -> Result<(), ImmError> {
    name(NameOf::Dataset, value)
}

/// A description: 1 to [`MAX_DESCRIPTION_CHARS`] characters.
pub fn description(value: &str) -> Result<(), ImmError> {
    let chars = value.chars().count();
    if (1..=MAX_DESCRIPTION_CHARS).contains(&chars) {
        Ok(())
    } else {
        broken(Violation::DescriptionLength { chars })
    }
}

/// `UserData`: at most [`MAX_USER_DATA`] bytes.
pub fn user_data(value: &str) -> Result<(), ImmError> {
    if value.len() <= MAX_USER_DATA {
        Ok(())
    } else {
        broken(Violation::UserDataTooLong { bytes: value.len() })
    }
}

/// A cluster's `Name` or `CustomId`: at most [`MAX_CLUSTER_TEXT_CHARS`] characters.
pub fn cluster_text(field: ClusterText, value: &str) -> Result<(), ImmError> {
    if value.chars().count() > MAX_CLUSTER_TEXT_CHARS {
        broken(Violation::ClusterTextTooLong(field))
    } else {
        Ok(())
    }
}

/// How many custom labels a cluster may have: at most [`MAX_LABELS`].
pub fn label_count(count: usize) -> Result<(), ImmError> {
    if count > MAX_LABELS {
        broken(Violation::TooManyLabels { count })
    } else {
        Ok(())
    }
}

/// One custom label: a key of 1 to [`MAX_LABEL_KEY_LEN`] bytes, a value (JSON text) of at most
/// [`MAX_LABEL_VALUE_LEN`] bytes.
pub fn label(key: &str, value_json: &str) -> Result<(), ImmError> {
    if key.is_empty() || key.len() > MAX_LABEL_KEY_LEN || value_json.len() > MAX_LABEL_VALUE_LEN {
        broken(Violation::LabelSize {
            key: key.to_string(),
        })
    } else {
        Ok(())
    }
}

/// A whole set of custom labels ([`label_count`], then [`label`] for each).
pub fn labels(labels: &[(String, String)]) -> Result<(), ImmError> {
    label_count(labels.len())?;
    labels.iter().try_for_each(|(k, v)| label(k, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(r: Result<(), ImmError>) -> Option<Violation> {
        match r {
            Err(ImmError::Rule(v)) => Some(v),
            _ => None,
        }
    }

    #[test]
    fn name_is_1_to_128_word_characters_starting_with_a_letter_or_underscore() {
        assert!(project_name("test-project_1").is_ok());
        assert!(dataset_name("_x").is_ok());
        assert!(project_name(&"a".repeat(128)).is_ok());
        for bad in ["", "1abc", "a b", "a.b", &"a".repeat(129)] {
            assert_eq!(
                violation(dataset_name(bad)),
                Some(Violation::Name {
                    of: NameOf::Dataset,
                    value: bad.to_string()
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn description_is_1_to_256_characters() {
        assert!(description("x").is_ok());
        assert!(description(&"é".repeat(256)).is_ok());
        assert_eq!(
            violation(description("")),
            Some(Violation::DescriptionLength { chars: 0 })
        );
        assert_eq!(
            violation(description(&"é".repeat(257))),
            Some(Violation::DescriptionLength { chars: 257 })
        );
    }

    #[test]
    fn user_data_is_at_most_2048_bytes() {
        assert!(user_data("").is_ok());
        assert!(user_data(&"a".repeat(2048)).is_ok());
        assert_eq!(
            violation(user_data(&"é".repeat(1025))),
            Some(Violation::UserDataTooLong { bytes: 2050 })
        );
    }

    #[test]
    fn cluster_text_is_at_most_128_characters() {
        assert!(cluster_text(ClusterText::Name, &"名".repeat(128)).is_ok());
        assert_eq!(
            violation(cluster_text(ClusterText::CustomId, &"名".repeat(129))),
            Some(Violation::ClusterTextTooLong(ClusterText::CustomId))
        );
    }

    #[test]
    fn label_count_is_at_most_100() {
        assert!(label_count(100).is_ok());
        assert_eq!(
            violation(label_count(101)),
            Some(Violation::TooManyLabels { count: 101 })
        );
    }

    #[test]
    fn label_key_is_1_to_128_bytes_and_its_value_at_most_1024() {
        assert!(label("k", "\"v\"").is_ok());
        assert!(label(&"k".repeat(128), &"v".repeat(1024)).is_ok());
        for (k, v) in [
            ("", "1"),
            (&*"k".repeat(129), "1"),
            ("k", &*"v".repeat(1025)),
        ] {
            assert_eq!(
                violation(label(k, v)),
                Some(Violation::LabelSize { key: k.to_string() })
            );
        }
    }
}
