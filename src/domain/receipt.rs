//! USCIS receipt numbers, e.g. `EAC2490012345`.
//!
//! Layout (13 chars): 3-letter office code, 2-digit fiscal year, 3-digit
//! "computer workday", 5-digit sequence number. The workday is **not** range
//! checked because sandbox numbers (e.g. `LIN9999106498`, workday 991) must
//! parse.

use chrono::{Datelike, NaiveDate, Weekday};
use std::fmt;
use std::str::FromStr;

/// Office (service center) that issued a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Office {
    Eac,
    Wac,
    Lin,
    Src,
    Nbc,
    Msc,
    Ioe,
    Ysc,
}

impl Office {
    pub const ALL: [Office; 8] = [
        Office::Eac,
        Office::Wac,
        Office::Lin,
        Office::Src,
        Office::Nbc,
        Office::Msc,
        Office::Ioe,
        Office::Ysc,
    ];

    /// Three-letter uppercase code, e.g. `"EAC"`.
    pub fn code(self) -> &'static str {
        match self {
            Office::Eac => "EAC",
            Office::Wac => "WAC",
            Office::Lin => "LIN",
            Office::Src => "SRC",
            Office::Nbc => "NBC",
            Office::Msc => "MSC",
            Office::Ioe => "IOE",
            Office::Ysc => "YSC",
        }
    }

    /// Looks up an office by code, case-insensitively (no trimming).
    pub fn from_code(code: &str) -> Option<Office> {
        Office::ALL
            .into_iter()
            .find(|o| o.code().eq_ignore_ascii_case(code))
    }

    /// Human-readable office name.
    pub fn name(self) -> &'static str {
        match self {
            Office::Eac => "Vermont Service Center",
            Office::Wac => "California Service Center",
            Office::Lin => "Nebraska Service Center",
            Office::Src => "Texas Service Center",
            Office::Nbc | Office::Msc => "National Benefits Center",
            Office::Ioe => "Online filing",
            Office::Ysc => "Potomac Service Center",
        }
    }
}

impl fmt::Display for Office {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a string (or parts) is not a receipt number. All variants except
/// `OutOfRange` are format errors from [`ReceiptNumber::parse`];
/// `OutOfRange` only comes from [`ReceiptNumber::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ReceiptError {
    #[error("receipt number is empty")]
    Empty,
    #[error("receipt number must be 13 characters")]
    WrongLength,
    #[error("receipt number has an unknown office code")]
    UnknownOffice,
    #[error("receipt number must end in 10 digits")]
    NotDigits,
    #[error("receipt number part out of range")]
    OutOfRange,
}

/// A receipt number in canonical form (13 uppercase chars, no separators).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReceiptNumber {
    canonical: String,
    office: Office,
    fiscal_year: u8,
    workday: u16,
    sequence: u32,
}

impl ReceiptNumber {
    /// Parses user input: case-insensitive, spaces and dashes are ignored.
    pub fn parse(input: &str) -> Result<ReceiptNumber, ReceiptError> {
        let chars: Vec<char> = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if chars.is_empty() {
            return Err(ReceiptError::Empty);
        }
        let [o1, o2, o3, rest @ ..] = chars.as_slice() else {
            return Err(ReceiptError::WrongLength);
        };
        if rest.len() != 10 {
            return Err(ReceiptError::WrongLength);
        }
        let code: String = [*o1, *o2, *o3].iter().collect();
        let office = Office::from_code(&code).ok_or(ReceiptError::UnknownOffice)?;
        let mut digits = [0u32; 10];
        for (slot, c) in digits.iter_mut().zip(rest) {
            *slot = c.to_digit(10).ok_or(ReceiptError::NotDigits)?;
        }
        let num = |range: std::ops::Range<usize>| {
            digits
                .get(range)
                .unwrap_or_default()
                .iter()
                .fold(0u32, |acc, d| acc * 10 + d)
        };
        let fy = u8::try_from(num(0..2)).map_err(|_| ReceiptError::NotDigits)?;
        let wd = u16::try_from(num(2..5)).map_err(|_| ReceiptError::NotDigits)?;
        ReceiptNumber::new(office, fy, wd, num(5..10))
    }

