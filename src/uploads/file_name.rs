//! Applicant-supplied file names: what is safe to show (after HTML escaping)
//! and what goes into a download's `Content-Disposition` header. The name
//! never decides a file's type (that is [`super::kind::detect`]) nor a path on
//! disk.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Longest display name, in characters, returned by [`safe_display_name`].
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// Bytes percent-encoded in an RFC 5987 `filename*` value: everything
/// outside `attr-char` (letters, digits and ``!#$&+-.^_`|~``).
const NOT_ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// Characters dropped from display names besides control characters:
/// bidirectional overrides/isolates (used to disguise `exe` as `pdf`),
/// zero-width characters and the byte-order mark.
fn is_invisible_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
    )
}

/// A name derived from the applicant's original file name that is safe to
/// display (after the caller HTML-escapes it) and to pass to
/// [`content_disposition`]. It is never used as a path on disk.
///
/// Keeps only the final path component (after the last `/` or `\`), drops
/// control characters, bidi overrides and zero-width characters, collapses
/// runs of dots (so `..` never survives), trims whitespace and leading dots,
/// and caps the length at [`MAX_DISPLAY_NAME_CHARS`] characters, keeping a
/// short extension. Falls back to `"document"` when nothing is left.
/// Unicode letters are kept. The function is idempotent.
pub fn safe_display_name(original: &str) -> String {
    let last = original.rsplit(['/', '\\']).next().unwrap_or(original);
    let mut cleaned = String::with_capacity(last.len().min(4 * MAX_DISPLAY_NAME_CHARS));
    for c in last.chars() {
        if c.is_control() || is_invisible_format_char(c) {
            continue;
        }
        if c == '.' && cleaned.ends_with('.') {
            continue;
        }
        cleaned.push(c);
    }
    let name = truncate_keeping_extension(trim_name(&cleaned), MAX_DISPLAY_NAME_CHARS);
    let name = trim_name(&name);
    if name.is_empty() {
        "document".to_owned()
    } else {
        name.to_owned()
    }
}

/// Trim whitespace at both ends and any mix of dots and whitespace in front.
fn trim_name(name: &str) -> &str {
    name.trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .trim_end()
}

fn truncate_keeping_extension(name: &str, max: usize) -> String {
    let total = name.chars().count();
    if total <= max {
        return name.to_owned();
    }
    // Keep an extension of up to 10 characters after the last dot.
    let ext = name
        .rfind('.')
        .map(|i| &name[i..])
        .filter(|e| e.chars().count() <= 11 && !e.contains(char::is_whitespace));
    match ext {
        Some(ext) => {
            let keep = max - ext.chars().count();
            let stem: String = name.chars().take(keep).collect();
            let stem = stem.trim_end().trim_end_matches('.');
            format!("{stem}{ext}")
        }
        None => name.chars().take(max).collect(),
    }
}

