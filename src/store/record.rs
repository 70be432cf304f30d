//! Versioned records: every value the store holds is `[format version][bincode payload]`.
//!
//! The version byte lets a migration step recognise which layout a record has, and lets a
//! reader refuse bytes it does not understand instead of misreading them.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::StoreError;

/// A value kept in a store tree, with the layout version it is written in.
pub trait Record: Serialize + DeserializeOwned {
    /// Name used in error messages (`cvm.image`).
    const KIND: &'static str;
    /// Layout version written as the first byte.
    const VERSION: u8;
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encodes a record as `[VERSION][bincode payload]`.
pub fn encode<R: Record>(record: &R) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![R::VERSION];
    let payload =
        bincode::serde::encode_to_vec(record, config()).map_err(|e| StoreError::Corrupt {
            kind: R::KIND,
            detail: format!("cannot encode: {e}"),
        })?;
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Decodes bytes written by [`encode`], refusing any other layout version.
pub fn decode<R: Record>(bytes: &[u8]) -> Result<R, StoreError> {
    let (version, payload) = bytes.split_first().ok_or(StoreError::Corrupt {
        kind: R::KIND,
        detail: "empty record".into(),
    })?;
    if *version != R::VERSION {
        return Err(StoreError::Corrupt {
            kind: R::KIND,
            detail: format!(
                "record layout version {version}, this build reads {} (a migration is missing)",
                R::VERSION
            ),
        });
    }
    let (record, used) =
        bincode::serde::decode_from_slice(payload, config()).map_err(|e| StoreError::Corrupt {
            kind: R::KIND,
            detail: format!("cannot decode: {e}"),
        })?;
    if used != payload.len() {
        return Err(StoreError::Corrupt {
            kind: R::KIND,
            detail: format!("{} trailing bytes", payload.len() - used),
        });
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Sample {
        name: String,
        n: u64,
    }
    impl Record for Sample {
        const KIND: &'static str = "test.sample";
        const VERSION: u8 = 3;
    }

    #[test]
    fn a_record_starts_with_its_version_byte_and_round_trips() {
        let s = Sample {
            name: "x".into(),
            n: 7,
        };
        let bytes = encode(&s).expect("encode");
        assert_eq!(bytes[0], 3);
        assert_eq!(decode::<Sample>(&bytes).expect("decode"), s);
    }

    #[test]
    fn decode_refuses_another_layout_version() {
        let mut bytes = encode(&Sample {
            name: "x".into(),
            n: 7,
        })
        .expect("encode");
        bytes[0] = 2;
        let err = decode::<Sample>(&bytes).unwrap_err().to_string();
        assert!(err.contains("layout version 2"), "{err}");
    }

    #[test]
    fn decode_refuses_truncated_bytes() {
        let bytes = encode(&Sample {
            name: "hello".into(),
            n: 7,
        })
        .expect("encode");
        assert!(decode::<Sample>(&bytes[..3]).is_err());
        assert!(decode::<Sample>(&[]).is_err());
    }
}
