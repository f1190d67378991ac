//! Minimal, deterministic PDF 1.7 writer for casegate notices and letters.
//!
//! * US Letter pages (612 x 792 pt), standard-14 fonts (Helvetica,
//!   Helvetica-Bold, Courier-Bold) with `/WinAnsiEncoding`; nothing embedded.
//! * Coordinates for [`Page`] drawing calls are PDF-native: points, origin at
//!   the bottom-left corner, `y` of text is the baseline.
//! * [`Flow`] lays out headings, paragraphs, label/value rows and a boxed
//!   highlight top-down and starts new pages automatically.
//! * Output is a tagged PDF (`/MarkInfo`, `/StructTreeRoot`, `/H1` `/H2` `/P`
//!   structure elements, decorations as artifacts) and is byte-for-byte
//!   deterministic: no timestamps, `/ID` is the first 128 bits of the body's SHA-256.
//! * Content streams are not compressed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// Page width (US Letter), in points.
pub const PAGE_WIDTH: f32 = 612.0;
/// Page height (US Letter), in points.
pub const PAGE_HEIGHT: f32 = 792.0;

/// One of the three standard fonts this writer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Font {
    /// Helvetica.
    Regular,
    /// Helvetica-Bold.
    Bold,
    /// Courier-Bold (monospaced; for codes and receipt numbers).
    Mono,
}

impl Font {
    fn resource_name(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
            Font::Mono => "F3",
        }
    }

    fn base_font(self) -> &'static str {
        match self {
            Font::Regular => "Helvetica",
            Font::Bold => "Helvetica-Bold",
            Font::Mono => "Courier-Bold",
        }
    }

    /// Advance width of one WinAnsi byte, in 1/1000 em.
    fn byte_width(self, b: u8) -> u32 {
        let table = match self {
            Font::Regular => &HELVETICA,
            Font::Bold => &HELVETICA_BOLD,
            Font::Mono => return 600,
        };
        match b {
            0x20..=0xFF => u32::from(table[usize::from(b - 0x20)]),
            _ => 0,
        }
    }
}

const ALL_FONTS: [Font; 3] = [Font::Regular, Font::Bold, Font::Mono];

/// Structure type of a piece of tagged text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// Top-level heading (`/H1`).
    H1,
    /// Second-level heading (`/H2`).
    H2,
    /// Paragraph (`/P`).
    P,
}

impl Tag {
    fn name(self) -> &'static str {
        match self {
            Tag::H1 => "H1",
            Tag::H2 => "H2",
            Tag::P => "P",
        }
    }
}

/// Helvetica AFM advance widths (1/1000 em) for WinAnsi bytes 0x20..=0xFF.
const HELVETICA: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 222, 333, 333, 389, 584, 278, 584, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 222, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
    0, 556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, 0, 222, 222,
    333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667, 278, 333, 556, 556, 556, 556,
    260, 556, 333, 737, 370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333, 556, 537, 278, 333,
    333, 365, 556, 834, 834, 834, 611, 667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667,
    278, 278, 278, 278, 722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667,
    611, 556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, 556, 556,
    556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
];
/// Helvetica-Bold AFM advance widths (1/1000 em) for WinAnsi bytes 0x20..=0xFF.
const HELVETICA_BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 278, 333, 333, 389, 584, 278, 584, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 278, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
    0, 556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, 0, 278, 278,
    500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667, 278, 333, 556, 556, 556, 556,
    280, 556, 333, 737, 370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333, 611, 556, 278, 333,
    333, 365, 556, 834, 834, 834, 611, 722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667,
    278, 278, 278, 278, 722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667,
    611, 556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, 611, 611,
    611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
];

// ---------------------------------------------------------------------------
// Text encoding
// ---------------------------------------------------------------------------

/// WinAnsi byte for `c`, if `c` is directly representable.
fn winansi_byte(c: char) -> Option<u8> {
    let cp = u32::from(c);
    if (0x20..=0x7E).contains(&cp) || (0xA0..=0xFF).contains(&cp) {
        return u8::try_from(cp).ok();
    }
    let b = match c {
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8A,
        '‹' => 0x8B,
        'Œ' => 0x8C,
        'Ž' => 0x8E,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9A,
        '›' => 0x9B,
        'œ' => 0x9C,
        'ž' => 0x9E,
        'Ÿ' => 0x9F,
        _ => return None,
    };
    Some(b)
}

/// Transliterations for characters that neither WinAnsi nor NFKD handle.
fn transliteration(c: char) -> Option<&'static str> {
    Some(match c {
        'Ł' => "L",
        'ł' => "l",
        'Đ' | 'Ɖ' => "D",
        'đ' | 'ɖ' => "d",
        'Ħ' => "H",
        'ħ' => "h",
        'ı' => "i",
        'ĸ' => "k",
        'Ŋ' => "N",
        'ŋ' => "n",
        'Ŧ' => "T",
        'ŧ' => "t",
        'Ə' | 'Ɛ' => "E",
        'ə' | 'ɛ' => "e",
        'Ɔ' => "O",
        'ɔ' => "o",
        'ẞ' => "SS",
        'Ǝ' => "E",
        'ǝ' => "e",
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2043}' | '\u{2212}' => "-",
        '\u{2015}' => "—",
        '\u{2044}' | '\u{2215}' => "/",
        '\u{2032}' | '\u{201B}' => "'",
        '\u{2033}' | '\u{201F}' => "\"",
        '\u{2190}' => "<-",
        '\u{2192}' => "->",
        '\u{2264}' => "<=",
        '\u{2265}' => ">=",
        '\u{2260}' => "!=",
        '\u{2713}' | '\u{2714}' => "x",
        '\u{25CF}' | '\u{25AA}' | '\u{2219}' => "•",
        _ => return None,
    })
}

/// Characters that produce no output at all (invisible formatting).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
            | '\u{FEFF}'
    ) || (c.is_control() && !c.is_whitespace())
}

fn push_winansi_str(s: &str, out: &mut Vec<u8>) {
    for c in s.chars() {
        match winansi_byte(c) {
            Some(b) => out.push(b),
            None => out.push(b'?'),
        }
    }
}

fn encode_char(c: char, out: &mut Vec<u8>) {
    if is_invisible(c) {
        return;
    }
    if let Some(b) = winansi_byte(c) {
        out.push(b);
        return;
    }
    if c.is_whitespace() {
        out.push(b' ');
        return;
    }
    if let Some(rep) = transliteration(c) {
        push_winansi_str(rep, out);
        return;
    }
    if is_combining_mark(c) {
        // A mark that NFC could not fold into its base: drop it.
        return;
    }
    let mut produced = false;
    decompose_compatible(c, |d| {
        if is_combining_mark(d) {
            return;
        }
        produced = true;
        if let Some(b) = winansi_byte(d) {
            out.push(b);
        } else if let Some(rep) = transliteration(d) {
            push_winansi_str(rep, out);
        } else if d.is_whitespace() {
            out.push(b' ');
        } else {
            out.push(b'?');
        }
    });
    if !produced {
        out.push(b'?');
    }
}

