//! Time-based one-time passwords (RFC 6238, built on RFC 4226 HOTP) for
//! two-step verification, plus the QR code used to enrol an authenticator app.
//!
//! Parameters are fixed to what every authenticator app supports: HMAC-SHA-1,
//! 6 digits, 30-second steps, a 160-bit secret.
//!
//! Time and randomness are always parameters: pass `now` as unix seconds and
//! an `RngCore` (use a CSPRNG such as `rand::rngs::OsRng` in production).
//!
//! The QR helpers ([`qr_svg`], [`qr_data_uri`]) live in this module too.

use std::fmt;

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use qrcodegen::{QrCode, QrCodeEcc};
use rand::RngCore;
use sha1::Sha1;
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

/// Length of a step in seconds.
pub const STEP_SECONDS: u64 = 30;
/// Number of digits in a code.
pub const DIGITS: usize = 6;
/// Secret length in bytes (160 bits, the RFC 4226 recommendation).
pub const SECRET_LEN: usize = 20;

/// Longest code input (in chars, separators included) we bother to look at.
const MAX_INPUT_CHARS: usize = 64;

/// A TOTP shared secret. Its `Debug` output is redacted.
#[derive(Clone)]
pub struct TotpSecret([u8; SECRET_LEN]);

impl TotpSecret {
    /// Draws a fresh 160-bit secret from `rng` (use a CSPRNG).
    pub fn generate<R: RngCore + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; SECRET_LEN];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Rebuilds a secret from its stored bytes; `None` unless exactly 20 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        <[u8; SECRET_LEN]>::try_from(bytes).ok().map(Self)
    }

    /// The raw secret, for storage (encrypt it at rest).
    pub fn as_bytes(&self) -> &[u8; SECRET_LEN] {
        &self.0
    }

    /// RFC 4648 base32, upper case, without `=` padding — the form
    /// authenticator apps expect in `otpauth://` URIs. 20 bytes → 32 chars.
    pub fn base32(&self) -> String {
        base32_encode(&self.0)
    }

    /// [`Self::base32`] in groups of four separated by spaces, for people who
    /// type the secret in by hand (`"ABCD EFGH …"`).
    pub fn base32_grouped(&self) -> String {
        let plain = self.base32();
        let mut out = String::with_capacity(plain.len() + plain.len() / 4);
        for (i, c) in plain.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// RFC 4648 §6 base32 without padding.
fn base32_encode(data: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(data)
}

/// Everything except RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`)
/// is percent-encoded, byte by byte over UTF-8; spaces become `%20`.
const NOT_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, NOT_UNRESERVED).to_string()
}

/// The `otpauth://` key URI that authenticator apps scan:
/// `otpauth://totp/{issuer}:{account}?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
///
/// Issuer and account are percent-encoded (RFC 3986 unreserved characters are
/// kept, spaces become `%20`, a `:` inside either becomes `%3A`); the `:`
/// separating them in the label is literal.
pub fn otpauth_uri(secret: &TotpSecret, issuer: &str, account: &str) -> String {
    let issuer = percent_encode(issuer);
    let account = percent_encode(account);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}\
         &algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        secret = secret.base32(),
    )
}

/// The 30-second step containing `now` (unix seconds). Times before the epoch
/// map to step 0.
pub fn step_of(now: i64) -> u64 {
    u64::try_from(now).unwrap_or(0) / STEP_SECONDS
}

/// HMAC-SHA-1 keyed with the secret. HMAC zero-pads keys shorter than the
/// 64-byte block, so padding here gives exactly the RFC 2104 result without
/// going through the (infallible in practice, but `Result`-typed) slice API.
fn hmac_sha1(secret: &TotpSecret) -> Hmac<Sha1> {
    let mut key = [0u8; 64];
    key[..SECRET_LEN].copy_from_slice(&secret.0);
    <Hmac<Sha1> as KeyInit>::new(&key.into())
}

/// RFC 4226 HOTP value (before reduction to digits) for counter `step`.
fn hotp_value(secret: &TotpSecret, step: u64) -> u32 {
    let mut mac = hmac_sha1(secret);
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    // Dynamic truncation (RFC 4226 §5.3). The offset is at most 15 and the
    // digest is 20 bytes long, so the four bytes are always in range.
    let offset = usize::from(digest[19] & 0x0f);
    let mut word = [0u8; 4];
    word.copy_from_slice(&digest[offset..offset + 4]);
    u32::from_be_bytes(word) & 0x7fff_ffff
}

