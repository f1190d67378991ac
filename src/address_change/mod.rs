//! Change of address without an account: the request's states and the one
//! function that decides every transition (pure, `now` passed in), shared by
//! the public flow (`/change-address`), the access-code flow (a change whose
//! hold has ended is applied before a person is read), the officer console
//! (reversal) and the server's housekeeping sweep.
//!
//! A request is `Requested` when the letter with its confirmation code is
//! queued for the new address. Entering that code makes it `Confirmed` with a
//! hold; during the hold the address on file stays the old one and the person
//! at the old address (or the email on file) can cancel it with the code in
//! their notice. When the hold ends it becomes `Effective`.

pub mod store;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeState {
    /// The confirmation letter is on its way to the new address.
    Requested,
    /// Confirmed with the letter's code; takes effect at `hold_until`
    /// (unix seconds) unless cancelled first.
    Confirmed { hold_until: i64 },
    /// The new address is the one on file.
    Effective,
    /// Cancelled with the old-address notice's code (or replaced by a newer request).
    Cancelled,
    /// Reversed by an officer.
    Reversed,
    /// The confirmation code expired or was guessed wrong too often.
    Expired,
}

impl ChangeState {
    pub fn code(self) -> &'static str {
        match self {
            ChangeState::Requested => "requested",
            ChangeState::Confirmed { .. } => "confirmed",
            ChangeState::Effective => "effective",
            ChangeState::Cancelled => "cancelled",
            ChangeState::Reversed => "reversed",
            ChangeState::Expired => "expired",
        }
    }

    /// From the stored columns (`hold_until` is set once confirmed).
    pub fn from_parts(code: &str, hold_until: Option<i64>) -> Option<ChangeState> {
        Some(match code {
            "requested" => ChangeState::Requested,
            "confirmed" => ChangeState::Confirmed {
                hold_until: hold_until?,
            },
            "effective" => ChangeState::Effective,
            "cancelled" => ChangeState::Cancelled,
            "reversed" => ChangeState::Reversed,
            "expired" => ChangeState::Expired,
            _ => return None,
        })
    }

    /// Still open: not yet effective and not ended.
    pub fn is_pending(self) -> bool {
        matches!(self, ChangeState::Requested | ChangeState::Confirmed { .. })
    }
}

/// What happens to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeEvent {
    /// The letter's code was entered (in time, within its tries).
    Confirm { hold_secs: i64 },
    /// "This was not me" with the notice's code, or a newer request replaces it.
    Cancel,
    /// The hold is over.
    TakeEffect,
    /// An officer reverses it (pending or effective).
    Reverse,
    /// The confirmation code expired or its tries ran out.
    Expire,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the hold has not ended")]
    StillHeld,
    #[error("the hold has ended; the change can no longer be cancelled")]
    HoldOver,
    #[error("{event:?} is not possible from {from:?}")]
    NotAllowed {
        from: ChangeState,
        event: ChangeEvent,
    },
}

/// The one rule for every transition.
pub fn transition(
    from: ChangeState,
    event: ChangeEvent,
    now: i64,
) -> Result<ChangeState, TransitionError> {
    use ChangeEvent as E;
    use ChangeState as S;
    match (from, event) {
        (S::Requested, E::Confirm { hold_secs }) => Ok(S::Confirmed {
            hold_until: now.saturating_add(hold_secs.max(0)),
        }),
        (S::Requested, E::Cancel) => Ok(S::Cancelled),
        (S::Confirmed { hold_until }, E::Cancel) => {
            if now < hold_until {
                Ok(S::Cancelled)
            } else {
                Err(TransitionError::HoldOver)
            }
        }
        (S::Confirmed { hold_until }, E::TakeEffect) => {
            if now >= hold_until {
                Ok(S::Effective)
            } else {
                Err(TransitionError::StillHeld)
            }
        }
        (S::Requested | S::Confirmed { .. } | S::Effective, E::Reverse) => Ok(S::Reversed),
        (S::Requested, E::Expire) => Ok(S::Expired),
        (from, event) => Err(TransitionError::NotAllowed { from, event }),
    }
}