/// Encodes `s` as WinAnsi (Windows-1252) bytes, as used in content streams.
///
/// The text is NFC-normalised first, so decomposed input ("e" + U+0301)
/// still yields the precomposed byte (0xE9). Characters outside WinAnsi are
/// transliterated: a small table (Ł → L, đ → d, ẞ → SS, typographic dashes
/// and primes ...), then NFKD with combining marks dropped (ễ → e, ﬁ → fi),
/// else `?`. Tabs, newlines and other spaces become a plain space; invisible
/// format characters (zero-width space, soft hyphen, BOM, controls) vanish.
pub fn encode_winansi(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.nfc() {
        encode_char(c, &mut out);
    }
    out
}

// ---------------------------------------------------------------------------
// Metrics and wrapping
// ---------------------------------------------------------------------------

/// Width of `s` in 1/1000 em, after WinAnsi encoding.
fn units(s: &str, font: Font) -> u32 {
    encode_winansi(s).iter().map(|&b| font.byte_width(b)).sum()
}

fn units_to_pt(u: u32, size: f32) -> f32 {
    // u32 -> f64 is exact; final narrowing is the intended rounding.
    (f64::from(u) * f64::from(size) / 1000.0) as f32
}

/// Width of `s` set in `font` at `size` points (no kerning), using the
/// Adobe AFM widths of Helvetica / Helvetica-Bold; Courier is 600 units.
pub fn text_width(s: &str, size: f32, font: Font) -> f32 {
    units_to_pt(units(s, font), size)
}

/// Greedy word wrap. `\n` forces a break (an empty input line gives an
/// empty output line); runs of other whitespace collapse to one space.
/// A word wider than `max_width` is broken between characters. Every
/// returned line is at most `max_width` wide unless a single character is
/// wider than that. Lines are returned NFC-normalised.
pub fn wrap(s: &str, size: f32, font: Font, max_width: f32) -> Vec<String> {
    let max_units = if size > 0.0 && max_width.is_finite() {
        f64::from(max_width) * 1000.0 / f64::from(size)
    } else {
        f64::INFINITY
    };
    let fits = |u: u32| f64::from(u) <= max_units;
    let space = font.byte_width(b' ');
    let normalized: String = s.nfc().collect();
    let mut out = Vec::new();
    for hard in normalized.split('\n') {
        let mut line = String::new();
        let mut line_u = 0u32;
        for word in hard.split_whitespace() {
            let w = units(word, font);
            if !line.is_empty() {
                if fits(line_u + space + w) {
                    line.push(' ');
                    line.push_str(word);
                    line_u += space + w;
                    continue;
                }
                out.push(std::mem::take(&mut line));
                line_u = 0;
            }
            if fits(w) {
                line.push_str(word);
                line_u = w;
                continue;
            }
            // Break an over-long word between characters.
            for c in word.chars() {
                let mut buf = [0u8; 4];
                let cw = units(c.encode_utf8(&mut buf), font);
                if !line.is_empty() && !fits(line_u + cw) {
                    out.push(std::mem::take(&mut line));
                    line_u = 0;
                }
                line.push(c);
                line_u += cw;
            }
        }
        out.push(line);
    }
    out
}

// ---------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------

/// How a piece of content is marked in the content stream.
#[derive(Debug, Clone, Copy)]
enum Mark {
    /// Decoration or running header/footer: not part of the structure tree.
    Artifact(Option<&'static str>),
    /// Real content, belonging to a structure element. Marked-content
    /// sequences that share a `group` belong to the same element (e.g. the
    /// lines of one wrapped paragraph, possibly across pages).
    Tagged { tag: Tag, group: Option<u64> },
}

#[derive(Debug, Clone)]
struct MarkedContent {
    tag: Tag,
    group: Option<u64>,
}

/// One US Letter page. Obtain it from [`Document::add_page`].
#[derive(Debug, Clone, Default)]
pub struct Page {
    content: String,
    /// Indexed by MCID.
    marks: Vec<MarkedContent>,
}

impl Page {
    /// Draws one line of text as a paragraph (`/P`) in the structure tree
    /// (no wrapping; newlines become spaces; blank strings draw nothing).
    /// `(x, y)` is the start of the baseline, in points from the bottom-left.
    pub fn text(&mut self, x: f32, y: f32, size: f32, font: Font, s: &str) {
        self.text_tagged(x, y, size, font, s, Tag::P);
    }

    /// Draws one line of text as its own structure element of type `tag`.
    pub fn text_tagged(&mut self, x: f32, y: f32, size: f32, font: Font, s: &str, tag: Tag) {
        self.push_text(x, y, size, font, s, Mark::Tagged { tag, group: None });
    }

    /// Draws text that is not part of the document's logical content
    /// (page numbers, running headers, form codes): tagged as a pagination
    /// artifact, so screen readers skip it.
    pub fn text_artifact(&mut self, x: f32, y: f32, size: f32, font: Font, s: &str) {
        self.push_text(x, y, size, font, s, Mark::Artifact(Some("Pagination")));
    }

    /// Strokes a line segment (artifact).
    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, width: f32) {
        let c = &mut self.content;
        let _ = writeln!(
            c,
            "/Artifact BMC q {} w {} {} m {} {} l S Q EMC",
            num(width),
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        );
    }

    /// Strokes a rectangle with lower-left corner `(x, y)` (artifact).
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, line_width: f32) {
        let c = &mut self.content;
        let _ = writeln!(
            c,
            "/Artifact BMC q {} w {} {} {} {} re S Q EMC",
            num(line_width),
            num(x),
            num(y),
            num(w),
            num(h)
        );
    }

    /// Fills a rectangle with a gray level (0 = black, 1 = white) (artifact).
    pub fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, gray: f32) {
        let c = &mut self.content;
        let _ = writeln!(
            c,
            "/Artifact BMC q {} g {} {} {} {} re f Q EMC",
            num(gray.clamp(0.0, 1.0)),
            num(x),
            num(y),
            num(w),
            num(h)
        );
    }

    fn push_text(&mut self, x: f32, y: f32, size: f32, font: Font, s: &str, mark: Mark) {
        let bytes = encode_winansi(s);
        if bytes.iter().all(|&b| b == b' ') {
            return;
        }
        let c = &mut self.content;
        match mark {
            Mark::Artifact(Some(kind)) => {
                let _ = write!(c, "/Artifact << /Type /{kind} >> BDC ");
            }
            Mark::Artifact(None) => c.push_str("/Artifact BMC "),
            Mark::Tagged { tag, group } => {
                let mcid = self.marks.len();
                self.marks.push(MarkedContent { tag, group });
                let _ = write!(c, "/{} << /MCID {mcid} >> BDC ", tag.name());
            }
        }
        let _ = write!(
            c,
            "BT /{} {} Tf {} {} Td ",
            font.resource_name(),
            num(size),
            num(x),
            num(y)
        );
        push_pdf_string(c, &bytes);
        c.push_str(" Tj ET EMC\n");
    }
}

