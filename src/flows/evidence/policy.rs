//! The evidence flow's pure rules: how long a draft response is kept, and
//! the plain words for a file's type.

use crate::uploads::kind::Kind;

/// A draft response (the files chosen but not yet sent) is kept this long
/// after the person last changed it; then its files are removed.
pub const DRAFT_LIFETIME_DAYS: i64 = 30;

/// When a draft changed at `now` (Unix seconds) expires.
pub fn draft_expires_at(now: i64) -> i64 {
    now + DRAFT_LIFETIME_DAYS * 86_400
}

/// Message key of a file type in plain words ("PDF document"); the MIME type
/// is for officers and for serving the file, never for the applicant.
pub fn kind_key(mime: &str) -> &'static str {
    match Kind::from_mime(mime) {
        Some(Kind::Pdf) => "evidence.kind.pdf",
        Some(Kind::Jpeg) => "evidence.kind.jpeg",
        Some(Kind::Png) => "evidence.kind.png",
        Some(Kind::Tiff) => "evidence.kind.tiff",
        None => "evidence.kind.other",
    }
}

/// "3.2 MB" / "120 KB".
pub fn human_size(n: i64) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1} MB", n as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (n + 1023) / 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_lives_thirty_days_from_its_last_change() {
        assert_eq!(draft_expires_at(0), 30 * 86_400);
    }

    #[test]
    fn types_and_sizes_read_as_words() {
        assert_eq!(kind_key("application/pdf"), "evidence.kind.pdf");
        assert_eq!(kind_key("image/tiff"), "evidence.kind.tiff");
        assert_eq!(kind_key("text/html"), "evidence.kind.other");
        assert_eq!(human_size(1), "1 KB");
        assert_eq!(human_size(3 * 1024 * 1024 + 200_000), "3.2 MB");
    }
}
