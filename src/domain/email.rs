//! Email addresses (PII: `Debug` prints only the masked form).
//!
//! Accepted: `local@domain` after trimming, where the local part is an
//! RFC 5322 dot-atom of ASCII characters (letters, digits and
//! ``!#$%&'*+/=?^_`{|}~-``, dots not leading, trailing or doubled; at most 64
//! bytes; case kept as typed) and the domain has at least two labels of
//! `[A-Za-z0-9-]` (1–63 chars, no leading/trailing `-`, top-level label not
//! all digits), lowercased. Whole address at most 254 bytes. Quoted local
//! parts, IP-literal domains and non-ASCII (use punycode for IDN domains) are
//! rejected.

use std::fmt;
use std::str::FromStr;

pub const MAX_LOCAL: usize = 64;
pub const MAX_EMAIL: usize = 254;
const MAX_LABEL: usize = 63;

/// Why a string is not an email address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum EmailError {
    #[error("email is empty")]
    Empty,
    #[error("email contains spaces or control characters")]
    InvalidChar,
    #[error("email is too long")]
    TooLong,
    #[error("email must contain an @")]
    MissingAt,
    #[error("email must contain only one @")]
    MultipleAt,
    #[error("part before @ is empty")]
    LocalEmpty,
    #[error("part before @ is too long")]
    LocalTooLong,
    #[error("part before @ is invalid")]
    LocalInvalid,
    #[error("domain is invalid")]
    DomainInvalid,
}

/// A syntactically valid email address with lowercased domain.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

fn local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c)
}

fn valid_local(local: &str) -> bool {
    local.chars().all(|c| local_char(c) || c == '.')
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
}

fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= MAX_LABEL
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

