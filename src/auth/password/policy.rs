//! The password policy: pure, no I/O (see the module header in `mod.rs`).

use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

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

pub(super) static COMMON_PASSWORDS_TXT: &str = include_str!("common_passwords.txt");

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
pub(super) fn blocklist() -> &'static [&'static str] {
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

pub(super) fn in_blocklist(candidate: &str) -> bool {
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
pub(super) fn repetition_units(s: &str) -> impl Iterator<Item = &str> {
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
