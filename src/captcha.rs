//! Self-hosted, accessible proof-of-work CAPTCHA (ALTCHA/kanidm style).
//!
//! # How it works
//!
//! [`issue`] creates a [`Challenge`] whose `token` is *stateless*: everything
//! the server needs later (a random 128-bit challenge id, the salt, the
//! difficulty, `issued_at` and `expires_at`) is in the token, signed with
//! HMAC-SHA-256 under a 32-byte server key. Nothing is stored at issue time.
//!
//! Token format: `hex(payload) "." hex(HMAC-SHA-256(key, hex(payload)))`, where
//! `payload` is the ASCII string `v1:{id}:{salt}:{difficulty}:{issued_at}:{expires_at}`
//! (id and salt are 32 lowercase hex characters, times are unix seconds).
//! All hex is lowercase; anything else is rejected.
//!
//! The puzzle: find a decimal nonce `n` such that SHA-256 of the UTF-8 string
//! `format!("{salt}:{n}")` has at least `difficulty` leading zero **bits**.
//! On average that takes `2^difficulty` hashes (see [`solve`]).
//!
//! There are two ways to pass, so that nobody is locked out:
//!
//! * **Work** ([`Proof::Nonce`]): the browser script (`/assets/captcha.js`)
//!   solved the puzzle and put the nonce into `captcha_solution`. Verifying
//!   costs the server one hash.
//! * **Time lock** ([`Proof::None`]): JavaScript is off, or the script failed,
//!   so `captcha_solution` is empty or absent. The submission is accepted
//!   only if it arrives at least `min_fill_secs` after the challenge was
//!   issued; otherwise [`CaptchaError::TooFast`] says how long to wait.
//!   A person filling in a form takes longer than that anyway; a bot has to
//!   wait, and the server's rate limits do the rest.
//!
//! Use [`Proof::from_field`] to turn the raw form field into a [`Proof`]: it
//! maps an absent or blank field to [`Proof::None`]. A wrong nonce is
//! *rejected* ([`CaptchaError::WrongSolution`]); it does not fall back to the
//! time lock.
//!
//! # Single use is the caller's job
//!
//! [`verify`] is pure and does not remember anything, so a token (with its
//! solution) could be replayed until it expires. **The caller must enforce
//! single use**: after a successful [`verify`], record
//! [`Verified::challenge_id`] (or its keyed hash, [`challenge_id_hash`]) until
//! [`Verified::expires_at`], atomically, and reject the submission if it was
//! already recorded — e.g. an `INSERT` into a table with a primary key on the
//! id that fails on a duplicate, plus a periodic `DELETE ... WHERE
//! expires_at < now`. Do this *before* acting on the form.
//!
//! # Errors and key handling
//!
//! Parsing never panics on arbitrary input and tokens longer than
//! [`MAX_TOKEN_LEN`] are rejected before any work. The signature is compared
//! in constant time. The key is 32 random bytes from a CSPRNG, kept secret and
//! used for nothing else; rotating it invalidates outstanding challenges
//! (affected users just get a fresh form).

use hmac::Hmac;
use hmac::Mac;
use hmac::digest::KeyInit;
use hmac::digest::generic_array::GenericArray;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Tokens longer than this are rejected as [`CaptchaError::Malformed`]
/// without further work. Real tokens are about 250 bytes.
pub const MAX_TOKEN_LEN: usize = 1024;

/// Nonces longer than this (more than `u64::MAX` has digits) are rejected.
const MAX_NONCE_LEN: usize = 20;

const PAYLOAD_VERSION: &str = "v1";
const ID_HASH_DOMAIN: &[u8] = b"\0casegate-captcha-id\0";

/// A freshly issued challenge, to be rendered into the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Signed, self-contained token for the hidden `captcha_token` input.
    pub token: String,
    /// Salt for the form's `data-captcha-salt` attribute (also in the token).
    pub salt: String,
    /// Difficulty in leading zero bits, for `data-captcha-difficulty`.
    pub difficulty: u8,
    /// Unix seconds after which the token is no longer accepted.
    pub expires_at: i64,
}

/// What the client submitted in the `captcha_solution` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof<'a> {
    /// The decimal nonce found by the browser script.
    Nonce(&'a str),
    /// No solution (JavaScript off or the script failed): time-lock path.
    None,
}

