//! The layer rules of `docs/ARCHITECTURE.md`, checked on the source.
//!
//! Every `crate::…` path a module names (in `use` lines and inline paths,
//! comments left out) is an import of that layer. The rules:
//! - `domain` imports only `domain`;
//! - `store` imports only `store`, `config` and `domain`;
//! - `app` (the application context) imports neither `flows` nor `web`;
//! - nothing but `web`, `cli`, `main` and `lib` imports `web`;
//! - shared modules (everything outside `flows`, `web`, `cli`, `main`, `lib`
//!   and the demo loader) import no flow;
//! - no flow imports another flow's `handler`;
//! - under `src/flows/`, only a `store.rs` (or a `store/` folder) calls SQL
//!   (`sqlx::query*`, `raw_sql`, `QueryBuilder`, `.execute(`/`.fetch*(` on a
//!   pool or transaction, `rusqlite`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text without `//` comments (doc comments included).
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            // Not inside a string literal such as "http://…": good enough
            // for import paths, which never sit after a quote on the line.
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::a::b::c` path named, as up to three segments; a grouped
/// `use crate::{a, b::c}` counts each member.
fn crate_paths(text: &str) -> BTreeSet<Vec<String>> {
    let mut found = BTreeSet::new();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for member in group[..end].split(',') {
                let segs: Vec<String> = member
                    .trim()
                    .split("::")
                    .take(3)
                    .map(|s| s.chars().take_while(|c| ident(*c)).collect())
                    .filter(|s: &String| !s.is_empty())
                    .collect();
                if !segs.is_empty() {
                    found.insert(segs);
                }
            }
        } else {
            let mut segs = Vec::new();
            let mut tail = after;
            while segs.len() < 3 {
                let name: String = tail.chars().take_while(|c| ident(*c)).collect();
                if name.is_empty() {
                    break;
                }
                tail = &tail[name.len()..];
                segs.push(name);
                match tail.strip_prefix("::") {
                    Some(t) if !t.starts_with('{') => tail = t,
                    _ => break,
                }
            }
            if !segs.is_empty() {
                found.insert(segs);
            }
        }
        rest = after;
    }
    found
}

/// Which rule a module at `rel` (relative to `src/`) breaks by naming `path`.
fn broken_rule(rel: &str, path: &[String]) -> Option<String> {
    let top = rel.split('/').next().unwrap_or("").trim_end_matches(".rs");
    let first = path[0].as_str();
    let second = path.get(1).map(String::as_str).unwrap_or("");
    let third = path.get(2).map(String::as_str).unwrap_or("");
    if top == "domain" && first != "domain" {
        return Some(format!("domain imports crate::{first}"));
    }
    if top == "store" && !matches!(first, "store" | "config" | "domain") {
        return Some(format!("store imports crate::{first}"));
    }
    if top == "app" && matches!(first, "flows" | "web") {
        return Some(format!("app imports crate::{first}"));
    }
    let composition_root = matches!(top, "web" | "cli" | "main" | "lib");
    if first == "web" && !composition_root {
        return Some("imports the router (crate::web)".to_string());
    }
    if first == "flows" && !composition_root && top != "flows" && top != "demo" {
        return Some(format!("shared module imports crate::flows::{second}"));
    }
    if top == "flows" {
        let me = rel.split('/').nth(1).unwrap_or("");
        if first == "flows" && second != me && third == "handler" {
            return Some(format!("flow {me} imports flows::{second}::handler"));
        }
    }
    None
}

/// What counts as a call to the database in a flow file.
const SQL_CALLS: [&str; 13] = [
    "sqlx::query",
    "query_as(",
    "query_as::<",
    "query_scalar(",
    "query_scalar::<",
    "raw_sql(",
    "QueryBuilder",
    ".execute(",
    ".fetch(",
    ".fetch_one(",
    ".fetch_all(",
    ".fetch_optional(",
    "rusqlite",
];

/// Flows whose handler SQL is still being moved into a `store.rs` (the
/// known debts in docs/ARCHITECTURE.md). Each entry goes when its flow's
/// store lands; `every_sql_debt_is_still_owed` fails on an entry whose
/// folder no longer holds SQL outside its store, so the list only shrinks.
const SQL_DEBTS: [&str; 0] = [];

/// Whether the SQL rule lets the module at `rel` (relative to `src/`) hold
/// SQL: anything outside `flows/`, and a flow's `store.rs` or `store/`.
fn may_hold_sql(rel: &str) -> bool {
    !rel.starts_with("flows/") || rel.ends_with("/store.rs") || rel.contains("/store/")
}

/// The SQL calls in `text` (comments already removed), if the module at
/// `rel` may not hold any; the debts of [`SQL_DEBTS`] are not checked.
fn sql_out_of_place(rel: &str, text: &str) -> Vec<&'static str> {
    if may_hold_sql(rel) || SQL_DEBTS.iter().any(|d| rel.starts_with(d)) {
        return vec![];
    }
    SQL_CALLS
        .into_iter()
        .filter(|call| text.contains(call))
        .collect()
}

/// Every source file as (path relative to `src/`, text without comments).
fn sources() -> Vec<(String, String)> {
    let src = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let mut files = Vec::new();
    rust_files(src, &mut files);
    assert!(files.len() > 50, "src/ not found");
    files
        .iter()
        .map(|file| {
            let rel = file
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let text = without_comments(&std::fs::read_to_string(file).unwrap());
            (rel, text)
        })
        .collect()
}

#[test]
fn only_stores_hold_sql_in_flows() {
    let broken: Vec<String> = sources()
        .iter()
        .filter_map(|(rel, text)| {
            let calls = sql_out_of_place(rel, text);
            (!calls.is_empty()).then(|| format!("src/{rel}: {}", calls.join(", ")))
        })
        .collect();
    assert!(
        broken.is_empty(),
        "SQL outside a flow's store.rs (docs/ARCHITECTURE.md, \"A flow folder\"):\n  {}",
        broken.join("\n  ")
    );
}

#[test]
fn every_sql_debt_is_still_owed() {
    let sources = sources();
    for debt in SQL_DEBTS {
        let owed = sources.iter().any(|(rel, text)| {
            rel.starts_with(debt)
                && !may_hold_sql(rel)
                && SQL_CALLS.iter().any(|call| text.contains(call))
        });
        assert!(
            owed,
            "src/{debt} holds no SQL outside its store any more: remove it from SQL_DEBTS \
             (tests/layers.rs) and from the known debts in docs/ARCHITECTURE.md"
        );
    }
}

#[test]
fn every_module_keeps_its_layer() {
    let mut broken = BTreeSet::new();
    for (rel, text) in sources() {
        for path in crate_paths(&text) {
            if let Some(rule) = broken_rule(&rel, &path) {
                broken.insert(format!("src/{rel}: {rule} (crate::{})", path.join("::")));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "layer rules broken (docs/ARCHITECTURE.md):\n  {}",
        broken.into_iter().collect::<Vec<_>>().join("\n  ")
    );
}

#[test]
fn the_checker_reads_paths_and_finds_each_kind_of_break() {
    let paths = crate_paths(
        "use crate::{app::AppState, domain};\nlet x = crate::flows::sign_up::handler::f();\n// crate::web",
    );
    assert!(paths.contains(&vec!["app".to_string(), "AppState".to_string()]));
    assert!(paths.contains(&vec!["domain".to_string()]));
    let handler = vec![
        "flows".to_string(),
        "sign_up".to_string(),
        "handler".to_string(),
    ];
    assert!(paths.contains(&handler));
    assert!(broken_rule("flows/sign_in/handler.rs", &handler).is_some());
    assert!(broken_rule("flows/sign_up/form.rs", &handler).is_none());
    assert!(broken_rule("domain/receipt.rs", &["store".to_string()]).is_some());
    assert!(broken_rule("store/mod.rs", &["flows".to_string()]).is_some());
    assert!(broken_rule("app/mod.rs", &["web".to_string()]).is_some());
    assert!(broken_rule("auth/session.rs", &["web".to_string()]).is_some());
    assert!(broken_rule("auth/session.rs", &["flows".to_string()]).is_some());
    assert!(broken_rule("web/mod.rs", &["flows".to_string()]).is_none());
    let commented = without_comments("// use crate::web::x;\nlet a = 1;");
    assert!(crate_paths(&commented).is_empty());
}

#[test]
fn the_sql_checker_finds_sql_outside_a_store() {
    let planted = without_comments(
        "let n: i64 = sqlx::query_scalar(\"SELECT COUNT(*) FROM cases\")\n    .fetch_one(state.db.pool())\n    .await?;",
    );
    let calls = sql_out_of_place("flows/officer/handler.rs", &planted);
    assert!(calls.contains(&"sqlx::query"), "{calls:?}");
    assert!(calls.contains(&"query_scalar("), "{calls:?}");
    assert!(calls.contains(&".fetch_one("), "{calls:?}");
    let write = "tx.execute(\"DELETE FROM sessions\").await?;";
    assert_eq!(
        sql_out_of_place("flows/sign_in/policy.rs", write),
        vec![".execute("]
    );
    let builder = "let mut b = QueryBuilder::new(\"INSERT INTO t \");";
    assert_eq!(
        sql_out_of_place("flows/intake/mod.rs", builder),
        vec!["QueryBuilder"]
    );
    // A flow's store, a store folder and the shared layers may hold SQL.
    assert!(sql_out_of_place("flows/officer/store.rs", &planted).is_empty());
    assert!(sql_out_of_place("flows/intake/store/batch.rs", &planted).is_empty());
    assert!(sql_out_of_place("notices/store.rs", &planted).is_empty());
    assert!(sql_out_of_place("casework.rs", &planted).is_empty());
    // A handler that calls its store, and SQL named only in a comment, pass.
    let clean = without_comments(
        "// was: sqlx::query(\"SELECT 1\").fetch_one(pool)\nlet rows = store::search(&state.db, &by).await?;\nlet tx = state.db.pool().begin().await?;",
    );
    assert!(sql_out_of_place("flows/officer/handler.rs", &clean).is_empty());
    // Paid debts are checked again.
    assert!(!sql_out_of_place("flows/security/handler.rs", &planted).is_empty());
    assert!(!sql_out_of_place("flows/my_cases/handler.rs", &planted).is_empty());
}