/// The `Content-Disposition` header value for downloading a document as an
/// attachment, per RFC 6266 with an RFC 5987 `filename*` parameter:
///
/// `attachment; filename="<ascii fallback>"; filename*=UTF-8''<percent-encoded>`
///
/// The name is first passed through [`safe_display_name`]. In the quoted
/// ASCII fallback, `"`, `\`, `%` and every non-ASCII character become `_`
/// (backslash escapes and percent sequences are interpreted inconsistently by
/// browsers). The `filename*` value percent-encodes the UTF-8 bytes of every
/// character outside RFC 5987 `attr-char`. The result is printable ASCII, so
/// it is always a valid header value and cannot inject header lines.
pub fn content_disposition(name: &str) -> String {
    let name = safe_display_name(name);
    let fallback: String = name
        .chars()
        .map(|c| {
            if c == ' ' || (c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%')) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = utf8_percent_encode(&name, NOT_ATTR_CHAR);
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn display_name_strips_paths() {
        assert_eq!(safe_display_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_display_name("C:\\Users\\ana\\scan.pdf"), "scan.pdf");
        assert_eq!(safe_display_name("a/b\\c/d.png"), "d.png");
        assert_eq!(safe_display_name("dir/"), "document");
        assert_eq!(safe_display_name(".."), "document");
        assert_eq!(safe_display_name("../.."), "document");
        assert_eq!(safe_display_name(""), "document");
        assert_eq!(safe_display_name("   "), "document");
    }

    #[test]
    fn display_name_drops_control_and_dots() {
        assert_eq!(safe_display_name("re\u{0}port\r\n.pdf"), "report.pdf");
        assert_eq!(safe_display_name("\u{7f}x\u{9b}y.pdf"), "xy.pdf");
        assert_eq!(safe_display_name(".hidden.pdf"), "hidden.pdf");
        assert_eq!(safe_display_name("...pdf"), "pdf");
        assert_eq!(safe_display_name("  . . .a"), "a");
        assert_eq!(safe_display_name("a..b...pdf"), "a.b.pdf");
        // Right-to-left override disguising an executable.
        assert_eq!(
            safe_display_name("invoice\u{202E}fdp.exe"),
            "invoicefdp.exe"
        );
        assert_eq!(safe_display_name("zero\u{200B}width.pdf"), "zerowidth.pdf");
    }

    #[test]
    fn display_name_keeps_unicode_and_limits_length() {
        assert_eq!(
            safe_display_name("Pasaporte Núñez 护照.pdf"),
            "Pasaporte Núñez 护照.pdf"
        );
        assert_eq!(
            safe_display_name("évidence \"finale\".jpg"),
            "évidence \"finale\".jpg"
        );
        let long = format!("{}.pdf", "é".repeat(300));
        let safe = safe_display_name(&long);
        assert_eq!(safe.chars().count(), MAX_DISPLAY_NAME_CHARS);
        assert!(safe.ends_with(".pdf"));
        let no_ext = "x".repeat(150);
        assert_eq!(safe_display_name(&no_ext).len(), MAX_DISPLAY_NAME_CHARS);
    }

    #[test]
    fn content_disposition_encodes() {
        assert_eq!(
            content_disposition("scan.pdf"),
            "attachment; filename=\"scan.pdf\"; filename*=UTF-8''scan.pdf"
        );
        assert_eq!(
            content_disposition("my \"best\" 100%.pdf"),
            "attachment; filename=\"my _best_ 100_.pdf\"; \
             filename*=UTF-8''my%20%22best%22%20100%25.pdf"
        );
        assert_eq!(
            content_disposition("Núñez 护照.pdf"),
            "attachment; filename=\"N__ez __.pdf\"; \
             filename*=UTF-8''N%C3%BA%C3%B1ez%20%E6%8A%A4%E7%85%A7.pdf"
        );
        // Header injection and path tricks are neutralised.
        assert_eq!(
            content_disposition("../a\r\nSet-Cookie: x=1;.pdf"),
            "attachment; filename=\"aSet-Cookie: x=1;.pdf\"; \
             filename*=UTF-8''aSet-Cookie%3A%20x%3D1%3B.pdf"
        );
        assert_eq!(
            content_disposition("a\\b"),
            "attachment; filename=\"b\"; filename*=UTF-8''b"
        );
    }

    proptest! {
        #[test]
        fn display_name_is_always_safe(name in any::<String>()) {
            let safe = safe_display_name(&name);
            prop_assert!(!safe.is_empty());
            prop_assert!(safe.chars().count() <= MAX_DISPLAY_NAME_CHARS);
            prop_assert!(!safe.contains(['/', '\\']));
            prop_assert!(!safe.contains(".."));
            prop_assert!(!safe.starts_with('.'));
            prop_assert!(!safe.chars().any(char::is_control));
            prop_assert_eq!(safe_display_name(&safe), safe.clone());
        }

        #[test]
        fn display_name_of_path_like_input(
            parts in proptest::collection::vec("[a-z./\\\\\\x00-\\x1f\\u{80}-\\u{10ffff}]{0,12}", 0..6)
        ) {
            let name = parts.join("/");
            let safe = safe_display_name(&name);
            prop_assert!(!safe.contains(['/', '\\']) && !safe.contains(".."));
        }

        #[test]
        fn content_disposition_is_a_valid_header_value(name in any::<String>()) {
            let v = content_disposition(&name);
            prop_assert!(v.bytes().all(|b| (0x20..0x7F).contains(&b)));
            prop_assert!(v.starts_with("attachment; filename=\""));
            // Exactly two quotes: the fallback cannot break out of its string.
            prop_assert_eq!(v.matches('"').count(), 2);
        }
    }
}
