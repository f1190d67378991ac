//! The OAuth 2.0 Device Authorization Grant (RFC 8628), its pure rules: the
//! user code (8 letters from an alphabet without vowels or look-alikes,
//! shown `XXXX-XXXX`), the grant's states and the one function that decides
//! what a poll of the token endpoint answers (§3.5). Time and randomness are
//! parameters.
//!
//! Which apps may ask: registered API clients only (as GitHub and kanidm
//! require a registered OAuth client), so the name the applicant sees on the
//! confirmation page is the one the agency registered, not one the app
//! declared about itself. No client secret is needed to start a device grant
//! (device apps are public clients, RFC 8628 §3.1).

use rand::Rng;

use crate::crypto::hmac_sha256;
use crate::secrets::Secrets;

/// RFC 8628 §6.1: no vowels (no words), no look-alike letters or digits.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LEN: usize = 8;

/// How long a device code and its user code live (15 minutes).
pub const DEVICE_CODE_TTL_SECS: i64 = 900;
/// The polling interval an app is given, and what `slow_down` adds (§3.5).
pub const POLL_INTERVAL_SECS: i64 = 5;
pub const SLOW_DOWN_STEP_SECS: i64 = 5;
/// How long a device-grant token lives.
pub const DEVICE_TOKEN_TTL_SECS: i64 = 90 * 86_400;

/// A user code, normalised (8 letters, no separator).
#[derive(Clone, PartialEq, Eq)]
pub struct UserCode(String);

impl std::fmt::Debug for UserCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserCode([redacted])")
    }
}

impl UserCode {
    pub fn generate<R: Rng + ?Sized>(rng: &mut R) -> UserCode {
        let code = (0..USER_CODE_LEN)
            .map(|_| char::from(USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())]))
            .collect();
        UserCode(code)
    }

    /// What a person typed: case, spaces and hyphens do not matter.
    pub fn parse(input: &str) -> Option<UserCode> {
        let code: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        (code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)))
            .then_some(UserCode(code))
    }

    /// As shown to people: `BCDF-GHJK`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }

    /// The keyed hash it is stored and looked up under.
    pub fn hash(&self, secrets: &Secrets) -> [u8; 32] {
        hmac_sha256(&secrets.api_key, format!("user-code:{}", self.0).as_bytes())
    }
}

/// The keyed hash of a device code.
pub fn device_code_hash(secrets: &Secrets, raw: &str) -> [u8; 32] {
    hmac_sha256(&secrets.api_key, format!("device-code:{raw}").as_bytes())
}

/// Where a device grant stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantState {
    /// Waiting for the applicant.
    Pending,
    /// The applicant approved; the next poll gets the token.
    Approved,
    /// The applicant denied (or the approval was ended by a password reset
    /// or "sign out everywhere" before the app picked it up).
    Denied,
    /// The token was handed out; the device code is spent.
    Issued,
}

impl GrantState {
    pub fn code(self) -> &'static str {
        match self {
            GrantState::Pending => "pending",
            GrantState::Approved => "approved",
            GrantState::Denied => "denied",
            GrantState::Issued => "issued",
        }
    }

    pub fn from_code(s: &str) -> Option<GrantState> {
        match s {
            "pending" => Some(GrantState::Pending),
            "approved" => Some(GrantState::Approved),
            "denied" => Some(GrantState::Denied),
            "issued" => Some(GrantState::Issued),
            _ => None,
        }
    }
}

/// What a poll of the token endpoint answers (RFC 8628 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollOutcome {
    /// `authorization_pending`.
    Pending,
    /// `slow_down`: the app polled sooner than its interval; it now has to
    /// wait this many seconds between polls.
    SlowDown { interval_secs: i64 },
    /// `access_denied`.
    Denied,
    /// `expired_token`.
    Expired,
    /// `invalid_grant`: the code was already exchanged.
    Spent,
    /// The token is issued now.
    Issue,
}

/// The one decision for a poll. `last_poll_at` is the previous poll (none
/// for the first).
pub fn poll(
    state: GrantState,
    expires_at: i64,
    interval_secs: i64,
    last_poll_at: Option<i64>,
    now: i64,
) -> PollOutcome {
    match state {
        GrantState::Issued => PollOutcome::Spent,
        _ if now >= expires_at => PollOutcome::Expired,
        GrantState::Denied => PollOutcome::Denied,
        GrantState::Approved => PollOutcome::Issue,
        GrantState::Pending => match last_poll_at {
            Some(prev) if now - prev < interval_secs => PollOutcome::SlowDown {
                interval_secs: interval_secs + SLOW_DOWN_STEP_SECS,
            },
            _ => PollOutcome::Pending,
        },
    }
}

/// The one decision for the applicant's answer: only a pending, unexpired
/// grant can be approved or denied.
pub fn decide(state: GrantState, expires_at: i64, now: i64, approve: bool) -> Option<GrantState> {
    (state == GrantState::Pending && now < expires_at).then_some(if approve {
        GrantState::Approved
    } else {
        GrantState::Denied
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_short_unambiguous_and_forgiving_to_type() {
        let c = UserCode::generate(&mut rand::rngs::OsRng);
        let shown = c.display();
        assert_eq!(shown.len(), 9);
        assert_eq!(UserCode::parse(&shown), Some(c.clone()));
        assert_eq!(
            UserCode::parse(&shown.to_lowercase().replace('-', " ")),
            Some(c)
        );
        for bad in [
            "",
            "BCDF-GHJ",
            "BCDF-GHJKL",
            "ABCD-EFGH",
            "BCD0-GHJK",
            "BCDF_GHJK",
        ] {
            assert_eq!(UserCode::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn polling_follows_rfc_8628() {
        use GrantState::*;
        use PollOutcome as P;
        assert_eq!(poll(Pending, 1_000, 5, None, 100), P::Pending);
        assert_eq!(
            poll(Pending, 1_000, 5, Some(96), 100),
            P::SlowDown { interval_secs: 10 }
        );
        assert_eq!(poll(Pending, 1_000, 5, Some(95), 100), P::Pending);
        assert_eq!(poll(Pending, 1_000, 5, None, 1_000), P::Expired);
        assert_eq!(poll(Denied, 1_000, 5, None, 100), P::Denied);
        assert_eq!(poll(Approved, 1_000, 5, Some(99), 100), P::Issue);
        assert_eq!(poll(Approved, 1_000, 5, None, 1_000), P::Expired);
        assert_eq!(poll(Issued, 1_000, 5, None, 100), P::Spent);
    }

    #[test]
    fn only_a_pending_live_grant_can_be_decided() {
        use GrantState::*;
        assert_eq!(decide(Pending, 100, 50, true), Some(Approved));
        assert_eq!(decide(Pending, 100, 50, false), Some(Denied));
        assert_eq!(decide(Pending, 100, 100, true), None);
        assert_eq!(decide(Approved, 100, 50, false), None);
        assert_eq!(decide(Denied, 100, 50, true), None);
    }
}