/// Additional authenticated data binding a change-of-address letter's sealed
/// code to its request and kind (a confirm code cannot pose as a cancel code).
pub fn letter_aad(request_id: i64, kind: crate::notices::NoticeKind) -> String {
    format!("address_change:{request_id}:{}", kind.code())
}

/// Named limits of the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeRules {
    /// How long the letter's confirmation code works.
    pub confirm_valid_secs: i64,
    /// Wrong confirmation codes allowed per request before it expires.
    pub confirm_max_tries: i64,
}

pub const RULES: ChangeRules = ChangeRules {
    confirm_valid_secs: 30 * 86_400,
    confirm_max_tries: 5,
};

#[cfg(test)]
mod tests {
    use super::*;
    use ChangeEvent as E;
    use ChangeState as S;

    const NOW: i64 = 1_795_000_000;
    const HOLD: i64 = 10 * 86_400;

    #[test]
    fn the_happy_path_waits_for_the_hold() {
        let c = transition(S::Requested, E::Confirm { hold_secs: HOLD }, NOW).unwrap();
        assert_eq!(
            c,
            S::Confirmed {
                hold_until: NOW + HOLD
            }
        );
        assert_eq!(
            transition(c, E::TakeEffect, NOW + HOLD - 1),
            Err(TransitionError::StillHeld)
        );
        assert_eq!(transition(c, E::TakeEffect, NOW + HOLD), Ok(S::Effective));
    }

    #[test]
    fn cancel_works_only_until_the_hold_ends() {
        let c = S::Confirmed {
            hold_until: NOW + HOLD,
        };
        assert_eq!(transition(c, E::Cancel, NOW + HOLD - 1), Ok(S::Cancelled));
        assert_eq!(
            transition(c, E::Cancel, NOW + HOLD),
            Err(TransitionError::HoldOver)
        );
        assert_eq!(transition(S::Requested, E::Cancel, NOW), Ok(S::Cancelled));
        assert!(transition(S::Effective, E::Cancel, NOW).is_err());
    }

    #[test]
    fn officers_reverse_pending_and_effective_changes_only() {
        for s in [S::Requested, S::Confirmed { hold_until: NOW }, S::Effective] {
            assert_eq!(transition(s, E::Reverse, NOW), Ok(S::Reversed));
        }
        for s in [S::Cancelled, S::Reversed, S::Expired] {
            assert!(transition(s, E::Reverse, NOW).is_err());
        }
    }

    #[test]
    fn ended_requests_stay_ended() {
        for s in [S::Effective, S::Cancelled, S::Reversed, S::Expired] {
            for e in [
                E::Confirm { hold_secs: HOLD },
                E::Cancel,
                E::TakeEffect,
                E::Expire,
            ] {
                if (s, e) == (S::Effective, E::Cancel) {
                    continue;
                }
                assert!(transition(s, e, NOW).is_err(), "{s:?} {e:?}");
            }
        }
        // Confirming twice or expiring a confirmed request is refused.
        let c = S::Confirmed { hold_until: NOW };
        assert!(transition(c, E::Confirm { hold_secs: HOLD }, NOW).is_err());
        assert!(transition(c, E::Expire, NOW).is_err());
        assert_eq!(transition(S::Requested, E::Expire, NOW), Ok(S::Expired));
    }

    #[test]
    fn codes_round_trip() {
        for s in [
            S::Requested,
            S::Confirmed { hold_until: NOW },
            S::Effective,
            S::Cancelled,
            S::Reversed,
            S::Expired,
        ] {
            assert_eq!(S::from_parts(s.code(), Some(NOW)), Some(s));
        }
        assert_eq!(S::from_parts("confirmed", None), None);
        assert_eq!(S::from_parts("other", None), None);
    }
}
