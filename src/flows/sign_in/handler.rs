//! `/sign-in`, `/sign-in/two-step`, `/sign-out`.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::audit::subject_hash;
use crate::auth::account::{self, Account};
use crate::auth::backup_codes::BackupCode;
use crate::auth::csrf::CsrfToken;
use crate::auth::session::{self, Level, MaybeSession, NewSession};
use crate::auth::throttle::{self, Decision, RULES};
use crate::auth::totp;
use crate::auth::{open_totp, record, redirect_with_cookie, user_agent};
use crate::domain::Email;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::web::{AppState, Chrome, ClientIp, render};

#[derive(Debug, Default, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct SecondFactorForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub backup_code: String,
}

#[derive(askama::Template)]
#[template(path = "flows/sign_in/sign_in.html")]
struct SignInTemplate<'a> {
    c: Chrome<'a>,
    email: String,
    error: Option<String>,
    /// Sent here from a page that needs signing in.
    required: bool,
}

#[derive(askama::Template)]
#[template(path = "flows/sign_in/two_step.html")]
struct TwoStepTemplate<'a> {
    c: Chrome<'a>,
    error: Option<String>,
}

fn when(state: &AppState, lang: Lang, at: i64) -> String {
    let d = DateTime::<Utc>::from_timestamp(at, 0).unwrap_or_default();
    format!(
        "{} {}",
        state.messages.long_date(lang, d.date_naive()),
        d.format("%H:%M:%S UTC")
    )
}

fn sign_in_page(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    email: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    sign_in_page_with(state, lang, csrf, email, error, status, false)
}

fn sign_in_page_with(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    email: String,
    error: Option<String>,
    status: StatusCode,
    required: bool,
) -> Response {
    let c = Chrome::new(state, lang, "/sign-in", "").with_csrf(csrf);
    let title = c.t("signin.title").to_string();
    (
        status,
        render(&SignInTemplate {
            c: c.titled(title),
            email,
            error,
            required,
        }),
    )
        .into_response()
}

/// `?why=required`: sent here from a page that needs signing in.
#[derive(Debug, Default, serde::Deserialize)]
pub struct WhyQuery {
    pub why: Option<String>,
}

pub async fn form(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    axum::extract::Query(q): axum::extract::Query<WhyQuery>,
) -> Response {
    let required = q.why.as_deref() == Some("required");
    sign_in_page_with(
        &state,
        lang,
        csrf,
        String::new(),
        None,
        StatusCode::OK,
        required,
    )
}

/// Throttle decision for an account from an IP: the stricter of both keys.
async fn gate(
    state: &AppState,
    account_id: i64,
    ip_hash: &str,
    now: i64,
) -> Result<Decision, AppError> {
    let a = throttle::load(&state.db, &throttle::account_key(account_id)).await?;
    match throttle::account_decision(&RULES, &a, now) {
        Decision::Allowed => {}
        other => return Ok(other),
    }
    let p = throttle::load(&state.db, &throttle::pair_key(account_id, ip_hash)).await?;
    Ok(throttle::pair_decision(&RULES, &p, now))
}

async fn failed(
    state: &AppState,
    account_id: i64,
    ip_hash: &str,
    now: i64,
) -> Result<(), AppError> {
    let ak = throttle::account_key(account_id);
    let a = throttle::load(&state.db, &ak).await?;
    throttle::save(&state.db, &ak, &throttle::account_failed(&RULES, &a, now)).await?;
    let pk = throttle::pair_key(account_id, ip_hash);
    let p = throttle::load(&state.db, &pk).await?;
    throttle::save(&state.db, &pk, &throttle::pair_failed(&p, now)).await?;
    Ok(())
}

fn refusal(state: &AppState, lang: Lang, d: Decision) -> Option<String> {
    match d {
        Decision::Allowed => None,
        Decision::Wait { until } => Some(state.messages.fmt(
            lang,
            "signin.error.wait",
            &[("when", &when(state, lang, until))],
        )),
        Decision::Locked { until } => Some(state.messages.fmt(
            lang,
            "signin.error.locked",
            &[("when", &when(state, lang, until))],
        )),
        Decision::HardLocked => Some(
            state
                .messages
                .get(lang, "signin.error.hard_locked")
                .to_string(),
        ),
    }
}

