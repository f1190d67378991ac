//! Where a webhook may be sent: the URL rules and the address rules (SSRF).
//!
//! A subscription URL is `https://` to a public address. Plain `http://` is
//! accepted only to a loopback address, and only when the operator allows
//! loopback targets (tests, local development); private-network addresses
//! only when the operator allows them. Names are checked again when they are
//! resolved at each delivery ([`PublicOnly`]), so a name that later points at
//! an internal address (DNS rebinding) is refused then; redirects are never
//! followed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;

/// What the operator allows beyond public `https://` targets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetRules {
    pub allow_loopback: bool,
    pub allow_private: bool,
}

impl TargetRules {
    pub fn from_config(c: &crate::config::Config) -> TargetRules {
        TargetRules {
            allow_loopback: c.webhook_allow_loopback,
            allow_private: c.webhook_allow_private,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("not an absolute URL")]
    Invalid,
    #[error("only https URLs are accepted")]
    NotHttps,
    #[error("URLs with credentials or fragments are not accepted")]
    Credentials,
    #[error("the address is not a public one")]
    NotPublic,
}

/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2000;

/// A webhook URL that passed the rules (one constructor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    pub fn parse(raw: &str, rules: TargetRules) -> Result<WebhookUrl, TargetError> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > MAX_URL_LEN {
            return Err(TargetError::Invalid);
        }
        let url = Url::parse(raw).map_err(|_| TargetError::Invalid)?;
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return Err(TargetError::Credentials);
        }
        let host = url.host().ok_or(TargetError::Invalid)?;
        let loopback_name = match &host {
            url::Host::Domain(d) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                d == "localhost" || d.ends_with(".localhost")
            }
            _ => false,
        };
        let ip: Option<IpAddr> = match host {
            url::Host::Ipv4(a) => Some(IpAddr::V4(a)),
            url::Host::Ipv6(a) => Some(IpAddr::V6(a)),
            url::Host::Domain(_) => None,
        };
        let is_loopback = loopback_name || ip.is_some_and(|a| canonical(a).is_loopback());
        match url.scheme() {
            "https" => {}
            "http" if is_loopback && rules.allow_loopback => {}
            "http" => return Err(TargetError::NotHttps),
            _ => return Err(TargetError::Invalid),
        }
        if loopback_name && !rules.allow_loopback {
            return Err(TargetError::NotPublic);
        }
        if let Some(a) = ip
            && !address_allowed(a, rules)
        {
            return Err(TargetError::NotPublic);
        }
        Ok(WebhookUrl(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }
}

/// IPv4-mapped and -compatible IPv6 addresses as the IPv4 address they carry.
fn canonical(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

fn v4_private(a: Ipv4Addr) -> bool {
    let [a0, a1, ..] = a.octets();
    a0 == 10 || (a0 == 172 && (16..32).contains(&a1)) || (a0 == 192 && a1 == 168)
}

/// Never a webhook target, whatever the settings: "this network", link-local
/// (cloud metadata at 169.254.169.254), shared address space, protocol
/// assignments, benchmarking, documentation, multicast, reserved, broadcast.
fn v4_never(a: Ipv4Addr) -> bool {
    let [a0, a1, a2, _] = a.octets();
    a0 == 0
        || (a0 == 169 && a1 == 254)
        || (a0 == 100 && (64..128).contains(&a1))
        || (a0 == 192 && a1 == 0 && a2 == 0)
        || (a0 == 192 && a1 == 0 && a2 == 2)
        || (a0 == 198 && (18..20).contains(&a1))
        || (a0 == 198 && a1 == 51 && a2 == 100)
        || (a0 == 203 && a1 == 0 && a2 == 113)
        || a0 >= 224
}

fn v6_never(a: Ipv6Addr) -> bool {
    let s = a.segments();
    a.is_unspecified()
        || a.is_multicast()
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64: could reach anything
        || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0) // IPv4-compatible
}

/// May a delivery connect to `a` under `rules`?
pub fn address_allowed(a: IpAddr, rules: TargetRules) -> bool {
    match canonical(a) {
        IpAddr::V4(v4) => {
            if v4.is_loopback() {
                rules.allow_loopback
            } else if v4_never(v4) {
                false
            } else if v4_private(v4) {
                rules.allow_private
            } else {
                true
            }
        }
        IpAddr::V6(v6) => {
            if v6.is_loopback() {
                rules.allow_loopback
            } else if v6_never(v6) {
                false
            } else if (v6.segments()[0] & 0xfe00) == 0xfc00 {
                rules.allow_private
            } else {
                true
            }
        }
    }
}

