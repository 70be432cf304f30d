//! Wildcard matching for policy actions, resources and `StringLike` values.
//!
//! `*` matches zero or more characters (crossing `/` and `:`), `?` exactly one character.
//! There is no escape character: RAM and CAM have none. The matcher is the classic
//! iterative two-pointer algorithm with a single backtrack point (the last `*` seen), so
//! it runs in O(pattern × text) in the worst case, never recurses, and does not allocate
//! when both strings are ASCII (the case of every action and ARN).

/// Whether `text` matches the wildcard `pattern` in full.
///
/// With `ignore_case`, ASCII letters compare case-insensitively, and so do other
/// characters through their simple lower-case mapping.
pub fn matches(pattern: &str, text: &str, ignore_case: bool) -> bool {
    if pattern == "*" {
        return true;
    }
    if pattern.is_ascii() && text.is_ascii() {
        let eq = |p: u8, t: u8| {
            if ignore_case {
                p.eq_ignore_ascii_case(&t)
            } else {
                p == t
            }
        };
        run(pattern.as_bytes(), text.as_bytes(), b'*', b'?', eq)
    } else {
        // Rare (non-ASCII names): one allocation each, to index by character.
        let p: Vec<char> = pattern.chars().collect();
        let t: Vec<char> = text.chars().collect();
        let eq =
            |a: char, b: char| a == b || (ignore_case && a.to_lowercase().eq(b.to_lowercase()));
        run(&p, &t, '*', '?', eq)
    }
}

fn run<T: Copy + PartialEq>(p: &[T], t: &[T], star: T, one: T, eq: impl Fn(T, T) -> bool) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    // Position after the last `*` seen in the pattern, and the text position it was tried at.
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == star {
            pi += 1;
            backtrack = Some((pi, ti));
        } else if pi < p.len() && (p[pi] == one || eq(p[pi], t[ti])) {
            pi += 1;
            ti += 1;
        } else if let Some((bp, bt)) = backtrack {
            // Let the last `*` swallow one more character and retry from there.
            pi = bp;
            ti = bt + 1;
            backtrack = Some((bp, bt + 1));
        } else {
            return false;
        }
    }
    // The text is consumed: only `*`s may remain in the pattern.
    p[pi..].iter().all(|&c| c == star)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn star_matches_zero_or_more_characters_across_slash_and_colon() {
        assert!(matches("imm:Get*", "imm:Get", false));
        assert!(matches("imm:Get*", "imm:GetFigureCluster", false));
        assert!(matches(
            "acs:imm:*:123:project/imm-test-doc*",
            "acs:imm:cn-hangzhou:123:project/imm-test-doc1/dataset/ds",
            false
        ));
        assert!(matches("a*b*c", "a:x/b/y:c", false));
        assert!(!matches("a*b*c", "a:x/b/y:d", false));
        assert!(matches("*", "", false));
        assert!(matches("**", "anything", false));
    }

    #[test]
    fn question_mark_matches_exactly_one_character() {
        assert!(matches("img-?", "img-1", false));
        assert!(!matches("img-?", "img-", false));
        assert!(!matches("img-?", "img-12", false));
        assert!(matches("?", "é", false));
    }

    #[test]
    fn literal_patterns_match_only_themselves_and_case_is_optional() {
        assert!(matches("abc", "abc", false));
        assert!(!matches("abc", "abcd", false));
        assert!(!matches("abc", "ABC", false));
        assert!(matches("abc", "ABC", true));
        assert!(matches("ÉTÉ*", "été-x", true));
        assert!(!matches("", "a", false));
        assert!(matches("", "", false));
    }

    #[test]
    fn pathological_patterns_finish_quickly() {
        let text = "a".repeat(5000);
        let pattern = format!("{}b", "*a".repeat(50));
        assert!(!matches(&pattern, &text, false));
    }
}
