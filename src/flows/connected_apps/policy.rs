//! Connected apps' pure rules: token names and the lifetimes offered.

use crate::api_guard::applicant::SCOPE_CASES_READ;

/// A token's name: what the applicant will recognise it by (1–60
/// characters, no control characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub fn parse(input: &str) -> Option<TokenName> {
        let name = input.trim();
        (!name.is_empty() && name.chars().count() <= 60 && !name.chars().any(char::is_control))
            .then(|| TokenName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The lifetimes a personal token can have (no token lives forever).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Days30,
    Days90,
    Days365,
}

impl Expiry {
    pub const ALL: [Expiry; 3] = [Expiry::Days30, Expiry::Days90, Expiry::Days365];

    pub fn parse(s: &str) -> Option<Expiry> {
        Expiry::ALL.into_iter().find(|e| e.code() == s)
    }

    pub fn code(self) -> &'static str {
        match self {
            Expiry::Days30 => "30",
            Expiry::Days90 => "90",
            Expiry::Days365 => "365",
        }
    }

    pub fn days(self) -> i64 {
        match self {
            Expiry::Days30 => 30,
            Expiry::Days90 => 90,
            Expiry::Days365 => 365,
        }
    }

    pub fn expires_at(self, now: i64) -> i64 {
        now + self.days() * 86_400
    }
}

/// The scope a device authorization may ask for: none (then the only one)
/// or exactly `cases:read`.
pub fn scope_allowed(scope: Option<&str>) -> bool {
    match scope.map(str::trim) {
        None | Some("") => true,
        Some(s) => s.split_whitespace().all(|s| s == SCOPE_CASES_READ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_expiries() {
        assert_eq!(
            TokenName::parse("  My tracker ").unwrap().as_str(),
            "My tracker"
        );
        assert!(TokenName::parse("   ").is_none());
        assert!(TokenName::parse(&"x".repeat(61)).is_none());
        assert!(TokenName::parse("a\u{0}b").is_none());
        assert_eq!(Expiry::parse("90"), Some(Expiry::Days90));
        assert_eq!(Expiry::parse("0"), None);
        assert_eq!(Expiry::parse("forever"), None);
        assert_eq!(Expiry::Days30.expires_at(0), 30 * 86_400);
    }

    #[test]
    fn only_the_read_scope_may_be_asked_for() {
        assert!(scope_allowed(None));
        assert!(scope_allowed(Some("")));
        assert!(scope_allowed(Some("cases:read")));
        assert!(!scope_allowed(Some("cases:read cases:write")));
        assert!(!scope_allowed(Some("admin")));
    }
}
