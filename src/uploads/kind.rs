//! File-type detection from content (never from the name). What makes an
//! applicant-supplied file name safe to show and to send is in
//! [`super::file_name`].
//!
//! # What [`detect`] checks
//!
//! Only four types are accepted. Each needs its magic bytes at offset 0 and
//! passes a light structural check, so a truncated upload or another file
//! wearing a borrowed header is refused:
//!
//! * **PDF**: starts with `%PDF-1.` or `%PDF-2.`; `%%EOF` occurs within the
//!   last 1024 bytes.
//! * **JPEG**: starts `FF D8 FF`; the marker segments before the first scan
//!   (SOS) are walked and must fit in the file, with a frame header (SOFn)
//!   before the scan; the file ends with the EOI marker `FF D9`, followed by
//!   at most [`JPEG_MAX_ZERO_PADDING`] zero bytes. Trailing data after EOI
//!   (as some phones append) is refused.
//! * **PNG**: the 8-byte signature; every chunk fits and has a correct CRC;
//!   `IHDR` (13 bytes, non-zero size) comes first; at least one `IDAT`; the
//!   last chunk is `IEND` and ends exactly at the end of the file.
//! * **TIFF**: `II*\0` or `MM\0*` (classic TIFF; BigTIFF is refused); the
//!   first IFD lies inside the file and is not empty; every out-of-line entry
//!   value lies inside the file; strip (or tile) offsets and byte counts are
//!   present and every strip (tile) lies inside the file.
//!
//! Anything else (executables such as `MZ`, `\x7fELF`, `#!` scripts, `PK`
//! zip/docx/xlsx archives, HTML, unknown bytes) is [`KindError::NotAllowed`].
//!
//! # Polyglot checks (whole file, deliberately simple)
//!
//! A polyglot is one file that is valid as two formats, e.g. a PDF that is
//! also HTML or carries a Windows program. Because every accepted type must
//! start with its own magic at offset 0, files that lead with another
//! format's header (`MZ…%PDF`, `<html>…%PDF`) are already refused. On top of
//! that, for **every** accepted type, [`detect`] returns
//! [`KindError::NotAllowed`] when, anywhere in the file (not only its head):
//!
//! 1. `MZ` is followed later by `This program` — the DOS stub of a Windows
//!    executable;
//! 2. ASCII case-insensitively, `<script`, `<html`, `<!doctype html`,
//!    `<iframe` or `<svg` occurs (a browser or `mshta` sniffing the content
//!    would run it);
//! 3. the zip end-of-central-directory signature `PK\x05\x06` occurs (a
//!    zip/docx/jar inside or appended to an image or PDF);
//! 4. for PDFs, the active-content names `/JavaScript`, `/Launch` or
//!    `/EmbeddedFile` occur.
//!
//! Each check is one linear pass. What it does **not** catch: content that
//! is compressed or encoded inside a PDF stream or an image's compressed
//! data (it is not a decoder), PDF names written with `#xx` escapes, and
//! malformed content deep inside a valid envelope. Downloads are therefore
//! also served under a server-chosen name with the detected type's
//! extension, as `Content-Disposition: attachment`, with `nosniff` and a
//! sandboxing CSP, and only once ClamAV has scanned them clean.

/// Largest upload accepted, in bytes. The caller enforces it (ideally while
/// reading the request body) before calling [`detect`].
pub const MAX_BYTES: usize = 12 * 1024 * 1024;

/// How many zero bytes may follow a JPEG's EOI marker (some scanners pad).
pub const JPEG_MAX_ZERO_PADDING: usize = 16;

/// Window, in bytes, at the end of a PDF where `%%EOF` must occur.
const WINDOW: usize = 1024;

/// An accepted document type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Pdf,
    Jpeg,
    Png,
    Tiff,
}