fn code_bytes(secret: &TotpSecret, step: u64) -> [u8; DIGITS] {
    let mut value = hotp_value(secret, step) % 1_000_000;
    let mut out = [b'0'; DIGITS];
    for slot in out.iter_mut().rev() {
        // `value % 10` is always < 10, so the cast cannot truncate.
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
    out
}

/// The 6-digit, zero-padded code for `step` (see [`step_of`]).
pub fn code_at(secret: &TotpSecret, step: u64) -> String {
    code_bytes(secret, step)
        .iter()
        .map(|&b| char::from(b))
        .collect()
}

/// Why a TOTP code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// Not six digits (after removing spaces and dashes).
    #[error("the code must be 6 digits")]
    Format,
    /// Six digits, but not the current code (±1 step).
    #[error("the code is wrong or has expired")]
    Wrong,
    /// The code (or an older one) was already used; codes are single-use.
    #[error("the code has already been used")]
    Replayed,
}

/// Whether `c` is a separator people type or paste inside codes: whitespace,
/// ASCII `-`, or a Unicode hyphen/dash/minus (copied from documents).
fn is_code_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

fn parse_code(input: &str) -> Result<[u8; DIGITS], TotpError> {
    let mut out = [0u8; DIGITS];
    let mut n = 0;
    for (i, c) in input.chars().enumerate() {
        if i >= MAX_INPUT_CHARS {
            return Err(TotpError::Format);
        }
        if is_code_separator(c) {
            continue;
        }
        if !c.is_ascii_digit() || n == DIGITS {
            return Err(TotpError::Format);
        }
        // ASCII digit, so the conversion to u8 is exact.
        out[n] = c as u8;
        n += 1;
    }
    if n == DIGITS {
        Ok(out)
    } else {
        Err(TotpError::Format)
    }
}

/// Checks `input` against the codes for the previous, current and next step.
///
/// * Spaces and dashes in `input` are ignored; what is left must be exactly
///   six ASCII digits, otherwise [`TotpError::Format`].
/// * All three candidate codes are computed and compared in constant time
///   (no early exit on a match). If several match, the latest step wins.
/// * If the matching step is `<= last_used_step`, the result is
///   [`TotpError::Replayed`]: a code, or an older one, is never accepted twice.
///
/// On success returns the matched step; the caller must store it as the new
/// `last_used_step` (atomically with the sign-in, e.g. a conditional UPDATE).
/// Rate-limit attempts: 3 valid codes in 10^6 gives an online guesser a
/// 3·10⁻⁶ chance per try.
pub fn verify(
    secret: &TotpSecret,
    input: &str,
    now: i64,
    last_used_step: Option<u64>,
) -> Result<u64, TotpError> {
    let given = parse_code(input)?;
    let current = step_of(now);

    let mut found = Choice::from(0);
    let mut matched: u64 = 0;
    for delta in [-1i64, 0, 1] {
        // Only fails at step 0 / u64::MAX, which depends on the clock, not
        // on the secret or the input, so skipping there leaks nothing.
        let Some(step) = current.checked_add_signed(delta) else {
            continue;
        };
        let expected = code_bytes(secret, step);
        let eq = expected.ct_eq(&given);
        matched = u64::conditional_select(&matched, &step, eq);
        found |= eq;
    }

    if !bool::from(found) {
        return Err(TotpError::Wrong);
    }
    match last_used_step {
        Some(last) if matched <= last => Err(TotpError::Replayed),
        _ => Ok(matched),
    }
}

// ---------------------------------------------------------------------------
// QR code for enrolment
// ---------------------------------------------------------------------------

/// Width of the light border around the symbol, in modules (the spec minimum).
const QUIET_ZONE: i32 = 4;

/// `text` is too long to fit in any QR code version at error-correction level
/// Medium (~2.3 kB of bytes). An `otpauth` URI from [`otpauth_uri`] with
/// sensible issuer/account lengths is far below that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("text too long for a QR code")]
pub struct QrTooLong;