    /// Builds a receipt number from parts. `fiscal_year` < 100,
    /// `workday` < 1000, `sequence` < 100000, else `OutOfRange`.
    pub fn new(
        office: Office,
        fiscal_year: u8,
        workday: u16,
        sequence: u32,
    ) -> Result<ReceiptNumber, ReceiptError> {
        if fiscal_year >= 100 || workday >= 1000 || sequence >= 100_000 {
            return Err(ReceiptError::OutOfRange);
        }
        Ok(ReceiptNumber {
            canonical: format!("{}{fiscal_year:02}{workday:03}{sequence:05}", office.code()),
            office,
            fiscal_year,
            workday,
            sequence,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    pub fn office(&self) -> Office {
        self.office
    }

    /// Two-digit fiscal year (e.g. 24 for FY2024).
    pub fn fiscal_year(&self) -> u8 {
        self.fiscal_year
    }

    pub fn workday(&self) -> u16 {
        self.workday
    }

    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// The receipt as one integer, the key of the `status_rows` table
    /// (migration 0009 computes the same in SQL): the three letters as a
    /// base-26 number, then the ten digits. Distinct receipts get distinct
    /// keys, and an integer key keeps that table's inner pages small.
    pub fn key(&self) -> i64 {
        let b = self.canonical.as_bytes();
        let letter = |i: usize| i64::from(b.get(i).copied().unwrap_or(b'A').saturating_sub(b'A'));
        let letters = letter(0) * 676 + letter(1) * 26 + letter(2);
        let digits = i64::from(self.fiscal_year) * 100_000_000
            + i64::from(self.workday) * 100_000
            + i64::from(self.sequence);
        letters * 10_000_000_000 + digits
    }
}

impl fmt::Display for ReceiptNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

impl fmt::Debug for ReceiptNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReceiptNumber({})", self.canonical)
    }
}

impl FromStr for ReceiptNumber {
    type Err = ReceiptError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReceiptNumber::parse(s)
    }
}

/// US federal fiscal year of `date` (FY starts October 1):
/// 2024-10-01 → 2025, 2024-09-30 → 2024.
pub fn fiscal_year_of(date: NaiveDate) -> i32 {
    if date.month() >= 10 {
        date.year() + 1
    } else {
        date.year()
    }
}

