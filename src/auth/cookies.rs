//! Cookies: the one place that reads `Cookie:` headers and writes
//! `Set-Cookie` values, both with the `cookie` crate.
//!
//! Every cookie of casegate follows the same rules: a `__Host-` name, `Path=/`,
//! `Secure`, `HttpOnly`, `SameSite=Lax`, no `Domain`.

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::time::Duration;
use cookie::{Cookie, SameSite};

/// The value of cookie `name` in the request's `Cookie:` headers (the first
/// one sent), as sent: no percent-decoding, no quote stripping.
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
}

/// `Set-Cookie` for `name=value` by the house rules; `max_age_secs` makes it
/// persistent, `None` a session cookie. `None` when the value cannot be a
/// header (it never comes from a visitor).
pub fn set(name: &str, value: &str, max_age_secs: Option<i64>) -> Option<HeaderValue> {
    let mut c = Cookie::build((name, value))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax);
    if let Some(secs) = max_age_secs {
        c = c.max_age(Duration::seconds(secs));
    }
    HeaderValue::from_str(&c.build().to_string()).ok()
}

/// `Set-Cookie` that removes cookie `name` (empty value, `Max-Age=0`).
pub fn clear(name: &str) -> HeaderValue {
    set(name, "", Some(0)).unwrap_or_else(|| HeaderValue::from_static("__Host-invalid=; Max-Age=0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::COOKIE, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn reads_a_cookie_among_several_and_across_headers() {
        let h = headers(&["a=1; __Host-lang=es", "  __Host-csrf=abc ;x=y"]);
        assert_eq!(read(&h, "__Host-lang"), Some("es"));
        assert_eq!(read(&h, "__Host-csrf"), Some("abc"));
        assert_eq!(read(&h, "x"), Some("y"));
        assert_eq!(read(&h, "missing"), None);
        // A name is matched whole, not as a prefix.
        assert_eq!(read(&headers(&["__Host-langx=es"]), "__Host-lang"), None);
        assert_eq!(read(&headers(&["garbage; ;=;"]), "garbage"), None);
    }

    #[test]
    fn set_cookies_follow_the_house_rules() {
        let v = set("__Host-x", "v1", None).unwrap();
        let s = v.to_str().unwrap();
        assert!(s.starts_with("__Host-x=v1"), "{s}");
        for attr in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
            assert!(s.contains(attr), "{s}");
        }
        assert!(!s.contains("Max-Age") && !s.contains("Domain"), "{s}");
        let s = set("__Host-x", "v1", Some(60)).unwrap();
        assert!(s.to_str().unwrap().contains("Max-Age=60"));
        let s = clear("__Host-x");
        assert!(s.to_str().unwrap().starts_with("__Host-x=;"), "{s:?}");
        assert!(s.to_str().unwrap().contains("Max-Age=0"), "{s:?}");
    }
}
