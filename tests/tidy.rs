//! Keeps ARCHITECTURE.md's code map true (rust-analyzer's tidy habit): every path it names
//! exists, every file of `src/` is under a row, and the "must not depend on" column holds for
//! the code of each row.
//!
//! The column's checkable entries are in backticks: a crate (`sled`, `axum`) or a module path
//! of this crate (`crate::dialect`); words outside backticks are commentary. An entry is
//! broken by a reference in non-test code (`use sled`, `sled::`, `crate::dialect`,
//! `crate::dialect::...`).

use std::path::{Path, PathBuf};

const DOC: &str = "ARCHITECTURE.md";

struct Row {
    paths: Vec<String>,
    forbidden: Vec<String>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The text between backticks in `cell`.
fn ticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn code_map() -> Vec<Row> {
    let text = std::fs::read_to_string(root().join(DOC)).expect("ARCHITECTURE.md");
    let start = text.find("## Code map").expect("a Code map section");
    let section = &text[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    section[..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").collect();
            Row {
                paths: ticked(cells[0]),
                forbidden: cells.get(2).map(|c| ticked(c)).unwrap_or_default(),
            }
        })
        .collect()
}

fn rust_files(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .expect("read dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for e in entries {
            rust_files(&e, out);
        }
    } else if p.extension().is_some_and(|e| e == "rs") {
        out.push(p.to_path_buf());
    }
}

/// The code of a file without its `#[cfg(test)]` module (tests may reach anywhere).
fn non_test_code(p: &Path) -> String {
    let text = std::fs::read_to_string(p).expect("read source");
    match text.find("#[cfg(test)]") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Whether `code` refers to `entry` (a crate name or a `crate::` path) outside comments.
fn refers_to(code: &str, entry: &str) -> Option<String> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or("");
        let mut from = 0;
        while let Some(i) = line[from..].find(entry) {
            let at = from + i;
            let before = line[..at].chars().next_back();
            let after = line[at + entry.len()..].chars().next();
            let starts_clean = before.is_none_or(|c| !ident(c) && c != ':');
            let ends_clean = after.is_none_or(|c| !ident(c));
            let is_path_use = entry.starts_with("crate::")
                || line[at + entry.len()..].starts_with("::")
                || line.trim_start().starts_with(&format!("use {entry}"));
            if starts_clean && ends_clean && is_path_use {
                return Some(line.trim().to_string());
            }
            from = at + entry.len();
        }
    }
    None
}

#[test]
fn every_path_the_code_map_names_exists() {
    let rows = code_map();
    assert!(rows.len() > 10, "the code map has rows");
    for row in &rows {
        for p in &row.paths {
            let path = root().join(p.trim_end_matches('/'));
            assert!(
                path.exists(),
                "ARCHITECTURE.md names `{p}`, which does not exist"
            );
        }
    }
}

#[test]
fn every_file_of_src_is_under_a_code_map_row() {
    let rows = code_map();
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    for f in files {
        let rel = f
            .strip_prefix(root())
            .expect("under root")
            .to_string_lossy()
            .to_string();
        let covered = rows.iter().any(|r| {
            r.paths.iter().any(|p| {
                let p = p.trim_end_matches('/');
                rel == p || rel.starts_with(&format!("{p}/"))
            })
        });
        assert!(covered, "{rel} is not under any row of the code map");
    }
}

#[test]
fn no_code_depends_on_what_its_code_map_row_forbids() {
    let mut broken = Vec::new();
    for row in code_map() {
        for p in &row.paths {
            let mut files = Vec::new();
            rust_files(&root().join(p.trim_end_matches('/')), &mut files);
            for f in &files {
                let code = non_test_code(f);
                for entry in &row.forbidden {
                    if let Some(line) = refers_to(&code, entry) {
                        broken.push(format!(
                            "{}: must not depend on `{entry}`: {line}",
                            f.strip_prefix(root()).unwrap_or(f).display()
                        ));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_dependency_check_sees_a_forbidden_reference() {
    let code = "use crate::dialect::aliyun;\nfn f() { sled::open(\"x\"); }\n// crate::server in a comment\n";
    assert!(refers_to(code, "crate::dialect").is_some());
    assert!(refers_to(code, "sled").is_some());
    assert!(
        refers_to(code, "crate::server").is_none(),
        "comments do not count"
    );
    assert!(refers_to("let sledding = 1;", "sled").is_none());
    assert!(refers_to("use crate::dialects::x;", "crate::dialect").is_none());
}