/// Renders `text` as a QR code (error correction at least Medium; qrcodegen
/// raises the level when that costs no extra size) in a compact standalone SVG:
/// `viewBox="0 0 N N"` with N = symbol size + 2×4-module quiet zone,
/// `shape-rendering="crispEdges"`, a white background `<rect>`, and a single
/// `<path fill="#000">` for the dark modules. It uses presentation attributes
/// only — no `style` attributes or elements — so it is safe under a CSP that
/// forbids inline styles. Size it from the embedding `<img>`.
pub fn qr_svg(text: &str) -> Result<String, QrTooLong> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).map_err(|_| QrTooLong)?;
    let size = qr.size();
    let n = size + 2 * QUIET_ZONE;

    let mut path = String::new();
    for y in 0..size {
        let mut x = 0;
        while x < size {
            if !qr.get_module(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < size && qr.get_module(x, y) {
                x += 1;
            }
            let run = x - start;
            path.push_str(&format!(
                "M{},{}h{run}v1h-{run}z",
                start + QUIET_ZONE,
                y + QUIET_ZONE
            ));
        }
    }

    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {n} {n}\" \
         shape-rendering=\"crispEdges\">\
         <rect width=\"{n}\" height=\"{n}\" fill=\"#fff\"/>\
         <path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

/// [`qr_svg`] as a `data:image/svg+xml;base64,…` URI for
/// `<img src="…" alt="…">` (the CSP's `img-src` must allow `data:`).
pub fn qr_data_uri(text: &str) -> Result<String, QrTooLong> {
    let svg = qr_svg(text)?;
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        base64_encode(svg.as_bytes())
    ))
}

