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

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::ParamsString;
use argon2::password_hash::{self, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use rand::rngs::OsRng;
use rand::{CryptoRng, RngCore};
use tokio::sync::oneshot;
use unicode_normalization::UnicodeNormalization;

// ---------------------------------------------------------------------------------------
// Policy
// ---------------------------------------------------------------------------------------

/// Minimum length, in Unicode code points after NFKC normalisation.
pub const MIN_LENGTH: usize = 12;
/// Maximum length, in Unicode code points after NFKC normalisation.
pub const MAX_LENGTH: usize = 128;
/// Minimum acceptable zxcvbn score (0–4).
pub const MIN_ZXCVBN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;
/// Minimum length (code points) of an e-mail part that the password may not contain.
pub const MIN_EMAIL_PART: usize = 4;
/// Inputs longer than this many bytes are rejected as [`PasswordProblem::TooLong`]
/// without being normalised or analysed (128 code points are at most 512 bytes after
/// NFKC; the slack allows for decomposed input that NFKC recomposes).
pub const MAX_INPUT_BYTES: usize = 4096;
/// Context-specific words always given to zxcvbn (NIST: "the name of the service").
pub const SERVICE_WORDS: &[&str] = &["casegate"];

/// Shortest blocklist entry used as a stem by the padding/repetition check.
const MIN_STEM: usize = 4;

static COMMON_PASSWORDS_TXT: &str = include_str!("common_passwords.txt");

/// Why a proposed password was refused. [`check`] returns every problem that applies
/// (except that `Weak` is not reported together with `Common`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordProblem {
    /// Fewer than [`MIN_LENGTH`] code points.
    TooShort,
    /// More than [`MAX_LENGTH`] code points.
    TooLong,
    /// On the common-password blocklist, or such a password padded or repeated.
    Common,
    /// Contains the e-mail local part or the first label of its domain.
    ContainsEmail,
    /// zxcvbn score below [`MIN_ZXCVBN_SCORE`], with zxcvbn's feedback.
    Weak {
        warning: Option<WeakWarning>,
        suggestions: Vec<WeakSuggestion>,
    },
}

impl PasswordProblem {
    /// Every key returned by [`PasswordProblem::key`].
    pub const KEYS: [&'static str; 5] =
        ["too_short", "too_long", "common", "contains_email", "weak"];

    /// Stable snake_case message key, e.g. `"too_short"`.
    pub fn key(&self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "too_short",
            PasswordProblem::TooLong => "too_long",
            PasswordProblem::Common => "common",
            PasswordProblem::ContainsEmail => "contains_email",
            PasswordProblem::Weak { .. } => "weak",
        }
    }
}

