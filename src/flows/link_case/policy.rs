//! Pure rules for redeeming an access code.

use crate::domain::access_code::{CodeState, code_state};

pub const MAX_WRONG_TRIES: u32 = 5;

/// The case named by the receipt number, as linking needs it.
#[derive(Debug, Clone)]
pub struct TargetCase {
    pub case_id: i64,
    pub person_id: i64,
    pub dob: chrono::NaiveDate,
    pub linked_account: Option<i64>,
    pub protected: bool,
}

/// The code the applicant typed, if that person has it.
#[derive(Debug, Clone)]
pub struct CodeRow {
    pub id: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub expires_at: i64,
    pub wrong_tries: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Consume code `code_id` and link the person's cases.
    Link {
        code_id: i64,
        person_id: i64,
    },
    /// Already linked to this account: nothing to do.
    AlreadyYours,
    /// Linked to another account.
    LinkedElsewhere,
    /// Receipt unknown, date of birth wrong, or the code is not this
    /// person's: one answer, so it never tells which of the three was wrong
    /// (a date of birth must not be confirmable against a receipt), and a
    /// failed match costs the person's codes nothing (whoever guesses cannot
    /// burn the owner's code; guessing is bounded per account instead).
    NotMatched,
    Expired,
    Used,
    Revoked,
    Exhausted,
}

pub fn decide(
    now: i64,
    account_id: i64,
    dob: chrono::NaiveDate,
    case: Option<&TargetCase>,
    code: Option<&CodeRow>,
) -> Outcome {
    let Some(c) = case else {
        return Outcome::NotMatched;
    };
    if c.dob != dob {
        return Outcome::NotMatched;
    }
    // Only someone holding one of the person's codes learns more.
    let Some(k) = code else {
        return Outcome::NotMatched;
    };
    match c.linked_account {
        Some(a) if a == account_id => return Outcome::AlreadyYours,
        Some(_) => return Outcome::LinkedElsewhere,
        None => {}
    }
    match code_state(
        k.used_at,
        k.revoked_at,
        k.expires_at,
        k.wrong_tries,
        MAX_WRONG_TRIES,
        now,
    ) {
        CodeState::Issued => Outcome::Link {
            code_id: k.id,
            person_id: c.person_id,
        },
        CodeState::Used => Outcome::Used,
        CodeState::Revoked => Outcome::Revoked,
        CodeState::Expired => Outcome::Expired,
        CodeState::Exhausted => Outcome::Exhausted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    const NOW: i64 = 1_800_000_000;

    fn dob() -> NaiveDate {
        NaiveDate::from_ymd_opt(1985, 2, 14).unwrap()
    }

    fn case(linked: Option<i64>) -> TargetCase {
        TargetCase {
            case_id: 1,
            person_id: 7,
            dob: dob(),
            linked_account: linked,
            protected: false,
        }
    }

    fn code(used: Option<i64>, revoked: Option<i64>, expires: i64, tries: u32) -> CodeRow {
        CodeRow {
            id: 3,
            used_at: used,
            revoked_at: revoked,
            expires_at: expires,
            wrong_tries: tries,
        }
    }

    #[test]
    fn every_outcome() {
        let live = code(None, None, NOW + 10, 0);
        assert_eq!(
            decide(NOW, 1, dob(), Some(&case(None)), Some(&live)),
            Outcome::Link {
                code_id: 3,
                person_id: 7
            }
        );
        assert_eq!(
            decide(NOW, 1, dob(), None, Some(&live)),
            Outcome::NotMatched
        );
        let other_dob = NaiveDate::from_ymd_opt(1985, 2, 15).unwrap();
        assert_eq!(
            decide(NOW, 1, other_dob, Some(&case(None)), Some(&live)),
            Outcome::NotMatched
        );
        assert_eq!(
            decide(NOW, 1, dob(), Some(&case(Some(1))), Some(&live)),
            Outcome::AlreadyYours
        );
        assert_eq!(
            decide(NOW, 1, dob(), Some(&case(Some(2))), Some(&live)),
            Outcome::LinkedElsewhere
        );
        assert_eq!(
            decide(NOW, 1, dob(), Some(&case(None)), None),
            Outcome::NotMatched,
            "a wrong code answers like a wrong date of birth"
        );
        assert_eq!(
            decide(NOW, 1, dob(), Some(&case(Some(2))), None),
            Outcome::NotMatched,
            "without a code, nothing about the case is told"
        );
        assert_eq!(
            decide(
                NOW,
                1,
                dob(),
                Some(&case(None)),
                Some(&code(Some(1), None, NOW + 10, 0))
            ),
            Outcome::Used
        );
        assert_eq!(
            decide(
                NOW,
                1,
                dob(),
                Some(&case(None)),
                Some(&code(None, Some(1), NOW + 10, 0))
            ),
            Outcome::Revoked
        );
        assert_eq!(
            decide(
                NOW,
                1,
                dob(),
                Some(&case(None)),
                Some(&code(None, None, NOW, 0))
            ),
            Outcome::Expired
        );
        assert_eq!(
            decide(
                NOW,
                1,
                dob(),
                Some(&case(None)),
                Some(&code(None, None, NOW + 10, 5))
            ),
            Outcome::Exhausted
        );
        assert_eq!(
            decide(
                NOW,
                1,
                dob(),
                Some(&case(None)),
                Some(&code(None, None, NOW + 10, 4))
            ),
            Outcome::Link {
                code_id: 3,
                person_id: 7
            }
        );
    }
}