/// Standard base64 (RFC 4648 §4) with `=` padding.
fn base64_encode(data: &[u8]) -> String {
    data_encoding::BASE64.encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::{RngCore, SeedableRng};

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        // (T, 8-digit value from RFC 6238 Appendix B); we use the last 6.
        let vectors: [(i64, &str); 6] = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        let s = rfc_secret();
        for (t, eight) in vectors {
            let six = &eight[2..];
            assert_eq!(code_at(&s, step_of(t)), six, "T={t}");
            assert_eq!(verify(&s, six, t, None), Ok(step_of(t)), "T={t}");
        }
    }

    #[test]
    fn rfc4226_appendix_d_hotp_vectors() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        let s = rfc_secret();
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(code_at(&s, counter as u64), *code);
        }
    }

    #[test]
    fn hmac_padding_matches_slice_api() {
        let s = rfc_secret();
        let mut a = hmac_sha1(&s);
        let mut b = <Hmac<Sha1> as Mac>::new_from_slice(s.as_bytes()).unwrap();
        a.update(b"x");
        b.update(b"x");
        assert_eq!(a.finalize().into_bytes(), b.finalize().into_bytes());
    }

    #[test]
    fn step_of_boundaries() {
        assert_eq!(step_of(0), 0);
        assert_eq!(step_of(29), 0);
        assert_eq!(step_of(30), 1);
        assert_eq!(step_of(59), 1);
        assert_eq!(step_of(-1), 0);
        assert_eq!(step_of(i64::MIN), 0);
        assert_eq!(step_of(i64::MAX), i64::MAX as u64 / 30);
    }

    #[test]
    fn window_is_plus_minus_one_step() {
        let s = rfc_secret();
        let now = 1_700_000_015;
        let cur = step_of(now);
        for step in [cur - 1, cur, cur + 1] {
            assert_eq!(verify(&s, &code_at(&s, step), now, None), Ok(step));
        }
        for step in [cur - 3, cur - 2, cur + 2, cur + 3] {
            let code = code_at(&s, step);
            // Guard against a (1 in 10^6) coincidental collision with a valid code.
            if [cur - 1, cur, cur + 1]
                .iter()
                .all(|&v| code_at(&s, v) != code)
            {
                assert_eq!(verify(&s, &code, now, None), Err(TotpError::Wrong));
            }
        }
    }

    #[test]
    fn window_at_epoch_start() {
        let s = rfc_secret();
        assert_eq!(verify(&s, &code_at(&s, 0), 0, None), Ok(0));
        assert_eq!(verify(&s, &code_at(&s, 1), 0, None), Ok(1));
        assert_eq!(verify(&s, &code_at(&s, 0), -100, None), Ok(0));
    }

    #[test]
    fn wrong_code_refused() {
        let s = rfc_secret();
        // T=59 is step 1; "287082" belongs to step 1 (also HOTP counter 1).
        assert_eq!(verify(&s, "287083", 59, None), Err(TotpError::Wrong));
        assert_eq!(verify(&s, "000000", 59, None), Err(TotpError::Wrong));
    }

    #[test]
    fn replay_refused() {
        let s = rfc_secret();
        let now = 1_700_000_000;
        let cur = step_of(now);
        let code = code_at(&s, cur);
        let used = verify(&s, &code, now, None).unwrap();
        assert_eq!(used, cur);
        // Same code again, same or later time in the window.
        assert_eq!(verify(&s, &code, now, Some(used)), Err(TotpError::Replayed));
        assert_eq!(
            verify(&s, &code, now + 30, Some(used)),
            Err(TotpError::Replayed)
        );
        // An older (still in-window) code after a newer one was used.
        let older = code_at(&s, cur - 1);
        if older != code {
            assert_eq!(
                verify(&s, &older, now, Some(used)),
                Err(TotpError::Replayed)
            );
        }
        // The next step's code is still fine.
        let next = code_at(&s, cur + 1);
        assert_eq!(verify(&s, &next, now, Some(used)), Ok(cur + 1));
        // A stored step far in the past does not block.
        assert_eq!(verify(&s, &code, now, Some(cur - 10)), Ok(cur));
    }

    #[test]
    fn separators_accepted() {
        let s = rfc_secret();
        for input in [
            "287 082",
            "287-082",
            " 2 8 7 0 8 2 ",
            "287\u{2013}082",
            "\t287082\n",
        ] {
            assert_eq!(verify(&s, input, 59, None), Ok(1), "{input:?}");
        }
    }

    #[test]
    fn format_errors() {
        let s = rfc_secret();
        for input in [
            "",
            "   ",
            "12345",
            "1234567",
            "12a456",
            "12.456",
            "１２３４５６", // full-width digits
            "١٢٣٤٥٦",       // Arabic-Indic digits
            "+12345",
            "94287082",
        ] {
            assert_eq!(
                verify(&s, input, 59, None),
                Err(TotpError::Format),
                "{input:?}"
            );
        }
        let long = format!("287082{}", " ".repeat(100));
        assert_eq!(verify(&s, &long, 59, None), Err(TotpError::Format));
    }

    #[test]
    fn base32_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ];
        for (input, expected) in cases {
            assert_eq!(base32_encode(input.as_bytes()), expected);
        }
    }

    #[test]
    fn secret_base32_forms() {
        let s = rfc_secret();
        assert_eq!(s.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            s.base32_grouped(),
            "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"
        );
    }

    #[test]
    fn secret_bytes_and_debug() {
        assert!(TotpSecret::from_bytes(&[0u8; 19]).is_none());
        assert!(TotpSecret::from_bytes(&[0u8; 21]).is_none());
        let mut rng = StdRng::seed_from_u64(7);
        let a = TotpSecret::generate(&mut rng);
        let b = TotpSecret::generate(&mut rng);
        assert_ne!(a.as_bytes(), b.as_bytes());
        let again = TotpSecret::from_bytes(a.as_bytes()).unwrap();
        assert_eq!(again.as_bytes(), a.as_bytes());
        let dbg = format!("{a:?}");
        assert_eq!(dbg, "TotpSecret(<redacted>)");
        assert!(!dbg.contains(&a.base32()));
        // Works through a trait object too (`?Sized`).
        let dyn_rng: &mut dyn RngCore = &mut rng;
        let _ = TotpSecret::generate(dyn_rng);
    }

    #[test]
    fn otpauth_uri_encoding() {
        let s = rfc_secret();
        assert_eq!(
            otpauth_uri(&s, "Casegate", "alice@example.org"),
            "otpauth://totp/Casegate:alice%40example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Casegate&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(
            otpauth_uri(&s, "Casegate Agency & Co", "Zoë O'Brien:a/b?c#d+e~f_g.h-i"),
            "otpauth://totp/Casegate%20Agency%20%26%20Co:Zo%C3%AB%20O%27Brien%3Aa%2Fb%3Fc%23d%2Be~f_g.h-i\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Casegate%20Agency%20%26%20Co\
             &algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn base64_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in cases {
            assert_eq!(base64_encode(input.as_bytes()), expected);
        }
    }

    /// Parses the `M x,y h run v1 h-run z` commands back into dark cells.
    fn dark_cells(svg: &str) -> Vec<(i32, i32)> {
        let d = svg.split("d=\"").nth(1).unwrap().split('"').next().unwrap();
        let mut cells = Vec::new();
        for cmd in d.split('M').filter(|c| !c.is_empty()) {
            let (xy, rest) = cmd.split_once('h').unwrap();
            let (x, y) = xy.split_once(',').unwrap();
            let run: i32 = rest.split('v').next().unwrap().parse().unwrap();
            let (x, y): (i32, i32) = (x.parse().unwrap(), y.parse().unwrap());
            assert_eq!(rest, format!("{run}v1h-{run}z"));
            for dx in 0..run {
                cells.push((x + dx, y));
            }
        }
        cells
    }

    #[test]
    fn qr_svg_shape() {
        // "HELLO WORLD" fits version 1 (21×21) at Medium: 21 + 8 = 29.
        let svg = qr_svg("HELLO WORLD").unwrap();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("viewBox=\"0 0 29 29\""));
        assert!(svg.contains("shape-rendering=\"crispEdges\""));
        assert!(svg.contains("<rect width=\"29\" height=\"29\" fill=\"#fff\"/>"));
        assert_eq!(svg.matches("<path ").count(), 1);
        assert!(svg.contains("fill=\"#000\"/></svg>"));
        assert!(!svg.contains("style"));
        assert!(!svg.contains('\n'));

        // The path covers exactly the symbol's dark modules, offset by 4.
        let qr = QrCode::encode_text("HELLO WORLD", QrCodeEcc::Medium).unwrap();
        let mut expected = Vec::new();
        for y in 0..qr.size() {
            for x in 0..qr.size() {
                if qr.get_module(x, y) {
                    expected.push((x + 4, y + 4));
                }
            }
        }
        assert_eq!(dark_cells(&svg), expected);
    }

    #[test]
    fn qr_for_otpauth_uri() {
        let uri = otpauth_uri(&rfc_secret(), "Casegate", "alice@example.org");
        let svg = qr_svg(&uri).unwrap();
        let qr = QrCode::encode_text(&uri, QrCodeEcc::Medium).unwrap();
        let n = qr.size() + 8;
        assert!(svg.contains(&format!("viewBox=\"0 0 {n} {n}\"")));
        let uri_data = qr_data_uri(&uri).unwrap();
        assert_eq!(
            uri_data,
            format!(
                "data:image/svg+xml;base64,{}",
                base64_encode(svg.as_bytes())
            )
        );
    }

    #[test]
    fn qr_too_long() {
        let long = "x".repeat(5000);
        assert_eq!(qr_svg(&long), Err(QrTooLong));
        assert_eq!(qr_data_uri(&long), Err(QrTooLong));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn verify_never_panics(
            secret in proptest::array::uniform20(any::<u8>()),
            input in ".{0,80}",
            now in any::<i64>(),
            last in proptest::option::of(any::<u64>()),
        ) {
            let s = TotpSecret::from_bytes(&secret).unwrap();
            let _ = verify(&s, &input, now, last);
        }

        #[test]
        fn current_code_always_verifies(
            secret in proptest::array::uniform20(any::<u8>()),
            now in 0i64..=i64::MAX,
        ) {
            let s = TotpSecret::from_bytes(&secret).unwrap();
            let step = step_of(now);
            let code = code_at(&s, step);
            prop_assert_eq!(code.len(), 6);
            let got = verify(&s, &code, now, None).unwrap();
            prop_assert!(got >= step);
            prop_assert_eq!(verify(&s, &code, now, Some(got)), Err(TotpError::Replayed));
        }

        #[test]
        fn base32_length(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let enc = base32_encode(&data);
            prop_assert_eq!(enc.len(), (data.len() * 8).div_ceil(5));
            prop_assert!(enc.bytes().all(|b| b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".contains(&b)));
        }
    }
}
