//! One-time online access codes: 12 Crockford base32 characters (60 bits),
//! shown to people as `XXXX-XXXX-XXXX`, plus their lifecycle state.

use hmac::Mac;
use hmac::digest::KeyInit;
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

type HmacSha256 = hmac::Hmac<Sha256>;

/// Crockford base32 alphabet (no I, L, O, U). Hand-written rather than
/// `data-encoding`: a code is a 60-bit number (12 symbols, 7.5 bytes), which a
/// byte-oriented codec cannot round-trip.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Number of characters in a code.
pub const CODE_LEN: usize = 12;

/// Why a string is not an access code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum AccessCodeError {
    #[error("access code is empty")]
    Empty,
    #[error("access code contains an invalid character")]
    InvalidChar,
    #[error("access code must be 12 characters")]
    WrongLength,
}

/// A syntactically valid access code, canonical: 12 uppercase Crockford
/// base32 characters without separators.
///
/// `Debug` never shows the code; `Display` shows the full grouped form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AccessCode(String);

impl AccessCode {
    /// Parses user input: any case; spaces and dashes ignored; `O`→`0`,
    /// `I`/`L`→`1`; `U` and everything else rejected; exactly 12 symbols.
    pub fn parse(input: &str) -> Result<AccessCode, AccessCodeError> {
        let mut out = String::with_capacity(CODE_LEN);
        let mut count = 0usize;
        for c in input.chars() {
            if c.is_whitespace() || c == '-' {
                continue;
            }
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return Err(AccessCodeError::InvalidChar);
            }
            count += 1;
            if count <= CODE_LEN {
                out.push(c);
            }
        }
        match count {
            0 => Err(AccessCodeError::Empty),
            CODE_LEN => Ok(AccessCode(out)),
            _ => Err(AccessCodeError::WrongLength),
        }
    }

    /// Generates a uniformly random code (60 bits) from `rng`. Use a
    /// cryptographically secure RNG (e.g. `rand::rngs::OsRng`) in production.
    pub fn generate<R: rand::RngCore + ?Sized>(rng: &mut R) -> AccessCode {
        let bits = rng.next_u64();
        let code = (0..CODE_LEN)
            .map(|i| {
                let idx = (bits >> (5 * (CODE_LEN - 1 - i))) & 0x1F;
                ALPHABET.get(idx as usize).copied().map_or('0', char::from)
            })
            .collect();
        AccessCode(code)
    }

    /// Canonical 12-character form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Grouped for display: `XXXX-XXXX-XXXX`.
    pub fn grouped(&self) -> String {
        let mut out = String::with_capacity(CODE_LEN + 2);
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(c);
        }
        out
    }

    /// HMAC-SHA-256 of the canonical form under `key` (what to store instead
    /// of the code). Compare stored hashes with [`constant_time_eq`].
    pub fn keyed_hash(&self, key: &[u8]) -> [u8; 32] {
        hmac_sha256(key, self.0.as_bytes())
    }
}

/// HMAC-SHA-256 without a fallible constructor: keys longer than the block
/// size are hashed first and the key is zero-padded (RFC 2104), so this is
/// identical to `Hmac::new_from_slice(key)` for every key.
fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut block = hmac::digest::Key::<HmacSha256>::default();
    if key.len() > block.len() {
        let digest = Sha256::digest(key);
        for (dst, src) in block.iter_mut().zip(digest.iter()) {
            *dst = *src;
        }
    } else {
        for (dst, src) in block.iter_mut().zip(key) {
            *dst = *src;
        }
    }
    let mut mac = <HmacSha256 as KeyInit>::new(&block);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Constant-time equality for secrets/hashes (length is not hidden).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

impl fmt::Debug for AccessCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessCode(<redacted>)")
    }
}

impl fmt::Display for AccessCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.grouped())
    }
}

/// Lifecycle state of an issued access code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeState {
    Issued,
    Used,
    Revoked,
    Expired,
    Exhausted,
}

