//! Pure rules for issuing an online access code: `now`, the submitted facts,
//! the record on file and the limits in, an [`Outcome`] out.

use super::form::{Delivery, Submitted};
use crate::domain::person::PersonName;
use crate::domain::{Email, UsAddress};

/// The person on file, as verification needs it.
#[derive(Debug, Clone)]
pub struct PersonOnFile {
    pub person_id: i64,
    pub name: PersonName,
    pub dob: chrono::NaiveDate,
    pub address: UsAddress,
    pub email: Option<Email>,
    pub protected: bool,
}

/// Named limits of this flow (`docs/security.md`; NIST 800-63A; login.gov).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeRules {
    pub email_valid_secs: i64,
    pub letter_valid_secs: i64,
    pub letters_per_window: usize,
    pub letter_window_secs: i64,
    pub letter_min_gap_secs: i64,
}

pub const RULES: CodeRules = CodeRules {
    email_valid_secs: 24 * 3_600,
    letter_valid_secs: 30 * 86_400,
    letters_per_window: 4,
    letter_window_secs: 30 * 86_400,
    letter_min_gap_secs: 24 * 3_600,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Identity and address match: issue a code to the destination on file.
    Issue { delivery: Delivery, expires_at: i64 },
    /// Identity matches, the address does not. The address on file is never shown.
    AddressMismatch,
    /// Unknown identifier, identity mismatch or protected person: one answer.
    NotVerified,
    /// Email chosen but none on file: offer the letter.
    NoEmailOnFile,
    /// A letter cannot be sent before `next_at` (4 per 30 days, 24 h apart).
    LetterNotYet { next_at: i64 },
}