/// Number of Monday–Friday days from October 1 of `date`'s fiscal year
/// through `date` inclusive. A weekend date gets the number of the preceding
/// workday; the minimum is 1 (a fiscal year starting on a weekend). Federal
/// holidays are not excluded.
pub fn computer_workday(date: NaiveDate) -> u16 {
    let Some(start) = NaiveDate::from_ymd_opt(fiscal_year_of(date) - 1, 10, 1) else {
        return 1;
    };
    let count = start
        .iter_days()
        .take_while(|d| *d <= date)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .count();
    u16::try_from(count.max(1)).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_are_the_letters_in_base_26_then_the_digits() {
        let k = |s: &str| ReceiptNumber::parse(s).unwrap().key();
        assert_eq!(k("EAC0000000000"), (4 * 676 + 2) * 10_000_000_000);
        assert_eq!(
            k("EAC2490012345"),
            (4 * 676 + 2) * 10_000_000_000 + 2_490_012_345
        );
        assert_eq!(
            k("YSC9999999999"),
            (24 * 676 + 18 * 26 + 2) * 10_000_000_000 + 9_999_999_999
        );
        let mut keys: Vec<i64> = Office::ALL
            .iter()
            .flat_map(|o| {
                ["0000000000", "0000000001", "9999999999"].map(|d| {
                    ReceiptNumber::parse(&format!("{}{d}", o.code()))
                        .unwrap()
                        .key()
                })
            })
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), Office::ALL.len() * 3, "keys collide");
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn office_table() {
        for o in Office::ALL {
            assert_eq!(Office::from_code(o.code()), Some(o));
            assert_eq!(Office::from_code(&o.code().to_lowercase()), Some(o));
            assert!(!o.name().is_empty());
        }
        assert_eq!(Office::from_code("XYZ"), None);
        assert_eq!(Office::from_code(""), None);
        assert_eq!(Office::Eac.name(), "Vermont Service Center");
        assert_eq!(Office::Wac.name(), "California Service Center");
        assert_eq!(Office::Lin.name(), "Nebraska Service Center");
        assert_eq!(Office::Src.name(), "Texas Service Center");
        assert_eq!(Office::Nbc.name(), "National Benefits Center");
        assert_eq!(Office::Msc.name(), "National Benefits Center");
        assert_eq!(Office::Ioe.name(), "Online filing");
        assert_eq!(Office::Ysc.name(), "Potomac Service Center");
        assert_eq!(Office::Ioe.to_string(), "IOE");
    }

    #[test]
    fn parses_examples() {
        let r = ReceiptNumber::parse("EAC2490012345").unwrap();
        assert_eq!(r.as_str(), "EAC2490012345");
        assert_eq!(r.office(), Office::Eac);
        assert_eq!(r.fiscal_year(), 24);
        assert_eq!(r.workday(), 900);
        assert_eq!(r.sequence(), 12345);
        assert_eq!(r.to_string(), "EAC2490012345");
        assert_eq!(format!("{r:?}"), "ReceiptNumber(EAC2490012345)");

        for s in [
            "eac2490012345",
            " EAC-24-900-12345 ",
            "eac 249 0012 345",
            "EAC\t2490012345",
        ] {
            assert_eq!(ReceiptNumber::parse(s).unwrap(), r, "{s}");
        }
        let sandbox: ReceiptNumber = "LIN9999106498".parse().unwrap();
        assert_eq!(sandbox.workday(), 991);
        assert_eq!(sandbox.fiscal_year(), 99);
        assert_eq!(sandbox.sequence(), 6498);
        let ioe = ReceiptNumber::parse("IOE0000000001").unwrap();
        assert_eq!(ioe.sequence(), 1);
    }

    #[test]
    fn parse_errors() {
        use ReceiptError::*;
        assert_eq!(ReceiptNumber::parse(""), Err(Empty));
        assert_eq!(ReceiptNumber::parse(" - "), Err(Empty));
        assert_eq!(ReceiptNumber::parse("EA"), Err(WrongLength));
        assert_eq!(ReceiptNumber::parse("EAC249001234"), Err(WrongLength));
        assert_eq!(ReceiptNumber::parse("EAC24900123456"), Err(WrongLength));
        assert_eq!(ReceiptNumber::parse("XYZ2490012345"), Err(UnknownOffice));
        assert_eq!(ReceiptNumber::parse("ÉAC2490012345"), Err(UnknownOffice));
        assert_eq!(ReceiptNumber::parse("EAC24900123A5"), Err(NotDigits));
        assert_eq!(ReceiptNumber::parse("EAC249001234٥"), Err(NotDigits));
        assert_eq!(ReceiptNumber::parse("EAC24.0012345"), Err(NotDigits));
    }

    #[test]
    fn new_checks_ranges() {
        let r = ReceiptNumber::new(Office::Ioe, 5, 7, 42).unwrap();
        assert_eq!(r.as_str(), "IOE0500700042");
        assert_eq!(ReceiptNumber::parse(r.as_str()).unwrap(), r);
        assert_eq!(
            ReceiptNumber::new(Office::Eac, 100, 0, 0),
            Err(ReceiptError::OutOfRange)
        );
        assert_eq!(
            ReceiptNumber::new(Office::Eac, 0, 1000, 0),
            Err(ReceiptError::OutOfRange)
        );
        assert_eq!(
            ReceiptNumber::new(Office::Eac, 0, 0, 100_000),
            Err(ReceiptError::OutOfRange)
        );
        assert!(ReceiptNumber::new(Office::Eac, 99, 999, 99_999).is_ok());
    }

    #[test]
    fn fiscal_years() {
        assert_eq!(fiscal_year_of(d(2024, 10, 1)), 2025);
        assert_eq!(fiscal_year_of(d(2024, 9, 30)), 2024);
        assert_eq!(fiscal_year_of(d(2024, 12, 31)), 2025);
        assert_eq!(fiscal_year_of(d(2025, 1, 1)), 2025);
    }

    #[test]
    fn workdays() {
        // 2024-10-01 is a Tuesday.
        assert_eq!(computer_workday(d(2024, 10, 1)), 1);
        assert_eq!(computer_workday(d(2024, 10, 4)), 4); // Fri
        assert_eq!(computer_workday(d(2024, 10, 5)), 4); // Sat
        assert_eq!(computer_workday(d(2024, 10, 6)), 4); // Sun
        assert_eq!(computer_workday(d(2024, 10, 7)), 5); // Mon
        assert_eq!(computer_workday(d(2025, 9, 30)), 261); // last day of FY2025
        // 2022-10-01 is a Saturday: weekend start clamps to 1.
        assert_eq!(computer_workday(d(2022, 10, 1)), 1);
        assert_eq!(computer_workday(d(2022, 10, 2)), 1);
        assert_eq!(computer_workday(d(2022, 10, 3)), 1); // Mon
        assert_eq!(computer_workday(d(2022, 10, 4)), 2);
        // Extreme dates do not panic.
        let _ = computer_workday(NaiveDate::MIN);
        let _ = computer_workday(NaiveDate::MAX);
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = ReceiptNumber::parse(&s);
        }

        #[test]
        fn never_panics_relevant(s in "[A-Za-z0-9 \\-]{0,20}") {
            if let Ok(r) = ReceiptNumber::parse(&s) {
                prop_assert_eq!(r.as_str().len(), 13);
            }
        }

        #[test]
        fn canonical_is_idempotent(
            oi in 0usize..8, fy in 0u8..100, wd in 0u16..1000, seq in 0u32..100_000,
            lower in any::<bool>(), dashes in any::<bool>(),
        ) {
            let r = ReceiptNumber::new(Office::ALL[oi], fy, wd, seq).unwrap();
            prop_assert_eq!(ReceiptNumber::parse(r.as_str()).unwrap(), r.clone());
            let mut s = r.as_str().to_owned();
            if lower { s = s.to_lowercase(); }
            if dashes { s = format!("{}-{}-{}-{}", &s[0..3], &s[3..5], &s[5..8], &s[8..]); }
            let p = ReceiptNumber::parse(&s).unwrap();
            prop_assert_eq!((p.office(), p.fiscal_year(), p.workday(), p.sequence()), (Office::ALL[oi], fy, wd, seq));
        }

        #[test]
        fn workday_is_monotonic_and_bounded(days in 0i64..200_000) {
            let date = d(1900, 1, 1) + chrono::Duration::days(days);
            let w = computer_workday(date);
            prop_assert!((1..=262).contains(&w));
            let next = computer_workday(date + chrono::Duration::days(1));
            if date.month() == 9 && date.day() == 30 {
                prop_assert!(next <= 1);
            } else {
                prop_assert!(next == w || next == w + 1);
            }
        }
    }
}
