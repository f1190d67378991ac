//! The SMTP relay: lettre's pooled async transport built from a URL, and the
//! mapping of its errors onto retry / give up.
//!
//! URL forms (credentials, percent-encoded, come from the user-info part):
//! - `smtp://[user:pass@]host[:port]` — plain SMTP that upgrades with STARTTLS
//!   whenever the relay offers it (opportunistic); a relay that does not offer
//!   it (a local MTA, the test sink) gets plain SMTP. Default port 25.
//!   lettre's own `from_url` would never try STARTTLS for this form, so the
//!   outbox adds `tls=opportunistic` itself.
//! - `smtp://…?tls=required` — STARTTLS or fail (default port 587).
//! - `smtp://…?tls=none` — never STARTTLS (only for a trusted local relay whose
//!   certificate cannot be verified).
//! - `smtps://…` — implicit TLS (default port 465).
//!
//! Certificates are verified with the platform verifier (rustls, ring).

use std::time::Duration;

use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, Tokio1Executor};

use super::{SendError, TransportError};

/// How long one SMTP command may wait for the relay.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A configured relay. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct SmtpRelay {
    pub(super) transport: AsyncSmtpTransport<Tokio1Executor>,
    /// `scheme://host:port (tls mode)`, without credentials, for logs.
    pub(super) description: String,
}

impl std::fmt::Debug for SmtpRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpRelay({})", self.description)
    }
}

impl SmtpRelay {
    /// Builds the relay from its URL. Must run inside a Tokio runtime (the
    /// connection pool starts a janitor task). Connects lazily.
    pub fn from_url(url: &str) -> Result<SmtpRelay, TransportError> {
        let plan = plan(url)?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&plan.url)
            .map_err(|e| TransportError::InvalidUrl(e.to_string()))?;
        if let Some(port) = plan.port {
            builder = builder.port(port);
        }
        let transport = builder.timeout(Some(SMTP_TIMEOUT)).build();
        Ok(SmtpRelay {
            transport,
            description: plan.description,
        })
    }

    pub fn description(&self) -> &str {
        &self.description
    }
}

/// What the configured URL becomes for lettre.
#[derive(Debug, PartialEq, Eq)]
struct Plan {
    url: String,
    /// A port to force after `from_url` (plain `smtp://host` keeps port 25).
    port: Option<u16>,
    description: String,
}

fn plan(url: &str) -> Result<Plan, TransportError> {
    let bad = |m: &str| TransportError::InvalidUrl(m.to_string());
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("missing scheme"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "smtp" && scheme != "smtps" {
        return Err(bad("scheme must be smtp:// or smtps://"));
    }
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = before_query.split('/').next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() || host_port.starts_with(':') {
        return Err(bad("missing host"));
    }
    // A port is present when a ':' follows the host (after any IPv6 ']').
    let after_v6 = host_port.rsplit_once(']').map_or(host_port, |(_, p)| p);
    let explicit_port = after_v6
        .rsplit_once(':')
        .map(|(_, p)| p.parse::<u16>().map_err(|_| bad("invalid port")))
        .transpose()?;
    let mut tls: Option<String> = None;
    let mut other: Vec<&str> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("tls", v)) => tls = Some(v.to_ascii_lowercase()),
            _ => other.push(pair),
        }
    }
    let with_query = |extra: Option<&str>| {
        let mut q: Vec<&str> = other.clone();
        if let Some(e) = extra {
            q.push(e);
        }
        if q.is_empty() {
            format!("{scheme}://{before_query}")
        } else {
            format!("{scheme}://{before_query}?{}", q.join("&"))
        }
    };
    let (url, port, mode, default_port) = match (scheme.as_str(), tls.as_deref()) {
        ("smtps", None) => (with_query(None), None, "implicit TLS", 465),
        ("smtps", Some(_)) => return Err(bad("smtps:// takes no tls= parameter")),
        ("smtp", None | Some("opportunistic")) => (
            with_query(Some("tls=opportunistic")),
            // lettre would default an opportunistic URL to 587; plain smtp is 25.
            Some(explicit_port.unwrap_or(if tls.is_none() { 25 } else { 587 })),
            "STARTTLS when offered",
            if tls.is_none() { 25 } else { 587 },
        ),
        ("smtp", Some("required")) => (
            with_query(Some("tls=required")),
            None,
            "STARTTLS required",
            587,
        ),
        ("smtp", Some("none")) => (with_query(None), None, "no TLS", 25),
        _ => return Err(bad("tls= must be opportunistic, required or none")),
    };
    // With a port, the last ':' of host_port is its separator.
    let host_only = match (explicit_port, host_port.rfind(':')) {
        (Some(_), Some(i)) => &host_port[..i],
        _ => host_port,
    };
    let description = format!(
        "{scheme}://{host_only}:{} ({mode})",
        explicit_port.unwrap_or(default_port)
    );
    Ok(Plan {
        url,
        port,
        description,
    })
}

