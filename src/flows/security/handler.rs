//! `/account`, `/account/security` and its actions, `/account/reauth`.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::{AppState, Chrome, ClientIp, render};
use crate::auth::account;
use crate::auth::csrf::CsrfToken;
use crate::auth::session::{self, FullSession, Level, NewSession, RULES};
use crate::auth::throttle::{self, Decision};
use crate::auth::{open_totp, password, record, redirect_with_cookie, totp, user_agent};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::limits::{self, Limit, Verdict};
use crate::pages::backup_codes::{BackupNext, backup_codes_page, new_backup_codes};

fn when(state: &AppState, lang: Lang, at: i64) -> String {
    state.date_time(lang, at)
}

/// "Chrome on Windows 10" / "Chrome en Windows 10", or "Unknown browser".
fn device_text(state: &AppState, lang: Lang, user_agent: &str) -> String {
    match crate::auth::device::describe(user_agent) {
        Some(d) => match d.os {
            Some(os) => state.messages.fmt(
                lang,
                "security.sessions.device_on",
                &[("browser", &d.browser), ("os", &os)],
            ),
            None => d.browser,
        },
        None => state
            .messages
            .get(lang, "security.sessions.unknown_browser")
            .to_string(),
    }
}

pub struct SessionView {
    pub id: String,
    pub current: bool,
    pub device: String,
    pub ip: String,
    pub started: String,
    pub last_seen: String,
}

pub struct ActivityView {
    pub when: String,
    pub what: String,
    pub ip: String,
}

#[derive(askama::Template)]
#[template(path = "flows/security/security.html")]
struct SecurityTemplate<'a> {
    c: Chrome<'a>,
    sessions: Vec<SessionView>,
    activity: Vec<ActivityView>,
    backup_left: i64,
    notice: Option<String>,
    password_errors: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    pub done: Option<String>,
}

async fn security_page(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    s: &session::Session,
    notice: Option<String>,
    password_errors: Vec<String>,
) -> Result<Response, AppError> {
    let now = state.now().timestamp();
    let sessions = session::list(&state.db, s.account_id, now)
        .await?
        .into_iter()
        .map(|r| SessionView {
            current: r.id_hash == s.id_hash,
            id: hex::encode(&r.id_hash),
            device: device_text(state, lang, &r.user_agent),
            ip: r.ip,
            started: when(state, lang, r.created_at),
            last_seen: when(state, lang, r.last_seen_at),
        })
        .collect();
    let rows = super::store::activity(&state.db, s.account_id).await?;
    let mut activity = Vec::with_capacity(rows.len());
    for r in rows {
        let key = format!("activity.{}", r.action);
        activity.push(ActivityView {
            when: when(state, lang, r.at),
            // A sentence for every kind (the message_keys test checks);
            // never the internal name.
            what: if state.messages.has(lang, &key) {
                state.messages.get(lang, &key).to_string()
            } else {
                state.messages.get(lang, "activity.unknown").to_string()
            },
            ip: r.ip.unwrap_or_default(),
        });
    }
    let backup_left = account::backup_codes_left(&state.db, s.account_id).await?;
    let c = Chrome::new(state, lang, "/account/security", "")
        .with_csrf(csrf)
        .signed_in(true);
    let title = c.t("security.title").to_string();
    let status = if password_errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        render(&SecurityTemplate {
            c: c.titled(title),
            sessions,
            activity,
            backup_left,
            notice,
            password_errors,
        }),
    )
        .into_response())
}

pub async fn security(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    FullSession(s): FullSession,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let notice = q
        .done
        .as_deref()
        .filter(|d| ["revoked", "revoked_all", "password"].contains(d))
        .map(|d| {
            state
                .messages
                .get(lang, &format!("security.done.{d}"))
                .to_string()
        });
    security_page(&state, lang, csrf, &s, notice, vec![]).await
}

#[derive(Debug, Default, Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    pub session: String,
}

pub async fn revoke(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    FullSession(s): FullSession,
    Form(f): Form<RevokeForm>,
) -> Result<Response, AppError> {
    if !session::recently_authenticated(&RULES, &s, state.now().timestamp()) {
        return Ok(reauth_redirect());
    }
    let Ok(id_hash) = hex::decode(f.session.trim()) else {
        return Err(AppError::NotFound);
    };
    // Only sessions of this account can be named.
    if !super::store::revoke_session(&state.db, s.account_id, &id_hash, state.now().timestamp())
        .await?
    {
        return Err(AppError::NotFound);
    }
    record(&state, s.account_id, "session.revoked", &ip, "").await?;
    if id_hash == s.id_hash {
        return Ok(redirect_with_cookie(
            "/",
            Some(session::clear_cookie_header()),
        ));
    }
    Ok(Redirect::to("/account/security?done=revoked").into_response())
}

