//! Alien Registration Number ("A-Number").
//!
//! Canonical form is `"A"` followed by exactly nine digits, e.g. `A012345678`.
//! Input may use any case for the leading `A`, may omit it, may contain
//! spaces and dashes anywhere, and may have 7–9 digits (shorter numbers are
//! left-padded with zeros, as USCIS does).

use std::fmt;
use std::str::FromStr;

/// Why a string is not an A-Number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ANumberError {
    /// Nothing but spaces/dashes (or nothing at all) was given.
    #[error("A-Number is empty")]
    Empty,
    /// A character other than a digit, space, dash or a leading `A`.
    #[error("A-Number contains an invalid character")]
    InvalidChar,
    /// Fewer than 7 or more than 9 digits.
    #[error("A-Number must have 7 to 9 digits")]
    WrongLength,
    /// `000000000` is not a valid A-Number.
    #[error("A-Number cannot be all zeros")]
    AllZeros,
}

/// A valid A-Number, stored canonically as `A` + 9 digits.
///
/// `Display` prints the full canonical value; `Debug` prints only the
/// masked form (see [`ANumber::masked`]).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ANumber(String);

impl ANumber {
    /// Number of digits in the canonical form.
    pub const DIGITS: usize = 9;

    /// Parses user input such as `A-012-345-678`, `a12345678`, `012345678`,
    /// `A 12 345 678` or `1234567` into the canonical form.
    pub fn parse(input: &str) -> Result<ANumber, ANumberError> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if compact.is_empty() {
            return Err(ANumberError::Empty);
        }
        let digits = compact.strip_prefix(['A', 'a']).unwrap_or(compact.as_str());
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(ANumberError::InvalidChar);
        }
        if !(7..=Self::DIGITS).contains(&digits.len()) {
            return Err(ANumberError::WrongLength);
        }
        if digits.bytes().all(|b| b == b'0') {
            return Err(ANumberError::AllZeros);
        }
        Ok(ANumber(format!("A{digits:0>9}")))
    }

    /// Canonical form, e.g. `A012345678`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The nine digits without the leading `A`, e.g. `012345678`.
    pub fn digits(&self) -> &str {
        self.0.get(1..).unwrap_or_default()
    }

    /// Masked form for display/logging: `A` + six bullets + last three
    /// digits, e.g. `A••••••678` (same width as the canonical form).
    pub fn masked(&self) -> String {
        let digits = self.digits();
        let last3 = digits
            .get(digits.len().saturating_sub(3)..)
            .unwrap_or_default();
        format!("A••••••{last3}")
    }
}

impl fmt::Display for ANumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ANumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ANumber({})", self.masked())
    }
}

impl FromStr for ANumber {
    type Err = ANumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ANumber::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) -> String {
        ANumber::parse(s).unwrap().as_str().to_owned()
    }

    #[test]
    fn accepts_documented_forms() {
        assert_eq!(ok("A-012-345-678"), "A012345678");
        assert_eq!(ok("a12345678"), "A012345678");
        assert_eq!(ok("012345678"), "A012345678");
        assert_eq!(ok("A 12 345 678"), "A012345678");
        assert_eq!(ok("  A012345678  "), "A012345678");
        assert_eq!(ok("1234567"), "A001234567");
        assert_eq!(ok("A123456789"), "A123456789");
        assert_eq!(ok("A-\t1 2-3 4567"), "A001234567");
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(ANumber::parse(""), Err(ANumberError::Empty));
        assert_eq!(ANumber::parse("  - - "), Err(ANumberError::Empty));
        assert_eq!(ANumber::parse("A"), Err(ANumberError::WrongLength));
        assert_eq!(ANumber::parse("123456"), Err(ANumberError::WrongLength));
        assert_eq!(
            ANumber::parse("A1234567890"),
            Err(ANumberError::WrongLength)
        );
        assert_eq!(ANumber::parse("B12345678"), Err(ANumberError::InvalidChar));
        assert_eq!(ANumber::parse("AA12345678"), Err(ANumberError::InvalidChar));
        assert_eq!(ANumber::parse("12345678A"), Err(ANumberError::InvalidChar));
        assert_eq!(ANumber::parse("A12.345678"), Err(ANumberError::InvalidChar));
        assert_eq!(ANumber::parse("A١٢٣٤٥٦٧٨"), Err(ANumberError::InvalidChar));
        assert_eq!(ANumber::parse("A000000000"), Err(ANumberError::AllZeros));
        assert_eq!(ANumber::parse("0000000"), Err(ANumberError::AllZeros));
    }

    #[test]
    fn accessors_and_formatting() {
        let a = ANumber::parse("A-012-345-678").unwrap();
        assert_eq!(a.digits(), "012345678");
        assert_eq!(a.masked(), "A••••••678");
        assert_eq!(a.to_string(), "A012345678");
        let dbg = format!("{a:?}");
        assert_eq!(dbg, "ANumber(A••••••678)");
        assert!(!dbg.contains("012345"));
        let b: ANumber = "12345678".parse().unwrap();
        assert_eq!(a, b);
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = ANumber::parse(&s);
        }

        #[test]
        fn never_panics_relevant_chars(s in "[aA0-9 \\-xX\t]{0,20}") {
            if let Ok(a) = ANumber::parse(&s) {
                prop_assert_eq!(a.as_str().len(), 10);
            }
        }

        #[test]
        fn canonical_is_idempotent(s in "[aA]?[0-9 \\-]{7,14}") {
            if let Ok(a) = ANumber::parse(&s) {
                let again = ANumber::parse(a.as_str()).unwrap();
                prop_assert_eq!(&again, &a);
                prop_assert_eq!(ANumber::parse(&a.to_string()).unwrap(), a.clone());
                prop_assert_eq!(ANumber::parse(a.digits()).unwrap(), a);
            }
        }

        #[test]
        fn any_number_in_range_round_trips(n in 1u32..=999_999_999, lower in any::<bool>(), prefix in any::<bool>()) {
            let expected = format!("A{n:09}");
            let d = format!("{n:09}");
            let p = match (prefix, lower) {
                (false, _) => "",
                (true, true) => "a",
                (true, false) => "A",
            };
            let dashed = format!("{p}-{}-{}-{}", &d[0..3], &d[3..6], &d[6..9]);
            let spaced = format!(" {p} {} {} {} ", &d[0..3], &d[3..6], &d[6..9]);
            let plain = format!("{p}{d}");
            for s in [dashed, spaced, plain] {
                let a = ANumber::parse(&s).unwrap();
                prop_assert_eq!(a.as_str(), expected.as_str());
            }
            if n >= 1_000_000 {
                // Unpadded (7–9 digit) form.
                let a = ANumber::parse(&format!("{p}{n}")).unwrap();
                prop_assert_eq!(a.as_str(), expected.as_str());
            }
        }
    }
}
