//! Schema 2 → 3: the sort keys of `imm.cluster_order` in blocks.
//!
//! Schema 2 kept one key per cluster and indexed sort key, `scope + tag (1..=7) + encoded
//! value + cluster id` -> ``, where scope is `account \0 region \0 project \0 dataset \0`,
//! integers (tags 1, 2, 3, 4 and 6) are 8 bytes and strings (tags 5 and 7) are escaped (0x00 as
//! 0x00 0xFF) and ended by 0x00 0x00. Schema 3 keeps the keys that agree up to the first 21
//! bytes of the cluster id as one record: the key up to there -> each key's rest as
//! `[u16 BE length][bytes]`, ascending. Label postings (tag 8) and the count (tag 0) stay.
//! A schema-2 key has an empty value; a block never has one, so a rerun tells them apart.

/// Bytes of the cluster id kept in a block key.
const BUCKET: usize = 21;

/// Where the block key of a sort key's entry ends (`None`: not such an entry).
fn block_len(key: &[u8]) -> Option<usize> {
    let scope = crate::scope_len(key)?;
    let int = match key.get(scope)? {
        1 | 2 | 3 | 4 | 6 => true,
        5 | 7 => false,
        _ => return None,
    };
    let start = scope + 1;
    let id = if int {
        start + 8
    } else {
        let mut i = start;
        loop {
            match (key.get(i), key.get(i + 1)) {
                (Some(0), Some(0)) => break i + 2,
                (Some(0), Some(_)) => i += 2,
                (Some(_), _) => i += 1,
                (None, _) => break key.len(),
            }
        }
    };
    Some(key.len().min(id + BUCKET))
}

/// The block a record of `imm.cluster_order` belongs to.
pub fn joins(key: &[u8], value: &[u8]) -> Result<Option<crate::Joins>, String> {
    let Some(n) = block_len(key) else {
        return Ok(None);
    };
    if value.is_empty() {
        return Ok(Some(crate::Joins {
            group: key[..n].to_vec(),
            members: vec![key[n..].to_vec()],
            moves: true,
        }));
    }
    if n != key.len() {
        return Err("a block's key runs past its cluster id's first 21 bytes".into());
    }
    let mut members = Vec::new();
    let mut v = value;
    while !v.is_empty() {
        let (len, rest) = v
            .split_first_chunk::<2>()
            .ok_or("a block ends inside an entry's length")?;
        let len = u16::from_be_bytes(*len) as usize;
        if rest.len() < len {
            return Err("a block ends inside an entry".into());
        }
        members.push(rest[..len].to_vec());
        v = &rest[len..];
    }
    Ok(Some(crate::Joins {
        group: key.to_vec(),
        members,
        moves: false,
    }))
}

/// A block's value.
pub fn pack(members: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in members {
        let n = m.len().min(u16::MAX as usize);
        out.extend_from_slice(&(n as u16).to_be_bytes());
        out.extend_from_slice(&m[..n]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCOPE: &[u8] = b"1\0r\0p\0d\0";

    fn int_key(tag: u8, v: u64, id: &str) -> Vec<u8> {
        [SCOPE, &[tag], &(v ^ (1 << 63)).to_be_bytes(), id.as_bytes()].concat()
    }

    #[test]
    fn a_schema_2_key_joins_the_block_of_its_id_s_first_21_bytes() {
        let k = int_key(1, 3, "Cluster-0190abcd-ef12-7abc-8def-0123456789ab");
        let j = joins(&k, b"").expect("joins").expect("concerned");
        assert!(j.moves);
        assert_eq!(j.group, int_key(1, 3, "Cluster-0190abcd-ef12"));
        assert_eq!(j.members, vec![b"-7abc-8def-0123456789ab".to_vec()]);
    }

    #[test]
    fn a_string_value_is_skipped_with_its_escapes_and_a_short_id_is_kept_whole() {
        let k = [SCOPE, &[7], b"a\0\xffb\0\0", b"Cluster-x"].concat();
        let j = joins(&k, b"").expect("joins").expect("concerned");
        assert_eq!(j.group, k);
        assert_eq!(j.members, vec![Vec::<u8>::new()]);
    }

    #[test]
    fn a_block_is_read_back_and_packs_to_the_same_bytes() {
        let members = vec![b"-1".to_vec(), b"-2".to_vec()];
        let block = int_key(3, 9, "Cluster-0190abcd-ef12");
        let j = joins(&block, &pack(&members))
            .expect("joins")
            .expect("concerned");
        assert!(!j.moves);
        assert_eq!(j.members, members);
        assert_eq!(pack(&j.members), pack(&members));
    }

    #[test]
    fn label_postings_and_the_count_are_not_concerned() {
        let posting = [SCOPE, &[8], b"role\0\0vip\0\0Cluster-1"].concat();
        assert_eq!(joins(&posting, b"").expect("joins"), None);
        let count = [SCOPE, &[0]].concat();
        assert_eq!(joins(&count, &7u64.to_be_bytes()).expect("joins"), None);
    }
}
