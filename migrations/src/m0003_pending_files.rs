//! Schema 3 → 4: `imm.pending` keeps one key per file with pending faces, not one per face.
//!
//! Schema 3 kept `scope + uri \0 figure id` -> `` for every face waiting for clustering, where
//! scope is `account \0 region \0 project \0 dataset \0`; schema 4 keeps `scope + uri` -> ``
//! (the file's own key in `imm.files`) while any face of the file is pending. A uri holds no
//! 0 byte, so a key with a 0 byte after its scope is a schema-3 key, and the keys of one file
//! come one after another, its schema-4 key first (0 is the smallest byte).

/// The file key a record of `imm.pending` belongs to (`None`: a key without a dataset scope,
/// not one this step understands; it stays, for `cloudtwin check` to report, rather than
/// keeping the data dir from opening).
pub fn joins(key: &[u8], _value: &[u8]) -> Result<Option<crate::Joins>, String> {
    let Some(scope) = crate::scope_len(key) else {
        return Ok(None);
    };
    Ok(Some(match key[scope..].iter().position(|b| *b == 0) {
        Some(at) => crate::Joins {
            group: key[..scope + at].to_vec(),
            members: Vec::new(),
            moves: true,
        },
        None => crate::Joins {
            group: key.to_vec(),
            members: Vec::new(),
            moves: false,
        },
    }))
}

/// A file's pending key has an empty value.
pub fn pack(_members: &[Vec<u8>]) -> Vec<u8> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCOPE: &[u8] = b"1\0r\0p\0d\0";

    #[test]
    fn a_face_key_joins_its_file_s_key() {
        let k = [SCOPE, b"oss://b/x.jpg\0f1"].concat();
        let j = joins(&k, b"").expect("joins").expect("concerned");
        assert!(j.moves);
        assert_eq!(j.group, [SCOPE, b"oss://b/x.jpg"].concat());
        assert!(pack(&j.members).is_empty());
    }

    #[test]
    fn a_file_key_is_its_own_group_and_stays() {
        let k = [SCOPE, b"oss://b/x.jpg"].concat();
        let j = joins(&k, b"").expect("joins").expect("concerned");
        assert!(!j.moves);
        assert_eq!(j.group, k);
    }

    #[test]
    fn a_key_without_a_scope_is_left_as_it_is() {
        assert_eq!(joins(b"1\0r\0p", b"").expect("joins"), None);
    }
}