impl<'a> Proof<'a> {
    /// Maps the raw `captcha_solution` form field to a proof: absent, empty or
    /// all-whitespace means [`Proof::None`] (time lock), anything else is a
    /// [`Proof::Nonce`] (surrounding ASCII whitespace trimmed).
    pub fn from_field(field: Option<&'a str>) -> Self {
        match field.map(str::trim_ascii) {
            Some(s) if !s.is_empty() => Proof::Nonce(s),
            _ => Proof::None,
        }
    }
}

/// How a verified submission passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A correct proof-of-work nonce.
    Work,
    /// No nonce, but submitted at least `min_fill_secs` after issue.
    TimeLock,
}

/// A successfully verified challenge. The caller must now record
/// `challenge_id` until `expires_at` and reject duplicates (single use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The random challenge id (32 lowercase hex characters).
    pub challenge_id: String,
    /// Unix seconds; the id need not be remembered after this.
    pub expires_at: i64,
    /// Which path the submission passed by.
    pub via: Via,
}

/// Why a submission was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CaptchaError {
    /// The token is not in the expected format.
    #[error("malformed captcha token")]
    Malformed,
    /// The token was not signed with this key (forged or tampered).
    #[error("bad captcha signature")]
    BadSignature,
    /// The token has expired.
    #[error("captcha expired")]
    Expired,
    /// The nonce is not a valid solution for this challenge.
    #[error("wrong captcha solution")]
    WrongSolution,
    /// Time-lock path, submitted too soon; retry after this many seconds.
    #[error("submitted too fast; retry after {retry_after_secs} s")]
    TooFast {
        /// Seconds until the time lock opens (always >= 1).
        retry_after_secs: i64,
    },
}

/// Issues a new challenge valid from `now` for `ttl_secs` seconds.
///
/// `difficulty` is the number of leading zero bits required (average work
/// `2^difficulty` hashes); keep it small (see the recommendation in the
/// project docs), as values above ~24 make the JavaScript path too slow and
/// users fall back to the time lock.
pub fn issue<R: RngCore + ?Sized>(
    key: &[u8; 32],
    rng: &mut R,
    now: i64,
    ttl_secs: i64,
    difficulty: u8,
) -> Challenge {
    let mut id = [0u8; 16];
    rng.fill_bytes(&mut id);
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    let id = hex::encode(id);
    let salt = hex::encode(salt);
    let expires_at = now.saturating_add(ttl_secs);
    let payload = format!("{PAYLOAD_VERSION}:{id}:{salt}:{difficulty}:{now}:{expires_at}");
    let payload_hex = hex::encode(payload.as_bytes());
    let tag = token_mac(key, payload_hex.as_bytes());
    let token = format!("{payload_hex}.{}", hex::encode(tag));
    Challenge {
        token,
        salt,
        difficulty,
        expires_at,
    }
}

/// Verifies a submitted token and proof at time `now` (unix seconds).
///
/// Checks, in order: format ([`CaptchaError::Malformed`]), signature
/// ([`CaptchaError::BadSignature`], constant time), expiry (`now >=
/// expires_at` is [`CaptchaError::Expired`]), then the proof: a nonce must
/// solve the puzzle ([`CaptchaError::WrongSolution`]); no nonce requires
/// `now - issued_at >= min_fill_secs` ([`CaptchaError::TooFast`]).
///
/// On success the caller **must** enforce single use of
/// [`Verified::challenge_id`] (see the module docs).
pub fn verify(
    key: &[u8; 32],
    token: &str,
    proof: Proof,
    now: i64,
    min_fill_secs: i64,
) -> Result<Verified, CaptchaError> {
    let payload = open_token(key, token)?;
    if now >= payload.expires_at {
        return Err(CaptchaError::Expired);
    }
    let via = match proof {
        Proof::Nonce(nonce) => {
            if !is_canonical_nonce(nonce)
                || !meets_difficulty(&puzzle_hash(&payload.salt, nonce), payload.difficulty)
            {
                return Err(CaptchaError::WrongSolution);
            }
            Via::Work
        }
        Proof::None => {
            let elapsed = now.saturating_sub(payload.issued_at);
            if elapsed < min_fill_secs {
                return Err(CaptchaError::TooFast {
                    retry_after_secs: min_fill_secs.saturating_sub(elapsed),
                });
            }
            Via::TimeLock
        }
    };
    Ok(Verified {
        challenge_id: payload.id,
        expires_at: payload.expires_at,
        via,
    })
}

