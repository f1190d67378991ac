//! HTTP plumbing: shared state, the router, and the middleware every response
//! passes through (security headers, language, metrics, error pages).

pub mod assets;
pub mod chrome;
pub mod conn;
pub mod home;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::error::ErrorPage;
use crate::flows::{
    access_code, address, case_status, evidence, help, intake, link_case, my_cases, officer,
    processing_times, recovery, security, sign_in, sign_up, status_api, two_step,
};
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
    pub status_cache: case_status::store::StatusCache,
    pub api: status_api::policy::ApiGuards,
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
        let messages =
            Messages::for_agency(&config.agency_short_name, &config.agency_short_name_es);
        Ok(AppState(Arc::new(Inner {
            config,
            db,
            secrets,
            messages,
            metrics: Metrics::default(),
            status_cache: case_status::store::StatusCache::new(ttl),
            api: status_api::policy::ApiGuards::default(),
            clock,
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            hasher,
        })))
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    pub fn agency(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.config.agency_name,
            Lang::Es => &self.config.agency_name_es,
        }
    }
}

/// Largest evidence-upload request.
pub const UPLOAD_BODY_BYTES: usize = 13 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    Router::new()
        .route("/", get(home::page))
        .route("/status", get(case_status::handler::page))
        .route(
            "/access-code",
            get(access_code::handler::form).post(access_code::handler::submit),
        )
        .route(
            "/account/address",
            get(address::handler::form).post(address::handler::preview),
        )
        .route("/account/address/confirm", post(address::handler::confirm))
        .route(
            "/account/notifications",
            post(my_cases::handler::set_notifications),
        )
        .route(
            "/account/cases/add",
            get(link_case::handler::form).post(link_case::handler::submit),
        )
        .route(
            "/account/cases/{receipt}",
            get(my_cases::handler::case_page),
        )
        .route(
            "/account/cases/{receipt}/notices/{id}",
            get(my_cases::handler::notice_pdf),
        )
        .route(
            "/account/cases/{receipt}/requests/{id}",
            get(evidence::handler::request_page),
        )
        .route(
            "/account/cases/{receipt}/requests/{id}/submit",
            post(evidence::handler::submit),
        )
        .route(
            "/account/cases/{receipt}/requests/{id}/uploads/{upload}",
            get(evidence::handler::download),
        )
        .route("/processing-times", get(processing_times::handler::page))
        // Help and contact (issue 15).
        .route("/help", get(help::handler::page))
        .route("/officer", get(officer::handler::dashboard))
        .route("/officer/cases", get(officer::handler::search))
        .route("/officer/cases/{receipt}", get(officer::handler::case_page))
        .route(
            "/officer/cases/{receipt}/status",
            post(officer::handler::change_status),
        )
        .route(
            "/officer/cases/{receipt}/rfe",
            post(officer::handler::request_evidence),
        )
        .route(
            "/officer/cases/{receipt}/interview",
            post(officer::handler::schedule_interview),
        )
        .route(
            "/officer/cases/{receipt}/transfer",
            post(officer::handler::transfer),
        )
        .route(
            "/officer/cases/{receipt}/requests/{id}/reviewed",
            post(officer::handler::mark_reviewed),
        )
        .route(
            "/officer/cases/{receipt}/requests/{id}/uploads/{upload}",
            get(officer::handler::officer_upload),
        )
        .route("/officer/mail", get(officer::handler::mail_room))
        .route(
            "/officer/admin",
            get(officer::admin::page).post(officer::admin::act),
        )
        .route("/officer/intake", get(officer::admin::intake_page))
        .route("/officer/intake/one", post(officer::admin::intake_one))
        .route("/officer/mail/print", post(officer::handler::print_batch))
        .route("/officer/mail/{id}", post(officer::handler::mail_state))
        .route(
            "/sign-up",
            get(sign_up::handler::form).post(sign_up::handler::submit),
        )
        .route("/sign-up/confirm", post(sign_up::handler::confirm))
        // Issue 18: next steps on the check-your-email page; the API for people.
        .route("/sign-up/resend", post(sign_up::handler::resend))
        .route("/developers", get(status_api::docs::page))
        .route(
            "/two-step/setup",
            get(two_step::handler::form).post(two_step::handler::submit),
        )
        .route(
            "/sign-in",
            get(sign_in::handler::form).post(sign_in::handler::submit),
        )
        .route(
            "/sign-in/two-step",
            get(sign_in::handler::two_step_form).post(sign_in::handler::two_step_submit),
        )
        .route("/sign-out", post(sign_in::handler::sign_out))
        .route("/account", get(my_cases::handler::account_page))
        .route("/account/security", get(security::handler::security))
        .route(
            "/account/security/sessions/revoke",
            post(security::handler::revoke),
        )
        .route(
            "/account/security/sessions/revoke-all",
            post(security::handler::revoke_all),
        )
        .route(
            "/account/security/backup-codes",
            post(security::handler::regenerate_backup_codes),
        )
        .route(
            "/account/security/password",
            post(security::handler::change_password),
        )
        .route(
            "/account/reauth",
            get(security::handler::reauth_form).post(security::handler::reauth),
        )
        .route(
            "/forgot-password",
            get(recovery::handler::forgot_form).post(recovery::handler::forgot),
        )
        .route(
            "/forgot-password/reset",
            get(recovery::handler::reset_form).post(recovery::handler::reset),
        )
        .route(
            "/officer-setup",
            get(recovery::handler::officer_setup_form).post(recovery::handler::officer_setup),
        )
        .route("/oauth/accesstoken", post(status_api::handler::token))
        .route(
            "/case-status/{receipt}",
            get(status_api::handler::case_status),
        )
        .route("/api/openapi.json", get(status_api::handler::openapi))
        .route("/api/intake", post(intake::handler::intake_csv))
        .route("/healthz", get(crate::ops::healthz))
        .route("/livez", get(crate::ops::livez))
        .route("/metrics", get(crate::ops::metrics))
        .route("/assets/{*path}", get(assets::serve))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(max_body))
        .merge(
            // Evidence uploads: up to 12 MB per file plus multipart overhead.
            Router::new()
                .route(
                    "/account/cases/{receipt}/requests/{id}/upload",
                    post(evidence::handler::upload),
                )
                .route("/officer/intake", post(officer::admin::intake_upload))
                .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_BODY_BYTES))
                .layer(tower_http::limit::RequestBodyLimitLayer::new(
                    UPLOAD_BODY_BYTES,
                )),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::csrf::middleware,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            conn::body_deadline,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), render_errors))
        .layer(middleware::from_fn(language))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .with_state(state)
}