/// Maps a lettre error onto retry or give up. Only a 5xx reply about the
/// message or its recipient is final; authentication replies (530, 534, 535,
/// 538) are a configuration problem and are retried like an outage, and so
/// are network, TLS, timeout and client-side errors.
pub(super) fn classify(e: &SmtpError) -> SendError {
    let text = super::short_error(&e.to_string());
    if e.is_permanent() {
        let code = e.status().map(u16::from).unwrap_or(500);
        if matches!(code, 530 | 534 | 535 | 538) {
            SendError::Transient(text)
        } else {
            SendError::Permanent(text)
        }
    } else {
        SendError::Transient(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_smtp_becomes_opportunistic_starttls_on_port_25() {
        let p = plan("smtp://relay.example.org").unwrap();
        assert_eq!(p.url, "smtp://relay.example.org?tls=opportunistic");
        assert_eq!(p.port, Some(25));
        assert_eq!(
            p.description,
            "smtp://relay.example.org:25 (STARTTLS when offered)"
        );
        let p = plan("smtp://u:p%40ss@127.0.0.1:2525").unwrap();
        assert_eq!(p.url, "smtp://u:p%40ss@127.0.0.1:2525?tls=opportunistic");
        assert_eq!(p.port, Some(2525));
        assert_eq!(
            p.description,
            "smtp://127.0.0.1:2525 (STARTTLS when offered)"
        );
    }

    #[test]
    fn explicit_modes_are_kept() {
        let p = plan("smtp://h:587/client.example?tls=required").unwrap();
        assert_eq!(p.url, "smtp://h:587/client.example?tls=required");
        assert_eq!(p.port, None);
        let p = plan("smtp://h?tls=none").unwrap();
        assert_eq!(p.url, "smtp://h");
        assert_eq!(p.description, "smtp://h:25 (no TLS)");
        let p = plan("smtps://user:pw@[::1]:4650").unwrap();
        assert_eq!(p.url, "smtps://user:pw@[::1]:4650");
        assert_eq!(p.description, "smtps://[::1]:4650 (implicit TLS)");
        let p = plan("smtp://h?tls=opportunistic").unwrap();
        assert_eq!(p.port, Some(587));
    }

    #[test]
    fn bad_urls_are_refused() {
        for u in [
            "relay.example.org",
            "http://h",
            "smtp://",
            "smtp://h:notaport",
            "smtp://h?tls=maybe",
            "smtps://h?tls=required",
        ] {
            assert!(plan(u).is_err(), "{u}");
        }
    }

    #[tokio::test]
    async fn relay_builds_from_url() {
        let r = SmtpRelay::from_url("smtp://user:secret@127.0.0.1:2525").unwrap();
        assert!(!format!("{r:?}").contains("secret"));
        assert!(SmtpRelay::from_url("smtps://mail.example.org").is_ok());
    }
}
