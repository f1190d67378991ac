//! HTTP plumbing: the router, the middleware every response passes through
//! (request ids, security headers, language, metrics, error pages) and
//! connection handling. The application context every handler receives lives
//! in [`crate::app`], below the flows.

pub mod assets;
pub mod conn;

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::app::{AppState, Chrome, ClientIp, is_api_path};
use crate::auth::cookies;
use crate::error::ErrorPage;
use crate::flows::{
    access_code, address, case_status, evidence, help, home, intake, link_case, my_cases, officer,
    processing_times, recovery, security, sign_in, sign_up, status_api, two_step,
};
use crate::i18n::Lang;

/// Largest evidence-upload request.
pub const UPLOAD_BODY_BYTES: usize = 13 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let routes = Router::new()
        .route("/", get(home::handler::page))
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
        // Change of address without an account.
        .route(
            "/change-address",
            get(crate::flows::change_address::handler::form)
                .post(crate::flows::change_address::handler::review),
        )
        .route(
            "/change-address/edit",
            post(crate::flows::change_address::handler::edit),
        )
        .route(
            "/change-address/request",
            post(crate::flows::change_address::handler::request),
        )
        .route(
            "/change-address/confirm",
            get(crate::flows::change_address::handler::confirm_form)
                .post(crate::flows::change_address::handler::confirm),
        )
        .route(
            "/change-address/cancel",
            get(crate::flows::change_address::handler::cancel_form)
                .post(crate::flows::change_address::handler::cancel),
        )
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
        .route(
            "/account/cases/{receipt}/requests/{id}/uploads/{upload}/remove",
            post(evidence::handler::remove),
        )
        .route(
            "/account/cases/{receipt}/requests/{id}/review",
            get(evidence::handler::review),
        )
        .route(
            "/account/cases/{receipt}/requests/{id}/receipt",
            get(evidence::handler::receipt),
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
        // Issue 19: biometrics appointments.
        .route(
            "/officer/cases/{receipt}/biometrics",
            post(officer::handler::schedule_biometrics),
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
        .route(
            "/officer/cases/{receipt}/address-changes/{id}/reverse",
            get(officer::address_changes::reverse_page).post(officer::address_changes::reverse),
        )
        .route("/officer/mail", get(officer::handler::mail_room))
        .route("/officer/webhooks", get(officer::webhooks::list))
        .route("/officer/webhooks/{id}", get(officer::webhooks::detail))
        .route(
            "/officer/webhooks/{id}/disable",
            get(officer::webhooks::disable_page).post(officer::webhooks::disable),
        )
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
        // Issue 16: unlock-by-email past the sign-in failure limit.
        .route("/sign-in/unlock", post(sign_in::handler::unlock))
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
        // Issue 18: backup codes stay on screen until saved.
        .route(
            crate::pages::backup_codes::PATH,
            get(crate::flows::backup_codes::handler::page),
        )
        .route(
            "/account/backup-codes/download",
            get(crate::flows::backup_codes::handler::download),
        )
        .route(
            "/account/backup-codes/print",
            get(crate::flows::backup_codes::handler::print),
        )
        .route(
            "/account/backup-codes/confirm",
            post(crate::flows::backup_codes::handler::confirm),
        )
        .route(
            "/account/security/password",
            post(security::handler::change_password),
        )
        // Connected apps and the device grant (issue 19, item 4).
        .route(
            "/account/security/apps",
            get(crate::flows::connected_apps::handler::page),
        )
        .route(
            "/account/security/apps/tokens",
            post(crate::flows::connected_apps::handler::create),
        )
        .route(
            "/account/security/apps/tokens/{id}/revoke",
            get(crate::flows::connected_apps::handler::revoke_confirm)
                .post(crate::flows::connected_apps::handler::revoke),
        )
        .route(
            "/device",
            get(crate::flows::connected_apps::handler::device_form)
                .post(crate::flows::connected_apps::handler::device_check),
        )
        .route(
            "/device/decide",
            post(crate::flows::connected_apps::handler::device_decide),
        )
        .route(
            "/oauth/device_authorization",
            post(crate::flows::connected_apps::handler::device_authorization),
        )
        .route(
            "/account/case-service/api/cases",
            get(crate::flows::case_service::handler::cases),
        )
        .route(
            "/account/case-service/api/cases/{receipt}",
            get(crate::flows::case_service::handler::case),
        )
        .route(
            "/account/case-service/api/webhooks",
            get(crate::flows::webhooks_api::handler::applicant_list)
                .post(crate::flows::webhooks_api::handler::applicant_create),
        )
        .route(
            "/account/case-service/api/webhooks/{id}",
            get(crate::flows::webhooks_api::handler::applicant_show)
                .delete(crate::flows::webhooks_api::handler::applicant_delete),
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
        // Webhook subscriptions (issue 19, push instead of polling).
        .route(
            "/case-status/webhooks",
            get(crate::flows::webhooks_api::handler::list)
                .post(crate::flows::webhooks_api::handler::create),
        )
        .route(
            "/case-status/webhooks/{id}",
            get(crate::flows::webhooks_api::handler::show)
                .delete(crate::flows::webhooks_api::handler::delete),
        )
        .route("/api/openapi.json", get(status_api::handler::openapi))
        // Case Status Online JSON (issue 19).
        .route(
            "/csol-api/ui-auth",
            get(crate::flows::csol::handler::ui_auth),
        )
        .route(
            "/csol-api/case-statuses/{receipt}",
            get(crate::flows::csol::handler::case_status),
        )
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
        .fallback(not_found);
    with_middleware(routes, state)
}

/// The middleware every route passes through, around `routes` (public so a
/// test can put a route of its own, e.g. one that panics, behind the same
/// stack).
pub fn with_middleware(routes: Router<AppState>, state: AppState) -> Router {
    routes
        // A panicking handler: logged, and answered with the plain-language
        // 500 page (render_errors, outside, renders the marked response).
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), codes_pending))
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
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_context,
        ))
        .with_state(state)
}