macro_rules! feedback_enum {
    (
        $(#[$meta:meta])*
        $name:ident from $theirs:path, keys $keys:ident {
            $($variant:ident => $key:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// Stable snake_case message key for translations.
            pub fn key(&self) -> &'static str {
                match self {
                    $($name::$variant => $key,)+
                }
            }
        }

        /// Every message key of this enum (same order as `ALL`).
        pub const $keys: &[&str] = &[$($key,)+];

        impl From<$theirs> for $name {
            fn from(theirs: $theirs) -> Self {
                // Exhaustive on purpose: a zxcvbn upgrade that adds a variant must fail
                // to compile here rather than be silently mistranslated.
                use $theirs as Theirs;
                match theirs {
                    $(Theirs::$variant => $name::$variant,)+
                }
            }
        }
    };
}

feedback_enum! {
    /// zxcvbn's warning (what is wrong), mapped 1:1 from [`zxcvbn::feedback::Warning`].
    WeakWarning from zxcvbn::feedback::Warning, keys WARNING_KEYS {
        StraightRowsOfKeysAreEasyToGuess => "straight_rows_of_keys_are_easy_to_guess",
        ShortKeyboardPatternsAreEasyToGuess => "short_keyboard_patterns_are_easy_to_guess",
        RepeatsLikeAaaAreEasyToGuess => "repeats_like_aaa_are_easy_to_guess",
        RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess => "repeats_like_abc_abc_are_only_slightly_harder_to_guess",
        ThisIsATop10Password => "this_is_a_top_10_password",
        ThisIsATop100Password => "this_is_a_top_100_password",
        ThisIsACommonPassword => "this_is_a_common_password",
        ThisIsSimilarToACommonlyUsedPassword => "this_is_similar_to_a_commonly_used_password",
        SequencesLikeAbcAreEasyToGuess => "sequences_like_abc_are_easy_to_guess",
        RecentYearsAreEasyToGuess => "recent_years_are_easy_to_guess",
        AWordByItselfIsEasyToGuess => "a_word_by_itself_is_easy_to_guess",
        DatesAreOftenEasyToGuess => "dates_are_often_easy_to_guess",
        NamesAndSurnamesByThemselvesAreEasyToGuess => "names_and_surnames_by_themselves_are_easy_to_guess",
        CommonNamesAndSurnamesAreEasyToGuess => "common_names_and_surnames_are_easy_to_guess",
    }
}

feedback_enum! {
    /// zxcvbn's suggestion (how to do better), mapped 1:1 from
    /// [`zxcvbn::feedback::Suggestion`].
    WeakSuggestion from zxcvbn::feedback::Suggestion, keys SUGGESTION_KEYS {
        UseAFewWordsAvoidCommonPhrases => "use_a_few_words_avoid_common_phrases",
        NoNeedForSymbolsDigitsOrUppercaseLetters => "no_need_for_symbols_digits_or_uppercase_letters",
        AddAnotherWordOrTwo => "add_another_word_or_two",
        CapitalizationDoesntHelpVeryMuch => "capitalization_doesnt_help_very_much",
        AllUppercaseIsAlmostAsEasyToGuessAsAllLowercase => "all_uppercase_is_almost_as_easy_to_guess_as_all_lowercase",
        ReversedWordsArentMuchHarderToGuess => "reversed_words_arent_much_harder_to_guess",
        PredictableSubstitutionsDontHelpVeryMuch => "predictable_substitutions_dont_help_very_much",
        UseALongerKeyboardPatternWithMoreTurns => "use_a_longer_keyboard_pattern_with_more_turns",
        AvoidRepeatedWordsAndCharacters => "avoid_repeated_words_and_characters",
        AvoidSequences => "avoid_sequences",
        AvoidRecentYears => "avoid_recent_years",
        AvoidYearsThatAreAssociatedWithYou => "avoid_years_that_are_associated_with_you",
        AvoidDatesAndYearsThatAreAssociatedWithYou => "avoid_dates_and_years_that_are_associated_with_you",
    }
}

/// NFKC normalisation (NIST SP 800-63B-4 §3.1.1.2). Applied by [`check`] and inside
/// the hashing functions, so the same password typed as composed or decomposed
/// characters (e.g. `ñ` vs `n` + U+0303) or with compatibility forms (full-width
/// letters, ligatures) is accepted and verifies identically.
pub fn normalise(password: &str) -> String {
    password.nfkc().collect()
}

/// Checks a proposed password against the policy. `email` is the account's e-mail
/// address; `other_inputs` are further user-specific words (name, case number, …)
/// handed to zxcvbn as user inputs. Returns every problem found.
pub fn check(
    password: &str,
    email: &str,
    other_inputs: &[&str],
) -> Result<(), Vec<PasswordProblem>> {
    if password.len() > MAX_INPUT_BYTES {
        return Err(vec![PasswordProblem::TooLong]);
    }
    let normalised = normalise(password);
    let length = normalised.chars().count();
    let lower = normalised.to_lowercase();
    let email = EmailParts::new(email);

    let mut problems = Vec::new();
    if length < MIN_LENGTH {
        problems.push(PasswordProblem::TooShort);
    } else if length > MAX_LENGTH {
        problems.push(PasswordProblem::TooLong);
    }
    let common = is_common(&lower);
    if common {
        problems.push(PasswordProblem::Common);
    }
    if email.contained_in(&lower) {
        problems.push(PasswordProblem::ContainsEmail);
    }
    if !common
        && length <= MAX_LENGTH
        && let Some(weak) = zxcvbn_problem(&normalised, &email, other_inputs)
    {
        problems.push(weak);
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn zxcvbn_problem(
    normalised: &str,
    email: &EmailParts,
    other_inputs: &[&str],
) -> Option<PasswordProblem> {
    let mut inputs: Vec<String> = email.user_inputs();
    inputs.extend(
        other_inputs
            .iter()
            .map(|input| normalise(input).to_lowercase()),
    );
    inputs.extend(SERVICE_WORDS.iter().map(|word| (*word).to_owned()));
    inputs.retain(|input| !input.is_empty());
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();

    let entropy = zxcvbn::zxcvbn(normalised, &inputs);
    if entropy.score() >= MIN_ZXCVBN_SCORE {
        return None;
    }
    let (warning, suggestions) = match entropy.feedback() {
        Some(feedback) => (
            feedback.warning().map(WeakWarning::from),
            feedback
                .suggestions()
                .iter()
                .copied()
                .map(WeakSuggestion::from)
                .collect(),
        ),
        None => (None, Vec::new()),
    };
    Some(PasswordProblem::Weak {
        warning,
        suggestions,
    })
}

/// The parts of an e-mail address that matter to the policy, NFKC + lowercased.
struct EmailParts {
    full: String,
    local: String,
    /// Local part without a `+tag` sub-address.
    local_base: String,
    /// Whole domain, and its first label.
    domain: String,
    domain_label: String,
}

impl EmailParts {
    fn new(email: &str) -> Self {
        let full = normalise(email.trim()).to_lowercase();
        let (local, domain) = match full.rsplit_once('@') {
            Some((local, domain)) => (local.to_owned(), domain.to_owned()),
            None => (full.clone(), String::new()),
        };
        let local_base = match local.split_once('+') {
            Some((base, _tag)) => base.to_owned(),
            None => local.clone(),
        };
        let domain_label = domain.split('.').next().unwrap_or_default().to_owned();
        EmailParts {
            full,
            local,
            local_base,
            domain,
            domain_label,
        }
    }

    /// Parts the password may not contain (those of at least [`MIN_EMAIL_PART`] chars).
    fn forbidden(&self) -> impl Iterator<Item = &str> {
        [
            self.local.as_str(),
            self.local_base.as_str(),
            self.domain_label.as_str(),
        ]
        .into_iter()
        .filter(|part| part.chars().count() >= MIN_EMAIL_PART)
    }

    fn contained_in(&self, lower_password: &str) -> bool {
        self.forbidden().any(|part| lower_password.contains(part))
    }

    /// Everything zxcvbn should treat as user-specific (shorter parts included).
    fn user_inputs(&self) -> Vec<String> {
        let mut inputs = vec![
            self.full.clone(),
            self.local.clone(),
            self.local_base.clone(),
            self.domain.clone(),
            self.domain_label.clone(),
        ];
        inputs.extend(
            self.local
                .split(|c: char| !c.is_alphanumeric())
                .filter(|token| token.chars().count() >= 3)
                .map(str::to_owned),
        );
        inputs
    }
}

/// The embedded blocklist, sorted and de-duplicated, built on first use.
fn blocklist() -> &'static [&'static str] {
    static LIST: OnceLock<Vec<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut list: Vec<&'static str> = COMMON_PASSWORDS_TXT
            .lines()
            .map(|line| line.trim_end_matches('\r'))
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect();
        list.sort_unstable();
        list.dedup();
        list
    })
}

fn in_blocklist(candidate: &str) -> bool {
    blocklist().binary_search(&candidate).is_ok()
}

/// Is `lower` (NFKC + lowercased) a common password, or one padded/repeated?
///
/// Besides the exact entry, looks up (each only if at least [`MIN_STEM`] code points):
/// the password with leading/trailing non-letters (digits, symbols, spaces) stripped;
/// both of those with inner whitespace removed; and every unit that the password or
/// the stripped stem is an exact repetition of. So `password1234`, `!!iloveyou2024`,
/// `i love you 123` and `qwertyqwerty` are all caught, while a long passphrase that
/// merely contains a common word is not.
fn is_common(lower: &str) -> bool {
    if in_blocklist(lower) {
        return true;
    }
    let stem = lower.trim_matches(|c: char| !c.is_alphabetic());
    let mut candidates: Vec<String> = vec![stem.to_owned()];
    for base in [lower, stem] {
        let squeezed: String = base.chars().filter(|c| !c.is_whitespace()).collect();
        candidates.push(squeezed);
        candidates.extend(repetition_units(base).map(str::to_owned));
    }
    candidates
        .iter()
        .filter(|candidate| candidate.as_str() != lower && candidate.chars().count() >= MIN_STEM)
        .any(|candidate| in_blocklist(candidate))
}

