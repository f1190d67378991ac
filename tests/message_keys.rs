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

/// The literals inside the call that starts at the beginning of `text`
/// (up to its matching closing parenthesis).
fn call_literals(text: &str) -> Vec<String> {
    let mut depth = 0usize;
    let mut end = text.len();
    for (i, ch) in text.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            _ => {}
        }
    }
    // Every other piece between quotes is a literal; one that is an
    // event's detail or another call's argument is not a kind.
    let pieces: Vec<&str> = text[..end].split('"').collect();
    pieces
        .iter()
        .enumerate()
        .skip(1)
        .step_by(2)
        .filter(|(i, _)| {
            let before = pieces[i - 1].trim_end();
            !(before.ends_with("detail:") || before.ends_with("matches("))
        })
        .map(|(_, l)| l.to_string())
        .collect()
}

/// The audit event kinds `src/` records: the literal after `action: ` in an
/// `audit::Event`, and the literals of the record helpers' calls
/// (`record(`, `record_in(`, the console's `audit(` / `audit_in(`) that
/// look like a kind (`a.b` or `a_b`, lower case).
fn recorded_kinds(text: &str) -> BTreeSet<String> {
    let looks_like_kind = |l: &str| {
        !l.is_empty()
            && (l.contains('.') || l.contains('_'))
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
    };
    let mut kinds = BTreeSet::new();
    for (i, _) in text.match_indices("action: \"") {
        let lit = &text[i + 9..];
        if let Some(end) = lit.find('"') {
            kinds.insert(lit[..end].to_string());
        }
    }
    for call in ["record(", "record_in(", "audit(", "audit_in("] {
        for (i, _) in text.match_indices(call) {
            let before = text[..i].chars().next_back().unwrap_or(' ');
            if before.is_ascii_alphanumeric() || before == '_' {
                continue;
            }
            let start = i + call.len() - 1;
            for lit in call_literals(&text[start..]) {
                if looks_like_kind(&lit) {
                    kinds.insert(lit);
                }
            }
        }
    }
    kinds
}

/// Issue 18: the account's activity shows a sentence for every event, never
/// an internal name like `address.changed`.
#[test]
fn every_recorded_event_kind_has_a_sentence_in_every_language() {
    let messages = Messages::global();
    let listed: BTreeSet<&str> = casegate::audit::EVENT_KINDS.iter().copied().collect();
    let mut sources = Vec::new();
    files(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut sources,
    );
    let mut found = BTreeSet::new();
    for path in &sources {
        if path.extension().is_some_and(|e| e == "rs") {
            // Unit tests record made-up kinds of their own.
            let text = std::fs::read_to_string(path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            found.extend(recorded_kinds(code));
        }
    }
    assert!(
        found.len() > 40,
        "only {} kinds found: {found:?}",
        found.len()
    );
    let unlisted: Vec<_> = found
        .iter()
        .filter(|k| !listed.contains(k.as_str()))
        .collect();
    assert!(
        unlisted.is_empty(),
        "recorded in src/ but not in audit::EVENT_KINDS: {unlisted:?}"
    );
    let mut missing = Vec::new();
    for kind in &listed {
        for lang in Lang::ALL {
            let key = format!("activity.{kind}");
            if !messages.has(lang, &key) {
                missing.push(format!("{key} ({})", lang.code()));
            } else {
                let s = messages.get(lang, &key);
                assert!(!s.contains(kind), "{key}: a sentence, not the name");
            }
        }
    }
    assert!(missing.is_empty(), "no sentence for: {missing:?}");
}

#[test]
fn the_kind_scanner_reads_events_and_helper_calls() {
    let text = r#"audit::record(db, &audit::Event { action: "case.linked", detail: "x_y".into() })
record(&state, s.account_id, "two_step.enrolled", &ip, "totp").await?;
super::handler::audit(&state, &o, "address_change.reverse_refused", &ip, "role")
c.t("home.title"); metrics.record(method.as_str(), &route)"#;
    let kinds: Vec<String> = recorded_kinds(text).into_iter().collect();
    assert_eq!(
        kinds,
        vec![
            "address_change.reverse_refused",
            "case.linked",
            "two_step.enrolled"
        ]
    );
}