impl Kind {
    /// The MIME type to serve the document with.
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Tiff => "image/tiff",
        }
    }

    /// The kind a stored MIME type names (only the four accepted ones).
    pub fn from_mime(mime: &str) -> Option<Kind> {
        [Kind::Pdf, Kind::Jpeg, Kind::Png, Kind::Tiff]
            .into_iter()
            .find(|k| k.mime() == mime)
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Jpeg => "jpg",
            Kind::Png => "png",
            Kind::Tiff => "tiff",
        }
    }
}

/// Why an upload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KindError {
    /// Zero bytes.
    #[error("the file is empty")]
    Empty,
    /// Not one of the accepted types (or a detected polyglot).
    #[error("this type of file is not accepted; upload a PDF, JPEG, PNG or TIFF")]
    NotAllowed,
    /// The magic bytes are right but the structure is broken or incomplete.
    #[error("the file appears to be damaged or incomplete")]
    Truncated,
}

/// Identify `bytes` as one of the accepted [`Kind`]s, or refuse it.
///
/// Runs in time linear in the input and never panics. It does not enforce
/// [`MAX_BYTES`]; the caller does. For multi-megabyte inputs on a busy async
/// runtime, consider calling it from `spawn_blocking` (PNG CRCs are checked).
pub fn detect(bytes: &[u8]) -> Result<Kind, KindError> {
    if bytes.is_empty() {
        return Err(KindError::Empty);
    }
    let kind = if bytes.starts_with(b"%PDF-1.") || bytes.starts_with(b"%PDF-2.") {
        Kind::Pdf
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Kind::Jpeg
    } else if bytes.starts_with(PNG_SIGNATURE) {
        Kind::Png
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Kind::Tiff
    } else {
        // MZ, \x7fELF, #!, PK\x03\x04, HTML, text, unknown: all refused.
        return Err(KindError::NotAllowed);
    };
    if looks_polyglot(bytes, kind) {
        return Err(KindError::NotAllowed);
    }
    match kind {
        Kind::Pdf => check_pdf(bytes),
        Kind::Jpeg => check_jpeg(bytes),
        Kind::Png => check_png(bytes),
        Kind::Tiff => check_tiff(bytes),
    }
    .map(|()| kind)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn tail(bytes: &[u8]) -> &[u8] {
    &bytes[bytes.len().saturating_sub(WINDOW)..]
}

/// ASCII case-insensitive substring search.
fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack.len() >= needle.len()
        && haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The whole-file polyglot checks described in the module docs.
fn looks_polyglot(bytes: &[u8], kind: Kind) -> bool {
    // 1. DOS/PE header: an "MZ" before the DOS stub text (linear: the first
    //    "MZ" against the last stub text).
    let stub = b"This program";
    if let Some(mz) = find(bytes, b"MZ")
        && let Some(text) = bytes.windows(stub.len()).rposition(|w| w == stub)
        && text >= mz + 2
    {
        return true;
    }
    // 2. HTML that a browser sniffing the content would run.
    let html_markers: [&[u8]; 5] = [b"<script", b"<html", b"<!doctype html", b"<iframe", b"<svg"];
    if html_markers.iter().any(|m| contains_ignore_case(bytes, m)) {
        return true;
    }
    // 3. A zip archive (end-of-central-directory record).
    if contains(bytes, b"PK\x05\x06") {
        return true;
    }
    // 4. PDF active content.
    kind == Kind::Pdf
        && [&b"/JavaScript"[..], b"/Launch", b"/EmbeddedFile"]
            .iter()
            .any(|m| contains(bytes, m))
}

fn check_pdf(bytes: &[u8]) -> Result<(), KindError> {
    if contains(tail(bytes), b"%%EOF") {
        Ok(())
    } else {
        Err(KindError::Truncated)
    }
}

fn be_u16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn check_jpeg(bytes: &[u8]) -> Result<(), KindError> {
    use KindError::Truncated;
    let zeros = bytes.iter().rev().take_while(|&&b| b == 0).count();
    if zeros > JPEG_MAX_ZERO_PADDING {
        return Err(Truncated);
    }
    let body = &bytes[..bytes.len() - zeros];
    if !body.ends_with(&[0xFF, 0xD9]) {
        return Err(Truncated);
    }
    // Segments must end before the final EOI.
    let limit = body.len().checked_sub(2).ok_or(Truncated)?;
    let mut pos = 2; // after SOI
    let mut seen_frame = false;
    loop {
        if body.get(pos) != Some(&0xFF) {
            return Err(Truncated);
        }
        while body.get(pos) == Some(&0xFF) {
            pos += 1; // marker plus optional fill bytes
        }
        let marker = *body.get(pos).ok_or(Truncated)?;
        pos += 1;
        match marker {
            // Standalone markers without a length.
            0x01 | 0xD0..=0xD7 => continue,
            // Stuffed zero, a second SOI, or EOI before any scan.
            0x00 | 0xD8 | 0xD9 => return Err(Truncated),
            _ => {}
        }
        let len = usize::from(be_u16(body, pos).ok_or(Truncated)?);
        if len < 2 {
            return Err(Truncated);
        }
        let end = pos + len;
        if end > limit {
            return Err(Truncated);
        }
        match marker {
            // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => seen_frame = true,
            // Start of scan: entropy-coded data follows up to the final EOI.
            0xDA => return if seen_frame { Ok(()) } else { Err(Truncated) },
            _ => {}
        }
        pos = end;
    }
}

const PNG_SIGNATURE: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// CRC-32 (ISO-HDLC, as used by PNG and zlib).
pub(crate) fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

fn check_png(bytes: &[u8]) -> Result<(), KindError> {
    use KindError::Truncated;
    let mut pos = PNG_SIGNATURE.len();
    let mut first = true;
    let mut seen_idat = false;
    loop {
        let len = be_u32(bytes, pos).ok_or(Truncated)?;
        if len > 0x7FFF_FFFF {
            return Err(Truncated);
        }
        let type_start = pos + 4;
        let data_start = type_start + 4;
        let data_end = data_start.checked_add(len as usize).ok_or(Truncated)?;
        let chunk_end = data_end.checked_add(4).ok_or(Truncated)?;
        let ctype = bytes.get(type_start..data_start).ok_or(Truncated)?;
        if !ctype.iter().all(u8::is_ascii_alphabetic) {
            return Err(Truncated);
        }
        let covered = bytes.get(type_start..data_end).ok_or(Truncated)?;
        let stored_crc = be_u32(bytes, data_end).ok_or(Truncated)?;
        if crc32(covered) != stored_crc {
            return Err(Truncated);
        }
        if first {
            let width = be_u32(bytes, data_start).unwrap_or(0);
            let height = be_u32(bytes, data_start + 4).unwrap_or(0);
            if ctype != b"IHDR" || len != 13 || width == 0 || height == 0 {
                return Err(Truncated);
            }
            first = false;
        } else {
            match ctype {
                b"IHDR" => return Err(Truncated),
                b"IDAT" => seen_idat = true,
                b"IEND" => {
                    return if len == 0 && seen_idat && chunk_end == bytes.len() {
                        Ok(())
                    } else {
                        Err(Truncated)
                    };
                }
                _ => {}
            }
        }
        pos = chunk_end;
    }
}

fn check_tiff(bytes: &[u8]) -> Result<(), KindError> {
    use KindError::Truncated;
    let little = bytes.starts_with(b"II");
    let u16_at = |at: usize| {
        if little {
            le_u16(bytes, at)
        } else {
            be_u16(bytes, at)
        }
    };
    let u32_at = |at: usize| {
        if little {
            le_u32(bytes, at)
        } else {
            be_u32(bytes, at)
        }
    };
    let ifd = u32_at(4).ok_or(Truncated)? as usize;
    if ifd < 8 {
        return Err(Truncated);
    }
    let count = usize::from(u16_at(ifd).ok_or(Truncated)?);
    if count == 0 {
        return Err(Truncated);
    }
    // Entry count, 12-byte entries, 4-byte next-IFD offset.
    let ifd_end = ifd + 2 + count * 12 + 4;
    if ifd_end > bytes.len() {
        return Err(Truncated);
    }

    // (entry position, type, count) of the offsets and byte counts arrays.
    let mut offsets = None;
    let mut counts = None;
    for i in 0..count {
        let entry = ifd + 2 + i * 12;
        let tag = u16_at(entry).ok_or(Truncated)?;
        let typ = u16_at(entry + 2).ok_or(Truncated)?;
        let n = u32_at(entry + 4).ok_or(Truncated)? as usize;
        let Some(size) = tiff_type_size(typ) else {
            continue; // unknown types are skipped, as the spec says
        };
        let total = size.checked_mul(n).ok_or(Truncated)?;
        if total > 4 {
            let at = u32_at(entry + 8).ok_or(Truncated)? as usize;
            if at.checked_add(total).is_none_or(|end| end > bytes.len()) {
                return Err(Truncated);
            }
        }
        match tag {
            // StripOffsets, TileOffsets
            273 | 324 => offsets = Some((entry, typ, n)),
            // StripByteCounts, TileByteCounts
            279 | 325 => counts = Some((entry, typ, n)),
            _ => {}
        }
    }
    let (Some((o_entry, o_typ, o_n)), Some((c_entry, c_typ, c_n))) = (offsets, counts) else {
        return Err(Truncated);
    };
    if o_n == 0 || o_n != c_n {
        return Err(Truncated);
    }
    // Value `i` of a SHORT or LONG array stored in entry `entry`.
    let value = |entry: usize, typ: u16, n: usize, i: usize| -> Option<usize> {
        let size = match typ {
            3 => 2,
            4 => 4,
            _ => return None,
        };
        let base = if size * n <= 4 {
            entry + 8
        } else {
            u32_at(entry + 8)? as usize
        };
        let at = base.checked_add(i.checked_mul(size)?)?;
        if size == 2 {
            u16_at(at).map(usize::from)
        } else {
            u32_at(at).map(|v| v as usize)
        }
    };
    for i in 0..o_n {
        let start = value(o_entry, o_typ, o_n, i).ok_or(Truncated)?;
        let len = value(c_entry, c_typ, c_n, i).ok_or(Truncated)?;
        if start.checked_add(len).is_none_or(|end| end > bytes.len()) {
            return Err(Truncated);
        }
    }
    Ok(())
}

/// Size in bytes of one value of a TIFF field type, `None` if unknown.
fn tiff_type_size(typ: u16) -> Option<usize> {
    match typ {
        1 | 2 | 6 | 7 => Some(1),   // BYTE, ASCII, SBYTE, UNDEFINED
        3 | 8 => Some(2),           // SHORT, SSHORT
        4 | 9 | 11 | 13 => Some(4), // LONG, SLONG, FLOAT, IFD
        5 | 10 | 12 => Some(8),     // RATIONAL, SRATIONAL, DOUBLE
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod samples {
    //! Tiny hand-built files, shared with the storage and clamd tests.
    use super::crc32;

    pub fn pdf() -> Vec<u8> {
        b"%PDF-1.4\n\
1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n\
3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n\
trailer\n<< /Root 1 0 R >>\n%%EOF\n"
            .to_vec()
    }

    pub fn png_chunk(out: &mut Vec<u8>, ctype: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut covered = ctype.to_vec();
        covered.extend_from_slice(data);
        out.extend_from_slice(&covered);
        out.extend_from_slice(&crc32(&covered).to_be_bytes());
    }

    /// A 1×1 8-bit greyscale PNG (real zlib stream, decodes as one white pixel).
    pub fn png() -> Vec<u8> {
        let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        // width 1, height 1, bit depth 8, colour type 0, compression, filter, interlace
        png_chunk(&mut out, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
        // zlib stored block of the scanline [filter 0, pixel 0xFF] + adler32
        let idat = [
            0x78, 0x01, 0x01, 0x02, 0x00, 0xFD, 0xFF, 0x00, 0xFF, 0x01, 0x01, 0x01, 0x00,
        ];
        png_chunk(&mut out, b"IDAT", &idat);
        png_chunk(&mut out, b"IEND", &[]);
        out
    }

    /// SOI, APP0 (JFIF), SOF0, SOS, a few scan bytes, EOI.
    pub fn jpeg() -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8];
        out.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
        out.extend_from_slice(b"JFIF\0");
        out.extend_from_slice(&[1, 1, 0, 0, 1, 0, 1, 0, 0]);
        // SOF0: precision 8, 1x1, one component
        out.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x0B, 8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
        // SOS: one component
        out.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 0x3F, 0]);
        out.extend_from_slice(&[0x12, 0x34, 0xFF, 0x00, 0x56]);
        out.extend_from_slice(&[0xFF, 0xD9]);
        out
    }

    /// A 1×1 bilevel little-endian TIFF: header, one strip, then the IFD.
    pub fn tiff() -> Vec<u8> {
        let mut out = b"II*\0".to_vec();
        out.extend_from_slice(&10u32.to_le_bytes()); // first IFD at 10
        out.extend_from_slice(&[0x80, 0x00]); // strip at 8, 1 byte (+pad)
        let entries: [(u16, u16, u32, u32); 8] = [
            (256, 3, 1, 1), // ImageWidth
            (257, 3, 1, 1), // ImageLength
            (258, 3, 1, 1), // BitsPerSample
            (259, 3, 1, 1), // Compression: none
            (262, 3, 1, 0), // PhotometricInterpretation: WhiteIsZero
            (273, 4, 1, 8), // StripOffsets
            (278, 3, 1, 1), // RowsPerStrip
            (279, 4, 1, 1), // StripByteCounts
        ];
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for (tag, typ, n, value) in entries {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&typ.to_le_bytes());
            out.extend_from_slice(&n.to_le_bytes());
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
        out
    }

    /// The same image as a big-endian TIFF (SHORT values are left-justified
    /// in the 4-byte value field).
    pub fn tiff_big_endian() -> Vec<u8> {
        let mut out = b"MM\0*".to_vec();
        out.extend_from_slice(&10u32.to_be_bytes());
        out.extend_from_slice(&[0x80, 0x00]);
        let short = |v: u16| [v.to_be_bytes()[0], v.to_be_bytes()[1], 0, 0];
        let entries: [(u16, u16, u32, [u8; 4]); 6] = [
            (256, 3, 1, short(1)),           // ImageWidth
            (257, 3, 1, short(1)),           // ImageLength
            (262, 3, 1, short(0)),           // PhotometricInterpretation
            (273, 4, 1, 8u32.to_be_bytes()), // StripOffsets
            (278, 3, 1, short(1)),           // RowsPerStrip
            (279, 3, 1, short(1)),           // StripByteCounts (SHORT)
        ];
        out.extend_from_slice(&(entries.len() as u16).to_be_bytes());
        for (tag, typ, n, value) in entries {
            out.extend_from_slice(&tag.to_be_bytes());
            out.extend_from_slice(&typ.to_be_bytes());
            out.extend_from_slice(&n.to_be_bytes());
            out.extend_from_slice(&value);
        }
        out.extend_from_slice(&0u32.to_be_bytes());
        out
    }

    /// The start of a Windows PE file: MZ header and DOS stub.
    pub fn windows_exe() -> Vec<u8> {
        let mut out = vec![0u8; 0x80];
        out[0] = b'M';
        out[1] = b'Z';
        out[0x3C] = 0x80;
        out[0x4E..0x4E + 39].copy_from_slice(b"This program cannot be run in DOS mode.");
        out.extend_from_slice(b"PE\0\0");
        out.extend_from_slice(&[0u8; 64]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::samples::*;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_minimal_valid_files() {
        assert_eq!(detect(&pdf()), Ok(Kind::Pdf));
        assert_eq!(detect(&png()), Ok(Kind::Png));
        assert_eq!(detect(&jpeg()), Ok(Kind::Jpeg));
        assert_eq!(detect(&tiff()), Ok(Kind::Tiff));
        assert_eq!(detect(&tiff_big_endian()), Ok(Kind::Tiff));
    }

    #[test]
    fn accepts_pdf_2_and_trailing_bytes_after_eof() {
        let mut f = pdf();
        f[5] = b'2';
        f[7] = b'0';
        f.extend_from_slice(&[b'\n'; 500]);
        assert_eq!(detect(&f), Ok(Kind::Pdf));
    }

    #[test]
    fn jpeg_allows_a_little_zero_padding() {
        let mut f = jpeg();
        f.extend_from_slice(&[0; JPEG_MAX_ZERO_PADDING]);
        assert_eq!(detect(&f), Ok(Kind::Jpeg));
        f.push(0);
        assert_eq!(detect(&f), Err(KindError::Truncated));
    }

    #[test]
    fn mime_and_extension() {
        assert_eq!(Kind::Pdf.mime(), "application/pdf");
        assert_eq!(Kind::Jpeg.mime(), "image/jpeg");
        assert_eq!(Kind::Png.mime(), "image/png");
        assert_eq!(Kind::Tiff.mime(), "image/tiff");
        assert_eq!(Kind::Pdf.extension(), "pdf");
        assert_eq!(Kind::Jpeg.extension(), "jpg");
        assert_eq!(Kind::Png.extension(), "png");
        assert_eq!(Kind::Tiff.extension(), "tiff");
    }

    #[test]
    fn png_crc_matches_known_value() {
        // CRC of an empty IEND chunk is the well-known AE 42 60 82.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }

    #[test]
    fn empty_is_empty() {
        assert_eq!(detect(&[]), Err(KindError::Empty));
    }

    #[test]
    fn executables_and_archives_are_refused() {
        // A Windows program renamed to .pdf: the name is never consulted.
        assert_eq!(detect(&windows_exe()), Err(KindError::NotAllowed));
        let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0";
        assert_eq!(detect(elf), Err(KindError::NotAllowed));
        assert_eq!(detect(b"#!/bin/sh\nrm -rf /\n"), Err(KindError::NotAllowed));
        // A .docx is a zip: local file header then [Content_Types].xml.
        let mut docx = b"PK\x03\x04\x14\0\x06\0\x08\0\0\0!\0".to_vec();
        docx.extend_from_slice(b"[Content_Types].xml");
        docx.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
        assert_eq!(detect(&docx), Err(KindError::NotAllowed));
        assert_eq!(
            detect(b"<html><body>hi</body></html>"),
            Err(KindError::NotAllowed)
        );
        assert_eq!(detect(b"hello, plain text"), Err(KindError::NotAllowed));
        // Magic that is merely close.
        assert_eq!(detect(b"%PDF-3.0\n%%EOF"), Err(KindError::NotAllowed));
        assert_eq!(detect(b"II+\0\x08\0"), Err(KindError::NotAllowed)); // BigTIFF
    }

    #[test]
    fn truncated_pdf_is_truncated() {
        let f = pdf();
        let cut = &f[..f.len() - 10];
        assert_eq!(detect(cut), Err(KindError::Truncated));
        // %%EOF only far from the end (e.g. a corrupt incremental update).
        let mut far = f.clone();
        far.extend_from_slice(&[b' '; 2000]);
        assert_eq!(detect(&far), Err(KindError::Truncated));
        assert_eq!(detect(b"%PDF-1."), Err(KindError::Truncated));
    }

    #[test]
    fn png_structure_is_checked() {
        let f = png();
        // Without IEND.
        assert_eq!(detect(&f[..f.len() - 12]), Err(KindError::Truncated));
        // Cut in the middle of IDAT.
        assert_eq!(detect(&f[..40]), Err(KindError::Truncated));
        // Signature only.
        assert_eq!(detect(&f[..8]), Err(KindError::Truncated));
        // Data after IEND.
        let mut extra = f.clone();
        extra.extend_from_slice(b"junk");
        assert_eq!(detect(&extra), Err(KindError::Truncated));
        // A flipped bit in IDAT breaks its CRC.
        let mut bad = f.clone();
        bad[45] ^= 0x01;
        assert_eq!(detect(&bad), Err(KindError::Truncated));
        // IDAT before IHDR.
        let mut wrong_order = PNG_SIGNATURE.to_vec();
        png_chunk(&mut wrong_order, b"IDAT", &[0]);
        png_chunk(
            &mut wrong_order,
            b"IHDR",
            &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0],
        );
        png_chunk(&mut wrong_order, b"IEND", &[]);
        assert_eq!(detect(&wrong_order), Err(KindError::Truncated));
    }

    #[test]
    fn jpeg_structure_is_checked() {
        let f = jpeg();
        assert_eq!(detect(&f[..f.len() - 2]), Err(KindError::Truncated));
        assert_eq!(detect(&f[..f.len() - 1]), Err(KindError::Truncated));
        assert_eq!(detect(&[0xFF, 0xD8, 0xFF, 0xD9]), Err(KindError::Truncated));
        // A header segment claiming to run past the end.
        let mut long = f.clone();
        long[5] = 0xF0;
        assert_eq!(detect(&long), Err(KindError::Truncated));
        // Data appended after EOI.
        let mut extra = f.clone();
        extra.extend_from_slice(b"trailer");
        assert_eq!(detect(&extra), Err(KindError::Truncated));
        // No frame header before the scan.
        let mut no_sof = vec![0xFF, 0xD8];
        no_sof.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 0x3F, 0, 0x12]);
        no_sof.extend_from_slice(&[0xFF, 0xD9]);
        assert_eq!(detect(&no_sof), Err(KindError::Truncated));
    }

    #[test]
    fn tiff_structure_is_checked() {
        let f = tiff();
        // IFD cut off.
        assert_eq!(detect(&f[..f.len() - 10]), Err(KindError::Truncated));
        assert_eq!(detect(b"II*\0"), Err(KindError::Truncated));
        // First IFD offset pointing outside the file.
        let mut outside = f.clone();
        outside[4..8].copy_from_slice(&10_000u32.to_le_bytes());
        assert_eq!(detect(&outside), Err(KindError::Truncated));
        // First IFD offset inside the header.
        let mut inside_header = f.clone();
        inside_header[4..8].copy_from_slice(&2u32.to_le_bytes());
        assert_eq!(detect(&inside_header), Err(KindError::Truncated));
        // A strip running past the end of the file.
        let mut strip = f.clone();
        let byte_counts_value = 10 + 2 + 7 * 12 + 8;
        strip[byte_counts_value..byte_counts_value + 4].copy_from_slice(&5_000u32.to_le_bytes());
        assert_eq!(detect(&strip), Err(KindError::Truncated));
        // Big-endian, SHORT byte count: 0x0100 bytes at offset 8 is too long.
        let mut be = tiff_big_endian();
        let be_count_value = 10 + 2 + 5 * 12 + 8;
        be[be_count_value] = 0x01;
        assert_eq!(detect(&be), Err(KindError::Truncated));
    }

    #[test]
    fn polyglots_are_refused() {
        // PDF with a DOS/PE header in its first KiB.
        let mut pe = b"%PDF-1.7\n%".to_vec();
        pe.extend_from_slice(&windows_exe());
        pe.extend_from_slice(&pdf()[9..]);
        assert_eq!(detect(&pe), Err(KindError::NotAllowed));
        // PDF that is also HTML.
        for marker in [
            "<script>alert(1)</script>",
            "<HTML>",
            "<!DOCTYPE html>",
            "<iframe src=x>",
        ] {
            let mut html = b"%PDF-1.4\n% ".to_vec();
            html.extend_from_slice(marker.as_bytes());
            html.extend_from_slice(&pdf()[9..]);
            assert_eq!(detect(&html), Err(KindError::NotAllowed), "{marker}");
        }
        // JPEG with a script in a comment segment.
        let mut jpg = jpeg();
        let comment = b"<script>x</script>";
        let mut com = vec![0xFF, 0xFE, 0x00, (comment.len() + 2) as u8];
        com.extend_from_slice(comment);
        jpg.splice(2..2, com);
        assert_eq!(detect(&jpg), Err(KindError::NotAllowed));
        // A zip appended to a PDF (end-of-central-directory near the end).
        let mut zipped = pdf();
        zipped.extend_from_slice(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        assert_eq!(detect(&zipped), Err(KindError::NotAllowed));
        // "MZ" alone (without the DOS stub text) is not enough.
        let mut mz = b"%PDF-1.4\n% MZ".to_vec();
        mz.extend_from_slice(&pdf()[9..]);
        assert_eq!(detect(&mz), Ok(Kind::Pdf));
        // Markers anywhere in the file count, not only in its first KiB.
        for marker in [
            &b"<script>"[..],
            b"<SVG onload=x>",
            b"MZ\x90\0 This program cannot be run in DOS mode",
            b"PK\x05\x06",
            b"/OpenAction<</S/JavaScript/JS(app.alert(1))>>",
            b"/Launch",
        ] {
            let mut deep = b"%PDF-1.4\n".to_vec();
            deep.extend_from_slice(&[b' '; 5000]);
            deep.extend_from_slice(marker);
            deep.extend_from_slice(&[b' '; 5000]);
            deep.extend_from_slice(&pdf()[9..]);
            assert_eq!(detect(&deep), Err(KindError::NotAllowed), "{marker:?}");
        }
        // The DOS stub text before any "MZ" is not an executable.
        let mut order = b"%PDF-1.4\n% This program MZ".to_vec();
        order.extend_from_slice(&pdf()[9..]);
        assert_eq!(detect(&order), Ok(Kind::Pdf));
    }

    /// Valid sample files with a few bytes overwritten and/or cut short.
    fn mutated_sample() -> impl Strategy<Value = Vec<u8>> {
        (
            0usize..5,
            proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
            any::<prop::sample::Index>(),
            any::<bool>(),
        )
            .prop_map(|(which, edits, cut, do_cut)| {
                let mut f = match which {
                    0 => pdf(),
                    1 => png(),
                    2 => jpeg(),
                    3 => tiff(),
                    _ => tiff_big_endian(),
                };
                for (at, byte) in edits {
                    let i = at.index(f.len());
                    f[i] = byte;
                }
                if do_cut {
                    f.truncate(cut.index(f.len() + 1));
                }
                f
            })
    }

    proptest! {
        #[test]
        fn detect_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = detect(&bytes);
        }

        #[test]
        fn detect_never_panics_on_damaged_samples(bytes in mutated_sample()) {
            let _ = detect(&bytes);
        }

        #[test]
        fn detect_never_panics_after_magic(
            magic in 0usize..5,
            rest in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let prefix: &[u8] = match magic {
                0 => b"%PDF-1.",
                1 => &[0xFF, 0xD8, 0xFF],
                2 => PNG_SIGNATURE,
                3 => b"II*\0",
                _ => b"MM\0*",
            };
            let mut bytes = prefix.to_vec();
            bytes.extend_from_slice(&rest);
            let _ = detect(&bytes);
        }

    }
}