/// Every proper prefix `u` of `s` such that `s` is `u` repeated two or more times.
fn repetition_units(s: &str) -> impl Iterator<Item = &str> {
    // `byte_index` is a char boundary, so every tiling chunk is whole characters.
    s.char_indices().skip(1).filter_map(move |(byte_index, _)| {
        let unit = s.get(..byte_index)?;
        let tiles = s.len().is_multiple_of(byte_index)
            && s.as_bytes()
                .chunks(byte_index)
                .all(|chunk| chunk == unit.as_bytes());
        tiles.then_some(unit)
    })
}

// ---------------------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------------------

/// Argon2id memory cost in KiB (19 MiB; OWASP's minimum recommendation for Argon2id).
pub const ARGON2_M_COST: u32 = 19_456;
/// Argon2id iterations.
pub const ARGON2_T_COST: u32 = 2;
/// Argon2id lanes.
pub const ARGON2_P_COST: u32 = 1;
/// Hash output length in bytes.
pub const ARGON2_OUTPUT_LEN: usize = 32;
/// Salt length in bytes.
pub const SALT_LEN: usize = 16;

/// Stored hashes asking for more than this are treated as malformed rather than run
/// (a corrupted or hostile row must not be able to make a verify allocate gigabytes).
const MAX_STORED_M_COST: u32 = 262_144; // 256 MiB
const MAX_STORED_T_COST: u32 = 16;
const MAX_STORED_P_COST: u32 = 8;

/// What can go wrong when hashing or verifying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// The [`Hasher`] queue is full: answer 503 / "try again in a moment".
    #[error("password hashing is busy; try again shortly")]
    Busy,
    /// The [`Hasher`]'s worker threads are gone.
    #[error("password hashing workers are unavailable")]
    Unavailable,
    /// The stored hash is not a PHC string for Argon2id with sane parameters.
    #[error("stored password hash is malformed or unsupported")]
    Malformed,
    /// The random number generator failed.
    #[error("random number generator failure")]
    Rng,
    /// Anything else (out of memory, a worker panic, …).
    #[error("password hashing failed: {0}")]
    Internal(String),
}

fn policy_params() -> Result<Params, HashError> {
    Params::new(
        ARGON2_M_COST,
        ARGON2_T_COST,
        ARGON2_P_COST,
        Some(ARGON2_OUTPUT_LEN),
    )
    .map_err(|err| HashError::Internal(err.to_string()))
}

fn keyed_argon2(pepper: &[u8; 32], params: Params) -> Result<Argon2<'_>, HashError> {
    Argon2::new_with_secret(pepper, Algorithm::Argon2id, Version::V0x13, params)
        .map_err(|err| HashError::Internal(err.to_string()))
}

thread_local! {
    /// Argon2's 19 MiB of working memory, kept and reused by each [`Hasher`]
    /// thread (`Some`). Allocating it per hash let glibc's allocator keep
    /// hundreds of MiB of freed work areas under a sign-in load (bench/soak);
    /// kept per hashing thread, memory is bounded by the [`Hasher`]'s
    /// threads × 19 MiB. Any other thread allocates per hash and keeps
    /// nothing (`None`): a one-off hash, such as seeding the demo accounts on
    /// a tokio blocking thread, must not leave 19 MiB behind on a thread that
    /// lives on serving file writes.
    static BLOCKS: RefCell<Option<Vec<Block>>> = const { RefCell::new(None) };
}

/// Makes this thread keep its Argon2 working memory between hashes: for
/// threads that only hash (the [`Hasher`]'s, `casegate hash-rate`'s).
pub fn keep_work_area() {
    BLOCKS.with(|cell| {
        cell.borrow_mut().get_or_insert_with(Vec::new);
    });
}

/// Runs Argon2 on this thread's reusable working memory if it keeps one, on a
/// fresh area otherwise (no zeroing needed: Argon2 writes every block before
/// it reads it).
fn argon2_into(
    argon2: &Argon2<'_>,
    block_count: usize,
    pwd: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), HashError> {
    BLOCKS.with(|cell| {
        let mut kept = cell.borrow_mut();
        let mut one_off = Vec::new();
        let blocks = kept.as_mut().unwrap_or(&mut one_off);
        if blocks.len() != block_count {
            *blocks = Vec::new(); // free the old area before taking the new one
            blocks.resize(block_count, Block::default());
        }
        argon2
            .hash_password_into_with_memory(pwd, salt, out, &mut blocks[..])
            .map_err(|err| HashError::Internal(err.to_string()))
    })
}

/// Hashes `password` (NFKC-normalised first) with Argon2id keyed by `pepper`, returning
/// a PHC string such as `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`. CPU-bound
/// (tens of milliseconds): call it from [`Hasher`], not from an async task.
pub fn hash_blocking<R>(pepper: &[u8; 32], password: &str, rng: &mut R) -> Result<String, HashError>
where
    R: RngCore + CryptoRng + ?Sized,
{
    let internal = |err: password_hash::Error| HashError::Internal(err.to_string());
    let mut salt = [0u8; SALT_LEN];
    rng.try_fill_bytes(&mut salt).map_err(|_| HashError::Rng)?;
    let salt_string = SaltString::encode_b64(&salt).map_err(internal)?;
    let params = policy_params()?;
    let argon2 = keyed_argon2(pepper, params.clone())?;
    let normalised = normalise(password);
    let mut out = [0u8; ARGON2_OUTPUT_LEN];
    argon2_into(
        &argon2,
        params.block_count(),
        normalised.as_bytes(),
        &salt,
        &mut out,
    )?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(internal)?,
        salt: Some(salt_string.as_salt()),
        hash: Some(password_hash::Output::new(&out).map_err(internal)?),
    };
    Ok(phc.to_string())
}