pub async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Result<Response, AppError> {
    let now = state.now().timestamp();
    let typed: String = f.email.trim().chars().take(254).collect();
    let generic = || Some(state.messages.get(lang, "signin.error.wrong").to_string());
    let acct: Option<Account> = match Email::parse(&typed) {
        Ok(e) => account::by_email(&state.db, &e).await?,
        Err(_) => None,
    };
    let Some(acct) = acct.filter(|a| a.disabled_at.is_none() && a.password_hash.is_some()) else {
        // Same hashing cost as a real check.
        let _ = state.hasher.verify_dummy().await;
        return Ok(sign_in_page(
            &state,
            lang,
            csrf,
            typed,
            generic(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    };
    let ip_hash = subject_hash(&state.secrets.identifier_key, "ip", &ip);
    let decision = gate(&state, acct.id, &ip_hash, now).await?;
    if let Some(msg) = refusal(&state, lang, decision) {
        record(&state, acct.id, "sign_in.refused", &ip, "throttled").await?;
        return Ok(sign_in_page(
            &state,
            lang,
            csrf,
            typed,
            Some(msg),
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let phc = acct.password_hash.clone().unwrap_or_default();
    let ok = state
        .hasher
        .verify(crate::auth::password::normalise(&f.password), phc)
        .await
        .map_err(|_| AppError::Unavailable("hasher busy".into()))?;
    if !ok {
        failed(&state, acct.id, &ip_hash, now).await?;
        record(&state, acct.id, "sign_in.failed", &ip, "password").await?;
        return Ok(sign_in_page(
            &state,
            lang,
            csrf,
            typed,
            generic(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    throttle::clear(&state.db, &throttle::pair_key(acct.id, &ip_hash)).await?;
    if acct.email_confirmed_at.is_none() {
        crate::flows::sign_up::handler::send_confirmation(&state, lang, acct.id, &acct.email)
            .await?;
        return Ok(crate::flows::sign_up::handler::check_email_page(
            &state,
            lang,
            csrf,
            acct.email.clone(),
            None,
        ));
    }
    let level = if acct.totp_enrolled_at.is_some() {
        Level::SecondFactor
    } else {
        Level::Enrol
    };
    let raw = session::create(
        &state.db,
        &state.secrets,
        NewSession {
            account_id: acct.id,
            level,
            now,
            authenticated_at: None,
            ip: &ip,
            user_agent: &user_agent(&headers),
        },
    )
    .await?;
    record(&state, acct.id, "sign_in.password_ok", &ip, "").await?;
    let next = if level == Level::Enrol {
        "/two-step/setup"
    } else {
        "/sign-in/two-step"
    };
    Ok(redirect_with_cookie(next, session::cookie_header(&raw)))
}

fn two_step_page(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let c = Chrome::new(state, lang, "/sign-in/two-step", "").with_csrf(csrf);
    let title = c.t("signin.twostep.title").to_string();
    (
        status,
        render(&TwoStepTemplate {
            c: c.titled(title),
            error,
        }),
    )
        .into_response()
}

pub async fn two_step_form(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    MaybeSession(s): MaybeSession,
) -> Response {
    match s {
        Some(s) if s.level == Level::SecondFactor => {
            two_step_page(&state, lang, csrf, None, StatusCode::OK)
        }
        Some(s) if s.level == Level::Full => {
            axum::response::Redirect::to("/account").into_response()
        }
        _ => axum::response::Redirect::to("/sign-in").into_response(),
    }
}

pub async fn two_step_submit(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    MaybeSession(s): MaybeSession,
    Form(f): Form<SecondFactorForm>,
) -> Result<Response, AppError> {
    let Some(s) = s.filter(|s| s.level == Level::SecondFactor) else {
        return Ok(axum::response::Redirect::to("/sign-in").into_response());
    };
    let now = state.now().timestamp();
    let acct = account::by_id(&state.db, s.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let ip_hash = subject_hash(&state.secrets.identifier_key, "ip", &ip);
    if let Some(msg) = refusal(&state, lang, gate(&state, acct.id, &ip_hash, now).await?) {
        return Ok(two_step_page(
            &state,
            lang,
            csrf,
            Some(msg),
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let (ok, method) = if !f.backup_code.trim().is_empty() {
        let ok = match BackupCode::parse(&f.backup_code) {
            Ok(code) => {
                account::use_backup_code(
                    &state.db,
                    acct.id,
                    &code.keyed_hash(&state.secrets.session_key),
                    now,
                )
                .await?
            }
            Err(_) => false,
        };
        (ok, "backup_code")
    } else {
        let secret = acct
            .totp_sealed
            .as_deref()
            .and_then(|b| open_totp(&state.secrets, acct.id, b));
        let ok = match secret {
            Some(secret) => {
                match totp::verify(&secret, &f.code, now, acct.totp_last_step.map(|v| v as u64)) {
                    Ok(step) => account::use_totp_step(&state.db, acct.id, step as i64).await?,
                    Err(_) => false,
                }
            }
            None => false,
        };
        (ok, "totp")
    };
    if !ok {
        failed(&state, acct.id, &ip_hash, now).await?;
        record(&state, acct.id, "sign_in.failed", &ip, method).await?;
        let msg = state.messages.get(lang, "signin.twostep.wrong").to_string();
        return Ok(two_step_page(
            &state,
            lang,
            csrf,
            Some(msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    throttle::clear(&state.db, &throttle::account_key(acct.id)).await?;
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
    record(&state, acct.id, "sign_in.succeeded", &ip, method).await?;
    let next = if acct.role().is_officer() {
        "/officer"
    } else {
        "/account"
    };
    // Back to the page that sent them here, if any.
    let back = crate::auth::return_to::ReturnTo::from_headers(&headers);
    let mut resp = redirect_with_cookie(
        back.as_ref().map_or(next, |b| b.as_str()),
        session::cookie_header(&raw),
    );
    if back.is_some() {
        resp.headers_mut().append(
            axum::http::header::SET_COOKIE,
            crate::auth::return_to::clear_cookie(),
        );
    }
    Ok(resp)
}

pub async fn sign_out(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    MaybeSession(s): MaybeSession,
) -> Result<Response, AppError> {
    if let Some(s) = s {
        session::revoke(&state.db, &s.id_hash, state.now().timestamp()).await?;
        record(&state, s.account_id, "sign_out", &ip, "").await?;
    }
    Ok(redirect_with_cookie(
        "/",
        Some(session::clear_cookie_header()),
    ))
}