impl Email {
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::InvalidChar);
        }
        if s.len() > MAX_EMAIL {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = match s.split_once('@') {
            None => return Err(EmailError::MissingAt),
            Some((_, d)) if d.contains('@') => return Err(EmailError::MultipleAt),
            Some(parts) => parts,
        };
        if local.is_empty() {
            return Err(EmailError::LocalEmpty);
        }
        if local.len() > MAX_LOCAL {
            return Err(EmailError::LocalTooLong);
        }
        if !valid_local(local) {
            return Err(EmailError::LocalInvalid);
        }
        let domain = domain.to_ascii_lowercase();
        let labels: Vec<&str> = domain.split('.').collect();
        let tld_ok = labels
            .last()
            .is_some_and(|t| !t.bytes().all(|b| b.is_ascii_digit()));
        if labels.len() < 2 || !labels.iter().all(|l| valid_label(l)) || !tld_ok {
            return Err(EmailError::DomainInvalid);
        }
        Ok(Email(format!("{local}@{domain}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Part before the `@`, as typed.
    pub fn local(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(l, _)| l)
    }

    /// Lowercased domain.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }

    /// `j•••@e•••.com`: first character of the local part and of the first
    /// domain label, then the rest of the domain from the first dot.
    pub fn masked(&self) -> String {
        let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
        let domain = self.domain();
        let (label, rest) = domain.split_once('.').unwrap_or((domain, ""));
        format!("{}•••@{}•••.{rest}", first(self.local()), first(label))
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

impl FromStr for Email {
    type Err = EmailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Email::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_normalises() {
        let e = Email::parse("  John.Doe+tag@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "John.Doe+tag@example.com");
        assert_eq!(e.local(), "John.Doe+tag");
        assert_eq!(e.domain(), "example.com");
        assert_eq!(e.to_string(), "John.Doe+tag@example.com");
        let p: Email = "a@b.co".parse().unwrap();
        assert_eq!(p.as_str(), "a@b.co");
        for ok in [
            "x@sub.domain.example.org",
            "o'brien@mail-host.example",
            "a_b!#$%&*/=?^`{|}~-@x.io",
            "u@xn--bcher-kva.example",
            "u@1.2.3.com",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn errors() {
        use EmailError::*;
        let cases: &[(&str, EmailError)] = &[
            ("", Empty),
            ("   ", Empty),
            ("a b@c.com", InvalidChar),
            ("ab@c.com\u{0}", InvalidChar),
            ("ab@c\u{a0}d.com", InvalidChar),
            ("abc.com", MissingAt),
            ("a@b@c.com", MultipleAt),
            ("@c.com", LocalEmpty),
            (".a@c.com", LocalInvalid),
            ("a.@c.com", LocalInvalid),
            ("a..b@c.com", LocalInvalid),
            ("\"a\"@c.com", LocalInvalid),
            ("jö@c.com", LocalInvalid),
            ("a(b)@c.com", LocalInvalid),
            ("a@", DomainInvalid),
            ("a@localhost", DomainInvalid),
            ("a@-c.com", DomainInvalid),
            ("a@c-.com", DomainInvalid),
            ("a@c..com", DomainInvalid),
            ("a@c.com.", DomainInvalid),
            ("a@.c.com", DomainInvalid),
            ("a@c_d.com", DomainInvalid),
            ("a@bücher.de", DomainInvalid),
            ("a@1.2.3.4", DomainInvalid),
            ("a@[1.2.3.4]", DomainInvalid),
        ];
        for (input, err) in cases {
            assert_eq!(Email::parse(input), Err(*err), "{input:?}");
        }
        let local64 = "a".repeat(64);
        assert!(Email::parse(&format!("{local64}@c.com")).is_ok());
        assert_eq!(
            Email::parse(&format!("{}@c.com", "a".repeat(65))),
            Err(LocalTooLong)
        );
        let label63 = "b".repeat(63);
        assert!(Email::parse(&format!("a@{label63}.com")).is_ok());
        assert_eq!(
            Email::parse(&format!("a@{}.com", "b".repeat(64))),
            Err(DomainInvalid)
        );
        // 254 total is fine, 255 is not.
        let domain = format!("{label63}.{label63}.{label63}.{}", "c".repeat(61));
        let max = format!("{local64}@{}", &domain[..254 - 65]);
        assert_eq!(max.len(), 254);
        assert!(Email::parse(&max).is_ok(), "{max}");
        let over = format!("{local64}@{}", &domain[..255 - 65]);
        assert_eq!(Email::parse(&over), Err(TooLong));
    }

    #[test]
    fn masking() {
        let e = Email::parse("john@example.com").unwrap();
        assert_eq!(e.masked(), "j•••@e•••.com");
        assert_eq!(format!("{e:?}"), "Email(j•••@e•••.com)");
        assert!(!format!("{e:?}").contains("john"));
        let uk = Email::parse("Zed@Example.co.uk").unwrap();
        assert_eq!(uk.masked(), "Z•••@e•••.co.uk");
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            if let Ok(e) = Email::parse(&s) {
                prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e);
            }
        }

        #[test]
        fn relevant_chars(s in "[a-zA-Z0-9.@\\- +_]{0,30}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e.clone());
                prop_assert!(!e.masked().contains(e.as_str()));
            }
        }

        #[test]
        fn well_formed_round_trip(local in "[a-zA-Z0-9_+%\\-]{1,20}(\\.[a-zA-Z0-9]{1,5}){0,2}",
                                  labels in prop::collection::vec("[a-zA-Z0-9]([a-zA-Z0-9\\-]{0,8}[a-zA-Z0-9])?", 1..3),
                                  tld in "[a-zA-Z]{2,6}") {
            let domain = format!("{}.{tld}", labels.join("."));
            let raw = format!(" {local}@{domain} ");
            let e = Email::parse(&raw).unwrap();
            prop_assert_eq!(e.local(), local.as_str());
            prop_assert_eq!(e.domain(), domain.to_ascii_lowercase());
            prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e.clone());
            let upper = Email::parse(&e.as_str().to_uppercase()).unwrap();
            prop_assert_eq!(upper.domain(), e.domain());
        }
    }
}
