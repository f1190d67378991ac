//! Person names and dates of birth (PII: `Debug` never prints them in full).

use chrono::{Datelike, Days, NaiveDate, Utc};
use std::fmt;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Maximum length of each name part, in characters (after normalisation).
pub const MAX_NAME: usize = 100;

/// Why a name is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum NameError {
    #[error("family name is required")]
    FamilyMissing,
    #[error("given name is too long")]
    GivenTooLong,
    #[error("family name is too long")]
    FamilyTooLong,
    #[error("given name is invalid")]
    GivenInvalid,
    #[error("family name is invalid")]
    FamilyInvalid,
}

/// A person's name as entered (NFC, trimmed, inner whitespace collapsed;
/// casing and accents kept). The given name may be empty (mononyms).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonName {
    given: String,
    family: String,
}

enum PartProblem {
    TooLong,
    Invalid,
}

/// Invisible formatting characters that enable display spoofing
/// (bidi overrides/isolates, zero-width space, word joiner, BOM, LRM/RLM).
/// ZWJ/ZWNJ are allowed: some scripts need them.
fn is_spoofing_char(c: char) -> bool {
    matches!(c,
        '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

fn clean_part(input: &str) -> Result<String, PartProblem> {
    if input.chars().any(|c| c.is_control() || is_spoofing_char(c)) {
        return Err(PartProblem::Invalid);
    }
    let nfc: String = input.nfc().collect();
    let out = nfc.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.is_empty() {
        return Ok(out);
    }
    if out.chars().count() > MAX_NAME {
        return Err(PartProblem::TooLong);
    }
    if !out.chars().any(char::is_alphabetic) {
        return Err(PartProblem::Invalid);
    }
    Ok(out)
}

/// Whether `c` is a letter of the Latin script (Latin-1 Supplement,
/// Extended-A/B/C/D/E, IPA, phonetic and Extended Additional blocks).
fn is_latin_letter(c: char) -> bool {
    c.is_alphabetic()
        && matches!(u32::from(c),
            0x00C0..=0x02AF | 0x1D00..=0x1DBF | 0x1E00..=0x1EFF | 0x2C60..=0x2C7F
            | 0xA720..=0xA7FF | 0xAB30..=0xAB6F)
}

/// Apostrophes, periods (and the Catalan middle dot), hyphens and dashes: deleted before comparison,
/// like spaces.
fn is_ignored_mark(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'
            | '\u{2011}'
            | '\u{2012}'
            | '\u{2013}'
            | '\u{2014}'
            | '\''
            | '\u{2018}'
            | '\u{2019}'
            | '\u{02BC}'
            | '`'
            | '\u{00B4}'
            | '.'
            | '\u{00B7}'
    )
}

/// Folding used for loose comparison: NFKD without combining marks, every
/// remaining Latin letter transliterated to ASCII (`Ł`→`L`, `Ø`→`O`,
/// `ß`→`ss`, `Æ`→`AE`, `Þ`→`TH`, `ı`→`i`; the `deunicode` tables), lowercase,
/// and apostrophes, periods, hyphens and spaces deleted (so `O'Neil-Smith`,
/// `ONeil Smith` and `o neil smith` fold alike). Letters of other scripts
/// are kept as they are.
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfkd().filter(|c| !is_combining_mark(*c)) {
        if c.is_whitespace() || is_ignored_mark(c) {
            continue;
        }
        let ascii = is_latin_letter(c)
            .then(|| deunicode::deunicode_char(c))
            .flatten();
        match ascii {
            Some(a) => out.extend(
                a.chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .map(|c| c.to_ascii_lowercase()),
            ),
            None => out.extend(c.to_lowercase()),
        }
    }
    out
}