/// Verifies `password` (NFKC-normalised first) against a stored PHC string using
/// `pepper`. `Ok(false)` on mismatch (including a different pepper); `Err` only if the
/// stored hash is malformed/unsupported ([`HashError::Malformed`]) or on internal
/// failure. The output comparison is constant-time. Uses the parameters stored in the
/// hash; see [`needs_rehash`] to upgrade old ones after a successful sign-in.
pub fn verify_blocking(pepper: &[u8; 32], password: &str, phc: &str) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(phc).map_err(|_| HashError::Malformed)?;
    let params = stored_params(&parsed)?;
    let version = match parsed.version {
        None => Version::V0x13,
        Some(v) => Version::try_from(v).map_err(|_| HashError::Malformed)?,
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(HashError::Malformed);
    };
    let mut salt_buf = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_buf)
        .map_err(|_| HashError::Malformed)?;
    let argon2 = Argon2::new_with_secret(pepper, Algorithm::Argon2id, version, params.clone())
        .map_err(|_| HashError::Malformed)?;
    let normalised = normalise(password);
    let mut out = vec![0u8; expected.len()];
    argon2_into(
        &argon2,
        params.block_count(),
        normalised.as_bytes(),
        salt,
        &mut out,
    )
    .map_err(|_| HashError::Malformed)?;
    Ok(crate::crypto::constant_time_eq(&out, expected.as_bytes()))
}

/// Validates a parsed stored hash: Argon2id, salt and output present, sane costs.
fn stored_params(parsed: &PasswordHash<'_>) -> Result<Params, HashError> {
    if parsed.algorithm != argon2::ARGON2ID_IDENT || parsed.salt.is_none() || parsed.hash.is_none()
    {
        return Err(HashError::Malformed);
    }
    let params = Params::try_from(parsed).map_err(|_| HashError::Malformed)?;
    if params.m_cost() > MAX_STORED_M_COST
        || params.t_cost() > MAX_STORED_T_COST
        || params.p_cost() > MAX_STORED_P_COST
    {
        return Err(HashError::Malformed);
    }
    Ok(params)
}

/// True if a stored hash should be replaced (after a successful verify) because it was
/// made with other parameters, another Argon2 variant/version, or is unreadable.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let Ok(params) = stored_params(&parsed) else {
        return true;
    };
    parsed.version != Some(Version::V0x13.into())
        || params.m_cost() != ARGON2_M_COST
        || params.t_cost() != ARGON2_T_COST
        || params.p_cost() != ARGON2_P_COST
        || parsed.hash.as_ref().map(password_hash::Output::len) != Some(ARGON2_OUTPUT_LEN)
}

/// Password verified against the dummy hash; never a real user's.
const DUMMY_PASSWORD: &str = "casegate-dummy-verify-password";

/// The dummy PHC string, computed once with the current parameters (so its cost tracks
/// any change of [`ARGON2_M_COST`] etc.). `None` only if that hash failed (OOM).
fn dummy_phc(pepper: &[u8; 32]) -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| hash_blocking(pepper, DUMMY_PASSWORD, &mut OsRng).ok())
        .as_deref()
}

/// Does the same work as [`verify_blocking`] against a current-parameter hash, for
/// sign-in attempts on unknown accounts, so response time does not reveal whether an
/// account exists. The first call also computes the dummy hash ([`Hasher`] does that
/// when it starts).
pub fn dummy_verify_blocking(pepper: &[u8; 32]) {
    let outcome = match dummy_phc(pepper) {
        Some(phc) => verify_blocking(pepper, "casegate-wrong-password", phc).map(|_| ()),
        // Same Argon2 work without a PHC string to compare against.
        None => policy_params().and_then(|params| {
            let mut out = [0u8; ARGON2_OUTPUT_LEN];
            let argon2 = keyed_argon2(pepper, params.clone())?;
            argon2_into(
                &argon2,
                params.block_count(),
                DUMMY_PASSWORD.as_bytes(),
                &[0u8; SALT_LEN],
                &mut out,
            )
        }),
    };
    std::hint::black_box(outcome).ok();
}

// ---------------------------------------------------------------------------------------
// Bounded pool
// ---------------------------------------------------------------------------------------

enum Job {
    Hash {
        password: String,
        reply: oneshot::Sender<Result<String, HashError>>,
    },
    Verify {
        password: String,
        phc: String,
        reply: oneshot::Sender<Result<bool, HashError>>,
    },
    Dummy {
        reply: oneshot::Sender<()>,
    },
}

/// A bounded pool of dedicated OS threads for Argon2 work.
///
/// Cheap to clone (one channel handle); the threads stop once every clone is dropped
/// and the queue has drained. At most `threads` hashes run at once and at most `queue`
/// more wait; beyond that calls return [`HashError::Busy`] immediately. Memory use is
/// bounded by `threads` × 19 MiB of Argon2 state plus the queued passwords (cap request
/// body sizes upstream). A request whose caller has gone away (future dropped) is
/// skipped when it reaches a worker.
#[derive(Clone)]
pub struct Hasher {
    jobs: mpsc::SyncSender<Job>,
    threads: usize,
    queue: usize,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the pepper.
        f.debug_struct("Hasher")
            .field("threads", &self.threads)
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

/// Default worker count: the number of CPUs (`std::thread::available_parallelism`).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

impl Hasher {
    /// Starts `threads` worker threads (0 = [`default_threads`]) with room for `queue`
    /// waiting requests (raised to at least 1). Fails only if a thread cannot be spawned.
    pub fn new(threads: usize, queue: usize, pepper: [u8; 32]) -> std::io::Result<Self> {
        let threads = if threads == 0 {
            default_threads()
        } else {
            threads
        };
        // A rendezvous channel (0) would refuse work whenever no worker happened to be
        // blocked in `recv` at that instant; keep a real buffer.
        let queue = queue.max(1);
        let (jobs, receiver) = mpsc::sync_channel::<Job>(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..threads {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("casegate-argon2-{index}"))
                .spawn(move || worker(&receiver, &pepper, index == 0))?;
        }
        Ok(Hasher {
            jobs,
            threads,
            queue,
        })
    }

    /// Number of worker threads.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Number of requests that may wait for a worker.
    pub fn queue_capacity(&self) -> usize {
        self.queue
    }