/// Brute-forces the puzzle: the smallest nonce `n` such that
/// SHA-256(`"{salt}:{n}"`) has at least `difficulty` leading zero bits.
/// Expected work is `2^difficulty` hashes. For tests and benchmarks; do not
/// call it with large difficulties (it will effectively never return).
pub fn solve(salt: &str, difficulty: u8) -> u64 {
    let mut prefix = Sha256::new();
    prefix.update(salt.as_bytes());
    prefix.update(b":");
    let mut buf = [0u8; MAX_NONCE_LEN];
    for n in 0..=u64::MAX {
        let digits = write_decimal(n, &mut buf);
        let hash: [u8; 32] = prefix.clone().chain_update(digits).finalize().into();
        if meets_difficulty(&hash, difficulty) {
            return n;
        }
    }
    u64::MAX
}

/// A keyed hash of a challenge id, for callers that prefer to store a
/// fixed-size, non-guessable key in their single-use table instead of the id
/// itself. Domain-separated from the token signature.
pub fn challenge_id_hash(key: &[u8; 32], id: &str) -> [u8; 32] {
    let mut mac = new_mac(key);
    mac.update(ID_HASH_DOMAIN);
    mac.update(id.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Number of leading zero bits of a hash.
fn leading_zero_bits(hash: &[u8]) -> u32 {
    let mut bits = 0;
    for &b in hash {
        if b == 0 {
            bits += 8;
        } else {
            return bits + b.leading_zeros();
        }
    }
    bits
}

fn meets_difficulty(hash: &[u8; 32], difficulty: u8) -> bool {
    leading_zero_bits(hash) >= u32::from(difficulty)
}

fn puzzle_hash(salt: &str, nonce: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(salt.as_bytes())
        .chain_update(b":")
        .chain_update(nonce.as_bytes())
        .finalize()
        .into()
}

/// `0` or 1..=20 ASCII digits without a leading zero, fitting in a `u64`.
fn is_canonical_nonce(nonce: &str) -> bool {
    let b = nonce.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_NONCE_LEN
        && b.iter().all(u8::is_ascii_digit)
        && (b.len() == 1 || b.first() != Some(&b'0'))
        && nonce.parse::<u64>().is_ok()
}

/// Writes `n` in decimal into the end of `buf` and returns that slice.
fn write_decimal(mut n: u64, buf: &mut [u8; MAX_NONCE_LEN]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        // `n % 10` is < 10, so the cast cannot truncate.
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// HMAC-SHA-256 keyed with a 32-byte key. A key shorter than the 64-byte
/// block is zero-padded by HMAC, so this is exactly `new_from_slice(key)`
/// without a fallible call.
fn new_mac(key: &[u8; 32]) -> HmacSha256 {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    <HmacSha256 as KeyInit>::new(&GenericArray::from(block))
}

fn token_mac(key: &[u8; 32], payload_hex: &[u8]) -> [u8; 32] {
    let mut mac = new_mac(key);
    mac.update(payload_hex);
    mac.finalize().into_bytes().into()
}

struct Payload {
    id: String,
    salt: String,
    difficulty: u8,
    issued_at: i64,
    expires_at: i64,
}

fn is_lower_hex(s: &[u8]) -> bool {
    s.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// Checks the format and signature of a token and decodes its payload.
fn open_token(key: &[u8; 32], token: &str) -> Result<Payload, CaptchaError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(CaptchaError::Malformed);
    }
    let (payload_hex, sig_hex) = token.split_once('.').ok_or(CaptchaError::Malformed)?;
    if payload_hex.is_empty()
        || !is_lower_hex(payload_hex.as_bytes())
        || sig_hex.len() != 64
        || !is_lower_hex(sig_hex.as_bytes())
    {
        return Err(CaptchaError::Malformed);
    }
    let mut sig = [0u8; 32];
    hex::decode_to_slice(sig_hex, &mut sig).map_err(|_| CaptchaError::Malformed)?;
    let expected = token_mac(key, payload_hex.as_bytes());
    if !bool::from(expected.ct_eq(&sig)) {
        return Err(CaptchaError::BadSignature);
    }
    // Signed by us, so the rest should always parse; stay defensive anyway.
    let bytes = hex::decode(payload_hex).map_err(|_| CaptchaError::Malformed)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| CaptchaError::Malformed)?;
    parse_payload(text).ok_or(CaptchaError::Malformed)
}

fn parse_payload(text: &str) -> Option<Payload> {
    let mut parts = text.split(':');
    let version = parts.next()?;
    let id = parts.next()?;
    let salt = parts.next()?;
    let difficulty = parts.next()?.parse().ok()?;
    let issued_at = parts.next()?.parse().ok()?;
    let expires_at = parts.next()?.parse().ok()?;
    let valid_hex = |s: &str| s.len() == 32 && is_lower_hex(s.as_bytes());
    if parts.next().is_some() || version != PAYLOAD_VERSION || !valid_hex(id) || !valid_hex(salt) {
        return None;
    }
    Some(Payload {
        id: id.to_owned(),
        salt: salt.to_owned(),
        difficulty,
        issued_at,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::{RngCore, SeedableRng};

    const KEY: [u8; 32] = [7u8; 32];
    const NOW: i64 = 1_700_000_000;
    const TTL: i64 = 600;
    const MIN_FILL: i64 = 5;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(42)
    }

    fn challenge(difficulty: u8) -> Challenge {
        issue(&KEY, &mut rng(), NOW, TTL, difficulty)
    }

    /// A nonce that does NOT solve the puzzle.
    fn wrong_nonce(salt: &str, difficulty: u8) -> String {
        (0u64..)
            .map(|n| n.to_string())
            .find(|n| !meets_difficulty(&puzzle_hash(salt, n), difficulty))
            .unwrap()
    }

    #[test]
    fn issue_solve_verify_ok() {
        let c = challenge(10);
        assert_eq!(c.expires_at, NOW + TTL);
        assert_eq!(c.difficulty, 10);
        assert_eq!(c.salt.len(), 32);
        let nonce = solve(&c.salt, c.difficulty).to_string();
        let v = verify(&KEY, &c.token, Proof::Nonce(&nonce), NOW + 1, MIN_FILL).unwrap();
        assert_eq!(v.via, Via::Work);
        assert_eq!(v.expires_at, NOW + TTL);
        assert_eq!(v.challenge_id.len(), 32);
        assert!(is_lower_hex(v.challenge_id.as_bytes()));
        // Work path has no minimum fill time.
        assert!(verify(&KEY, &c.token, Proof::Nonce(&nonce), NOW, MIN_FILL).is_ok());
    }

    #[test]
    fn solve_finds_smallest_valid_nonce() {
        let c = challenge(8);
        let n = solve(&c.salt, 8);
        assert!(meets_difficulty(&puzzle_hash(&c.salt, &n.to_string()), 8));
        for m in 0..n {
            assert!(!meets_difficulty(&puzzle_hash(&c.salt, &m.to_string()), 8));
        }
    }

    #[test]
    fn issue_is_random_and_ids_differ() {
        let mut r = rng();
        let a = issue(&KEY, &mut r, NOW, TTL, 4);
        let b = issue(&KEY, &mut r, NOW, TTL, 4);
        assert_ne!(a.token, b.token);
        assert_ne!(a.salt, b.salt);
        let va = verify(&KEY, &a.token, Proof::None, NOW + 10, MIN_FILL).unwrap();
        let vb = verify(&KEY, &b.token, Proof::None, NOW + 10, MIN_FILL).unwrap();
        assert_ne!(va.challenge_id, vb.challenge_id);
        // Works with a trait-object RNG too (`?Sized`).
        let dyn_rng: &mut dyn RngCore = &mut r;
        let c = issue(&KEY, dyn_rng, NOW, TTL, 4);
        assert!(verify(&KEY, &c.token, Proof::None, NOW + 10, MIN_FILL).is_ok());
    }

    #[test]
    fn wrong_nonce_rejected() {
        let c = challenge(12);
        let bad = wrong_nonce(&c.salt, 12);
        assert_eq!(
            verify(&KEY, &c.token, Proof::Nonce(&bad), NOW + 1, MIN_FILL),
            Err(CaptchaError::WrongSolution)
        );
    }

    #[test]
    fn non_canonical_nonces_rejected() {
        let c = challenge(0); // every well-formed nonce solves difficulty 0
        for bad in [
            "",
            " 1",
            "1 ",
            "+1",
            "-1",
            "01",
            "00",
            "1.0",
            "0x1",
            "١",
            "18446744073709551616",
            "123456789012345678901",
        ] {
            assert_eq!(
                verify(&KEY, &c.token, Proof::Nonce(bad), NOW + 1, MIN_FILL),
                Err(CaptchaError::WrongSolution),
                "{bad:?}"
            );
        }
        for good in ["0", "7", "18446744073709551615"] {
            assert!(verify(&KEY, &c.token, Proof::Nonce(good), NOW + 1, MIN_FILL).is_ok());
        }
    }

    #[test]
    fn nonce_for_other_salt_rejected() {
        let mut r = rng();
        let a = issue(&KEY, &mut r, NOW, TTL, 12);
        let b = issue(&KEY, &mut r, NOW, TTL, 12);
        let na = solve(&a.salt, 12);
        // Make sure the nonce happens not to solve b as well.
        assert!(!meets_difficulty(
            &puzzle_hash(&b.salt, &na.to_string()),
            12
        ));
        assert_eq!(
            verify(
                &KEY,
                &b.token,
                Proof::Nonce(&na.to_string()),
                NOW + 1,
                MIN_FILL
            ),
            Err(CaptchaError::WrongSolution)
        );
    }

    #[test]
    fn tampering_any_byte_rejected() {
        let c = challenge(4);
        let nonce = solve(&c.salt, 4).to_string();
        let bytes = c.token.as_bytes();
        for i in 0..bytes.len() {
            for replacement in [b'0', b'1', b'a', b'f', b'A', b'F', b'g', b'.', b':', b'\0'] {
                if replacement == bytes[i] {
                    continue;
                }
                let mut t = bytes.to_vec();
                t[i] = replacement;
                let t = String::from_utf8(t).unwrap();
                for proof in [Proof::Nonce(&nonce), Proof::None] {
                    let r = verify(&KEY, &t, proof, NOW + 10, MIN_FILL);
                    assert!(
                        matches!(r, Err(CaptchaError::BadSignature | CaptchaError::Malformed)),
                        "byte {i} -> {replacement}: {r:?}"
                    );
                }
            }
        }
        // Truncation, extension and removal of the separator.
        for t in [
            &c.token[..c.token.len() - 1],
            &c.token[1..],
            &format!("{}0", c.token),
            &format!("0{}", c.token),
            &c.token.replace('.', ""),
            &format!("{}.00", c.token),
        ] {
            assert!(
                verify(&KEY, t, Proof::None, NOW + 10, MIN_FILL).is_err(),
                "{t}"
            );
        }
    }

    #[test]
    fn other_key_rejected() {
        let c = challenge(4);
        let other = [8u8; 32];
        assert_eq!(
            verify(&other, &c.token, Proof::None, NOW + 10, MIN_FILL),
            Err(CaptchaError::BadSignature)
        );
    }

    #[test]
    fn forged_payload_with_valid_hex_rejected() {
        let c = challenge(20);
        // Lower the difficulty in the payload, keep the old signature.
        let (payload_hex, sig) = c.token.split_once('.').unwrap();
        let text = String::from_utf8(hex::decode(payload_hex).unwrap()).unwrap();
        let forged = text.replacen(":20:", ":0:", 1);
        assert_ne!(text, forged);
        let token = format!("{}.{sig}", hex::encode(forged));
        assert_eq!(
            verify(&KEY, &token, Proof::Nonce("0"), NOW + 1, MIN_FILL),
            Err(CaptchaError::BadSignature)
        );
    }

    #[test]
    fn expired_rejected() {
        let c = challenge(4);
        let nonce = solve(&c.salt, 4).to_string();
        assert!(
            verify(
                &KEY,
                &c.token,
                Proof::Nonce(&nonce),
                NOW + TTL - 1,
                MIN_FILL
            )
            .is_ok()
        );
        for now in [NOW + TTL, NOW + TTL + 1, i64::MAX] {
            assert_eq!(
                verify(&KEY, &c.token, Proof::Nonce(&nonce), now, MIN_FILL),
                Err(CaptchaError::Expired)
            );
            assert_eq!(
                verify(&KEY, &c.token, Proof::None, now, MIN_FILL),
                Err(CaptchaError::Expired)
            );
        }
    }

    #[test]
    fn time_lock() {
        let c = challenge(16);
        for elapsed in 0..MIN_FILL {
            assert_eq!(
                verify(&KEY, &c.token, Proof::None, NOW + elapsed, MIN_FILL),
                Err(CaptchaError::TooFast {
                    retry_after_secs: MIN_FILL - elapsed
                })
            );
        }
        // Clock skew: a token "from the future" still gets a sane retry time.
        assert_eq!(
            verify(&KEY, &c.token, Proof::None, NOW - 3, MIN_FILL),
            Err(CaptchaError::TooFast {
                retry_after_secs: MIN_FILL + 3
            })
        );
        for elapsed in [MIN_FILL, MIN_FILL + 1, TTL - 1] {
            let v = verify(&KEY, &c.token, Proof::None, NOW + elapsed, MIN_FILL).unwrap();
            assert_eq!(v.via, Via::TimeLock);
            assert_eq!(v.expires_at, NOW + TTL);
        }
        // min_fill_secs = 0 disables the wait.
        assert!(verify(&KEY, &c.token, Proof::None, NOW, 0).is_ok());
    }

    #[test]
    fn wrong_nonce_does_not_fall_back_to_time_lock() {
        let c = challenge(12);
        let bad = wrong_nonce(&c.salt, 12);
        assert_eq!(
            verify(&KEY, &c.token, Proof::Nonce(&bad), NOW + 100, MIN_FILL),
            Err(CaptchaError::WrongSolution)
        );
    }

    #[test]
    fn proof_from_field() {
        assert_eq!(Proof::from_field(None), Proof::None);
        assert_eq!(Proof::from_field(Some("")), Proof::None);
        assert_eq!(Proof::from_field(Some(" \t\r\n")), Proof::None);
        assert_eq!(Proof::from_field(Some("123")), Proof::Nonce("123"));
        assert_eq!(Proof::from_field(Some(" 123\n")), Proof::Nonce("123"));
        assert_eq!(Proof::from_field(Some("abc")), Proof::Nonce("abc"));
    }

    #[test]
    fn difficulty_zero() {
        let c = challenge(0);
        assert_eq!(solve(&c.salt, 0), 0);
        for nonce in ["0", "1", "999999"] {
            let v = verify(&KEY, &c.token, Proof::Nonce(nonce), NOW, MIN_FILL).unwrap();
            assert_eq!(v.via, Via::Work);
        }
        // The time lock still applies without a nonce.
        assert_eq!(
            verify(&KEY, &c.token, Proof::None, NOW, MIN_FILL),
            Err(CaptchaError::TooFast {
                retry_after_secs: MIN_FILL
            })
        );
    }

    #[test]
    fn max_difficulty_is_unsolvable_but_harmless() {
        let c = challenge(255);
        assert_eq!(
            verify(&KEY, &c.token, Proof::Nonce("0"), NOW, MIN_FILL),
            Err(CaptchaError::WrongSolution)
        );
        assert!(verify(&KEY, &c.token, Proof::None, NOW + MIN_FILL, MIN_FILL).is_ok());
    }

    #[test]
    fn leading_zero_bits_counts() {
        let mut h = [0u8; 32];
        assert_eq!(leading_zero_bits(&h), 256);
        h[31] = 1;
        assert_eq!(leading_zero_bits(&h), 255);
        h[0] = 0x80;
        assert_eq!(leading_zero_bits(&h), 0);
        h[0] = 0x01;
        assert_eq!(leading_zero_bits(&h), 7);
        h[0] = 0;
        h[1] = 0x10;
        assert_eq!(leading_zero_bits(&h), 11);
    }

    #[test]
    fn known_puzzle_vector() {
        // sha256("abc:0"), computed independently with Python's hashlib.
        assert_eq!(
            hex::encode(puzzle_hash("abc", "0")),
            "5f36efce86f68877cee18fda5637abb2a1bb409f4326cc741fdf13200aa26980"
        );
        assert_eq!(leading_zero_bits(&puzzle_hash("abc", "0")), 1);
    }

    #[test]
    fn write_decimal_matches_to_string() {
        let mut buf = [0u8; MAX_NONCE_LEN];
        for n in [0, 1, 9, 10, 99, 100, 12345, u64::MAX / 3, u64::MAX] {
            assert_eq!(write_decimal(n, &mut buf), n.to_string().as_bytes());
        }
    }

    #[test]
    fn mac_matches_new_from_slice() {
        let key: [u8; 32] = core::array::from_fn(|i| i as u8);
        let mut a = new_mac(&key);
        let mut b = <HmacSha256 as Mac>::new_from_slice(&key).unwrap();
        a.update(b"hello");
        b.update(b"hello");
        assert_eq!(a.finalize().into_bytes(), b.finalize().into_bytes());
    }

    #[test]
    fn challenge_id_hash_is_keyed_and_stable() {
        let c = challenge(0);
        let v = verify(&KEY, &c.token, Proof::Nonce("0"), NOW, MIN_FILL).unwrap();
        let h1 = challenge_id_hash(&KEY, &v.challenge_id);
        assert_eq!(h1, challenge_id_hash(&KEY, &v.challenge_id));
        assert_ne!(h1, challenge_id_hash(&[1u8; 32], &v.challenge_id));
        assert_ne!(h1, challenge_id_hash(&KEY, "other"));
    }

    #[test]
    fn oversized_token_rejected() {
        let t = "a".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(
            verify(&KEY, &t, Proof::None, NOW, MIN_FILL),
            Err(CaptchaError::Malformed)
        );
    }

    /// Solving difficulty 16 takes about 2^16 hashes on average
    /// (geometric distribution, mean 2^d). Loose bounds, fixed seed.
    #[test]
    fn difficulty_16_costs_about_2_pow_16_hashes() {
        const SAMPLES: u64 = 24;
        let mut r = StdRng::seed_from_u64(0xC0FFEE);
        let total: u64 = (0..SAMPLES)
            .map(|_| {
                let c = issue(&KEY, &mut r, NOW, TTL, 16);
                solve(&c.salt, 16) + 1
            })
            .sum();
        let mean = total / SAMPLES;
        assert!(
            (1 << 15..=1 << 17).contains(&mean),
            "mean hashes {mean} not within [2^15, 2^17]"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn verify_never_panics(token in any::<String>(), nonce in proptest::option::of(any::<String>()),
                               now in any::<i64>(), min_fill in any::<i64>()) {
            let proof = Proof::from_field(nonce.as_deref());
            let _ = verify(&KEY, &token, proof, now, min_fill);
            if let Some(n) = nonce.as_deref() {
                let _ = verify(&KEY, &token, Proof::Nonce(n), now, min_fill);
            }
        }

        #[test]
        fn verify_never_panics_on_token_like_input(
            token in "[0-9a-fA-F.:]{0,400}",
            nonce in "[0-9]{0,25}",
            now in any::<i64>(),
        ) {
            let _ = verify(&KEY, &token, Proof::Nonce(&nonce), now, MIN_FILL);
            let _ = verify(&KEY, &token, Proof::None, now, MIN_FILL);
        }

        /// Validly signed tokens with arbitrary payloads (as if the key
        /// leaked or the format changed) must not panic either.
        #[test]
        fn signed_garbage_payload_never_panics(payload in any::<Vec<u8>>(), now in any::<i64>(),
                                               min_fill in any::<i64>(), nonce in "[0-9]{1,20}") {
            let payload_hex = hex::encode(&payload);
            let token = format!("{payload_hex}.{}", hex::encode(token_mac(&KEY, payload_hex.as_bytes())));
            let _ = verify(&KEY, &token, Proof::Nonce(&nonce), now, min_fill);
            let _ = verify(&KEY, &token, Proof::None, now, min_fill);
        }

        #[test]
        fn extreme_times_never_panic(now in any::<i64>(), ttl in any::<i64>(), at in any::<i64>(),
                                     min_fill in any::<i64>(), d in 0u8..=8) {
            let c = issue(&KEY, &mut rng(), now, ttl, d);
            let _ = verify(&KEY, &c.token, Proof::None, at, min_fill);
            let _ = verify(&KEY, &c.token, Proof::Nonce("0"), at, min_fill);
        }

        #[test]
        fn roundtrip_and_single_byte_mutation(seed in any::<u64>(), d in 0u8..=6,
                                              pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let c = issue(&KEY, &mut StdRng::seed_from_u64(seed), NOW, TTL, d);
            let nonce = solve(&c.salt, d).to_string();
            let v = verify(&KEY, &c.token, Proof::Nonce(&nonce), NOW + 1, MIN_FILL);
            prop_assert_eq!(v.map(|v| v.via), Ok(Via::Work));
            let mut t = c.token.clone().into_bytes();
            let i = pos.index(t.len());
            prop_assume!(t[i] != byte);
            t[i] = byte;
            let t = String::from_utf8_lossy(&t);
            prop_assert!(verify(&KEY, &t, Proof::Nonce(&nonce), NOW + 1, MIN_FILL).is_err());
            prop_assert!(verify(&KEY, &t, Proof::None, NOW + 100, MIN_FILL).is_err());
        }
    }
}
