//! Upload type detection: never panics (run with `-timeout` for the time
//! bound: detection is documented as linear). Anything accepted starts with
//! the magic bytes of the type it is declared as, passes that type's
//! structural check (re-verified here independently, including PNG CRCs),
//! and shows none of the polyglot markers the module documents.
#![no_main]

use casegate::uploads::kind::{JPEG_MAX_ZERO_PADDING, Kind, KindError, detect};
use libfuzzer_sys::fuzz_target;

const WINDOW: usize = 1024;

fn head(b: &[u8]) -> &[u8] {
    &b[..b.len().min(WINDOW)]
}

fn tail(b: &[u8]) -> &[u8] {
    &b[b.len().saturating_sub(WINDOW)..]
}

fn has(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Bitwise CRC-32 (ISO-HDLC), deliberately not the table-driven one under test.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

fn assert_pdf(b: &[u8]) {
    assert!(b.starts_with(b"%PDF-1.") || b.starts_with(b"%PDF-2."));
    assert!(has(tail(b), b"%%EOF"), "PDF without %%EOF near the end");
}

fn assert_jpeg(b: &[u8]) {
    assert!(b.starts_with(&[0xFF, 0xD8, 0xFF]));
    let zeros = b.iter().rev().take_while(|&&x| x == 0).count();
    assert!(
        zeros <= JPEG_MAX_ZERO_PADDING,
        "{zeros} zero bytes after EOI"
    );
    let body = &b[..b.len() - zeros];
    assert!(body.ends_with(&[0xFF, 0xD9]), "JPEG does not end with EOI");
    let limit = body.len() - 2;
    // Walk the header segments up to the first SOS.
    let mut i = 2;
    let mut frame = false;
    loop {
        assert_eq!(body[i], 0xFF, "segment does not start with a marker");
        while body[i] == 0xFF {
            i += 1;
        }
        let marker = body[i];
        i += 1;
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            continue;
        }
        assert!(
            !matches!(marker, 0x00 | 0xD8 | 0xD9),
            "marker {marker:#x} before scan"
        );
        let len = usize::from(u16::from_be_bytes([body[i], body[i + 1]]));
        assert!(len >= 2);
        let end = i + len;
        assert!(end <= limit, "segment runs past EOI");
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            frame = true;
        }
        if marker == 0xDA {
            assert!(frame, "scan before frame header");
            return;
        }
        i = end;
    }
}

fn assert_png(b: &[u8]) {
    assert!(b.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]));
    let mut pos = 8;
    let mut n = 0;
    let mut idat = false;
    loop {
        let len = be32(b, pos) as usize;
        let ctype = &b[pos + 4..pos + 8];
        let data = &b[pos + 8..pos + 8 + len];
        let crc = be32(b, pos + 8 + len);
        assert_eq!(crc32(&b[pos + 4..pos + 8 + len]), crc, "bad CRC accepted");
        assert!(ctype.iter().all(u8::is_ascii_alphabetic));
        if n == 0 {
            assert_eq!(ctype, b"IHDR");
            assert_eq!(len, 13);
            assert!(be32(data, 0) != 0 && be32(data, 4) != 0, "zero-sized image");
        } else {
            assert_ne!(ctype, b"IHDR", "second IHDR");
        }
        idat |= ctype == b"IDAT";
        pos += 12 + len;
        n += 1;
        if ctype == b"IEND" {
            assert_eq!(len, 0);
            assert!(idat, "no IDAT");
            assert_eq!(pos, b.len(), "data after IEND");
            return;
        }
    }
}

fn assert_tiff(b: &[u8]) {
    let little = b.starts_with(b"II*\0");
    assert!(little || b.starts_with(b"MM\0*"));
    let u16_at = |at: usize| {
        let s = [b[at], b[at + 1]];
        usize::from(if little {
            u16::from_le_bytes(s)
        } else {
            u16::from_be_bytes(s)
        })
    };
    let u32_at = |at: usize| {
        let s: [u8; 4] = b[at..at + 4].try_into().unwrap();
        (if little {
            u32::from_le_bytes(s)
        } else {
            u32::from_be_bytes(s)
        }) as u64
    };
    let ifd = u32_at(4) as usize;
    assert!(ifd >= 8);
    let count = u16_at(ifd);
    assert!(count > 0, "empty IFD");
    assert!(ifd + 2 + 12 * count + 4 <= b.len(), "IFD outside the file");
    let mut offsets = None;
    let mut counts = None;
    for e in 0..count {
        let at = ifd + 2 + 12 * e;
        let (tag, typ, n) = (u16_at(at), u16_at(at + 2), u32_at(at + 4));
        let size: u64 = match typ {
            1 | 2 | 6 | 7 => 1,
            3 | 8 => 2,
            4 | 9 | 11 | 13 => 4,
            5 | 10 | 12 => 8,
            _ => continue,
        };
        if size * n > 4 {
            assert!(
                u32_at(at + 8) + size * n <= b.len() as u64,
                "entry value outside the file"
            );
        }
        match tag {
            273 | 324 => offsets = Some((at, typ, n)),
            279 | 325 => counts = Some((at, typ, n)),
            _ => {}
        }
    }
    let (Some((oa, ot, on)), Some((ca, ct, cn))) = (offsets, counts) else {
        panic!("TIFF without strip/tile offsets and byte counts");
    };
    assert!(on > 0 && on == cn);
    let value = |at: usize, typ: usize, n: u64, i: u64| -> u64 {
        let size = match typ {
            3 => 2,
            4 => 4,
            _ => panic!("offsets/counts of type {typ} accepted"),
        };
        let base = if size * n <= 4 {
            at as u64 + 8
        } else {
            u32_at(at + 8)
        };
        let p = (base + i * size) as usize;
        if size == 2 {
            u16_at(p) as u64
        } else {
            u32_at(p)
        }
    };
    for i in 0..on {
        let start = value(oa, ot, on, i);
        let len = value(ca, ct, cn, i);
        assert!(start + len <= b.len() as u64, "strip {i} outside the file");
    }
}

fuzz_target!(|data: &[u8]| {
    let kind = match detect(data) {
        Ok(k) => k,
        Err(KindError::Empty) => {
            assert!(data.is_empty());
            return;
        }
        Err(_) => {
            assert!(!data.is_empty());
            return;
        }
    };
    // Polyglot heuristic (module docs): none of the markers may be present.
    let h = head(data);
    if let Some(mz) = h.windows(2).position(|w| w == b"MZ") {
        assert!(!has(&h[mz + 2..], b"This program"), "DOS stub accepted");
    }
    let lower = h.to_ascii_lowercase();
    for m in [&b"<script"[..], b"<html", b"<!doctype html", b"<iframe"] {
        assert!(!has(&lower, m), "HTML marker accepted");
    }
    assert!(!has(tail(data), b"PK\x05\x06"), "zip end record accepted");

    match kind {
        Kind::Pdf => assert_pdf(data),
        Kind::Jpeg => assert_jpeg(data),
        Kind::Png => assert_png(data),
        Kind::Tiff => assert_tiff(data),
    }
});