pub async fn revoke_all(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    FullSession(s): FullSession,
) -> Result<Response, AppError> {
    if !session::recently_authenticated(&RULES, &s, state.now().timestamp()) {
        return Ok(reauth_redirect());
    }
    session::revoke_all(&state.db, s.account_id, None, state.now().timestamp()).await?;
    // "Everywhere" includes the apps connected to the account.
    crate::api_guard::applicant::revoke_all(
        &state.db,
        s.account_id,
        Some(&ip),
        "signed out everywhere",
        state.now().timestamp(),
    )
    .await?;
    record(&state, s.account_id, "session.revoked_all", &ip, "").await?;
    Ok(redirect_with_cookie(
        "/",
        Some(session::clear_cookie_header()),
    ))
}

fn reauth_redirect() -> Response {
    Redirect::to("/account/reauth").into_response()
}

pub async fn regenerate_backup_codes(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    FullSession(s): FullSession,
) -> Result<Response, AppError> {
    if !session::recently_authenticated(&RULES, &s, state.now().timestamp()) {
        return Ok(reauth_redirect());
    }
    let codes = new_backup_codes(&state, s.account_id, &s.id_hash, BackupNext::Security).await?;
    // Whoever holds another session may have seen the old codes.
    session::revoke_all(
        &state.db,
        s.account_id,
        Some(&s.id_hash),
        state.now().timestamp(),
    )
    .await?;
    record(
        &state,
        s.account_id,
        "two_step.backup_codes_regenerated",
        &ip,
        "",
    )
    .await?;
    Ok(backup_codes_page(&state, lang, csrf, &codes, None))
}

#[derive(Default, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub new_password: String,
}

/// The sign-in throttle keys of the signed-in person from this address.
fn throttle_keys(state: &AppState, email: &str, ip: &str) -> (String, String) {
    (
        throttle::identifier_hash(&state.secrets.identifier_key, email),
        crate::audit::subject_hash(&state.secrets.identifier_key, "ip", ip),
    )
}

/// Why a password may not be checked now (the sign-in throttles, shared).
async fn throttled(
    state: &AppState,
    lang: Lang,
    ident: &str,
    ip_hash: &str,
    now: i64,
) -> Result<Option<String>, AppError> {
    if let Verdict::Exceeded { retry_at } =
        limits::hit(&state.db, Limit::SignInPerIp, ip_hash, now).await?
    {
        return Ok(Some(wait_message(state, lang, retry_at)));
    }
    Ok(
        match throttle::password_gate(&state.db, ident, ip_hash, now).await? {
            Decision::Allowed => None,
            Decision::Wait { until } => Some(wait_message(state, lang, until)),
            _ => Some(state.messages.get(lang, "reauth.limit.locked").to_string()),
        },
    )
}

fn wait_message(state: &AppState, lang: Lang, until: i64) -> String {
    state.messages.fmt(
        lang,
        "signin.error.wait",
        &[("when", &when(state, lang, until))],
    )
}

crate::redacted_debug!(PasswordForm {} redact { current_password, new_password });

