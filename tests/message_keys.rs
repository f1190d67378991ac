//! Every message key the code names exists in every language.
//!
//! The catalogue falls back to English and then to the key itself, so a
//! mistyped or forgotten key shows up on a page as `link.outcome.typo`
//! instead of failing anything. This test reads every string literal in
//! `src/` (Rust and templates) that starts with one of the catalogue's
//! top-level sections and checks that it is a key, or the prefix of keys
//! (code that appends a part, e.g. `format!("{prefix}.title")`), in English
//! and in Spanish.

use std::collections::BTreeSet;
use std::path::Path;

use casegate::i18n::{Lang, Messages};

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "rs" || e == "html" || e == "txt")
        {
            out.push(path);
        }
    }
}

/// Whether the literal that starts right after `before` is an argument of a
/// message lookup: `t("…")`, `fmt("…")`, `Some("…")` (an optional message),
/// `bad("…")` (the console's error helper), or the key after the language in
/// `fmt(lang, "…")` / `get(lang, "…")`. Audit event names (`"case.linked"`)
/// share the dotted shape but are not message keys.
fn is_lookup_argument(before: &str) -> bool {
    let trimmed = before.trim_end();
    if ["t(", "fmt(", "Some(", "bad("]
        .iter()
        .any(|call| trimmed.ends_with(call))
    {
        return true;
    }
    let line = trimmed.rsplit('\n').next().unwrap_or("");
    trimmed.ends_with(',') && (line.contains("fmt(") || line.contains(".get("))
}

/// The contents of every double-quoted literal in `text` that looks like a
/// dotted key (`a.b`, lower case, digits and underscores).
fn dotted_literals(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else { break };
        let lit = &after[..end];
        let looks_like_key = lit.contains('.')
            && !lit.starts_with('.')
            && !lit.ends_with('.')
            && !lit.contains("..")
            && lit
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
        if looks_like_key && is_lookup_argument(&text[..text.len() - rest.len() + start]) {
            found.push(lit.to_string());
            rest = &after[end + 1..];
        } else {
            // The closing quote may open the next literal: step past the
            // opening quote only.
            rest = after;
        }
    }
    found
}

#[test]
fn every_key_named_in_the_code_exists_in_every_language() {
    let messages = Messages::global();
    let en = messages.keys(Lang::En);
    let sections: BTreeSet<&str> = en.iter().filter_map(|k| k.split('.').next()).collect();
    let mut sources = Vec::new();
    files(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut sources,
    );
    assert!(sources.len() > 20, "src/ was not found");

    let mut missing = BTreeSet::new();
    let mut checked = 0;
    for path in &sources {
        let text = std::fs::read_to_string(path).unwrap();
        for lit in dotted_literals(&text) {
            let section = lit.split('.').next().unwrap_or("");
            if !sections.contains(section) {
                continue;
            }
            checked += 1;
            for lang in Lang::ALL {
                let prefix = format!("{lit}.");
                let known = messages.has(lang, &lit)
                    || messages.keys(lang).iter().any(|k| k.starts_with(&prefix));
                if !known {
                    let file = path
                        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                        .unwrap_or(path)
                        .display();
                    missing.insert(format!("{file}: \"{lit}\" ({})", lang.code()));
                }
            }
        }
    }
    assert!(
        checked > 300,
        "only {checked} keys found: is the scanner broken?"
    );
    assert!(
        missing.is_empty(),
        "message keys used in the code but missing from messages/<lang>/*.toml:\n  {}",
        missing.into_iter().collect::<Vec<_>>().join("\n  ")
    );
}

#[test]
fn the_scanner_finds_keys_and_ignores_other_literals() {
    let text = r#"c.t("home.title") + "not a key" + fmt(lang, "a.b_c.d1", &[]) "x.Y" t("file.pdf")
audit::record(tx, "case.linked", None)"#;
    assert_eq!(
        dotted_literals(text),
        vec!["home.title", "a.b_c.d1", "file.pdf"]
    );
}
