//! The layers hold: `http` never reaches into `db`; only `db` (with start-up and the embedded
//! cluster) knows sqlx; only `http` knows axum and askama; `domain` imports nothing else of
//! ours; one function changes an order's status; files stay small. Read as text: comments and
//! string literals are left out, so a word in a message or a doc line does not count.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The code of a Rust file without its comments and the contents of its string literals.
fn code(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident(chars.get(i.wrapping_sub(1))) {
            let mut hashes = 0;
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && next == Some('\\') {
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// Whether `word` stands in `code` as a whole identifier.
fn mentions(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + word.len()..].chars().next();
        !ident(before.as_ref()) && !ident(after.as_ref())
    })
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap().to_string_lossy().into_owned()
}

/// Every source file of ours with its code, emulators included wherever they live.
fn sources() -> Vec<(String, String)> {
    let mut files = rust_files(&root().join("src"));
    files.extend(rust_files(&root().join("crates")).into_iter().filter(|p| !relative(p).contains("/tests/")));
    files.into_iter().map(|p| (relative(&p), code(&std::fs::read_to_string(&p).unwrap()))).collect()
}

fn tern_sources() -> Vec<(String, String)> {
    sources().into_iter().filter(|(path, _)| path.starts_with("src/")).collect()
}

fn assert_none(what: &str, offenders: Vec<String>) {
    assert!(offenders.is_empty(), "{what}:\n  {}", offenders.join("\n  "));
}

#[test]
fn http_never_reaches_into_db() {
    let offenders = tern_sources()
        .into_iter()
        .filter(|(path, code)| {
            path.starts_with("src/http/")
                && (code.contains("crate::db") || code.lines().any(|l| l.contains("crate::{") && mentions(l, "db")))
        })
        .map(|(path, _)| path)
        .collect();
    assert_none("crate::db under src/http (go through a service)", offenders);
}

#[test]
fn only_db_startup_and_the_cluster_know_sqlx() {
    let allowed =
        |path: &str| path.starts_with("src/db/") || path == "src/startup.rs" || path.starts_with("src/cluster/");
    let offenders = tern_sources()
        .into_iter()
        .filter(|(path, code)| !allowed(path) && mentions(code, "sqlx"))
        .map(|(path, _)| path)
        .collect();
    assert_none("sqlx outside src/db, src/startup.rs and src/cluster", offenders);
}

#[test]
fn only_http_knows_axum_and_askama() {
    let offenders = tern_sources()
        .into_iter()
        .filter(|(path, code)| {
            !path.starts_with("src/http/") && ["axum", "askama", "askama_web"].iter().any(|w| mentions(code, w))
        })
        .map(|(path, _)| path)
        .collect();
    assert_none("axum or askama outside src/http", offenders);
}

#[test]
fn the_domain_imports_nothing_else_of_ours() {
    let offenders = tern_sources()
        .into_iter()
        .filter(|(path, code)| {
            path.starts_with("src/domain/")
                && code.match_indices("crate::").any(|(at, _)| !code[at + 7..].starts_with("domain"))
        })
        .map(|(path, _)| path)
        .collect();
    assert_none("src/domain importing another layer", offenders);
}

#[test]
fn one_function_changes_an_orders_status() {
    let mut places = Vec::new();
    for path in rust_files(&root().join("src")) {
        let text = std::fs::read_to_string(&path).unwrap().to_lowercase();
        let hits = text.matches("update orders set status").count();
        if hits > 0 {
            places.push(format!("{} ({hits})", relative(&path)));
        }
    }
    assert_eq!(places, vec!["src/db/orders.rs (1)".to_string()], "`update orders set status` must stand once");
    let callers: Vec<String> = tern_sources()
        .into_iter()
        .filter(|(path, code)| path != "src/services/lifecycle.rs" && code.contains("orders::set_status"))
        .map(|(path, _)| path)
        .collect();
    assert_none("db::orders::set_status called outside services::lifecycle", callers);
}

#[test]
fn files_stay_under_400_lines() {
    let offenders = sources()
        .into_iter()
        .filter_map(|(path, _)| {
            let text = std::fs::read_to_string(root().join(&path)).unwrap();
            // A file's unit tests, at its end, do not count.
            let lines = text.lines().take_while(|l| !l.starts_with("#[cfg(test)]")).count();
            (lines > 400).then(|| format!("{path}: {lines} lines"))
        })
        .collect();
    assert_none("files over 400 lines (split by action)", offenders);
}

#[test]
fn every_module_says_what_it_owns() {
    let offenders = sources()
        .into_iter()
        .filter(|(path, _)| !std::fs::read_to_string(root().join(path)).unwrap().trim_start().starts_with("//!"))
        .map(|(path, _)| path)
        .collect();
    assert_none("modules without a `//!` line", offenders);
}

#[test]
fn the_reader_leaves_comments_and_strings_out() {
    let sample =
        "use a; // sqlx here\n/* axum */ let s = \"sqlx::query\"; let r = r#\"askama\"#; let c = '\"'; sqlx::x";
    let stripped = code(sample);
    assert!(!stripped.contains("axum") && !stripped.contains("askama"), "{stripped}");
    assert_eq!(stripped.matches("sqlx").count(), 1, "{stripped}");
    assert!(mentions("use sqlx::PgPool;", "sqlx"));
    assert!(!mentions("tower_sessions_sqlx_store::PostgresStore", "sqlx"));
}

/// `cargo run` at the root must serve the shop: once another default member of the workspace
/// has a binary (crates/order-load), cargo asks which one to run unless the root names it.
#[test]
fn cargo_run_at_the_root_runs_tern() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let package = manifest.split("\n[").next().unwrap();
    let other_binaries: Vec<String> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|dir| dir.join("src/main.rs").exists())
        .map(|dir| relative(&dir))
        .collect();
    assert!(
        other_binaries.is_empty() || package.lines().any(|l| l.trim() == "default-run = \"tern\""),
        "{other_binaries:?} have binaries, so [package] needs default-run = \"tern\""
    );
}