impl PersonName {
    /// Parses given and family names. Each is trimmed, whitespace-collapsed
    /// and NFC-normalised; at most 100 characters; must contain a letter
    /// (so digits-only or punctuation-only is rejected); no control or
    /// invisible bidi/zero-width characters. `given` may be empty;
    /// `family` may not. The given name is checked first.
    pub fn parse(given: &str, family: &str) -> Result<PersonName, NameError> {
        let given = clean_part(given).map_err(|p| match p {
            PartProblem::TooLong => NameError::GivenTooLong,
            PartProblem::Invalid => NameError::GivenInvalid,
        })?;
        let family = clean_part(family).map_err(|p| match p {
            PartProblem::TooLong => NameError::FamilyTooLong,
            PartProblem::Invalid => NameError::FamilyInvalid,
        })?;
        if family.is_empty() {
            return Err(NameError::FamilyMissing);
        }
        Ok(PersonName { given, family })
    }

    /// Given name; empty for people with a single name.
    pub fn given(&self) -> &str {
        &self.given
    }

    pub fn family(&self) -> &str {
        &self.family
    }

    /// `"Given Family"`, or just `"Family"` when there is no given name.
    pub fn full(&self) -> String {
        if self.given.is_empty() {
            self.family.clone()
        } else {
            format!("{} {}", self.given, self.family)
        }
    }

    /// True if both parts are equal after [`fold`]: case, accents, Latin
    /// letters beyond ASCII (`Łukasz Østergård` matches `Lukasz Ostergard`),
    /// apostrophes, periods, hyphens and spaces do not count (`José
    /// O'Neil-Smith` matches `jose oneil smith`). Given and family are compared
    /// separately, so they never swap.
    pub fn matches_loosely(&self, other: &PersonName) -> bool {
        fold(&self.given) == fold(&other.given) && fold(&self.family) == fold(&other.family)
    }
}

fn mask_part(s: &str) -> String {
    match s.chars().next() {
        Some(c) => format!("{c}•••"),
        None => String::new(),
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonName")
            .field("given", &mask_part(&self.given))
            .field("family", &mask_part(&self.family))
            .finish()
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full())
    }
}

/// Why a date of birth is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum DobError {
    #[error("date of birth is required")]
    Missing,
    #[error("month is required")]
    MissingMonth,
    #[error("day is required")]
    MissingDay,
    #[error("year is required")]
    MissingYear,
    #[error("month is invalid")]
    InvalidMonth,
    #[error("day is invalid")]
    InvalidDay,
    #[error("year must have 4 digits")]
    InvalidYear,
    #[error("year must be 1900 or later")]
    TooEarly,
    #[error("date is in the future")]
    Future,
    #[error("date must be YYYY-MM-DD")]
    Format,
}

/// Earliest accepted year of birth.
pub const MIN_BIRTH_YEAR: i32 = 1900;