    /// [`hash_blocking`] on a worker thread with the OS RNG.
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let (reply, result) = oneshot::channel();
        self.submit(Job::Hash { password, reply })?;
        result.await.map_err(|_| worker_lost())?
    }

    /// [`verify_blocking`] on a worker thread.
    pub async fn verify(&self, password: String, phc: String) -> Result<bool, HashError> {
        let (reply, result) = oneshot::channel();
        self.submit(Job::Verify {
            password,
            phc,
            reply,
        })?;
        result.await.map_err(|_| worker_lost())?
    }

    /// [`dummy_verify_blocking`] on a worker thread: call it for unknown accounts in
    /// place of [`Hasher::verify`]. Can be [`HashError::Busy`] just like a real verify.
    pub async fn verify_dummy(&self) -> Result<(), HashError> {
        let (reply, result) = oneshot::channel();
        self.submit(Job::Dummy { reply })?;
        result.await.map_err(|_| worker_lost())
    }

    fn submit(&self, job: Job) -> Result<(), HashError> {
        match self.jobs.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(HashError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(HashError::Unavailable),
        }
    }
}

fn worker_lost() -> HashError {
    HashError::Internal("password hashing worker dropped the request".to_owned())
}

fn worker(receiver: &Mutex<mpsc::Receiver<Job>>, pepper: &[u8; 32], warm_up: bool) {
    keep_work_area();
    if warm_up {
        // Compute the dummy hash now rather than during the first unknown-user sign-in.
        let _ = dummy_phc(pepper);
    }
    loop {
        let job = {
            let guard = match receiver.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            guard.recv()
        };
        let Ok(job) = job else {
            return; // every Hasher clone is gone
        };
        // A panic must not take the worker down; the dropped reply reports it.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| run_job(pepper, job)));
    }
}