/// The delivery client's resolver: the system's, keeping only addresses
/// [`address_allowed`] accepts (none left → the delivery fails).
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly(pub TargetRules);

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let rules = self.0;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let lower = host.trim_end_matches('.').to_ascii_lowercase();
            if (lower == "localhost" || lower.ends_with(".localhost")) && !rules.allow_loopback {
                return Err("webhook target is not a public address".into());
            }
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|sa| address_allowed(sa.ip(), rules))
                .collect();
            if found.is_empty() {
                return Err("webhook target is not a public address".into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: TargetRules = TargetRules {
        allow_loopback: false,
        allow_private: false,
    };
    const LOOPBACK: TargetRules = TargetRules {
        allow_loopback: true,
        allow_private: false,
    };

    #[test]
    fn public_https_only_by_default() {
        assert!(WebhookUrl::parse("https://hooks.example.com/casegate", STRICT).is_ok());
        assert!(WebhookUrl::parse("https://93.184.216.34/x", STRICT).is_ok());
        for (url, err) in [
            ("http://hooks.example.com/", TargetError::NotHttps),
            ("ftp://hooks.example.com/", TargetError::Invalid),
            (
                "https://user:pw@hooks.example.com/",
                TargetError::Credentials,
            ),
            ("https://hooks.example.com/#x", TargetError::Credentials),
            ("https://127.0.0.1/", TargetError::NotPublic),
            ("https://localhost/", TargetError::NotPublic),
            ("http://127.0.0.1:9000/", TargetError::NotHttps),
            ("https://10.1.2.3/", TargetError::NotPublic),
            ("https://172.20.0.1/", TargetError::NotPublic),
            ("https://192.168.1.1/", TargetError::NotPublic),
            (
                "https://169.254.169.254/latest/meta-data",
                TargetError::NotPublic,
            ),
            ("https://[::1]/", TargetError::NotPublic),
            ("https://[::ffff:10.0.0.1]/", TargetError::NotPublic),
            ("https://[fd00::1]/", TargetError::NotPublic),
            ("https://[fe80::1]/", TargetError::NotPublic),
            ("https://0.0.0.0/", TargetError::NotPublic),
            ("https://0x7f000001/", TargetError::NotPublic),
            ("https://2130706433/", TargetError::NotPublic),
            ("not a url", TargetError::Invalid),
        ] {
            assert_eq!(WebhookUrl::parse(url, STRICT), Err(err), "{url}");
        }
    }

    #[test]
    fn loopback_http_only_when_allowed() {
        assert!(WebhookUrl::parse("http://127.0.0.1:9000/hook", LOOPBACK).is_ok());
        assert!(WebhookUrl::parse("http://localhost:9000/hook", LOOPBACK).is_ok());
        assert_eq!(
            WebhookUrl::parse("http://10.0.0.1/", LOOPBACK),
            Err(TargetError::NotHttps)
        );
        assert_eq!(
            WebhookUrl::parse("https://169.254.169.254/", LOOPBACK),
            Err(TargetError::NotPublic)
        );
        let private = TargetRules {
            allow_loopback: false,
            allow_private: true,
        };
        assert!(WebhookUrl::parse("https://10.0.0.1/", private).is_ok());
        assert!(WebhookUrl::parse("https://169.254.169.254/", private).is_err());
    }

    /// The delivery client's resolver drops what the rules refuse, so a
    /// public-looking name that resolves to an internal address is refused
    /// at sending time (DNS rebinding).
    #[tokio::test]
    async fn the_resolver_keeps_only_allowed_addresses() {
        use reqwest::dns::Resolve;
        use std::str::FromStr;
        let name = || reqwest::dns::Name::from_str("localhost").unwrap();
        assert!(PublicOnly(STRICT).resolve(name()).await.is_err());
        // Not a loopback name, but it resolves to a loopback address.
        let literal = reqwest::dns::Name::from_str("127.0.0.1").unwrap();
        assert!(PublicOnly(STRICT).resolve(literal).await.is_err());
        let addrs: Vec<SocketAddr> = PublicOnly(LOOPBACK)
            .resolve(name())
            .await
            .unwrap()
            .collect();
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()));
    }
}
