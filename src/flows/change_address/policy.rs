//! Pure rules for a change-of-address request: `now`, the submitted facts,
//! the record on file and the letters already sent in, an [`Outcome`] out.
//! Every outcome gets the same answer page; the outcome only decides whether
//! letters go out (and what the audit log says).

use super::form::Submitted;
use crate::flows::access_code::policy::{CodeRules, PersonOnFile, next_letter_at};

/// The letter budget is the access-code flow's (4 letters per person per
/// 30 days, at least 24 h apart): a change-of-address letter counts in it.
pub use crate::flows::access_code::policy::RULES as LETTER_RULES;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Identity matches: mail the confirmation letter to the new address and
    /// the notice to the old one, email the address on file.
    Send,
    /// Unknown identifier, identity mismatch or protected person.
    NotVerified,
    /// The new address is the one already on file: nothing to change.
    SameAddress,
    /// The person's letter budget is spent until `next_at`.
    LetterNotYet { next_at: i64 },
}

impl Outcome {
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Send => "sent",
            Outcome::NotVerified => "not_verified",
            Outcome::SameAddress => "same_address",
            Outcome::LetterNotYet { .. } => "letter_not_yet",
        }
    }
}

pub fn verify(
    now: i64,
    submitted: &Submitted,
    record: Option<&PersonOnFile>,
    letters_issued_at: &[i64],
    rules: &CodeRules,
) -> Outcome {
    let Some(p) = record else {
        return Outcome::NotVerified;
    };
    if p.protected || !p.name.matches_loosely(&submitted.name) || p.dob != submitted.dob.date() {
        return Outcome::NotVerified;
    }
    if p.address.matches(&submitted.address) {
        return Outcome::SameAddress;
    }
    match next_letter_at(rules, letters_issued_at, now) {
        Some(next_at) => Outcome::LetterNotYet { next_at },
        None => Outcome::Send,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::address::AddressInput;
    use crate::domain::person::{DateOfBirth, PersonName};
    use crate::domain::{ANumber, UsAddress};
    use crate::flows::access_code::form::Identifier;
    use chrono::NaiveDate;

    const NOW: i64 = 1_795_000_000;
    const DAY: i64 = 86_400;

    fn address(street: &str) -> UsAddress {
        UsAddress::parse(AddressInput {
            street,
            unit: "",
            city: "Houston",
            state: "TX",
            zip: "77002",
        })
        .unwrap()
    }

    fn on_file() -> PersonOnFile {
        PersonOnFile {
            person_id: 1,
            name: PersonName::parse("Nguyễn", "Thị Lan").unwrap(),
            dob: NaiveDate::from_ymd_opt(1979, 7, 30).unwrap(),
            address: address("45 N Elm Ave"),
            email: None,
            protected: false,
        }
    }

    fn submitted(dob: &str, street: &str) -> Submitted {
        Submitted {
            identifier: Identifier::ANumber(ANumber::parse("A012345678").unwrap()),
            name: PersonName::parse("nguyen", "thi lan").unwrap(),
            dob: DateOfBirth::parse_iso(dob).unwrap(),
            address: address(street),
        }
    }

    #[test]
    fn a_matching_identity_with_a_new_address_sends_the_letters() {
        let s = submitted("1979-07-30", "9 Oak Street");
        assert_eq!(
            verify(NOW, &s, Some(&on_file()), &[], &LETTER_RULES),
            Outcome::Send
        );
    }

    #[test]
    fn unknown_mismatched_and_protected_are_one_outcome() {
        let s = submitted("1979-07-30", "9 Oak Street");
        assert_eq!(
            verify(NOW, &s, None, &[], &LETTER_RULES),
            Outcome::NotVerified
        );
        let wrong_dob = submitted("1979-07-31", "9 Oak Street");
        assert_eq!(
            verify(NOW, &wrong_dob, Some(&on_file()), &[], &LETTER_RULES),
            Outcome::NotVerified
        );
        let mut p = on_file();
        p.protected = true;
        assert_eq!(
            verify(NOW, &s, Some(&p), &[], &LETTER_RULES),
            Outcome::NotVerified
        );
    }

    #[test]
    fn the_same_address_changes_nothing() {
        let s = submitted("1979-07-30", "45 North Elm Avenue");
        assert_eq!(
            verify(NOW, &s, Some(&on_file()), &[], &LETTER_RULES),
            Outcome::SameAddress
        );
    }

    #[test]
    fn the_letter_budget_is_shared_with_access_code_letters() {
        let s = submitted("1979-07-30", "9 Oak Street");
        assert_eq!(
            verify(NOW, &s, Some(&on_file()), &[NOW - 3_600], &LETTER_RULES),
            Outcome::LetterNotYet {
                next_at: NOW - 3_600 + DAY
            }
        );
        let four = [
            NOW - 20 * DAY,
            NOW - 15 * DAY,
            NOW - 10 * DAY,
            NOW - 5 * DAY,
        ];
        assert_eq!(
            verify(NOW, &s, Some(&on_file()), &four, &LETTER_RULES),
            Outcome::LetterNotYet {
                next_at: NOW + 10 * DAY
            }
        );
    }
}