fn run_job(pepper: &[u8; 32], job: Job) {
    match job {
        Job::Hash { password, reply } => {
            if !reply.is_closed() {
                let _ = reply.send(hash_blocking(pepper, &password, &mut OsRng));
            }
        }
        Job::Verify {
            password,
            phc,
            reply,
        } => {
            if !reply.is_closed() {
                let _ = reply.send(verify_blocking(pepper, &password, &phc));
            }
        }
        Job::Dummy { reply } => {
            if !reply.is_closed() {
                dummy_verify_blocking(pepper);
                let _ = reply.send(());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{PasswordHasher, PasswordVerifier};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const PEPPER: [u8; 32] = [7u8; 32];
    const EMAIL: &str = "maria.gonzalez@example.org";

    fn problems(password: &str) -> Vec<PasswordProblem> {
        check(password, EMAIL, &[]).err().unwrap_or_default()
    }

    fn has(password: &str, wanted: &PasswordProblem) -> bool {
        problems(password).iter().any(|p| p == wanted)
    }

    fn is_weak(password: &str) -> bool {
        problems(password)
            .iter()
            .any(|p| matches!(p, PasswordProblem::Weak { .. }))
    }

    #[test]
    fn reused_working_memory_agrees_with_the_argon2_crate_both_ways() {
        keep_work_area();
        let mut rng = StdRng::seed_from_u64(11);
        let ours = hash_blocking(&PEPPER, "correct horse battery", &mut rng).unwrap();
        let lib = keyed_argon2(&PEPPER, policy_params().unwrap()).unwrap();
        // Ours verifies with the crate's own verifier …
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            lib.verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        assert!(
            lib.verify_password(b"correct horse batterY", &parsed)
                .is_err()
        );
        // … and a hash the crate made verifies with ours (twice on this
        // thread: the second run reuses the first one's memory).
        let salt = SaltString::encode_b64(&[3u8; SALT_LEN]).unwrap();
        let theirs = lib
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert_eq!(
            verify_blocking(&PEPPER, "correct horse battery", &theirs),
            Ok(true)
        );
        assert_eq!(
            verify_blocking(&PEPPER, "correct horse battery", &theirs),
            Ok(true)
        );
        assert_eq!(
            verify_blocking(&PEPPER, "wrong horse battery", &theirs),
            Ok(false)
        );
        // A smaller stored cost resizes the area and still verifies.
        let small = Params::new(8_192, 1, 1, Some(ARGON2_OUTPUT_LEN)).unwrap();
        let old = keyed_argon2(&PEPPER, small)
            .unwrap()
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert_eq!(
            verify_blocking(&PEPPER, "correct horse battery", &old),
            Ok(true)
        );
        assert_eq!(
            verify_blocking(&PEPPER, "correct horse battery", &ours),
            Ok(true)
        );
        BLOCKS.with(|b| {
            assert_eq!(
                b.borrow().as_ref().map(Vec::len),
                Some(policy_params().unwrap().block_count())
            )
        });
    }

    #[test]
    fn only_hashing_threads_keep_working_memory() {
        let after_hashing = |keep: bool| {
            std::thread::spawn(move || {
                if keep {
                    keep_work_area();
                }
                let password = "correct horse battery";
                let phc = hash_blocking(&PEPPER, password, &mut StdRng::seed_from_u64(5)).unwrap();
                let verified = verify_blocking(&PEPPER, password, &phc).unwrap();
                (verified, BLOCKS.with(|b| b.borrow().as_ref().map(Vec::len)))
            })
            .join()
            .unwrap()
        };
        // A one-off hash (demo seeding on a tokio blocking thread) frees its area …
        assert_eq!(after_hashing(false), (true, None));
        // … a Hasher thread keeps one of the policy's size.
        let blocks = policy_params().unwrap().block_count();
        assert_eq!(after_hashing(true), (true, Some(blocks)));
    }

    // ---- policy ----

    #[test]
    fn accepts_long_lowercase_passphrase_without_composition_rules() {
        assert_eq!(check("purple elephant dances quietly", EMAIL, &[]), Ok(()));
        assert_eq!(check("marmalade ferry tundra whistle", EMAIL, &[]), Ok(()));
    }

    #[test]
    fn accepts_random_16_char_password() {
        assert_eq!(check("vT9#qLm2$Xw7!pRz", EMAIL, &[]), Ok(()));
        let mut rng = StdRng::seed_from_u64(1);
        let alphabet: Vec<char> = ('a'..='z').chain('A'..='Z').chain('0'..='9').collect();
        for _ in 0..20 {
            let random: String = (0..16)
                .map(|_| alphabet[(rng.next_u32() as usize) % alphabet.len()])
                .collect();
            assert_eq!(check(&random, EMAIL, &[]), Ok(()), "{random}");
        }
    }

    #[test]
    fn correct_horse_battery_staple() {
        // Famous enough to be weak in principle, but not in zxcvbn's dictionaries as a
        // phrase; it scores 4 and is accepted. Its squeezed form is not blocklisted.
        assert_eq!(check("correct horse battery staple", EMAIL, &[]), Ok(()));
    }

    #[test]
    fn accepts_spanish_with_accents_and_normalises() {
        let composed = "contraseña del niño pequeño";
        let decomposed = "contrasen\u{303}a del nin\u{303}o pequen\u{303}o";
        assert_ne!(composed, decomposed);
        assert_eq!(normalise(decomposed), composed);
        assert_eq!(check(composed, EMAIL, &[]), Ok(()));
        assert_eq!(check(decomposed, EMAIL, &[]), Ok(()));
        assert_eq!(
            check("Él comió paella junto al acueducto", EMAIL, &[]),
            Ok(())
        );
    }

    #[test]
    fn length_counts_code_points_after_nfkc() {
        assert_eq!(problems("aB3$kP9!zQ1"), vec![PasswordProblem::TooShort]); // 11 chars
        assert!(!has("aB3$kP9!zQ1x", &PasswordProblem::TooShort)); // 12 chars
        // 11 code points decomposed become... still 11 composed: TooShort.
        assert!(has(
            "n\u{303}n\u{303}n\u{303}n\u{303}xyzwv%",
            &PasswordProblem::TooShort
        ));
        // 12 'ñ' written decomposed are 24 code points but 12 after NFKC.
        let twelve = "n\u{303}".repeat(12);
        assert!(!has(&twelve, &PasswordProblem::TooShort));
        // Multi-byte characters count once each.
        assert!(!has("ñandú camión ", &PasswordProblem::TooShort));
        // Full-width letters normalise to ASCII (NFKC) and are then checked as such.
        assert!(has("ｐａｓｓｗｏｒｄ１２３４", &PasswordProblem::Common));
    }

    #[test]
    fn too_long() {
        let ok = "x".repeat(127) + "y";
        assert!(!has(&ok, &PasswordProblem::TooLong));
        let long = "abcdefghij".repeat(13) + "z"; // 131
        assert!(has(&long, &PasswordProblem::TooLong));
        let exactly_129: String = "vT9#qLm2$Xw7!pRz".chars().cycle().take(129).collect();
        assert_eq!(problems(&exactly_129), vec![PasswordProblem::TooLong]);
        let exactly_128: String = "vT9#qLm2$Xw7!pRz".chars().cycle().take(128).collect();
        assert!(!has(&exactly_128, &PasswordProblem::TooLong));
        let huge = "a".repeat(MAX_INPUT_BYTES + 1);
        assert_eq!(problems(&huge), vec![PasswordProblem::TooLong]);
    }

    #[test]
    fn common_passwords_and_padding() {
        for password in [
            "password1234",
            "Password1234",
            "qwertyqwerty",
            "iloveyou!!!!",
            "!!iloveyou2024",
            "i love you 123",
            "123456789012",
            "1qaz2wsx3edc",
            "football2023!",
            "sunshinesunshine",
            "elizabeth1987",
            "aaaaaaaaaaaaaaaa",
            "1234567890qwerty",
        ] {
            assert!(
                has(password, &PasswordProblem::Common),
                "{password}: {:?}",
                problems(password)
            );
            assert!(
                !is_weak(password),
                "Weak is not repeated after Common: {password}"
            );
        }
        // A passphrase containing a common word is fine.
        assert!(!has(
            "password manager lighthouse",
            &PasswordProblem::Common
        ));
    }

    #[test]
    fn weak_passwords_carry_feedback() {
        let weak = |password: &str| match problems(password).as_slice() {
            [
                PasswordProblem::Weak {
                    warning,
                    suggestions,
                },
            ] => (*warning, suggestions.clone()),
            other => panic!("{password}: {other:?}"),
        };
        let (warning, suggestions) = weak("wwwwwwwwwwwwwwwwq");
        assert_eq!(warning, Some(WeakWarning::RepeatsLikeAaaAreEasyToGuess));
        assert!(suggestions.contains(&WeakSuggestion::AvoidRepeatedWordsAndCharacters));
        let (warning, suggestions) = weak("abcdefghijklmnop");
        assert_eq!(warning, Some(WeakWarning::SequencesLikeAbcAreEasyToGuess));
        assert!(suggestions.contains(&WeakSuggestion::AvoidSequences));
        // Name + year: long enough, not blocklisted as such, still weak.
        let (warning, _) = weak("johnsmith1975");
        assert!(warning.is_some());
        let (_, suggestions) = weak("qwertyuiopasdf");
        assert!(!suggestions.is_empty());
    }

    #[test]
    fn email_parts_rejected() {
        assert!(has(
            "maria.gonzalez rocks 42!",
            &PasswordProblem::ContainsEmail
        ));
        assert!(has(
            "XX MARIA.GONZALEZ xx 9q",
            &PasswordProblem::ContainsEmail
        ));
        assert!(has(
            "my example wombat cactus",
            &PasswordProblem::ContainsEmail
        ));
        // Sub-address tag stripped: the base local part is checked too.
        let p = check(
            "juan.perez lighthouse cactus",
            "juan.perez+visa@correo.gob.mx",
            &[],
        );
        assert!(p.unwrap_err().contains(&PasswordProblem::ContainsEmail));
        let p = check(
            "ferry correo lighthouse",
            "juan.perez+visa@correo.gob.mx",
            &[],
        );
        assert!(p.unwrap_err().contains(&PasswordProblem::ContainsEmail));
        // Parts shorter than 4 code points are not forbidden outright.
        assert_eq!(
            check("jo lighthouse cactus ferry", "jo@abc.io", &[]),
            Ok(())
        );
        // Address without '@' is treated as a local part.
        assert!(check("tundra whistle rosalinda", "rosalinda", &[]).is_err());
    }

    #[test]
    fn other_inputs_feed_zxcvbn() {
        let password = "zebedeeoakenshield";
        assert_eq!(check(password, EMAIL, &[]), Ok(()));
        let found = check(password, EMAIL, &["Zebedee", "Oakenshield"]).unwrap_err();
        assert!(
            matches!(found.as_slice(), [PasswordProblem::Weak { .. }]),
            "{found:?}"
        );
    }

    #[test]
    fn reports_several_problems() {
        let found = check("maria1", "maria@example.org", &[]).unwrap_err();
        assert_eq!(
            found,
            vec![
                PasswordProblem::TooShort,
                PasswordProblem::Common,
                PasswordProblem::ContainsEmail
            ]
        );
        let found = check("abcdefghijklmnop", "abcdefgh@example.org", &[]).unwrap_err();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0], PasswordProblem::ContainsEmail);
        assert_eq!(found[1].key(), "weak");
    }

    #[test]
    fn message_keys_are_complete_unique_and_snake_case() {
        assert_eq!(WeakWarning::ALL.len(), 14);
        assert_eq!(WeakSuggestion::ALL.len(), 13);
        assert_eq!(WARNING_KEYS.len(), WeakWarning::ALL.len());
        assert_eq!(SUGGESTION_KEYS.len(), WeakSuggestion::ALL.len());
        let mut all: Vec<&str> = WARNING_KEYS
            .iter()
            .chain(SUGGESTION_KEYS)
            .copied()
            .collect();
        for (variant, key) in WeakWarning::ALL.iter().zip(WARNING_KEYS) {
            assert_eq!(variant.key(), *key);
        }
        for (variant, key) in WeakSuggestion::ALL.iter().zip(SUGGESTION_KEYS) {
            assert_eq!(variant.key(), *key);
        }
        for key in all.iter().chain(PasswordProblem::KEYS.iter()) {
            assert!(
                key.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{key}"
            );
            assert!(
                !key.starts_with('_') && !key.ends_with('_') && !key.contains("__"),
                "{key}"
            );
        }
        assert_eq!(
            WeakWarning::StraightRowsOfKeysAreEasyToGuess.key(),
            "straight_rows_of_keys_are_easy_to_guess"
        );
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count, "duplicate keys");
        assert_eq!(
            zxcvbn::feedback::Warning::ThisIsATop10Password.to_string(),
            "This is a top-10 common password."
        );
        assert_eq!(
            WeakWarning::from(zxcvbn::feedback::Warning::ThisIsATop10Password),
            WeakWarning::ThisIsATop10Password
        );
    }

    #[test]
    fn blocklist_shape() {
        let list = blocklist();
        assert!(list.len() >= 10_000, "{}", list.len());
        assert!(COMMON_PASSWORDS_TXT.len() <= 150 * 1024);
        assert!(
            list.iter()
                .all(|entry| *entry == entry.to_lowercase() && !entry.is_empty())
        );
        assert!(list.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(in_blocklist("password"));
        assert!(in_blocklist("qwertyuiop"));
        assert!(!in_blocklist("purple elephant dances quietly"));
    }

    #[test]
    fn repetition_units_work() {
        assert_eq!(
            repetition_units("abcabcabcabc").collect::<Vec<_>>(),
            vec!["abc", "abcabc"]
        );
        assert_eq!(repetition_units("ñañaña").collect::<Vec<_>>(), vec!["ña"]);
        assert_eq!(repetition_units("abcd").count(), 0);
        assert_eq!(repetition_units("").count(), 0);
    }

    // ---- hashing ----

    #[test]
    fn hash_then_verify() {
        let mut rng = OsRng;
        let phc = hash_blocking(&PEPPER, "purple elephant dances quietly", &mut rng).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_blocking(&PEPPER, "purple elephant dances quietly", &phc).unwrap());
        assert!(!verify_blocking(&PEPPER, "purple elephant dances quietlY", &phc).unwrap());
        assert!(!verify_blocking(&[8u8; 32], "purple elephant dances quietly", &phc).unwrap());
        assert!(!needs_rehash(&phc));
        // Random salt: same password, different hash.
        let again = hash_blocking(&PEPPER, "purple elephant dances quietly", &mut rng).unwrap();
        assert_ne!(phc, again);
    }

    #[test]
    fn verify_normalises() {
        let phc = hash_blocking(&PEPPER, "contraseña del niño", &mut OsRng).unwrap();
        assert!(verify_blocking(&PEPPER, "contrasen\u{303}a del nin\u{303}o", &phc).unwrap());
    }

    #[test]
    fn pepper_is_argon2_secret_not_concatenation() {
        // Keyed hashing (pepper as Argon2 `secret`) differs from unkeyed hashing of
        // pepper || password with the same salt, and verifies.
        let salt = SaltString::encode_b64(&[1u8; SALT_LEN]).unwrap();
        let keyed = keyed_argon2(&PEPPER, policy_params().unwrap())
            .unwrap()
            .hash_password(b"pw", &salt)
            .unwrap()
            .to_string();
        let mut concatenated = PEPPER.to_vec();
        concatenated.extend_from_slice(b"pw");
        let unkeyed = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            policy_params().unwrap(),
        )
        .hash_password(&concatenated, &salt)
        .unwrap()
        .to_string();
        assert_ne!(keyed, unkeyed);
        assert!(verify_blocking(&PEPPER, "pw", &keyed).unwrap());
    }

    #[test]
    fn deterministic_with_seeded_rng() {
        let a = hash_blocking(&PEPPER, "x", &mut StdRng::seed_from_u64(42)).unwrap();
        let b = hash_blocking(&PEPPER, "x", &mut StdRng::seed_from_u64(42)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn malformed_stored_hashes() {
        let phc = hash_blocking(&PEPPER, "x", &mut OsRng).unwrap();
        for bad in [
            "",
            "not a hash",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            &phc.replace("argon2id", "argon2i"),
            &phc.replace("argon2id", "scrypt"),
            &phc.replace("m=19456", "m=9999999"),
            &phc.replace("t=2", "t=99"),
            "$2b$12$abcdefghijklmnopqrstuuZ6Q7VhYpW6cG8x3Zr4bH6P1nKQfZ2e",
        ] {
            assert_eq!(
                verify_blocking(&PEPPER, "x", bad),
                Err(HashError::Malformed),
                "{bad}"
            );
            assert!(needs_rehash(bad));
        }
        let (head, _output) = phc.rsplit_once('$').unwrap();
        assert_eq!(
            verify_blocking(&PEPPER, "x", head),
            Err(HashError::Malformed)
        );
    }

    #[test]
    fn old_parameters_verify_and_need_rehash() {
        let params = Params::new(8 * 1024, 1, 1, Some(32)).unwrap();
        let old = keyed_argon2(&PEPPER, params)
            .unwrap()
            .hash_password(
                b"legacy password",
                &SaltString::encode_b64(&[3u8; SALT_LEN]).unwrap(),
            )
            .unwrap()
            .to_string();
        assert!(verify_blocking(&PEPPER, "legacy password", &old).unwrap());
        assert!(needs_rehash(&old));
    }

    #[test]
    fn dummy_verify_uses_the_same_parameters_as_a_real_hash() {
        // Equal cost follows from equal parameters (m, t, p and output length);
        // the timing itself is measured by the benchmark, not asserted here.
        dummy_verify_blocking(&PEPPER); // initialises the dummy hash
        let dummy = dummy_phc(&PEPPER).unwrap();
        let real = hash_blocking(&PEPPER, "purple elephant dances quietly", &mut OsRng).unwrap();
        let params = |phc: &str| phc.split('$').nth(3).unwrap_or("").to_string();
        assert_eq!(params(dummy), params(&real));
        assert!(!needs_rehash(dummy));
    }

    // ---- pool ----

    #[tokio::test]
    async fn pool_hash_verify_dummy() {
        let hasher = Hasher::new(2, 4, PEPPER).unwrap();
        let phc = hasher
            .hash("purple elephant dances quietly".to_owned())
            .await
            .unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            hasher
                .verify("purple elephant dances quietly".to_owned(), phc.clone())
                .await
                .unwrap()
        );
        assert!(!hasher.verify("nope".to_owned(), phc).await.unwrap());
        assert_eq!(
            hasher.verify("x".to_owned(), "garbage".to_owned()).await,
            Err(HashError::Malformed)
        );
        hasher.verify_dummy().await.unwrap();
        let other = Hasher::new(1, 1, [9u8; 32]).unwrap();
        let phc = hasher.hash("same".to_owned()).await.unwrap();
        assert!(!other.verify("same".to_owned(), phc).await.unwrap());
        assert_eq!(other.threads(), 1);
        assert_eq!(other.queue_capacity(), 1);
        assert!(!format!("{other:?}").contains('9'));
    }

    #[tokio::test]
    async fn pool_reports_busy_when_queue_full_and_recovers() {
        let hasher = Hasher::new(1, 1, PEPPER).unwrap();
        // All four are submitted on the first poll, before any can finish: one runs, one
        // waits, the rest are refused at once.
        let (a, b, c, d) = tokio::join!(
            hasher.hash("one".to_owned()),
            hasher.hash("two".to_owned()),
            hasher.hash("three".to_owned()),
            hasher.verify_dummy(),
        );
        let results = [a.map(|_| ()), b.map(|_| ()), c.map(|_| ()), d];
        let busy = results
            .iter()
            .filter(|r| **r == Err(HashError::Busy))
            .count();
        let ok = results.iter().filter(|r| r.is_ok()).count();
        assert!(busy >= 2, "{results:?}");
        assert_eq!(busy + ok, 4, "{results:?}");
        // Drained: accepted again.
        assert!(hasher.hash("again".to_owned()).await.is_ok());
    }

    #[tokio::test]
    async fn busy_is_immediate() {
        use std::future::Future;
        use std::task::{Context, Poll, Waker};
        let hasher = Hasher::new(1, 1, PEPPER).unwrap();
        let mut calls = [
            hasher.hash("one".to_owned()),
            hasher.hash("two".to_owned()),
            hasher.hash("three".to_owned()),
        ]
        .map(Box::pin);
        // Poll each call once: a refusal is already complete on its first poll.
        let mut cx = Context::from_waker(Waker::noop());
        let first: Vec<bool> = calls
            .iter_mut()
            .map(|call| match call.as_mut().poll(&mut cx) {
                Poll::Ready(result) => {
                    assert_eq!(result, Err(HashError::Busy));
                    false
                }
                Poll::Pending => true,
            })
            .collect();
        let accepted = first.iter().filter(|pending| **pending).count();
        assert!((1..=2).contains(&accepted), "{first:?}");
        for (call, pending) in calls.into_iter().zip(first) {
            if pending {
                assert!(call.await.is_ok());
            }
        }
        // A zero queue is raised to one.
        assert_eq!(Hasher::new(1, 0, PEPPER).unwrap().queue_capacity(), 1);
    }

    #[test]
    fn hasher_is_send_sync_and_futures_are_send() {
        fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
        fn assert_send<T: Send>(_: &T) {}
        assert_send_sync::<Hasher>();
        let hasher = Hasher::new(1, 1, PEPPER).unwrap();
        assert_send(&hasher.hash(String::new()));
        assert_send(&hasher.verify(String::new(), String::new()));
        assert_send(&hasher.verify_dummy());
        assert_eq!(
            Hasher::new(0, 1, PEPPER).unwrap().threads(),
            default_threads()
        );
    }

    // ---- property ----

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        #[test]
        fn check_never_panics(password in "\\PC{0,140}", email in "\\PC{0,40}", other in "\\PC{0,20}") {
            let _ = check(&password, &email, &[&other]);
        }

        #[test]
        fn check_never_panics_ascii(password in "[ -~]{0,140}", local in "[a-z.+]{0,12}") {
            let email = format!("{local}@example.org");
            let result = check(&password, &email, &[]);
            let length = normalise(&password).chars().count();
            let problems = result.err().unwrap_or_default();
            proptest::prop_assert_eq!(problems.contains(&PasswordProblem::TooShort), length < MIN_LENGTH);
            proptest::prop_assert_eq!(problems.contains(&PasswordProblem::TooLong), length > MAX_LENGTH);
        }

        #[test]
        fn normalise_is_idempotent(s in "\\PC{0,40}") {
            let once = normalise(&s);
            proptest::prop_assert_eq!(normalise(&once), once);
        }
    }
}
