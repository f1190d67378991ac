//! Where a person was going when they were sent to sign in: a local path
//! kept for 30 minutes in its own cookie, so that after signing in (password,
//! then two-step verification) they land where they were going, not on a
//! generic page. Only same-site paths are kept (never another host).

use axum::http::{HeaderMap, HeaderValue};

use super::cookies;

pub const COOKIE: &str = "__Host-casegate_next";
const MAX_LEN: usize = 256;
const MAX_AGE_SECS: u32 = 1_800;

/// A path on this site, safe to redirect to and to keep in a cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnTo(String);

impl ReturnTo {
    /// `/account/cases/EAC9999103403` is kept; `//evil.example`, `/\evil`,
    /// `https://…`, anything with characters a cookie cannot hold, and the
    /// sign-in pages themselves are not.
    pub fn parse(s: &str) -> Option<ReturnTo> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || "/-_.~?=&%+".contains(c);
        let looped = ["/sign-in", "/sign-out", "/sign-up", "/two-step"]
            .iter()
            .any(|p| s.starts_with(p));
        (s.starts_with('/')
            && !s.starts_with("//")
            && s.len() <= MAX_LEN
            && s.chars().all(ok_char)
            && !looped)
            .then(|| ReturnTo(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The one from the request's cookie, if any and still valid.
    pub fn from_headers(headers: &HeaderMap) -> Option<ReturnTo> {
        cookies::read(headers, COOKIE).and_then(ReturnTo::parse)
    }

    pub fn cookie(&self) -> Option<HeaderValue> {
        cookies::set(COOKIE, &self.0, Some(MAX_AGE_SECS.into()))
    }
}

pub fn clear_cookie() -> HeaderValue {
    cookies::clear(COOKIE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_kept() {
        for good in [
            "/account",
            "/account/cases/EAC9999103403?lang=es",
            "/officer/cases?q=nunez",
        ] {
            assert_eq!(ReturnTo::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "account",
            "//evil.example/x",
            "/\\evil.example",
            "https://evil.example",
            "/a;b",
            "/a b",
            "/sign-in",
            "/two-step/setup",
            &format!("/{}", "a".repeat(300)),
        ] {
            assert_eq!(ReturnTo::parse(bad), None, "{bad}");
        }
    }
}
