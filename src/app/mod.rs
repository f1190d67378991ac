//! The application context every handler receives (`AppState`: settings,
//! database, secrets, messages, clock, hashing pool, per-instance caches),
//! the extractors built on it (`ClientIp`, `Lang`), page rendering and the
//! page chrome. It sits below the flows and above the shared services: the
//! router in `crate::web` builds on it, flows and services import it, and it
//! never imports `crate::web`.

pub mod chrome;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::i18n::{Lang, Messages};
use crate::ops::metrics::Metrics;
use crate::secrets::Secrets;
use crate::store::Db;

pub use chrome::Chrome;

/// The clock every handler reads; tests replace it to move time.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

pub struct Inner {
    pub config: Config,
    pub db: Db,
    pub secrets: Secrets,
    pub messages: &'static Messages,
    pub metrics: Metrics,
    pub status_cache: crate::status_read::store::StatusCache,
    pub api: crate::api_guard::ApiGuards,
    pub clock: Clock,
    /// Wakes the outbox worker when a message was queued.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// Password hashing on its own bounded pool of threads.
    pub hasher: crate::auth::password::Hasher,
}

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Fails only if the password-hashing threads cannot be started.
    pub fn new(
        config: Config,
        db: Db,
        secrets: Secrets,
        clock: Clock,
    ) -> std::io::Result<AppState> {
        let ttl = std::time::Duration::from_millis(config.status_cache_ttl_ms);
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let hasher = crate::auth::password::Hasher::new(threads, 64, secrets.password_pepper)?;
        // The audit chain is keyed from the master key.
        db.set_audit_key(secrets.audit_key);
        // Status texts name the operator's agency (`CASEGATE_AGENCY_SHORT_NAME`).
        let messages =
            Messages::for_agency(&config.agency_short_name, &config.agency_short_name_es);
        Ok(AppState(Arc::new(Inner {
            config,
            db,
            secrets,
            messages,
            metrics: Metrics::default(),
            status_cache: crate::status_read::store::StatusCache::new(ttl),
            api: crate::api_guard::ApiGuards::default(),
            clock,
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            hasher,
        })))
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// A moment (unix seconds) as people read it: in the agency's time
    /// zone, with the zone named ("March 3, 2026, 2:05 PM EST").
    pub fn date_time(&self, lang: Lang, at: i64) -> String {
        self.messages.date_time_ts(lang, at, self.config.time_zone)
    }

    /// The calendar day a moment (unix seconds) falls on in the agency's
    /// time zone.
    pub fn local_date(&self, at: i64) -> chrono::NaiveDate {
        crate::i18n::local_date_ts(at, self.config.time_zone)
    }

    pub fn agency(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.config.agency_name,
            Lang::Es => &self.config.agency_name_es,
        }
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Lang, Self::Rejection> {
        Ok(parts.extensions.get::<Lang>().copied().unwrap_or(Lang::En))
    }
}

/// The client's IP address: the TCP peer, or — behind a trusted reverse
/// proxy, when `CASEGATE_CLIENT_IP_HEADER` is set — the right-most value of
/// that header.
pub struct ClientIp(pub String);

impl axum::extract::FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<ClientIp, Self::Rejection> {
        if let Some(h) = &state.config.client_ip_header
            && let Some(v) = parts.headers.get(h.as_str()).and_then(|v| v.to_str().ok())
            && let Some(last) = v
                .rsplit(',')
                .next()
                .map(str::trim)
                .filter(|s| !s.is_empty())
        {
            return Ok(ClientIp(last.chars().take(64).collect()));
        }
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".to_string());
        Ok(ClientIp(peer))
    }
}

/// Renders a template into an HTML response, or a 500 page if rendering fails.
pub fn render<T: askama::Template>(t: &T) -> Response {
    // askama's own estimate counts only the template's literal text; a
    // status page is ~5 KiB, so start big enough to fill it without regrowing.
    let mut html = String::with_capacity(T::SIZE_HINT.max(RENDER_BUFFER));
    match t.render_into(&mut html) {
        Ok(()) => Html(html).into_response(),
        Err(e) => crate::error::AppError::Internal(e.to_string()).into_response(),
    }
}

/// Initial capacity of a rendered page.
const RENDER_BUFFER: usize = 8 * 1024;

/// Whether a path belongs to the JSON API (errors there are JSON, not pages).
pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/oauth/")
        || path.starts_with("/case-status")
        || path.starts_with("/api/")
        || path.starts_with("/csol-api/")
        || path.starts_with("/account/case-service/api/")
}
