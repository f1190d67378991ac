//! Tiny files and request bodies the upload tests share.

/// The smallest PDF the upload check accepts.
pub fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec()
}

/// SOI, APP0, SOF0, SOS, a few scan bytes, EOI.
pub fn jpeg() -> Vec<u8> {
    jpeg_with_comment(b"")
}

/// [`jpeg`] with a COM segment holding `comment` (none when empty).
pub fn jpeg_with_comment(comment: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    out.extend_from_slice(b"JFIF\0");
    out.extend_from_slice(&[1, 1, 0, 0, 1, 0, 1, 0, 0]);
    if !comment.is_empty() {
        out.extend_from_slice(&[0xFF, 0xFE]);
        out.extend_from_slice(&((comment.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(comment);
    }
    out.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x0B, 8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
    out.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 0x3F, 0]);
    out.extend_from_slice(&[0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD9]);
    out
}

/// A 1×1 little-endian TIFF: header, one strip, one IFD.
pub fn tiff() -> Vec<u8> {
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&10u32.to_le_bytes());
    out.extend_from_slice(&[0x80, 0x00]);
    let entries: [(u16, u16, u32, u32); 8] = [
        (256, 3, 1, 1),
        (257, 3, 1, 1),
        (258, 3, 1, 1),
        (259, 3, 1, 1),
        (262, 3, 1, 0),
        (273, 4, 1, 8),
        (278, 3, 1, 1),
        (279, 4, 1, 1),
    ];
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, typ, n, value) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&typ.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out
}

/// A 1×1 greyscale PNG with correct chunk CRCs.
pub fn png() -> Vec<u8> {
    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut v = (data.len() as u32).to_be_bytes().to_vec();
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        v.extend_from_slice(&body);
        v.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
        v
    }
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
    v.extend(chunk(b"IDAT", &[0x78, 0x9c, 0x63, 0x60, 0, 0, 0, 2, 0, 1]));
    v.extend(chunk(b"IEND", &[]));
    v
}

/// A `multipart/form-data` body from (part headers, part body) pairs.
pub fn multipart(boundary: &str, parts: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (headers, body) in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        out.extend_from_slice(headers);
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

/// The `file` part, its name given as raw bytes (NUL, RTL marks, anything).
pub fn file_part(name: &[u8], content_type: &str, body: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
    let mut h = b"Content-Disposition: form-data; name=\"file\"; filename=\"".to_vec();
    h.extend_from_slice(name);
    h.extend_from_slice(format!("\"\r\nContent-Type: {content_type}").as_bytes());
    (h, body)
}