/// Formats a coordinate: at most 3 decimals, no exponent, no "-0".
fn num(v: f32) -> String {
    if !v.is_finite() {
        return "0".to_string();
    }
    let r = (f64::from(v) * 1000.0).round() / 1000.0;
    if r == 0.0 {
        "0".to_string()
    } else {
        format!("{r}")
    }
}

/// Appends a literal string `( ... )`. `String` must stay valid UTF-8, so
/// bytes outside printable ASCII and the delimiters are written as octal
/// escapes (`\351` for é), which every reader decodes to the raw byte.
fn push_pdf_string(out: &mut String, bytes: &[u8]) {
    out.push('(');
    for &b in bytes {
        match b {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7E => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push(')');
}

/// A PDF text string for the document information dictionary: literal if
/// printable ASCII, else UTF-16BE with BOM as a hex string.
fn push_text_string(out: &mut Vec<u8>, s: &str) {
    if s.chars().all(|c| (' '..='~').contains(&c)) {
        let mut lit = String::new();
        push_pdf_string(&mut lit, s.as_bytes());
        out.extend_from_slice(lit.as_bytes());
    } else {
        let mut hex = String::from("<FEFF");
        for unit in s.encode_utf16() {
            let _ = write!(hex, "{unit:04X}");
        }
        hex.push('>');
        out.extend_from_slice(hex.as_bytes());
    }
}

// ---------------------------------------------------------------------------
// Document
// ---------------------------------------------------------------------------

/// A PDF document under construction.
#[derive(Debug, Clone)]
pub struct Document {
    title: String,
    lang: String,
    pages: Vec<Page>,
    next_group: u64,
}

impl Document {
    /// New empty document. `lang` is a BCP 47 tag such as `"en-US"` or
    /// `"es-US"` (characters other than ASCII letters, digits and `-` are
    /// dropped).
    pub fn new(title: &str, lang: &str) -> Self {
        Document {
            title: title.to_string(),
            lang: lang
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect(),
            pages: Vec::new(),
            next_group: 0,
        }
    }

    /// Appends a blank US Letter page and returns it.
    pub fn add_page(&mut self) -> &mut Page {
        self.pages.push(Page::default());
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Number of pages added so far.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Page `index` (0-based), if it exists.
    pub fn page_mut(&mut self, index: usize) -> Option<&mut Page> {
        self.pages.get_mut(index)
    }

    /// Draws a footer such as "Page 2 of 3" on every page, as an artifact.
    /// `label(page_number, page_count)` gets 1-based numbers. `x` is the
    /// centre of the text.
    pub fn number_pages(
        &mut self,
        x_center: f32,
        y: f32,
        size: f32,
        label: impl Fn(usize, usize) -> String,
    ) {
        let n = self.pages.len();
        for (i, page) in self.pages.iter_mut().enumerate() {
            let s = label(i + 1, n);
            let w = text_width(&s, size, Font::Regular);
            page.text_artifact(x_center - w / 2.0, y, size, Font::Regular, &s);
        }
    }

    fn new_group(&mut self) -> u64 {
        self.next_group += 1;
        self.next_group
    }

    /// Serialises the document. Same input, same bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let blank = [Page::default()];
        let pages: &[Page] = if self.pages.is_empty() {
            &blank
        } else {
            &self.pages
        };

        // Structure elements, in reading order (page order, then MCID).
        struct Elem {
            tag: Tag,
            parts: Vec<(usize, usize)>, // (page index, mcid)
        }
        let mut elems: Vec<Elem> = Vec::new();
        let mut by_group: BTreeMap<u64, usize> = BTreeMap::new();
        let mut parent_tree: Vec<Vec<usize>> = Vec::with_capacity(pages.len());
        for (pi, page) in pages.iter().enumerate() {
            let mut parents = Vec::with_capacity(page.marks.len());
            for (mcid, m) in page.marks.iter().enumerate() {
                let existing = m.group.and_then(|g| by_group.get(&g).copied());
                let ei = match existing {
                    Some(ei) => ei,
                    None => {
                        elems.push(Elem {
                            tag: m.tag,
                            parts: Vec::new(),
                        });
                        let ei = elems.len() - 1;
                        if let Some(g) = m.group {
                            by_group.insert(g, ei);
                        }
                        ei
                    }
                };
                elems[ei].parts.push((pi, mcid));
                parents.push(ei);
            }
            parent_tree.push(parents);
        }

        // Object numbers.
        const CATALOG: usize = 1;
        const PAGES: usize = 2;
        const INFO: usize = 3;
        const FONT0: usize = 4; // 4, 5, 6
        const STRUCT_ROOT: usize = 7;
        const PARENT_TREE: usize = 8;
        const DOC_ELEM: usize = 9;
        const ELEM0: usize = 10;
        let page0 = ELEM0 + elems.len();
        let page_obj = |i: usize| page0 + 2 * i;
        let total = page0 + 2 * pages.len(); // objects 1..total-1

        let mut w = PdfWriter::new(total);

        w.obj(CATALOG, |s| {
            let _ = write!(
                s,
                "<< /Type /Catalog /Pages {PAGES} 0 R /Lang ({}) \
                 /MarkInfo << /Marked true >> /StructTreeRoot {STRUCT_ROOT} 0 R \
                 /ViewerPreferences << /DisplayDocTitle true >> >>",
                self.lang
            );
        });
        w.obj(PAGES, |s| {
            s.push_str("<< /Type /Pages /Kids [");
            for i in 0..pages.len() {
                let _ = write!(s, "{} 0 R ", page_obj(i));
            }
            let _ = write!(s, "] /Count {} >>", pages.len());
        });
        w.begin(INFO);
        w.raw(b"<< /Title ");
        push_text_string(&mut w.buf, &self.title);
        w.raw(b" /Producer (casegate) >>");
        w.end();
        for (i, font) in ALL_FONTS.iter().enumerate() {
            w.obj(FONT0 + i, |s| {
                let _ = write!(
                    s,
                    "<< /Type /Font /Subtype /Type1 /BaseFont /{} /Encoding /WinAnsiEncoding >>",
                    font.base_font()
                );
            });
        }
        w.obj(STRUCT_ROOT, |s| {
            let _ = write!(
                s,
                "<< /Type /StructTreeRoot /K {DOC_ELEM} 0 R /ParentTree {PARENT_TREE} 0 R \
                 /ParentTreeNextKey {} >>",
                pages.len()
            );
        });
        w.obj(PARENT_TREE, |s| {
            s.push_str("<< /Nums [");
            for (i, parents) in parent_tree.iter().enumerate() {
                let _ = write!(s, "{i} [");
                for ei in parents {
                    let _ = write!(s, "{} 0 R ", ELEM0 + ei);
                }
                s.push_str("] ");
            }
            s.push_str("] >>");
        });
        w.obj(DOC_ELEM, |s| {
            let _ = write!(
                s,
                "<< /Type /StructElem /S /Document /P {STRUCT_ROOT} 0 R /K ["
            );
            for ei in 0..elems.len() {
                let _ = write!(s, "{} 0 R ", ELEM0 + ei);
            }
            s.push_str("] >>");
        });
        for (ei, e) in elems.iter().enumerate() {
            w.obj(ELEM0 + ei, |s| {
                let first_page = e.parts.first().map_or(0, |p| p.0);
                let _ = write!(
                    s,
                    "<< /Type /StructElem /S /{} /P {DOC_ELEM} 0 R /Pg {} 0 R /K [",
                    e.tag.name(),
                    page_obj(first_page)
                );
                for &(pi, mcid) in &e.parts {
                    if pi == first_page {
                        let _ = write!(s, "{mcid} ");
                    } else {
                        let _ =
                            write!(s, "<< /Type /MCR /Pg {} 0 R /MCID {mcid} >> ", page_obj(pi));
                    }
                }
                s.push_str("] >>");
            });
        }
        for (i, page) in pages.iter().enumerate() {
            let p = page_obj(i);
            w.obj(p, |s| {
                let _ = write!(
                    s,
                    "<< /Type /Page /Parent {PAGES} 0 R /MediaBox [0 0 612 792] \
                     /Resources << /Font << /F1 {} 0 R /F2 {} 0 R /F3 {} 0 R >> >> \
                     /Contents {} 0 R /StructParents {i} /Tabs /S >>",
                    FONT0,
                    FONT0 + 1,
                    FONT0 + 2,
                    p + 1
                );
            });
            w.begin(p + 1);
            let body = page.content.as_bytes();
            w.raw(format!("<< /Length {} >>\nstream\n", body.len()).as_bytes());
            w.raw(body);
            w.raw(b"\nendstream");
            w.end();
        }
        w.finish(CATALOG, INFO)
    }
}

/// Object-level writer that records byte offsets for the xref table.
struct PdfWriter {
    buf: Vec<u8>,
    offsets: Vec<usize>, // index = object number; 0 unused
}

impl PdfWriter {
    fn new(total_objects: usize) -> Self {
        let mut buf = Vec::with_capacity(4096);
        // Binary comment marks the file as binary for transfer tools.
        buf.extend_from_slice(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n");
        PdfWriter {
            buf,
            offsets: vec![0; total_objects],
        }
    }

    fn raw(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    fn begin(&mut self, n: usize) {
        if let Some(slot) = self.offsets.get_mut(n) {
            *slot = self.buf.len();
        }
        self.raw(format!("{n} 0 obj\n").as_bytes());
    }

    fn end(&mut self) {
        self.raw(b"\nendobj\n");
    }

    fn obj(&mut self, n: usize, f: impl FnOnce(&mut String)) {
        self.begin(n);
        let mut s = String::new();
        f(&mut s);
        self.raw(s.as_bytes());
        self.end();
    }

    fn finish(mut self, root: usize, info: usize) -> Vec<u8> {
        let id = content_id(&self.buf);
        let xref_at = self.buf.len();
        let mut x = String::new();
        let _ = write!(x, "xref\n0 {}\n0000000000 65535 f \n", self.offsets.len());
        for off in self.offsets.iter().skip(1) {
            let _ = writeln!(x, "{off:010} 00000 n ");
        }
        let _ = write!(
            x,
            "trailer\n<< /Size {} /Root {root} 0 R /Info {info} 0 R /ID [<{id:032x}> <{id:032x}>] >>\n\
             startxref\n{xref_at}\n%%EOF\n",
            self.offsets.len()
        );
        self.buf.extend_from_slice(x.as_bytes());
        self.buf
    }
}

/// The file identifier: the first 128 bits of the body's SHA-256.
fn content_id(data: &[u8]) -> u128 {
    let digest = crate::crypto::sha256(data);
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    u128::from_be_bytes(first)
}

// ---------------------------------------------------------------------------
// Flowing layout
// ---------------------------------------------------------------------------

/// Horizontal alignment of a text block inside the [`Flow`] column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// Top-down layout cursor over a [`Document`]: writes wrapped text blocks
/// into a column and adds a page whenever the bottom margin is reached.
///
/// ```ignore
/// let mut doc = Document::new("Account Access Notice", "en-US");
/// let mut flow = Flow::new(&mut doc);
/// flow.heading("Account Access Notice");
/// flow.label_value("Receipt Number", "IOE0912345678");
/// flow.paragraph("Use the code below to link your case to your account.");
/// flow.highlight("Access code", "K7QF-3M9X-PL2D");
/// // `flow` borrows `doc` mutably until its last use.
/// let bytes = doc.to_bytes();
/// ```
///
/// Every block becomes one structure element (`/H1`, `/H2` or `/P`), even
/// when it spans several lines or pages. All fields are public and may be
/// changed between calls (e.g. set `y` after drawing a letterhead).
#[derive(Debug)]
pub struct Flow<'a> {
    doc: &'a mut Document,
    page: usize,
    /// Left edge of the column, in points.
    pub x: f32,
    /// Width of the column, in points.
    pub width: f32,
    /// Cursor: top of the next line box, in points from the page bottom.
    pub y: f32,
    /// Where the cursor starts on a page added by the flow.
    pub top: f32,
    /// Nothing is written below this.
    pub bottom: f32,
    /// Body text size (default 10.5 pt).
    pub body_size: f32,
    /// Heading size (default 15 pt).
    pub heading_size: f32,
    /// Sub-heading size (default 12 pt).
    pub subheading_size: f32,
    /// Line box height as a multiple of the font size (default 1.3).
    pub line_height: f32,
    /// Space after a paragraph, in points (default 8).
    pub paragraph_gap: f32,
    /// Width of the label column in [`Flow::label_value`] (default 150).
    pub label_width: f32,
}

impl<'a> Flow<'a> {
    /// A flow with 1-inch margins. Continues on the document's last page
    /// (from the top margin), adding a first page if there is none.
    pub fn new(doc: &'a mut Document) -> Self {
        Self::with_margins(doc, 72.0, 72.0, 72.0, 72.0)
    }

    /// A flow with explicit margins (points).
    pub fn with_margins(
        doc: &'a mut Document,
        left: f32,
        right: f32,
        top: f32,
        bottom: f32,
    ) -> Self {
        if doc.pages.is_empty() {
            doc.add_page();
        }
        let page = doc.pages.len() - 1;
        Flow {
            doc,
            page,
            x: left,
            width: (PAGE_WIDTH - left - right).max(1.0),
            y: PAGE_HEIGHT - top,
            top: PAGE_HEIGHT - top,
            bottom,
            body_size: 10.5,
            heading_size: 15.0,
            subheading_size: 12.0,
            line_height: 1.3,
            paragraph_gap: 8.0,
            label_width: 150.0,
        }
    }

    /// The page the cursor is on, for absolute drawing.
    pub fn page(&mut self) -> &mut Page {
        // `new`/`new_page` guarantee the page exists and the document is
        // borrowed for the flow's lifetime, so pages cannot disappear.
        &mut self.doc.pages[self.page]
    }

    /// 0-based index of the page the cursor is on.
    pub fn page_index(&self) -> usize {
        self.page
    }

    /// Starts a new page and moves the cursor to the top margin.
    pub fn new_page(&mut self) {
        self.doc.add_page();
        self.page = self.doc.pages.len() - 1;
        self.y = self.top;
    }

    /// Starts a new page unless `height` points still fit above the bottom
    /// margin (or the cursor is already at the top of a page).
    pub fn ensure_space(&mut self, height: f32) {
        if self.y - height < self.bottom && self.y < self.top {
            self.new_page();
        }
    }

    /// Moves the cursor down by `points` (never starts a page by itself).
    pub fn space(&mut self, points: f32) {
        self.y -= points;
    }

    /// Height of one line box at `size`.
    pub fn line_box(&self, size: f32) -> f32 {
        size * self.line_height
    }

    /// A bold `/H1` heading; kept on the same page as the next two lines.
    pub fn heading(&mut self, s: &str) {
        let size = self.heading_size;
        self.space(2.0);
        self.ensure_space(self.line_box(size) + 3.0 * self.line_box(self.body_size));
        self.block(s, size, Font::Bold, Tag::H1, Align::Left);
        self.space(6.0);
    }

    /// A bold `/H2` heading; kept on the same page as the next two lines.
    pub fn subheading(&mut self, s: &str) {
        let size = self.subheading_size;
        self.space(2.0);
        self.ensure_space(self.line_box(size) + 3.0 * self.line_box(self.body_size));
        self.block(s, size, Font::Bold, Tag::H2, Align::Left);
        self.space(3.0);
    }

    /// A wrapped body paragraph (`\n` breaks lines), then the paragraph gap.
    pub fn paragraph(&mut self, s: &str) {
        self.block(s, self.body_size, Font::Regular, Tag::P, Align::Left);
        self.space(self.paragraph_gap);
    }

    /// Writes `s` wrapped to the column as one structure element, with no
    /// space after it. Lines that do not fit go on a new page.
    pub fn block(&mut self, s: &str, size: f32, font: Font, tag: Tag, align: Align) {
        let group = self.doc.new_group();
        let line_h = self.line_box(size);
        let lines = wrap(s, size, font, self.width);
        let last = lines.len().saturating_sub(1);
        for (i, mut line) in lines.into_iter().enumerate() {
            if self.y - line_h < self.bottom && self.y < self.top {
                self.new_page();
            }
            if !line.is_empty() {
                let x = self.aligned_x(&line, size, font, align);
                let baseline = self.y - line_h + size * 0.22;
                let mark = Mark::Tagged {
                    tag,
                    group: Some(group),
                };
                if i < last {
                    // Invisible, but keeps words apart when assistive
                    // technology concatenates the element's lines.
                    line.push(' ');
                }
                self.page().push_text(x, baseline, size, font, &line, mark);
            }
            self.y -= line_h;
        }
    }

    fn aligned_x(&self, line: &str, size: f32, font: Font, align: Align) -> f32 {
        let free = (self.width - text_width(line, size, font)).max(0.0);
        match align {
            Align::Left => self.x,
            Align::Center => self.x + free / 2.0,
            Align::Right => self.x + free,
        }
    }

    /// A two-column row: bold label on the left, wrapped value to the right
    /// of [`Flow::label_width`]. Tagged as one `/P`; never split over pages.
    pub fn label_value(&mut self, label: &str, value: &str) {
        let size = self.body_size;
        let line_h = self.line_box(size);
        let label_lines = wrap(label, size, Font::Bold, (self.label_width - 8.0).max(1.0));
        let value_x = self.x + self.label_width;
        let value_lines = wrap(
            value,
            size,
            Font::Regular,
            (self.width - self.label_width).max(1.0),
        );
        let rows = label_lines.len().max(value_lines.len());
        let height = line_h * rows as f32;
        self.ensure_space(height);
        let group = self.doc.new_group();
        let mark = Mark::Tagged {
            tag: Tag::P,
            group: Some(group),
        };
        let first_baseline = self.y - line_h + size * 0.22;
        let (x, page) = (self.x, self.page());
        // Trailing spaces are invisible but separate the pieces when the
        // element's text is read as one string.
        for (i, l) in label_lines.iter().enumerate() {
            let y = first_baseline - line_h * i as f32;
            page.push_text(x, y, size, Font::Bold, &format!("{l} "), mark);
        }
        let last = value_lines.len().saturating_sub(1);
        for (i, l) in value_lines.iter().enumerate() {
            let y = first_baseline - line_h * i as f32;
            let s = if i < last { format!("{l} ") } else { l.clone() };
            page.push_text(value_x, y, size, Font::Regular, &s, mark);
        }
        self.y -= height + 2.0;
    }

    /// A shaded, outlined box spanning the column, holding a small bold
    /// label and a large monospaced value (e.g. an access code). The value
    /// is shrunk to fit the box if needed. Tagged as one `/P`.
    pub fn highlight(&mut self, label: &str, value: &str) {
        let pad = 10.0;
        let label_size = 9.0;
        let inner = (self.width - 2.0 * pad).max(1.0);
        let natural = text_width(value, 20.0, Font::Mono);
        let value_size = if natural > inner {
            20.0 * inner / natural
        } else {
            20.0
        };
        let box_h = pad + label_size * 1.2 + 6.0 + value_size * 0.8 + pad;
        self.space(2.0);
        self.ensure_space(box_h);
        let (x, top, w) = (self.x, self.y, self.width);
        let group = self.doc.new_group();
        let mark = Mark::Tagged {
            tag: Tag::P,
            group: Some(group),
        };
        let page = self.page();
        page.fill_rect(x, top - box_h, w, box_h, 0.92);
        page.rect(x, top - box_h, w, box_h, 1.0);
        let label_baseline = top - pad - label_size * 0.75;
        let label = format!("{label} ");
        page.push_text(
            x + pad,
            label_baseline,
            label_size,
            Font::Bold,
            &label,
            mark,
        );
        let value_baseline = top - box_h + pad + value_size * 0.1;
        page.push_text(x + pad, value_baseline, value_size, Font::Mono, value, mark);
        self.y = top - box_h - self.paragraph_gap - 2.0;
    }

    /// A thin horizontal rule across the column (artifact).
    pub fn rule(&mut self) {
        self.ensure_space(8.0);
        let (x, y, w) = (self.x, self.y - 4.0, self.width);
        self.page().line(x, y, x + w, y, 0.75);
        self.y -= 8.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        hay.windows(needle.len()).position(|w| w == needle)
    }

    fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
        hay.windows(needle.len())
            .enumerate()
            .filter(|(_, w)| *w == needle)
            .map(|(i, _)| i)
            .collect()
    }

    fn parse_usize(bytes: &[u8]) -> usize {
        let digits: String = bytes
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .map(|&b| char::from(b))
            .collect();
        digits.parse().unwrap()
    }

    const BODY: &str = "Our records show that you recently created an online account. \
        To link your pending case to this account, sign in and enter the access code \
        shown below exactly as printed. The code is valid for 30 days from the date of \
        this notice and can be used only once. If you did not request this notice, \
        you do not need to do anything — your case will not be affected.";

    /// The sample "Account Access Notice" used by several tests.
    fn sample_letter() -> Document {
        let mut doc = Document::new("Account Access Notice", "en-US");
        let mut f = Flow::new(&mut doc);
        // Letterhead (absolute drawing), then flowing content below it.
        let top = PAGE_HEIGHT - 54.0;
        let x = f.x;
        let w = f.width;
        {
            let page = f.page();
            page.text_tagged(
                x,
                top - 14.0,
                14.0,
                Font::Bold,
                "Casegate Immigration Services",
                Tag::P,
            );
            page.text(
                x,
                top - 28.0,
                9.0,
                Font::Regular,
                "Case Status Office • P.O. Box 1000 • Washington, DC 20529",
            );
            let form = "Form CG-797A";
            page.text_artifact(
                x + w - text_width(form, 9.0, Font::Bold),
                top - 14.0,
                9.0,
                Font::Bold,
                form,
            );
            page.line(x, top - 38.0, x + w, top - 38.0, 1.5);
        }
        f.y = top - 52.0;
        f.block(
            "March 3, 2025",
            f.body_size,
            Font::Regular,
            Tag::P,
            Align::Right,
        );
        f.space(6.0);
        f.paragraph("José Núñez\n1234 Calle Ñandú, Apt. 5\nSan José, CA 95112");
        f.space(4.0);
        f.heading("Account Access Notice");
        f.label_value("Receipt Number", "IOE0912345678");
        f.label_value(
            "Case Type",
            "I-765, Application for Employment Authorization",
        );
        f.label_value("Applicant", "José Núñez");
        f.label_value("Notice Date", "March 3, 2025");
        f.space(6.0);
        f.paragraph(BODY);
        f.highlight("YOUR ACCOUNT ACCESS CODE", "K7QF-3M9X-PL2D");
        f.subheading("How to use this code");
        f.paragraph(
            "1. Go to the “My Cases” page and choose “Add a case”.\n\
                     2. Enter your receipt number and the access code above.\n\
                     3. Keep this notice for your records – fee €0.00.",
        );
        f.rule();
        f.block(
            "Never share this code. Agency staff will never ask you for it by phone or e-mail.",
            9.0,
            Font::Regular,
            Tag::P,
            Align::Left,
        );
        doc.number_pages(PAGE_WIDTH / 2.0, 36.0, 8.0, |i, n| {
            format!("Page {i} of {n}")
        });
        doc
    }

    fn long_document() -> Document {
        let mut doc = Document::new("Aviso de acceso — prueba", "es-US");
        let mut f = Flow::new(&mut doc);
        f.heading("Aviso de acceso a la cuenta");
        for i in 0..40 {
            f.paragraph(&format!("Párrafo {i}: {BODY}"));
        }
        doc
    }

    #[test]
    fn deterministic_output() {
        let a = sample_letter().to_bytes();
        let b = sample_letter().to_bytes();
        assert_eq!(a, b);
        let c = long_document().to_bytes();
        assert_eq!(c, long_document().to_bytes());
        assert_ne!(a, c);
        assert!(a.starts_with(b"%PDF-1.7\n"));
        assert!(a.ends_with(b"%%EOF\n"));
        assert!(find(&a, b"CreationDate").is_none());
    }

    #[test]
    fn id_is_content_hash() {
        let a = sample_letter().to_bytes();
        let b = long_document().to_bytes();
        let id = |bytes: &[u8]| {
            let at = find(bytes, b"/ID [<").unwrap() + 6;
            bytes[at..at + 32].to_vec()
        };
        assert_ne!(id(&a), id(&b));
        let xref = find(&a, b"\nxref\n").unwrap() + 1;
        assert_eq!(
            id(&a),
            hex::encode(&crate::crypto::sha256(&a[..xref])[..16]).into_bytes()
        );
    }

    fn check_xref(pdf: &[u8]) -> usize {
        let sx = find_all(pdf, b"startxref\n");
        assert_eq!(sx.len(), 1);
        let xref_at = parse_usize(&pdf[sx[0] + 10..]);
        assert!(pdf[xref_at..].starts_with(b"xref\n0 "));
        let count = parse_usize(&pdf[xref_at + 7..]);
        let mut pos = xref_at + 7 + count.to_string().len() + 1;
        assert_eq!(&pdf[pos..pos + 20], b"0000000000 65535 f \n");
        pos += 20;
        for n in 1..count {
            let entry = &pdf[pos..pos + 20];
            assert_eq!(&entry[10..], b" 00000 n \n", "entry {n}");
            let off = parse_usize(&entry[..10]);
            let expect = format!("{n} 0 obj\n");
            assert!(
                pdf[off..].starts_with(expect.as_bytes()),
                "object {n} not at offset {off}"
            );
            assert!(off == 15 || pdf[off - 1] == b'\n');
            pos += 20;
        }
        assert!(pdf[pos..].starts_with(b"trailer\n"));
        let size = format!("/Size {count} ");
        assert!(find(pdf, size.as_bytes()).is_some());
        count
    }

    #[test]
    fn xref_offsets_point_at_objects() {
        check_xref(&sample_letter().to_bytes());
        check_xref(&long_document().to_bytes());
        check_xref(&Document::new("empty", "en-US").to_bytes());
    }

    #[test]
    fn stream_lengths_match() {
        for pdf in [sample_letter().to_bytes(), long_document().to_bytes()] {
            let starts = find_all(&pdf, b"stream\n");
            let starts: Vec<usize> = starts
                .into_iter()
                .filter(|&i| i == 0 || pdf[i - 1] == b'\n')
                .collect();
            assert!(!starts.is_empty());
            for s in starts {
                let data = s + 7;
                let end = data + find(&pdf[data..], b"\nendstream").unwrap();
                let len_at = pdf[..s].windows(8).rposition(|w| w == b"/Length ").unwrap();
                let declared = parse_usize(&pdf[len_at + 8..]);
                assert_eq!(declared, end - data);
            }
        }
    }

    #[test]
    fn escapes_string_delimiters() {
        let mut doc = Document::new("Title (draft) \\ x", "en-US");
        doc.add_page()
            .text(72.0, 700.0, 12.0, Font::Regular, r"a(b)c\d é");
        let pdf = doc.to_bytes();
        assert!(find(&pdf, br"(a\(b\)c\\d \351) Tj").is_some());
        assert!(find(&pdf, br"/Title (Title \(draft\) \\ x)").is_some());
        let mut s = String::new();
        push_pdf_string(&mut s, b"\x00\n\r\xff");
        assert_eq!(s, r"(\000\012\015\377)");
    }

    #[test]
    fn non_ascii_title_is_utf16() {
        let pdf = Document::new("Aviso — José", "es-US").to_bytes();
        assert!(find(&pdf, b"/Title <FEFF").is_some());
        assert!(
            find(
                &pdf,
                b"<FEFF0041007600690073006F002020140020004A006F007300E9>"
            )
            .is_some()
        );
        assert!(find(&pdf, b"/Lang (es-US)").is_some());
    }

    #[test]
    fn winansi_mapping() {
        assert_eq!(encode_winansi("é"), vec![0xE9]);
        assert_eq!(encode_winansi("€"), vec![0x80]);
        assert_eq!(
            encode_winansi("‘’“”–—•…™"),
            vec![0x91, 0x92, 0x93, 0x94, 0x96, 0x97, 0x95, 0x85, 0x99]
        );
        assert_eq!(
            encode_winansi("ŠšŽžŒœŸƒ"),
            vec![0x8A, 0x9A, 0x8E, 0x9E, 0x8C, 0x9C, 0x9F, 0x83]
        );
        assert_eq!(
            encode_winansi("Ñ ñ ü ß Ø ø Æ ÿ"),
            b"\xD1 \xF1 \xFC \xDF \xD8 \xF8 \xC6 \xFF"
        );
        assert_eq!(encode_winansi("A\u{A0}B"), b"A\xA0B");
        // Decomposed input is composed first.
        assert_eq!(encode_winansi("Jose\u{301}"), b"Jos\xE9");
    }

    #[test]
    fn transliteration() {
        assert_eq!(encode_winansi("ễ"), b"e");
        assert_eq!(encode_winansi("Nguyễn"), b"Nguyen");
        assert_eq!(encode_winansi("Łódź"), b"L\xF3dz");
        assert_eq!(encode_winansi("Đặng đ"), b"Dang d");
        assert_eq!(encode_winansi("Straẞe"), b"StraSSe");
        assert_eq!(encode_winansi("ﬁle ½ ①"), b"file \xBD 1");
        assert_eq!(encode_winansi("Ţ ș ğ ı"), b"T s g i");
        assert_eq!(encode_winansi("漢字 Ж"), b"?? ?");
        assert_eq!(encode_winansi("a\u{200B}b\u{AD}c\td\ne"), b"abc d e");
        assert_eq!(encode_winansi("x\u{2212}1 \u{2010}"), b"x-1 -");
        // A stray combining mark with no base vanishes.
        assert_eq!(encode_winansi("\u{301}a"), b"a");
    }

    #[test]
    fn widths_match_afm() {
        assert_eq!(units("Hello", Font::Regular), 722 + 556 + 222 + 222 + 556);
        assert_eq!(units("Hello", Font::Bold), 722 + 556 + 278 + 278 + 611);
        assert_eq!(units("@", Font::Regular), 1015);
        assert_eq!(units("€—", Font::Regular), 556 + 1000);
        assert_eq!(units("“”", Font::Bold), 1000);
        assert_eq!(units("é", Font::Regular), 556);
        assert_eq!(units("Æ", Font::Bold), 1000);
        assert!((text_width("ABCD-1234", 10.0, Font::Mono) - 54.0).abs() < 1e-4);
        assert!((text_width("W", 12.0, Font::Regular) - 11.328).abs() < 1e-4);
        assert_eq!(text_width("", 12.0, Font::Bold), 0.0);
    }

    #[test]
    fn wrap_respects_width_and_keeps_words() {
        let text =
            format!("{BODY} Supercalifragilisticexpialidocious-and-then-some-more-words {BODY}");
        for (font, size, max) in [
            (Font::Regular, 10.5, 468.0),
            (Font::Bold, 12.0, 200.0),
            (Font::Mono, 9.0, 120.0),
            (Font::Regular, 11.0, 60.0),
        ] {
            let lines = wrap(&text, size, font, max);
            assert!(lines.len() > 1);
            for l in &lines {
                assert!(text_width(l, size, font) <= max + 1e-3, "{l:?} too wide");
                assert!(!l.is_empty() && !l.starts_with(' ') && !l.ends_with(' '));
            }
            // Greedy: the next line's first word did not fit on this line.
            for pair in lines.windows(2) {
                let next_word = pair[1].split(' ').next().unwrap();
                let joined = format!("{} {next_word}", pair[0]);
                if !pair[0].contains("Supercal")
                    && !next_word.contains("Supercal")
                    && !next_word.contains("-")
                {
                    assert!(
                        text_width(&joined, size, font) > max,
                        "{joined:?} would fit"
                    );
                }
            }
            // Breaking long words only splits, never drops characters.
            let original: String = text.split_whitespace().collect();
            let rewrapped: String = lines.iter().flat_map(|l| l.split(' ')).collect();
            assert_eq!(original, rewrapped);
        }
        let long = wrap("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 10.0, Font::Mono, 60.0);
        assert_eq!(long, vec!["ABCDEFGHIJ", "KLMNOPQRST", "UVWXYZ"]);
        assert_eq!(
            wrap("a\n\nb  c", 10.0, Font::Regular, 100.0),
            vec!["a", "", "b c"]
        );
        assert_eq!(wrap("", 10.0, Font::Regular, 100.0), vec![""]);
        // Degenerate width: one character per line, no infinite loop.
        assert_eq!(wrap("abc", 10.0, Font::Regular, 0.0), vec!["a", "b", "c"]);
    }

    #[test]
    fn flow_breaks_pages_and_tags_structure() {
        let doc = long_document();
        assert!(doc.page_count() >= 3, "{} pages", doc.page_count());
        let pdf = doc.to_bytes();
        let count = format!("/Count {} ", doc.page_count());
        assert!(find(&pdf, count.as_bytes()).is_some());
        // Every page has content within the margins.
        for page in &doc.pages {
            assert!(!page.marks.is_empty());
            for line in page.content.lines() {
                if let Some(td) = line.find(" Td ") {
                    let before: Vec<&str> = line[..td].split(' ').collect();
                    let y: f32 = before[before.len() - 1].parse().unwrap();
                    assert!((72.0..=720.0).contains(&y), "baseline {y}");
                }
            }
        }
        // One H1 plus 40 paragraphs, some continued on the next page via MCRs.
        assert_eq!(find_all(&pdf, b"/S /H1 ").len(), 1);
        assert_eq!(find_all(&pdf, b"/S /P ").len(), 40);
        assert!(find(&pdf, b"<< /Type /MCR /Pg ").is_some());
        assert!(find(&pdf, b"/MarkInfo << /Marked true >>").is_some());
        assert!(find(&pdf, b"/StructParents 2 ").is_some());
        assert!(find(&pdf, b"/ViewerPreferences << /DisplayDocTitle true >>").is_some());
        // Parent tree lists one element per MCID on each page.
        let total_mcids: usize = doc.pages.iter().map(|p| p.marks.len()).sum();
        let nums_at = find(&pdf, b"/Nums [").unwrap();
        let nums_end = nums_at + find(&pdf[nums_at..], b">>").unwrap();
        let refs = find_all(&pdf[nums_at..nums_end], b" 0 R").len();
        assert_eq!(refs, total_mcids);
    }

    #[test]
    fn sample_letter_is_one_page_and_tagged() {
        let doc = sample_letter();
        assert_eq!(doc.page_count(), 1);
        let pdf = doc.to_bytes();
        let s = String::from_utf8_lossy(&pdf);
        assert!(s.contains("/Encoding /WinAnsiEncoding"));
        assert!(s.contains("/BaseFont /Courier-Bold"));
        assert!(s.contains("/Producer (casegate)"));
        assert!(s.contains("/Lang (en-US)"));
        assert!(s.contains("(K7QF-3M9X-PL2D) Tj"));
        assert!(s.contains(r"(Jos\351 N\372\361ez) Tj"));
        assert!(s.contains("/H1 << /MCID"));
        assert!(s.contains("/Artifact << /Type /Pagination >> BDC"));
        assert!(s.contains("(Page 1 of 1) Tj"));
        // Each BDC/BMC is closed.
        let opens = s.matches(" BDC ").count() + s.matches(" BMC ").count();
        assert_eq!(opens, s.matches(" EMC").count());
    }

    /// The external checker, if installed. The test command sets
    /// `CASEGATE_REQUIRE_PDF_TOOLS`, and then a missing tool is a failure.
    fn tool(name: &str) -> Option<std::path::PathBuf> {
        let p = std::path::Path::new("/usr/bin").join(name);
        if !p.exists() && std::env::var_os("CASEGATE_REQUIRE_PDF_TOOLS").is_some() {
            panic!("{name} is required (CASEGATE_REQUIRE_PDF_TOOLS is set)");
        }
        p.exists().then_some(p)
    }

    fn temp_pdf(tag: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "casegate-pdf-test-{}-{tag}.pdf",
            std::process::id()
        ));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn pdftotext_extracts_text() {
        let Some(pdftotext) = tool("pdftotext") else {
            eprintln!("pdftotext not installed; skipping");
            return;
        };
        for (tag, doc, expect) in [
            (
                "letter",
                sample_letter(),
                &[
                    "José Núñez",
                    "San José, CA 95112",
                    "Account Access Notice",
                    "K7QF-3M9X-PL2D",
                    "IOE0912345678",
                    "“My Cases”",
                    "fee €0.00",
                    "anything — your case",
                    "Page 1 of 1",
                ][..],
            ),
            (
                "long",
                long_document(),
                &["Párrafo 39:", "Aviso de acceso a la cuenta"][..],
            ),
        ] {
            let path = temp_pdf(tag, &doc.to_bytes());
            let out = std::process::Command::new(&pdftotext)
                .args(["-enc", "UTF-8"])
                .arg(&path)
                .arg("-")
                .output()
                .unwrap();
            std::fs::remove_file(&path).unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                out.stderr.is_empty(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8(out.stdout).unwrap();
            for e in expect {
                assert!(text.contains(e), "missing {e:?} in:\n{text}");
            }
        }
    }

    #[test]
    fn qpdf_check_passes() {
        let Some(qpdf) = tool("qpdf") else {
            eprintln!("qpdf not installed; skipping");
            return;
        };
        for (tag, doc) in [
            ("qletter", sample_letter()),
            ("qlong", long_document()),
            ("qempty", Document::new("", "en-US")),
        ] {
            let path = temp_pdf(tag, &doc.to_bytes());
            let out = std::process::Command::new(&qpdf)
                .arg("--check")
                .arg(&path)
                .output()
                .unwrap();
            std::fs::remove_file(&path).unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                stdout.contains("No syntax or stream encoding errors"),
                "{stdout}"
            );
            assert!(!stdout.contains("WARNING"), "{stdout}");
        }
    }

    /// `cargo test -- --ignored write_sample` writes the sample letter to
    /// `$CASEGATE_PDF_SAMPLE` (default `/tmp/sample.pdf`).
    #[test]
    #[ignore]
    fn write_sample() {
        let path =
            std::env::var("CASEGATE_PDF_SAMPLE").unwrap_or_else(|_| "/tmp/sample.pdf".into());
        std::fs::write(path, sample_letter().to_bytes()).unwrap();
    }
}