/// When the next letter may be issued, given the times earlier letters were
/// issued; `None` when one may be issued now.
pub fn next_letter_at(rules: &CodeRules, letters_issued_at: &[i64], now: i64) -> Option<i64> {
    let mut recent: Vec<i64> = letters_issued_at
        .iter()
        .copied()
        .filter(|t| *t > now - rules.letter_window_secs && *t <= now)
        .collect();
    recent.sort_unstable();
    let mut next = now;
    if let Some(last) = recent.last() {
        next = next.max(last + rules.letter_min_gap_secs);
    }
    if recent.len() >= rules.letters_per_window {
        // The oldest letter in the window must age out first.
        let idx = recent.len() - rules.letters_per_window;
        next = next.max(recent[idx] + rules.letter_window_secs);
    }
    (next > now).then_some(next)
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
    if p.protected {
        return Outcome::NotVerified;
    }
    let identity = p.name.matches_loosely(&submitted.name) && p.dob == submitted.dob.date();
    if !identity {
        return Outcome::NotVerified;
    }
    if !p.address.matches(&submitted.address) {
        return Outcome::AddressMismatch;
    }
    match submitted.delivery {
        Delivery::Email => {
            if p.email.is_none() {
                Outcome::NoEmailOnFile
            } else {
                Outcome::Issue {
                    delivery: Delivery::Email,
                    expires_at: now + rules.email_valid_secs,
                }
            }
        }
        Delivery::Post => match next_letter_at(rules, letters_issued_at, now) {
            Some(next_at) => Outcome::LetterNotYet { next_at },
            None => Outcome::Issue {
                delivery: Delivery::Post,
                expires_at: now + rules.letter_valid_secs,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::address::AddressInput;
    use crate::domain::person::DateOfBirth;
    use crate::domain::{ANumber, Email};
    use crate::flows::access_code::form::Identifier;
    use chrono::NaiveDate;

    const NOW: i64 = 1_795_000_000;
    const DAY: i64 = 86_400;

    fn address(street: &str, unit: &str, zip: &str) -> UsAddress {
        UsAddress::parse(AddressInput {
            street,
            unit,
            city: "Springfield",
            state: "IL",
            zip,
        })
        .unwrap()
    }

    fn on_file() -> PersonOnFile {
        PersonOnFile {
            person_id: 1,
            name: PersonName::parse("María José", "Núñez-García").unwrap(),
            dob: NaiveDate::from_ymd_opt(1985, 2, 14).unwrap(),
            address: address("123 MAIN ST", "APT 4", "62701-1234"),
            email: Some(Email::parse("maria@example.com").unwrap()),
            protected: false,
        }
    }

    fn submitted(
        given: &str,
        family: &str,
        dob: &str,
        street: &str,
        unit: &str,
        delivery: Delivery,
    ) -> Submitted {
        Submitted {
            identifier: Identifier::ANumber(ANumber::parse("A012345678").unwrap()),
            name: PersonName::parse(given, family).unwrap(),
            dob: DateOfBirth::parse_iso(dob).unwrap(),
            address: address(street, unit, "62701"),
            delivery,
        }
    }

    fn ok(delivery: Delivery) -> Submitted {
        submitted(
            "maria jose",
            "NUNEZ GARCIA",
            "1985-02-14",
            "123 Main Street",
            "Apartment 4",
            delivery,
        )
    }

    #[test]
    fn matching_identity_and_address_issue_a_code() {
        assert_eq!(
            verify(NOW, &ok(Delivery::Email), Some(&on_file()), &[], &RULES),
            Outcome::Issue {
                delivery: Delivery::Email,
                expires_at: NOW + DAY
            }
        );
        assert_eq!(
            verify(NOW, &ok(Delivery::Post), Some(&on_file()), &[], &RULES),
            Outcome::Issue {
                delivery: Delivery::Post,
                expires_at: NOW + 30 * DAY
            }
        );
    }

    #[test]
    fn names_ignore_case_accents_hyphens_and_spaces() {
        for (g, f) in [
            ("María José", "Núñez-García"),
            ("MARIA  JOSE", "nunez garcia"),
            ("Maria-Jose", "Nunez  Garcia"),
        ] {
            let s = submitted(g, f, "1985-02-14", "123 Main St", "Apt 4", Delivery::Email);
            assert!(
                matches!(
                    verify(NOW, &s, Some(&on_file()), &[], &RULES),
                    Outcome::Issue { .. }
                ),
                "{g} {f}"
            );
        }
    }

    #[test]
    fn anything_else_is_one_generic_answer() {
        let p = on_file();
        let wrong_name = submitted(
            "Mario",
            "Nunez Garcia",
            "1985-02-14",
            "123 Main St",
            "Apt 4",
            Delivery::Email,
        );
        let wrong_dob = submitted(
            "Maria Jose",
            "Nunez Garcia",
            "1985-02-15",
            "123 Main St",
            "Apt 4",
            Delivery::Email,
        );
        assert_eq!(
            verify(NOW, &wrong_name, Some(&p), &[], &RULES),
            Outcome::NotVerified
        );
        assert_eq!(
            verify(NOW, &wrong_dob, Some(&p), &[], &RULES),
            Outcome::NotVerified
        );
        assert_eq!(
            verify(NOW, &ok(Delivery::Email), None, &[], &RULES),
            Outcome::NotVerified
        );
        let mut protected = p.clone();
        protected.protected = true;
        assert_eq!(
            verify(NOW, &ok(Delivery::Email), Some(&protected), &[], &RULES),
            Outcome::NotVerified
        );
        // Even a protected person with a wrong address gets the generic answer.
        let wrong_addr = submitted(
            "Maria Jose",
            "Nunez Garcia",
            "1985-02-14",
            "9 Elm St",
            "",
            Delivery::Email,
        );
        assert_eq!(
            verify(NOW, &wrong_addr, Some(&protected), &[], &RULES),
            Outcome::NotVerified
        );
    }

    #[test]
    fn identity_without_the_address_says_so() {
        for (street, unit) in [
            ("9 Elm St", "Apt 4"),
            ("123 Main St", "Apt 5"),
            ("123 Main St", ""),
        ] {
            let s = submitted(
                "Maria Jose",
                "Nunez Garcia",
                "1985-02-14",
                street,
                unit,
                Delivery::Email,
            );
            assert_eq!(
                verify(NOW, &s, Some(&on_file()), &[], &RULES),
                Outcome::AddressMismatch,
                "{street} {unit}"
            );
        }
    }

    #[test]
    fn email_without_one_on_file_offers_the_letter() {
        let mut p = on_file();
        p.email = None;
        assert_eq!(
            verify(NOW, &ok(Delivery::Email), Some(&p), &[], &RULES),
            Outcome::NoEmailOnFile
        );
        assert!(matches!(
            verify(NOW, &ok(Delivery::Post), Some(&p), &[], &RULES),
            Outcome::Issue { .. }
        ));
    }

    #[test]
    fn letters_are_24_hours_apart_and_4_per_30_days() {
        assert_eq!(next_letter_at(&RULES, &[], NOW), None);
        assert_eq!(
            next_letter_at(&RULES, &[NOW - 3_600], NOW),
            Some(NOW - 3_600 + DAY)
        );
        assert_eq!(next_letter_at(&RULES, &[NOW - DAY], NOW), None);
        let four = [NOW - 20 * DAY, NOW - 10 * DAY, NOW - 5 * DAY, NOW - 2 * DAY];
        assert_eq!(
            next_letter_at(&RULES, &four, NOW),
            Some(NOW - 20 * DAY + 30 * DAY)
        );
        // Letters older than the window no longer count.
        let old = [
            NOW - 40 * DAY,
            NOW - 35 * DAY,
            NOW - 31 * DAY,
            NOW - 2 * DAY,
        ];
        assert_eq!(next_letter_at(&RULES, &old, NOW), None);
        let p = on_file();
        assert_eq!(
            verify(NOW, &ok(Delivery::Post), Some(&p), &four, &RULES),
            Outcome::LetterNotYet {
                next_at: NOW + 10 * DAY
            }
        );
        // Email is not limited by letters.
        assert!(matches!(
            verify(NOW, &ok(Delivery::Email), Some(&p), &four, &RULES),
            Outcome::Issue { .. }
        ));
    }
}