async fn not_found() -> Response {
    crate::error::AppError::NotFound.into_response()
}

/// Whether a path belongs to the JSON API (errors there are JSON, not pages).
pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/oauth/") || path.starts_with("/case-status") || path.starts_with("/api/")
}

async fn record_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let resp = next.run(req).await;
    state.metrics.record(
        method.as_str(),
        &route,
        resp.status().as_u16(),
        started.elapsed(),
    );
    resp
}

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let is_asset = req.uri().path().starts_with("/assets/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // A handler may set a stricter policy (uploaded files are served with
    // `sandbox`); it is kept, never replaced by the page policy.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=63072000; includeSubDomains"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !is_asset && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// The visitor's language: `?lang=` (remembered in a cookie), else the
/// cookie, else `Accept-Language`, else English.
async fn language(mut req: Request, next: Next) -> Response {
    let from_query = req.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(&v))
    });
    let from_cookie = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix("lang="))
        .find_map(Lang::parse);
    let lang = from_query.or(from_cookie).unwrap_or_else(|| {
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(Lang::from_accept_language)
            .unwrap_or(Lang::En)
    });
    req.extensions_mut().insert(lang);
    let mut resp = next.run(req).await;
    if let Some(chosen) = from_query
        && from_cookie != Some(chosen)
    {
        let cookie = format!(
            "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
            chosen.code()
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    resp
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

/// Turns error markers (and bare framework errors) into the plain-language
/// page, or into `{code, message}` JSON on API paths.
async fn render_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let lang = req.extensions().get::<Lang>().copied().unwrap_or(Lang::En);
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let mut resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    // Every "temporarily unavailable" tells clients when to come back.
    if status == StatusCode::SERVICE_UNAVAILABLE
        && !resp.headers().contains_key(header::RETRY_AFTER)
    {
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(crate::error::UNAVAILABLE_RETRY_AFTER_SECS),
        );
    }
    let marked = resp.extensions().get::<ErrorPage>().copied();
    // casegate's own error bodies are HTML pages or the API's JSON; plain text
    // comes from the framework (a body over the limit, a form that does not
    // deserialize) and is replaced, so nobody reads a library's message.
    let own_body = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.starts_with("text/plain"));
    let ops_path = matches!(path.as_str(), "/healthz" | "/livez" | "/metrics");
    if marked.is_none() && (own_body || ops_path) {
        return resp;
    }
    let Some(page) = marked.or_else(|| ErrorPage::from_status(status)) else {
        return resp;
    };
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    if is_api_path(&path) {
        let body = status_api::handler::error_json(status, page);
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return Response::from_parts(parts, Body::from(body));
    }
    // "Too many requests" says when to come back (the limit knows).
    let retry_after_secs = parts
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|_| page == ErrorPage::TooManyRequests);
    let html = if method == Method::HEAD {
        String::new()
    } else {
        error_page_html(&state, lang, &path, status, page, retry_after_secs)
    };
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Response::from_parts(parts, Body::from(html))
}

#[derive(askama::Template)]
#[template(path = "web/error.html")]
struct ErrorTemplate<'a> {
    c: Chrome<'a>,
    heading: &'a str,
    body: &'a str,
    /// When to try again, for "too many requests".
    retry: Option<String>,
    code: u16,
}

fn error_page_html(
    state: &AppState,
    lang: Lang,
    path: &str,
    status: StatusCode,
    page: ErrorPage,
    retry_after_secs: Option<u64>,
) -> String {
    let key = page.message_key();
    let heading_key = format!("{key}.heading");
    let body_key = format!("{key}.body");
    let heading = state.messages.get(lang, &heading_key);
    let c = Chrome::new(state, lang, path, "").titled(heading);
    let t = ErrorTemplate {
        heading,
        body: state.messages.get(lang, &body_key),
        retry: retry_after_secs.map(|s| {
            let minutes = s.div_ceil(60).max(1).to_string();
            state
                .messages
                .fmt(lang, "help.next.try_again_in", &[("minutes", &minutes)])
        }),
        code: status.as_u16(),
        c,
    };
    askama::Template::render(&t).unwrap_or_else(|_| "Error".to_string())
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

/// Starts serving until `shutdown` resolves; in-flight requests finish first.
/// Connection limits and timeouts: see [`conn`].
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    conn::serve(state, listener, shutdown).await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
