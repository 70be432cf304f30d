//! Schema 1 → 2: the label postings of `imm.cluster_order`.
//!
//! Schema 2 keeps, next to the sort keys of every cluster, one key per distinct custom label
//! (key, text) of the cluster: `scope + 8 + escaped key + escaped text + cluster id` -> ``,
//! where scope is `account \0 region \0 project \0 dataset \0`, a string is escaped as in the
//! order index (0x00 as 0x00 0xFF, ended by 0x00 0x00) and the text of a label value is a JSON
//! string's content, else the JSON text itself. The cluster records do not change; this step
//! derives the postings from each of them.
//!
//! The cluster record of schema 1 starts `[1][bincode standard: object_id, account, region,
//! project, dataset, name, custom_id, labels: Vec<(String, String)>, ...]`; only that prefix is
//! read (a frozen reading of it, not today's type).

/// Tag of the label postings in the order tree.
const LABEL_TAG: u8 = 8;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len());
        let end = end.ok_or_else(|| "the cluster record ends early".to_string())?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    /// bincode's standard variable-length integer.
    fn varint(&mut self) -> Result<u64, String> {
        let first = self.take(1)?[0];
        let wide = |b: &[u8]| {
            let mut v = [0u8; 8];
            v[..b.len()].copy_from_slice(b);
            u64::from_le_bytes(v)
        };
        Ok(match first {
            0..=250 => u64::from(first),
            251 => wide(self.take(2)?),
            252 => wide(self.take(4)?),
            253 => wide(self.take(8)?),
            _ => return Err("a length wider than 64 bits".into()),
        })
    }

    fn string(&mut self) -> Result<String, String> {
        let n = usize::try_from(self.varint()?).map_err(|e| e.to_string())?;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|e| e.to_string())
    }
}

fn escaped(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        if b == 0 {
            out.extend_from_slice(&[0, 0xFF]);
        } else {
            out.push(b);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// The content of a JSON text that is one string (with surrounding whitespace), else `None`.
fn json_string(text: &str) -> Option<String> {
    let t = text.trim_matches(is_ws);
    let body = t.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.chars();
    let hex4 = |chars: &mut std::str::Chars<'_>| -> Option<u32> {
        let mut v = 0;
        for _ in 0..4 {
            v = v * 16 + chars.next()?.to_digit(16)?;
        }
        Some(v)
    };
    loop {
        match chars.next()? {
            '"' => break,
            '\\' => match chars.next()? {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                '/' => out.push('/'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'u' => {
                    let hi = hex4(&mut chars)?;
                    let code = if (0xD800..0xDC00).contains(&hi) {
                        if chars.next()? != '\\' || chars.next()? != 'u' {
                            return None;
                        }
                        let lo = hex4(&mut chars)?;
                        if !(0xDC00..0xE000).contains(&lo) {
                            return None;
                        }
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    } else {
                        hi
                    };
                    out.push(char::from_u32(code)?);
                }
                _ => return None,
            },
            c if (c as u32) < 0x20 => return None,
            c => out.push(c),
        }
    }
    chars.as_str().chars().all(is_ws).then_some(out)
}

/// The label postings of one schema-1 cluster record.
pub fn derive(_key: &[u8], value: &[u8]) -> Result<Vec<crate::Put>, String> {
    match value.first() {
        Some(1) => {}
        other => return Err(format!("a cluster record of version {other:?}, expected 1")),
    }
    let mut r = Reader {
        bytes: value,
        at: 1,
    };
    let id = r.string()?;
    let mut scope = Vec::new();
    for _ in 0..4 {
        scope.extend_from_slice(r.string()?.as_bytes());
        scope.push(0);
    }
    r.string()?; // name
    r.string()?; // custom_id
    let n = r.varint()?;
    let mut keys = Vec::new();
    for _ in 0..n {
        let (k, v) = (r.string()?, r.string()?);
        let text = json_string(&v).unwrap_or(v);
        let mut key = scope.clone();
        key.push(LABEL_TAG);
        escaped(&k, &mut key);
        escaped(&text, &mut key);
        key.extend_from_slice(id.as_bytes());
        keys.push(key);
    }
    keys.sort();
    keys.dedup();
    Ok(keys
        .into_iter()
        .map(|k| ("imm.cluster_order", k, Vec::new()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(out: &mut Vec<u8>, v: &str) {
        out.push(v.len() as u8);
        out.extend_from_slice(v.as_bytes());
    }

    /// A schema-1 cluster record's prefix, written by hand as bincode standard writes it.
    fn sample(labels: &[(&str, &str)]) -> Vec<u8> {
        let mut b = vec![1u8];
        for f in ["Cluster-1", "100", "cn-hangzhou", "p", "d", "Alice", ""] {
            s(&mut b, f);
        }
        b.push(labels.len() as u8);
        for (k, v) in labels {
            s(&mut b, k);
            s(&mut b, v);
        }
        b.extend_from_slice(&[0, 0, 0]); // the rest of the record is not read
        b
    }

    #[test]
    fn a_cluster_gives_one_posting_per_distinct_label_text() {
        let out = derive(
            b"k",
            &sample(&[
                ("role", "\"friend\""),
                ("role", "\"fri\\u0065nd\""),
                ("n", "7"),
            ]),
        )
        .expect("derive");
        let keys: Vec<Vec<u8>> = out
            .into_iter()
            .map(|(t, k, v)| {
                assert_eq!((t, v.len()), ("imm.cluster_order", 0));
                k
            })
            .collect();
        let post = |k: &str, t: &str| {
            let mut key = b"100\0cn-hangzhou\0p\0d\0\x08".to_vec();
            escaped(k, &mut key);
            escaped(t, &mut key);
            key.extend_from_slice(b"Cluster-1");
            key
        };
        assert_eq!(keys, vec![post("n", "7"), post("role", "friend")]);
        assert!(derive(b"k", &sample(&[])).expect("derive").is_empty());
    }

    #[test]
    fn json_strings_are_read_as_serde_json_reads_them() {
        assert_eq!(json_string(" \"a\\\"b\" ").as_deref(), Some("a\"b"));
        assert_eq!(json_string("\"\\ud83d\\ude00\"").as_deref(), Some("😀"));
        assert_eq!(json_string("\"\\ud83d\""), None);
        assert_eq!(json_string("\"a\" x"), None);
        assert_eq!(json_string("12"), None);
        assert_eq!(json_string("\"tab\there\""), None);
    }

    #[test]
    fn a_truncated_or_newer_record_is_refused() {
        assert!(derive(b"k", &[1, 5, b'a']).is_err());
        assert!(derive(b"k", &[2]).is_err());
    }
}
