//! What a refused upload really is, so the person can be told in plain words
//! ("This file is a Word document") instead of "type not accepted".
//!
//! [`identify`] is only ever asked about a file [`super::kind::detect`]
//! already refused; it never decides what is accepted. Magic numbers come
//! from the `infer` crate; this module maps them to the handful of things a
//! person is likely to pick by mistake.

use super::kind::Kind;

/// What a refused file is, as far as its content tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// One of the accepted types, refused for what it carries (scripts,
    /// attachments, another format hidden inside).
    Accepted(Kind),
    Word,
    Excel,
    PowerPoint,
    /// An older (binary) Microsoft Office file.
    OldOffice,
    OpenDocument,
    Rtf,
    Archive,
    /// HEIC/HEIF or AVIF: what phones save photos as.
    Heic,
    /// Another image format (GIF, WebP, BMP, …).
    Image,
    Program,
    WebPage,
    Text,
    Audio,
    Video,
    Unknown,
}

impl Found {
    /// Message key (`evidence.found.*`) of "a Word document" and the like;
    /// `None` when the content tells nothing.
    pub fn message_key(self) -> Option<&'static str> {
        Some(match self {
            Found::Accepted(Kind::Pdf) => "evidence.found.pdf",
            Found::Accepted(Kind::Jpeg) => "evidence.found.jpeg",
            Found::Accepted(Kind::Png) => "evidence.found.png",
            Found::Accepted(Kind::Tiff) => "evidence.found.tiff",
            Found::Word => "evidence.found.word",
            Found::Excel => "evidence.found.excel",
            Found::PowerPoint => "evidence.found.powerpoint",
            Found::OldOffice => "evidence.found.old_office",
            Found::OpenDocument => "evidence.found.opendocument",
            Found::Rtf => "evidence.found.rtf",
            Found::Archive => "evidence.found.archive",
            Found::Heic => "evidence.found.heic",
            Found::Image => "evidence.found.image",
            Found::Program => "evidence.found.program",
            Found::WebPage => "evidence.found.web",
            Found::Text => "evidence.found.text",
            Found::Audio => "evidence.found.audio",
            Found::Video => "evidence.found.video",
            Found::Unknown => return None,
        })
    }
}

/// Names what `bytes` are. Checks run on the content only.
pub fn identify(bytes: &[u8]) -> Found {
    if bytes.starts_with(b"%PDF-") {
        return Found::Accepted(Kind::Pdf);
    }
    if bytes.starts_with(b"{\\rtf") {
        return Found::Rtf;
    }
    // Word, Excel and PowerPoint share this container; telling them apart
    // needs a parser, so it is named for what it is.
    if bytes.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        return Found::OldOffice;
    }
    if bytes.starts_with(b"MZ") || bytes.starts_with(b"\x7fELF") || bytes.starts_with(b"#!") {
        return Found::Program;
    }
    if let Some(t) = infer::get(bytes) {
        let mime = t.mime_type();
        let found = match mime {
            "image/jpeg" => Found::Accepted(Kind::Jpeg),
            "image/png" => Found::Accepted(Kind::Png),
            "image/tiff" => Found::Accepted(Kind::Tiff),
            "application/pdf" => Found::Accepted(Kind::Pdf),
            "application/msword"
            | "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
                Found::Word
            }
            "application/vnd.ms-excel"
            | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Found::Excel,
            "application/vnd.ms-powerpoint"
            | "application/vnd.openxmlformats-officedocument.presentationml.presentation" => {
                Found::PowerPoint
            }
            "application/x-ole-storage" => Found::OldOffice,
            "application/rtf" => Found::Rtf,
            "image/heif" | "image/avif" => Found::Heic,
            "text/html" | "text/xml" => Found::WebPage,
            "text/x-shellscript" => Found::Program,
            m if m.starts_with("application/vnd.oasis.opendocument.") => Found::OpenDocument,
            _ => match t.matcher_type() {
                infer::MatcherType::App => Found::Program,
                infer::MatcherType::Archive | infer::MatcherType::Book => Found::Archive,
                infer::MatcherType::Image => Found::Image,
                infer::MatcherType::Audio => Found::Audio,
                infer::MatcherType::Video => Found::Video,
                infer::MatcherType::Doc => Found::OldOffice,
                _ => Found::Unknown,
            },
        };
        return found;
    }
    let head = &bytes[..bytes.len().min(4096)];
    let lower = head.to_ascii_lowercase();
    if lower
        .windows(5)
        .any(|w| w == b"<html" || w == b"<!doc" || w == b"<svg ")
    {
        return Found::WebPage;
    }
    // Text: valid UTF-8 (allowing a character cut at the window's end), no NUL.
    let text = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 > head.len(),
    };
    if text && !head.contains(&0) {
        return Found::Text;
    }
    Found::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_with(entry: &str) -> Vec<u8> {
        // A local file header naming `entry`, which is what the Office
        // matchers look at.
        let mut b = b"PK\x03\x04".to_vec();
        b.resize(30, 0);
        b[26] = entry.len() as u8;
        b.extend_from_slice(entry.as_bytes());
        b.resize(b.len() + 64, 0);
        b
    }

    #[test]
    fn names_what_people_pick_by_mistake() {
        assert_eq!(identify(b"MZ\x90\x00This program"), Found::Program);
        assert_eq!(identify(b"\x7fELF\x02\x01\x01"), Found::Program);
        assert_eq!(identify(b"{\\rtf1\\ansi hello}"), Found::Rtf);
        assert_eq!(identify(b"GIF89a\x01\x00\x01\x00"), Found::Image);
        assert_eq!(identify(b"<!DOCTYPE html><html></html>"), Found::WebPage);
        assert_eq!(identify("Querida señora, …".as_bytes()), Found::Text);
        assert_eq!(
            identify(b"%PDF-1.4 /JavaScript"),
            Found::Accepted(Kind::Pdf)
        );
        assert_eq!(identify(&[0u8, 1, 2, 3, 0xff, 0xfe, 0x00]), Found::Unknown);
        assert_eq!(
            identify(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00\x00\x00"),
            Found::OldOffice
        );
    }

    #[test]
    fn office_files_are_told_apart_from_a_plain_zip() {
        assert_eq!(identify(&zip_with("word/document.xml")), Found::Word);
        assert_eq!(identify(&zip_with("xl/workbook.xml")), Found::Excel);
        assert_eq!(identify(&zip_with("notes.txt")), Found::Archive);
    }

    #[test]
    fn every_found_thing_but_unknown_has_words() {
        assert!(Found::Word.message_key().is_some());
        assert!(Found::Unknown.message_key().is_none());
    }
}