/// A date of birth: year ≥ 1900 and not in the future.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DateOfBirth(NaiveDate);

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn small_number(s: &str, max_digits: usize) -> Option<u32> {
    if s.is_empty() || s.len() > max_digits || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_month(s: &str) -> Option<u32> {
    if let Some(n) = small_number(s, 2) {
        return (1..=12).contains(&n).then_some(n);
    }
    let word = s.trim_end_matches('.').to_lowercase();
    if word.len() < 3 {
        return None;
    }
    let idx = MONTHS
        .iter()
        .position(|m| *m == word || m.get(..3) == Some(word.as_str()))
        .or_else(|| (word == "sept").then_some(8))?;
    u32::try_from(idx + 1).ok()
}

impl DateOfBirth {
    /// Parses the three boxes of a memorable-date form. `month` is 1–12
    /// (leading zero allowed) or an English month name / 3-letter
    /// abbreviation; `day` is 1–2 digits valid for the month and year;
    /// `year` is exactly 4 digits, ≥ 1900. Must not be after `today`.
    pub fn parse_parts(
        month: &str,
        day: &str,
        year: &str,
        today: NaiveDate,
    ) -> Result<DateOfBirth, DobError> {
        let (month, day, year) = (month.trim(), day.trim(), year.trim());
        match (month.is_empty(), day.is_empty(), year.is_empty()) {
            (true, true, true) => return Err(DobError::Missing),
            (true, _, _) => return Err(DobError::MissingMonth),
            (_, true, _) => return Err(DobError::MissingDay),
            (_, _, true) => return Err(DobError::MissingYear),
            _ => {}
        }
        let m = parse_month(month).ok_or(DobError::InvalidMonth)?;
        let d = small_number(day, 2)
            .filter(|d| (1..=31).contains(d))
            .ok_or(DobError::InvalidDay)?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DobError::InvalidYear);
        }
        let y: i32 = year.parse().map_err(|_| DobError::InvalidYear)?;
        if y < MIN_BIRTH_YEAR {
            return Err(DobError::TooEarly);
        }
        let date = NaiveDate::from_ymd_opt(y, m, d).ok_or(DobError::InvalidDay)?;
        if date > today {
            return Err(DobError::Future);
        }
        Ok(DateOfBirth(date))
    }

    /// Parses strict `YYYY-MM-DD` (e.g. from storage). "Future" is judged
    /// against tomorrow's UTC date, so a value validated in any time zone
    /// always loads.
    pub fn parse_iso(input: &str) -> Result<DateOfBirth, DobError> {
        let today = Utc::now().date_naive();
        let latest = today.checked_add_days(Days::new(1)).unwrap_or(today);
        Self::parse_iso_until(input, latest)
    }

    fn parse_iso_until(input: &str, latest: NaiveDate) -> Result<DateOfBirth, DobError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(DobError::Missing);
        }
        let b = s.as_bytes();
        let shape_ok = b.len() == 10
            && b.iter().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !shape_ok {
            return Err(DobError::Format);
        }
        let num = |r: std::ops::Range<usize>| s.get(r).and_then(|p| p.parse::<u32>().ok());
        let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
            return Err(DobError::Format);
        };
        let y = i32::try_from(y).map_err(|_| DobError::Format)?;
        if y < MIN_BIRTH_YEAR {
            return Err(DobError::TooEarly);
        }
        let date = NaiveDate::from_ymd_opt(y, m, d).ok_or(DobError::Format)?;
        if date > latest {
            return Err(DobError::Future);
        }
        Ok(DateOfBirth(date))
    }

    pub fn date(&self) -> NaiveDate {
        self.0
    }

    /// `YYYY-MM-DD`.
    pub fn iso(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}",
            self.0.year(),
            self.0.month(),
            self.0.day()
        )
    }
}

impl fmt::Debug for DateOfBirth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DateOfBirth(<redacted>)")
    }
}

