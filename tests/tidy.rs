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

/// The module path of a source file under `src/` (`src/a/b.rs` and `src/a/b/mod.rs` are
/// `["a", "b"]`; `lib.rs` and `main.rs` are the root).
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The file-level graph of `src/`: an edge for every `crate::` or `super::` path in non-test
/// code outside comments, to the file of the longest module prefix it names. A module's
/// `mod.rs` that only declares and re-exports counts like any file, so a re-export is an edge.
fn import_graph() -> (Vec<String>, Vec<Vec<usize>>) {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mods: Vec<Vec<String>> = files
        .iter()
        .map(|f| module_of(f.strip_prefix(&src).expect("under src")))
        .collect();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(root()).unwrap_or(f).display().to_string())
        .collect();
    let resolve = |path: &[String]| -> Option<usize> {
        (1..=path.len())
            .rev()
            .find_map(|n| mods.iter().position(|m| m.as_slice() == &path[..n]))
    };
    let mut edges = vec![Vec::new(); files.len()];
    for (i, f) in files.iter().enumerate() {
        let is_mod_file = f
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs" || n == "main.rs");
        for line in non_test_code(f).lines() {
            let code = line.split("//").next().unwrap_or("");
            for (at, _) in code
                .match_indices("crate::")
                .chain(code.match_indices("super::"))
            {
                let before = code[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let rest: String = code[at..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let segs: Vec<String> = rest
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                let mut base = if segs[0] == "crate" {
                    Vec::new()
                } else {
                    let mut b = mods[i].clone();
                    if !is_mod_file {
                        b.pop();
                    }
                    b.pop();
                    b
                };
                let mut rest = &segs[1..];
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                if let Some(j) = resolve(&base).filter(|j| *j != i) {
                    if !edges[i].contains(&j) {
                        edges[i].push(j);
                    }
                }
            }
        }
    }
    (names, edges)
}

/// Strongly connected components with more than one file (Tarjan).
fn cycles(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct S<'a> {
        edges: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        stack: Vec<usize>,
        on: Vec<bool>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut S<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on[v] = true;
        for &w in &s.edges[v] {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                s.out.push(comp);
            }
        }
    }
    let n = edges.len();
    let mut s = S {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        stack: Vec::new(),
        on: vec![false; n],
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn the_files_of_src_import_each_other_without_cycles() {
    let (names, edges) = import_graph();
    assert!(
        edges.iter().map(Vec::len).sum::<usize>() > 50,
        "the graph has edges"
    );
    let found: Vec<String> = cycles(&edges)
        .into_iter()
        .map(|c| {
            let mut c: Vec<&str> = c.iter().map(|i| names[*i].as_str()).collect();
            c.sort();
            c.join(" <-> ")
        })
        .collect();
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let edges = vec![vec![1], vec![2], vec![0], vec![0]];
    let c = cycles(&edges);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].len(), 3);
}

/// The markdown files whose links must resolve: `README.md` and `docs/*.md`.
fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("read docs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The targets of the inline links `[text](target)` in `text`, outside code spans and fenced
/// code blocks (where brackets and parentheses are code, not links).
fn link_targets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let prose: String = line
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join(" ");
        let mut from = 0;
        while let Some(i) = prose[from..].find("](") {
            let start = from + i + 2;
            match prose[start..].find(')') {
                Some(j) => {
                    out.push(prose[start..start + j].trim().to_string());
                    from = start + j;
                }
                None => break,
            }
        }
    }
    out
}

/// Hosts a link may point to: the clouds' own documentation.
const ALLOWED_HOSTS: &[&str] = &[
    "cloud.tencent.com",
    "www.tencentcloud.com",
    "help.aliyun.com",
    "www.alibabacloud.com",
    "api.aliyun.com",
];

#[test]
fn every_link_of_the_readme_and_docs_resolves() {
    let files = markdown_files();
    assert!(files.len() > 5, "README.md and the docs/ files");
    let mut broken = Vec::new();
    let mut links = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read markdown");
        let name = file
            .strip_prefix(root())
            .unwrap_or(file)
            .display()
            .to_string();
        for target in link_targets(&text) {
            links += 1;
            if let Some(rest) = target
                .strip_prefix("https://")
                .or_else(|| target.strip_prefix("http://"))
            {
                let host = rest.split(['/', '?', '#']).next().unwrap_or("");
                if !ALLOWED_HOSTS.contains(&host) {
                    broken.push(format!(
                        "{name}: {target} links to {host}, not the clouds' documentation"
                    ));
                }
                continue;
            }
            if target.starts_with("mailto:") {
                continue;
            }
            let path = target.split('#').next().unwrap_or("");
            if path.is_empty() {
                continue; // an anchor in the same file
            }
            let dir = file.parent().expect("a folder");
            if !dir.join(path).exists() {
                broken.push(format!("{name}: ({target}) does not exist"));
            }
        }
    }
    assert!(links > 5, "the README links to the docs");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_finder_sees_links_outside_code_only() {
    let text = "See [a](docs/a.md#x) and [b](../b.md).\n`[c](not-a-link)`\n```\n[d](code)\n```\n";
    assert_eq!(link_targets(text), vec!["docs/a.md#x", "../b.md"]);
}