pub async fn change_password(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    FullSession(s): FullSession,
    Form(f): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let now = state.now().timestamp();
    if !session::recently_authenticated(&RULES, &s, now) {
        return Ok(reauth_redirect());
    }
    let acct = account::by_id(&state.db, s.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    // The session is not the person: the current password is needed too.
    if f.current_password.is_empty() {
        let msg = state
            .messages
            .get(lang, "security.current.wrong")
            .to_string();
        let page = security_page(&state, lang, csrf, &s, None, vec![msg]).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let (ident, ip_hash) = throttle_keys(&state, &acct.email, &ip);
    if let Some(msg) = throttled(&state, lang, &ident, &ip_hash, now).await? {
        let page = security_page(&state, lang, csrf, &s, None, vec![msg]).await?;
        return Ok((StatusCode::TOO_MANY_REQUESTS, page).into_response());
    }
    let current_ok = state
        .hasher
        .verify(
            password::normalise(&f.current_password),
            acct.password_hash.clone().unwrap_or_default(),
        )
        .await
        .map_err(|_| AppError::Unavailable("hasher busy".into()))?;
    if !current_ok {
        throttle::password_failed(&state.db, &ident, &ip_hash, now).await?;
        record(&state, acct.id, "password.change_refused", &ip, "current").await?;
        let msg = state
            .messages
            .get(lang, "security.current.wrong")
            .to_string();
        let page = security_page(&state, lang, csrf, &s, None, vec![msg]).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    if let Err(problems) = password::check(&f.new_password, &acct.email, &[]) {
        let errors = crate::flows::sign_up::form::password_messages(&problems)
            .iter()
            .map(|k| state.messages.get(lang, k).to_string())
            .collect();
        return security_page(&state, lang, csrf, &s, None, errors).await;
    }
    let hash = state
        .hasher
        .hash(password::normalise(&f.new_password))
        .await
        .map_err(|_| AppError::Unavailable("hasher busy".into()))?;
    account::set_password(&state.db, s.account_id, &hash, now).await?;
    // Every other session ends with the old password.
    session::revoke_all(&state.db, s.account_id, Some(&s.id_hash), now).await?;
    crate::api_guard::applicant::revoke_all(
        &state.db,
        s.account_id,
        Some(&ip),
        "password changed",
        now,
    )
    .await?;
    record(&state, s.account_id, "password.changed", &ip, "").await?;
    Ok(Redirect::to("/account/security?done=password").into_response())
}

#[derive(askama::Template)]
#[template(path = "flows/security/reauth.html")]
struct ReauthTemplate<'a> {
    c: Chrome<'a>,
    error: Option<String>,
    next: &'static str,
}

/// Where a re-authentication returns to (a fixed list: never a URL from
/// the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnTo {
    Security,
    Address,
    /// Connected apps (creating a personal token).
    Apps,
}

impl ReturnTo {
    pub fn parse(s: Option<&str>) -> ReturnTo {
        match s {
            Some("address") => ReturnTo::Address,
            Some("apps") => ReturnTo::Apps,
            _ => ReturnTo::Security,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            ReturnTo::Security => "security",
            ReturnTo::Address => "address",
            ReturnTo::Apps => "apps",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            ReturnTo::Security => "/account/security",
            ReturnTo::Address => "/account/address",
            ReturnTo::Apps => "/account/security/apps",
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ReauthQuery {
    pub next: Option<String>,
}

#[derive(Default, Deserialize)]
pub struct ReauthForm {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub next: Option<String>,
}

crate::redacted_debug!(ReauthForm {} redact { password, code });

pub async fn reauth_form(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    FullSession(_s): FullSession,
    Query(q): Query<ReauthQuery>,
) -> Response {
    let c = Chrome::new(&state, lang, "/account/reauth", "")
        .with_csrf(csrf)
        .signed_in(true);
    let title = c.t("reauth.title").to_string();
    render(&ReauthTemplate {
        c: c.titled(title),
        error: None,
        next: ReturnTo::parse(q.next.as_deref()).code(),
    })
}

pub async fn reauth(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    FullSession(s): FullSession,
    Form(f): Form<ReauthForm>,
) -> Result<Response, AppError> {
    let now = state.now().timestamp();
    let next = ReturnTo::parse(f.next.as_deref());
    let acct = account::by_id(&state.db, s.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let reauth_page = |state: &AppState, csrf, error: String, status| {
        let c = Chrome::new(state, lang, "/account/reauth", "")
            .with_csrf(csrf)
            .signed_in(true);
        let title = c.t("reauth.title").to_string();
        (
            status,
            render(&ReauthTemplate {
                c: c.titled(title),
                error: Some(error),
                next: next.code(),
            }),
        )
            .into_response()
    };
    // Throttled exactly like sign-in: the same keys, the same limits.
    let (ident, ip_hash) = throttle_keys(&state, &acct.email, &ip);
    let second = throttle::load(&state.db, &throttle::second_key(acct.id)).await?;
    let refused = match throttled(&state, lang, &ident, &ip_hash, now).await? {
        Some(msg) => Some(msg),
        None => match throttle::second_decision(&throttle::RULES, &second, now) {
            Decision::Allowed => None,
            Decision::Locked { until } => Some(wait_message(&state, lang, until)),
            _ => Some(state.messages.get(lang, "reauth.limit.locked").to_string()),
        },
    };
    if let Some(msg) = refused {
        record(&state, acct.id, "reauth.refused", &ip, "throttled").await?;
        return Ok(reauth_page(
            &state,
            csrf,
            msg,
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let password_ok = state
        .hasher
        .verify(
            password::normalise(&f.password),
            acct.password_hash.clone().unwrap_or_default(),
        )
        .await
        .map_err(|_| AppError::Unavailable("hasher busy".into()))?;
    // A wrong password spends no authenticator code.
    let code_ok = password_ok
        && match acct
            .totp_sealed
            .as_deref()
            .and_then(|b| open_totp(&state.secrets, acct.id, b))
        {
            Some(secret) => {
                match totp::verify(&secret, &f.code, now, acct.totp_last_step.map(|v| v as u64)) {
                    Ok(step) => account::use_totp_step(&state.db, acct.id, step as i64).await?,
                    Err(_) => false,
                }
            }
            None => false,
        };
    if !(password_ok && code_ok) {
        if password_ok {
            throttle::second_factor_failed(&state.db, acct.id, now).await?;
        } else {
            throttle::password_failed(&state.db, &ident, &ip_hash, now).await?;
        }
        record(&state, acct.id, "reauth.failed", &ip, "").await?;
        let error = state.messages.get(lang, "reauth.wrong").to_string();
        return Ok(reauth_page(
            &state,
            csrf,
            error,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    throttle::clear_password_throttles(&state.db, &ident).await?;
    throttle::clear(&state.db, &throttle::second_key(acct.id)).await?;
    session::revoke(&state.db, &s.id_hash, now).await?;
    let raw = session::create(
        &state.db,
        &state.secrets,
        NewSession {
            account_id: acct.id,
            level: Level::Full,
            now,
            authenticated_at: Some(now),
            ip: &ip,
            user_agent: &user_agent(&headers),
        },
    )
    .await?;
    record(&state, acct.id, "reauth.succeeded", &ip, "").await?;
    Ok(redirect_with_cookie(
        next.path(),
        session::cookie_header(&raw),
    ))
}