impl fmt::Display for DateOfBirth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.iso())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn today() -> NaiveDate {
        d(2025, 6, 15)
    }

    #[test]
    fn names_parse() {
        let n = PersonName::parse("  María   José ", " García-López ").unwrap();
        assert_eq!(n.given(), "María José");
        assert_eq!(n.family(), "García-López");
        assert_eq!(n.full(), "María José García-López");
        assert_eq!(n.to_string(), "María José García-López");

        let mono = PersonName::parse("", "Suharto").unwrap();
        assert_eq!(mono.given(), "");
        assert_eq!(mono.full(), "Suharto");

        // NFC: decomposed input is stored composed.
        let decomposed = PersonName::parse("Jose\u{301}", "X").unwrap();
        assert_eq!(decomposed.given(), "José");
        // Non-Latin scripts and ZWNJ are fine.
        assert!(PersonName::parse("محمد", "علی").is_ok());
        assert!(PersonName::parse("میتوان", "نامه\u{200C}ای").is_ok());
        assert!(PersonName::parse("John 3rd", "Smith").is_ok());

        let max = "a".repeat(MAX_NAME);
        assert!(PersonName::parse(&max, &max).is_ok());
    }

    #[test]
    fn name_errors() {
        use NameError::*;
        assert_eq!(PersonName::parse("John", ""), Err(FamilyMissing));
        assert_eq!(PersonName::parse("John", "   "), Err(FamilyMissing));
        assert_eq!(PersonName::parse("", ""), Err(FamilyMissing));
        let long = "a".repeat(MAX_NAME + 1);
        assert_eq!(PersonName::parse(&long, "Smith"), Err(GivenTooLong));
        assert_eq!(PersonName::parse("John", &long), Err(FamilyTooLong));
        assert_eq!(PersonName::parse("Jo\nhn", "Smith"), Err(GivenInvalid));
        assert_eq!(PersonName::parse("John", "Sm\u{0}ith"), Err(FamilyInvalid));
        assert_eq!(
            PersonName::parse("John", "Smith\u{202E}"),
            Err(FamilyInvalid)
        );
        assert_eq!(PersonName::parse("12345", "Smith"), Err(GivenInvalid));
        assert_eq!(PersonName::parse("John", "42"), Err(FamilyInvalid));
        assert_eq!(PersonName::parse("John", "-- ."), Err(FamilyInvalid));
        // Given checked first.
        assert_eq!(PersonName::parse("1", ""), Err(GivenInvalid));
    }

    #[test]
    fn loose_matching() {
        let a = PersonName::parse("José", "O'Neil-Smith").unwrap();
        for (g, f) in [
            ("jose", "o neil smith"),
            ("JOSE", "ONeil Smith"),
            ("José", "O’Neil–Smith"),
            ("  Jose\u{301} ", "o.neil  smith"),
        ] {
            let b = PersonName::parse(g, f).unwrap();
            assert!(a.matches_loosely(&b), "{g} {f}");
        }
        // Transliterated Latin letters, apostrophes deleted, hyphens and
        // spaces and their absence alike.
        for (g1, f1, g2, f2) in [
            ("Łukasz", "Wałęsa", "Lukasz", "Walesa"),
            ("Søren", "Kierkegård", "soren", "KIERKEGARD"),
            ("Ægir", "Þórsson", "Aegir", "Thorsson"),
            ("Œdipe", "Đorđević", "Oedipe", "Dordevic"),
            ("Iıl", "Yıldız", "Iil", "Yildiz"),
            ("Hans", "Weiß", "Hans", "Weiss"),
            ("D'Angelo", "O'Brien", "DAngelo", "O Brien"),
            ("Mary-Kate", "Smith Jones", "Marykate", "SmithJones"),
            ("Jean-Luc", "Le Pen", "jean luc", "lepen"),
        ] {
            let a = PersonName::parse(g1, f1).unwrap();
            let b = PersonName::parse(g2, f2).unwrap();
            assert!(a.matches_loosely(&b), "{g1} {f1} / {g2} {f2}");
        }
        // Other scripts are not romanised: 张 is not 章.
        let z1 = PersonName::parse("伟", "张").unwrap();
        let z2 = PersonName::parse("伟", "章").unwrap();
        assert!(!z1.matches_loosely(&z2));
        let z3 = PersonName::parse("Wei", "Zhang").unwrap();
        assert!(!z1.matches_loosely(&z3));
        let s1 = PersonName::parse("Hans", "Straße").unwrap();
        let s2 = PersonName::parse("hans", "STRASSE").unwrap();
        assert!(s1.matches_loosely(&s2));
        let other = PersonName::parse("Jose", "Smith").unwrap();
        assert!(!a.matches_loosely(&other));
        // Parts are not interchangeable.
        let x = PersonName::parse("Lee", "Kim").unwrap();
        let y = PersonName::parse("Kim", "Lee").unwrap();
        assert!(!x.matches_loosely(&y));
    }

    #[test]
    fn name_debug_is_masked() {
        let n = PersonName::parse("Alice", "Wonderland").unwrap();
        let dbg = format!("{n:?}");
        assert_eq!(dbg, r#"PersonName { given: "A•••", family: "W•••" }"#);
        assert!(!dbg.contains("Alice"));
        let mono = PersonName::parse("", "Xu").unwrap();
        assert_eq!(
            format!("{mono:?}"),
            r#"PersonName { given: "", family: "X•••" }"#
        );
    }

    #[test]
    fn dob_parts() {
        let t = today();
        let dob = DateOfBirth::parse_parts("3", "7", "1985", t).unwrap();
        assert_eq!(dob.date(), d(1985, 3, 7));
        assert_eq!(dob.iso(), "1985-03-07");
        assert_eq!(dob.to_string(), "1985-03-07");
        assert_eq!(
            DateOfBirth::parse_parts(" 03 ", "07", " 1985", t).unwrap(),
            dob
        );
        assert_eq!(
            DateOfBirth::parse_parts("Mar", "7", "1985", t).unwrap(),
            dob
        );
        assert_eq!(
            DateOfBirth::parse_parts("march", "7", "1985", t).unwrap(),
            dob
        );
        assert_eq!(
            DateOfBirth::parse_parts("MAR.", "7", "1985", t).unwrap(),
            dob
        );
        assert_eq!(
            DateOfBirth::parse_parts("Sept", "1", "2000", t)
                .unwrap()
                .date(),
            d(2000, 9, 1)
        );
        assert_eq!(
            DateOfBirth::parse_parts("2", "29", "2000", t)
                .unwrap()
                .date(),
            d(2000, 2, 29)
        );
        assert_eq!(
            DateOfBirth::parse_parts("1", "1", "1900", t)
                .unwrap()
                .date(),
            d(1900, 1, 1)
        );
        // Born today is fine.
        assert_eq!(
            DateOfBirth::parse_parts("6", "15", "2025", t)
                .unwrap()
                .date(),
            t
        );
        assert_eq!(format!("{dob:?}"), "DateOfBirth(<redacted>)");
    }

    #[test]
    fn dob_part_errors() {
        use DobError::*;
        let t = today();
        let p = |m: &str, dd: &str, y: &str| DateOfBirth::parse_parts(m, dd, y, t);
        assert_eq!(p("", " ", ""), Err(Missing));
        assert_eq!(p("", "1", "2000"), Err(MissingMonth));
        assert_eq!(p("1", "", "2000"), Err(MissingDay));
        assert_eq!(p("1", "1", ""), Err(MissingYear));
        assert_eq!(p("0", "1", "2000"), Err(InvalidMonth));
        assert_eq!(p("13", "1", "2000"), Err(InvalidMonth));
        assert_eq!(p("001", "1", "2000"), Err(InvalidMonth));
        assert_eq!(p("ja", "1", "2000"), Err(InvalidMonth));
        assert_eq!(p("jab", "1", "2000"), Err(InvalidMonth));
        assert_eq!(p("-1", "1", "2000"), Err(InvalidMonth));
        assert_eq!(p("1", "0", "2000"), Err(InvalidDay));
        assert_eq!(p("1", "32", "2000"), Err(InvalidDay));
        assert_eq!(p("1", "1st", "2000"), Err(InvalidDay));
        assert_eq!(p("2", "30", "2000"), Err(InvalidDay));
        assert_eq!(p("2", "29", "1900"), Err(InvalidDay));
        assert_eq!(p("4", "31", "2000"), Err(InvalidDay));
        assert_eq!(p("1", "1", "85"), Err(InvalidYear));
        assert_eq!(p("1", "1", "19850"), Err(InvalidYear));
        assert_eq!(p("1", "1", "+985"), Err(InvalidYear));
        assert_eq!(p("1", "1", "1899"), Err(TooEarly));
        assert_eq!(p("6", "16", "2025"), Err(Future));
        assert_eq!(p("1", "1", "2026"), Err(Future));
    }

    #[test]
    fn dob_iso() {
        use DobError::*;
        let latest = d(2025, 6, 16);
        let p = |s: &str| DateOfBirth::parse_iso_until(s, latest);
        assert_eq!(p("1985-03-07").unwrap().date(), d(1985, 3, 7));
        assert_eq!(p(" 1985-03-07 ").unwrap().iso(), "1985-03-07");
        assert_eq!(p("2025-06-16").unwrap().date(), latest);
        assert_eq!(p("2025-06-17"), Err(Future));
        assert_eq!(p("1899-12-31"), Err(TooEarly));
        assert_eq!(p(""), Err(Missing));
        for bad in [
            "1985-3-7",
            "1985/03/07",
            "85-03-07",
            "1985-13-01",
            "1985-02-30",
            "1985-00-10",
            "1985-03-07T00:00",
            "+985-03-07",
            "1985-0３-07",
            "1985-03-07x",
        ] {
            assert_eq!(p(bad), Err(Format), "{bad}");
        }
        // The public wrapper uses the real clock.
        assert!(DateOfBirth::parse_iso("2000-01-01").is_ok());
        assert_eq!(DateOfBirth::parse_iso("9999-01-01"), Err(Future));
    }

    /// Name pieces: a Latin letter (or letters) as written on file, and its
    /// ASCII transliteration as a person may type it.
    const PIECES: &[(&str, &str)] = &[
        ("a", "a"),
        ("B", "B"),
        ("c", "c"),
        ("D", "D"),
        ("e", "e"),
        ("k", "k"),
        ("M", "M"),
        ("o", "o"),
        ("r", "r"),
        ("S", "S"),
        ("t", "t"),
        ("u", "u"),
        ("v", "v"),
        ("y", "y"),
        ("Ł", "L"),
        ("ł", "l"),
        ("Ø", "O"),
        ("ø", "o"),
        ("ß", "ss"),
        ("Æ", "AE"),
        ("æ", "ae"),
        ("Œ", "OE"),
        ("œ", "oe"),
        ("Đ", "D"),
        ("đ", "d"),
        ("Þ", "TH"),
        ("þ", "th"),
        ("ı", "i"),
        ("İ", "I"),
        ("é", "e"),
        ("Ñ", "N"),
        ("ü", "u"),
        ("Å", "A"),
        ("ğ", "g"),
        ("ș", "s"),
        ("Ț", "T"),
        ("ř", "r"),
        ("ő", "o"),
        ("ŋ", "ng"),
        ("ĸ", "k"),
        ("ƒ", "f"),
        ("ǆ", "dz"),
        ("ħ", "h"),
        ("ŀ", "l"),
        ("ʼ", ""),
        ("'", ""),
        ("-", ""),
        (".", ""),
        (" ", ""),
    ];

    fn latin_piece() -> impl Strategy<Value = (&'static str, &'static str)> {
        prop::sample::select(PIECES).prop_map(|p| (p.0, p.1))
    }

    /// Writes pieces on file (`typed` false) or as typed: transliterated,
    /// random case, random apostrophes/hyphens/spaces between pieces. Always
    /// starts with a letter so the name is valid.
    fn join(pieces: &[(&str, &str)], seeds: &[u8], typed: bool, k: usize) -> String {
        let mut out = String::from(if typed { "Q" } else { "q" });
        for (i, (file, ascii)) in pieces.iter().enumerate() {
            let s = seeds[(i + k) % seeds.len()];
            if !typed {
                out.push_str(file);
                continue;
            }
            match s % 5 {
                0 => out.push(' '),
                1 => out.push('-'),
                2 => out.push('\''),
                _ => {}
            }
            match (s / 5) % 3 {
                0 => out.push_str(&ascii.to_uppercase()),
                1 => out.push_str(&ascii.to_lowercase()),
                _ => out.push_str(ascii),
            }
        }
        out
    }

    proptest! {
        #[test]
        fn name_never_panics(g in any::<String>(), f in any::<String>()) {
            if let Ok(n) = PersonName::parse(&g, &f) {
                prop_assert_eq!(PersonName::parse(n.given(), n.family()).unwrap(), n.clone());
                prop_assert!(n.matches_loosely(&n));
            }
        }

        #[test]
        fn name_idempotent_relevant(g in "[ A-Za-zéü'.\\-\u{301}\u{2019}0-9]{0,30}",
                                    f in "[ A-Za-zéü'.\\-\u{301}\u{2019}0-9]{0,30}") {
            if let Ok(n) = PersonName::parse(&g, &f) {
                let again = PersonName::parse(n.given(), n.family()).unwrap();
                prop_assert_eq!(&again, &n);
                let upper = PersonName::parse(&n.given().to_uppercase(), &n.family().to_uppercase()).unwrap();
                prop_assert!(n.matches_loosely(&upper));
                let spaced = PersonName::parse(&format!("  {}  ", n.given().replace('-', " - ")),
                                               &n.family().replace(' ', "   ")).unwrap();
                prop_assert!(n.matches_loosely(&spaced));
            }
        }

        #[test]
        fn transliterated_variants_match(given in prop::collection::vec(latin_piece(), 1..4),
                                         family in prop::collection::vec(latin_piece(), 1..4),
                                         seeds in prop::collection::vec(any::<u8>(), 8)) {
            let on_file = PersonName::parse(&join(&given, &seeds, false, 0),
                                            &join(&family, &seeds, false, 4)).unwrap();
            let typed = PersonName::parse(&join(&given, &seeds, true, 1),
                                          &join(&family, &seeds, true, 5)).unwrap();
            prop_assert!(on_file.matches_loosely(&typed), "{:?} / {:?}", on_file.full(), typed.full());
            prop_assert!(typed.matches_loosely(&on_file));
            // Given and family never swap (unless they fold alike).
            let swapped = PersonName::parse(typed.family(), typed.given()).unwrap();
            prop_assert_eq!(on_file.matches_loosely(&swapped), fold(on_file.given()) == fold(on_file.family()));
        }

        #[test]
        fn other_names_never_match(given in prop::collection::vec(latin_piece(), 1..4),
                                   family in prop::collection::vec(latin_piece(), 1..4),
                                   other in prop::collection::vec(latin_piece(), 1..4),
                                   which in any::<bool>(), seeds in prop::collection::vec(any::<u8>(), 8)) {
            let ascii = |v: &[(&str, &str)]| v.iter().map(|p| p.1).collect::<String>().to_lowercase();
            let target = if which { &given } else { &family };
            prop_assume!(ascii(target) != ascii(&other));
            let on_file = PersonName::parse(&join(&given, &seeds, false, 0),
                                            &join(&family, &seeds, false, 4)).unwrap();
            let (g, f) = if which { (&other, &family) } else { (&given, &other) };
            let typed = PersonName::parse(&join(g, &seeds, true, 1), &join(f, &seeds, true, 5)).unwrap();
            prop_assert!(!on_file.matches_loosely(&typed), "{:?} / {:?}", on_file.full(), typed.full());
        }

        #[test]
        fn dob_never_panics(m in any::<String>(), dd in any::<String>(), y in any::<String>()) {
            let _ = DateOfBirth::parse_parts(&m, &dd, &y, d(2025, 6, 15));
            let _ = DateOfBirth::parse_iso(&y);
        }

        #[test]
        fn dob_never_panics_relevant(m in "[0-9a-zA-Z. ]{0,5}", dd in "[0-9 ]{0,4}", y in "[0-9+\\- ]{0,6}",
                                     iso in "[0-9\\-]{0,12}") {
            let t = d(2025, 6, 15);
            if let Ok(dob) = DateOfBirth::parse_parts(&m, &dd, &y, t) {
                prop_assert!(dob.date() <= t);
                prop_assert_eq!(DateOfBirth::parse_iso_until(&dob.iso(), t).unwrap(), dob);
            }
            if let Ok(dob) = DateOfBirth::parse_iso_until(&iso, t) {
                prop_assert_eq!(DateOfBirth::parse_iso_until(&dob.iso(), t).unwrap(), dob);
            }
        }

        #[test]
        fn dob_round_trips(days in 0u64..46_000, pad in any::<bool>()) {
            let t = d(2025, 6, 15);
            let date = d(1900, 1, 1).checked_add_days(Days::new(days)).unwrap();
            let (m, dd) = if pad {
                (format!("{:02}", date.month()), format!("{:02}", date.day()))
            } else {
                (date.month().to_string(), date.day().to_string())
            };
            let r = DateOfBirth::parse_parts(&m, &dd, &date.year().to_string(), t);
            if date <= t {
                let dob = r.unwrap();
                prop_assert_eq!(dob.date(), date);
                prop_assert_eq!(DateOfBirth::parse_iso_until(&dob.iso(), t).unwrap(), dob);
            } else {
                prop_assert_eq!(r, Err(DobError::Future));
            }
        }
    }
}
