//! "Chrome on Windows 10" from a session's user-agent, for the security
//! page's list of sessions (woothee, a maintained cross-language parser).

/// A browser and the system it runs on, as far as the user-agent says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub browser: String,
    /// `None` when the system is not recognised.
    pub os: Option<String>,
}

/// `None` when the user-agent names no browser woothee knows (the page
/// then says "Unknown browser").
pub fn describe(user_agent: &str) -> Option<Device> {
    let r = woothee::parser::Parser::new().parse(user_agent)?;
    let known = |v: &str| !v.is_empty() && v != woothee::woothee::VALUE_UNKNOWN;
    if !known(r.name) {
        return None;
    }
    Some(Device {
        browser: r.name.to_string(),
        os: known(r.os).then(|| r.os.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers_are_named_with_their_system() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        let d = describe(chrome).unwrap();
        assert_eq!(d.browser, "Chrome");
        assert!(d.os.as_deref().unwrap().starts_with("Windows"), "{d:?}");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        let d = describe(iphone).unwrap();
        assert_eq!(d.browser, "Safari");
        assert_eq!(d.os.as_deref(), Some("iPhone"));
        // What the browser harness's headless Chromium sends.
        let headless = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36";
        let d = describe(headless).unwrap();
        assert_eq!(d.os.as_deref(), Some("Linux"), "{d:?}");
        assert_eq!(describe(""), None);
        assert_eq!(describe("curl-ish/0.1 (nothing)"), None);
    }
}