/// Derives the state of a code. Timestamps are unix seconds.
///
/// Precedence: `Used` (any `used_at`), `Revoked` (any `revoked_at`),
/// `Exhausted` (`wrong_tries >= max_wrong_tries`; so `max_wrong_tries == 0`
/// means always exhausted), `Expired` (`now >= expires_at`, i.e. `expires_at`
/// is the first second the code is no longer valid), else `Issued`.
pub fn code_state(
    used_at: Option<i64>,
    revoked_at: Option<i64>,
    expires_at: i64,
    wrong_tries: u32,
    max_wrong_tries: u32,
    now: i64,
) -> CodeState {
    if used_at.is_some() {
        CodeState::Used
    } else if revoked_at.is_some() {
        CodeState::Revoked
    } else if wrong_tries >= max_wrong_tries {
        CodeState::Exhausted
    } else if now >= expires_at {
        CodeState::Expired
    } else {
        CodeState::Issued
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    #[test]
    fn parses_and_normalises() {
        let c = AccessCode::parse("abcd-efgh-jkmn").unwrap();
        assert_eq!(c.as_str(), "ABCDEFGHJKMN");
        assert_eq!(c.grouped(), "ABCD-EFGH-JKMN");
        assert_eq!(c.to_string(), "ABCD-EFGH-JKMN");
        assert_eq!(
            AccessCode::parse(" oOiI lL01 2345 ").unwrap().as_str(),
            "001111012345"
        );
        assert_eq!(
            AccessCode::parse("0123456789AB").unwrap(),
            AccessCode::parse("o123456789ab").unwrap()
        );
        assert_eq!(
            AccessCode::parse("0123-4567-89AB").unwrap(),
            AccessCode::parse("0 1 2 3 4 5 6 7 8 9 A B").unwrap()
        );
    }

    #[test]
    fn parse_errors() {
        use AccessCodeError::*;
        assert_eq!(AccessCode::parse(""), Err(Empty));
        assert_eq!(AccessCode::parse(" -- "), Err(Empty));
        assert_eq!(AccessCode::parse("0123456789A"), Err(WrongLength));
        assert_eq!(AccessCode::parse("0123456789ABC"), Err(WrongLength));
        assert_eq!(AccessCode::parse("0123456789AU"), Err(InvalidChar));
        assert_eq!(AccessCode::parse("0123456789au"), Err(InvalidChar));
        assert_eq!(AccessCode::parse("0123456789A_"), Err(InvalidChar));
        assert_eq!(AccessCode::parse("0123456789Aé"), Err(InvalidChar));
        assert_eq!(AccessCode::parse("０123456789AB"), Err(InvalidChar));
    }

    #[test]
    fn debug_is_redacted() {
        let c = AccessCode::parse("ABCDEFGHJKMN").unwrap();
        let dbg = format!("{c:?}");
        assert_eq!(dbg, "AccessCode(<redacted>)");
        assert!(!dbg.contains("ABCD"));
    }

    #[test]
    fn generate_is_valid_and_varies() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let a = AccessCode::generate(&mut rng);
        let b = AccessCode::generate(&mut rng);
        assert_ne!(a, b);
        assert_eq!(AccessCode::parse(a.as_str()).unwrap(), a);
        // Works through a trait object too.
        let dynrng: &mut dyn rand::RngCore = &mut rng;
        let c = AccessCode::generate(dynrng);
        assert_eq!(c.as_str().len(), CODE_LEN);
    }

    #[test]
    fn generate_uses_60_bits() {
        struct Fixed(u64);
        impl rand::RngCore for Fixed {
            fn next_u32(&mut self) -> u32 {
                self.0 as u32
            }
            fn next_u64(&mut self) -> u64 {
                self.0
            }
            fn fill_bytes(&mut self, dest: &mut [u8]) {
                dest.fill(0);
            }
            fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
                dest.fill(0);
                Ok(())
            }
        }
        assert_eq!(AccessCode::generate(&mut Fixed(0)).as_str(), "000000000000");
        assert_eq!(
            AccessCode::generate(&mut Fixed(u64::MAX)).as_str(),
            "ZZZZZZZZZZZZ"
        );
        assert_eq!(AccessCode::generate(&mut Fixed(1)).as_str(), "000000000001");
        assert_eq!(
            AccessCode::generate(&mut Fixed(31 << 55)).as_str(),
            "Z00000000000"
        );
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_matches_rfc4231() {
        // Test case 1.
        assert_eq!(
            hex(&hmac_sha256(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        // Test case 2 (short key).
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6 (key longer than block size).
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn keyed_hash_is_hmac_of_canonical() {
        let c = AccessCode::parse("abcd efgh jkmn").unwrap();
        let key = b"server-secret";
        let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap();
        mac.update(b"ABCDEFGHJKMN");
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(c.keyed_hash(key), expected);
        assert_ne!(c.keyed_hash(b"other"), expected);
        assert!(constant_time_eq(&c.keyed_hash(key), &expected));
    }

    #[test]
    fn constant_time_eq_cases() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn code_state_every_branch() {
        use CodeState::*;
        let exp = 1_000;
        // Issued.
        assert_eq!(code_state(None, None, exp, 0, 5, 999), Issued);
        assert_eq!(code_state(None, None, exp, 4, 5, 0), Issued);
        // Expired (boundary: now == expires_at).
        assert_eq!(code_state(None, None, exp, 0, 5, 1_000), Expired);
        assert_eq!(code_state(None, None, exp, 0, 5, 5_000), Expired);
        // Exhausted beats Expired.
        assert_eq!(code_state(None, None, exp, 5, 5, 0), Exhausted);
        assert_eq!(code_state(None, None, exp, 9, 5, 5_000), Exhausted);
        assert_eq!(code_state(None, None, exp, 0, 0, 0), Exhausted);
        // Revoked beats Exhausted and Expired.
        assert_eq!(code_state(None, Some(10), exp, 0, 5, 0), Revoked);
        assert_eq!(code_state(None, Some(10), exp, 9, 5, 5_000), Revoked);
        // Used beats everything.
        assert_eq!(code_state(Some(10), None, exp, 0, 5, 0), Used);
        assert_eq!(code_state(Some(10), Some(20), exp, 9, 5, 5_000), Used);
    }

    fn alias_variant(code: &str, mask: u64) -> String {
        code.chars()
            .enumerate()
            .map(|(i, c)| {
                let flip = (mask >> i) & 1 == 1;
                match (c, flip) {
                    ('0', true) => {
                        if i % 2 == 0 {
                            'o'
                        } else {
                            'O'
                        }
                    }
                    ('1', true) => ['i', 'I', 'l', 'L'][i % 4],
                    (c, true) => c.to_ascii_lowercase(),
                    (c, false) => c,
                }
            })
            .collect()
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = AccessCode::parse(&s);
        }

        #[test]
        fn never_panics_relevant(s in "[0-9A-Za-z \\-]{0,20}") {
            if let Ok(c) = AccessCode::parse(&s) {
                prop_assert_eq!(AccessCode::parse(c.as_str()).unwrap(), c);
            }
        }

        #[test]
        fn generate_grouped_round_trip(seed in any::<u64>(), mask in any::<u64>()) {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let c = AccessCode::generate(&mut rng);
            prop_assert_eq!(AccessCode::parse(&c.grouped()).unwrap(), c.clone());
            prop_assert_eq!(AccessCode::parse(c.as_str()).unwrap(), c.clone());
            prop_assert_eq!(AccessCode::parse(&c.to_string()).unwrap(), c.clone());
            prop_assert_eq!(AccessCode::parse(&c.grouped().to_lowercase()).unwrap(), c.clone());
            prop_assert_eq!(AccessCode::parse(&alias_variant(c.as_str(), mask)).unwrap(), c);
        }
    }
}
