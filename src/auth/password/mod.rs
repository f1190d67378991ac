//! Passwords for casegate, following NIST SP 800-63B-4 (§3.1.1).
//!
//! Three parts:
//!
//! 1. **Policy** ([`check`], [`normalise`]): pure, no I/O. Length 12–128 Unicode code
//!    points after NFKC, no composition rules, a blocklist of common passwords (also
//!    catching common passwords padded with digits/symbols or repeated), no part of the
//!    user's e-mail address, and a zxcvbn score of at least 3. Problems are returned as
//!    data ([`PasswordProblem`], [`WeakWarning`], [`WeakSuggestion`]) with stable
//!    message keys; the English/Spanish text lives with the caller.
//! 2. **Hashing** ([`hash_blocking`], [`verify_blocking`], [`dummy_verify_blocking`]):
//!    Argon2id, m = 19 MiB, t = 2, p = 1, 16-byte random salt, 32-byte output, PHC
//!    string. The server-side pepper is Argon2's `secret` input (keyed hashing), not
//!    concatenated to the password. Passwords are NFKC-normalised inside these
//!    functions, so callers cannot forget it.
//! 3. **Bounded pool** ([`Hasher`]): dedicated OS threads fed by a bounded queue; when
//!    the queue is full the call fails at once with [`HashError::Busy`] so a sign-in
//!    flood can neither pile up unbounded work/memory nor occupy tokio's threads.
//!
//! The blocklist (`common_passwords.txt`, embedded with `include_str!`) keeps the full
//! top 10,000 SecLists passwords although anything under 12 code points is already
//! rejected as too short: those short entries are the *stems* used by the padding check
//! (`"password1234"`, `"iloveyou!!!!"`, `"qwertyqwerty"` are rejected as
//! [`PasswordProblem::Common`]). See the header of that file for its provenance.

mod hashing;
mod policy;
mod pool;
#[cfg(test)]
mod tests;

pub use hashing::*;
pub use policy::*;
pub use pool::*;