/// Paths a session with backup codes still to confirm may reach: the codes
/// page itself (with its download, print and confirm), signing out, and what
/// no page of the account is (assets, probes, the APIs).
fn open_while_codes_pending(path: &str) -> bool {
    let codes = crate::pages::backup_codes::PATH;
    path == codes
        || path
            .strip_prefix(codes)
            .is_some_and(|rest| ["/download", "/print", "/confirm"].contains(&rest))
        || path == "/sign-out"
        || path.starts_with("/assets/")
        || ["/healthz", "/livez", "/metrics"].contains(&path)
        || is_api_path(path)
}

/// Keeps a person whose new backup codes are not yet confirmed on the page
/// that shows them: every other page (header links, the account, a typed
/// address) answers with a redirect back to it (issue 18).
async fn codes_pending(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if open_while_codes_pending(path) {
        return next.run(req).await;
    }
    let Some(raw) = crate::auth::cookies::read(req.headers(), crate::auth::session::COOKIE) else {
        return next.run(req).await;
    };
    match crate::auth::session::backup_codes_pending(&state.db, &state.secrets, raw).await {
        Ok(true) => {
            tracing::info!("backup codes not yet confirmed: back to the codes page");
            axum::response::Redirect::to(crate::pages::backup_codes::PATH).into_response()
        }
        Ok(false) => next.run(req).await,
        Err(e) => crate::error::AppError::from(e).into_response(),
    }
}

/// Response header carrying the request id (also on every log line).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Gives every request a random id, answered in `x-request-id`, and runs it
/// inside a `request` span with the id, method, path, client IP and (once a
/// session is read) the actor, so every log line of the request carries them.
async fn request_context(State(state): State<AppState>, req: Request, next: Next) -> Response {
    use tracing::Instrument;
    let id = crate::crypto::random_hex(&mut rand::rngs::OsRng, 8);
    let (mut parts, body) = req.into_parts();
    let Ok(ClientIp(ip)) =
        <ClientIp as axum::extract::FromRequestParts<AppState>>::from_request_parts(
            &mut parts, &state,
        )
        .await;
    let req = Request::from_parts(parts, body);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
        ip = %ip,
        actor = tracing::field::Empty,
    );
    let mut resp = next.run(req).instrument(span).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    resp
}

/// What a panicking handler answers: a log line (without the request's
/// content) and the plain-language 500 page.
fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text panic".to_string());
    tracing::error!(panic = %what.chars().take(200).collect::<String>(), "a request handler panicked");
    crate::error::AppError::Internal("handler panicked".into()).into_response()
}

async fn not_found() -> Response {
    crate::error::AppError::NotFound.into_response()
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

/// The language cookie (by the house rules of `auth::cookies`).
const LANG_COOKIE: &str = "__Host-lang";
const LANG_COOKIE_MAX_AGE_SECS: i64 = 31_536_000;

/// The visitor's language: `?lang=` (remembered in a cookie), else the
/// cookie, else `Accept-Language`, else English.
async fn language(mut req: Request, next: Next) -> Response {
    let from_query = req.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(&v))
    });
    let from_cookie = cookies::read(req.headers(), LANG_COOKIE).and_then(Lang::parse);
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
        && let Some(v) = cookies::set(LANG_COOKIE, chosen.code(), Some(LANG_COOKIE_MAX_AGE_SECS))
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    resp
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
        let body = crate::api_guard::error::error_json(status, page);
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
    /// The refusal of an officer account: its next step is the console.
    console: bool,
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
        console: page == ErrorPage::OfficerAccount,
        c,
    };
    askama::Template::render(&t).unwrap_or_else(|_| "Error".to_string())
}

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
