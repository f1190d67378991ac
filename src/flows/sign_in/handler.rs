//! `/sign-in`, `/sign-in/two-step`, `/sign-out`.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::app::{AppState, Chrome, ClientIp, render};
use crate::audit::subject_hash;
use crate::auth::account::{self, Account, CodePurpose};
use crate::auth::backup_codes::BackupCode;
use crate::auth::csrf::CsrfToken;
use crate::auth::session::{self, Level, MaybeSession, NewSession};
use crate::auth::throttle::{self, Decision, RULES};
use crate::auth::totp;
use crate::auth::{email_code_hash, open_totp, record, redirect_with_cookie, user_agent};
use crate::domain::Email;
use crate::error::AppError;
use crate::i18n::Lang;

#[derive(Default, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    /// The emailed code that lets a password be checked past the
    /// identifier's failure limit.
    #[serde(default)]
    pub unlock_code: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct UnlockForm {
    #[serde(default)]
    pub email: String,
}

crate::redacted_debug!(SignInForm { email } redact { password, unlock_code });

#[derive(Default, Deserialize)]
pub struct SecondFactorForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub backup_code: String,
}

crate::redacted_debug!(SecondFactorForm {} redact { code, backup_code });

#[derive(askama::Template)]
#[template(path = "flows/sign_in/sign_in.html")]
struct SignInTemplate<'a> {
    c: Chrome<'a>,
    email: String,
    error: Option<String>,
    /// Show the unlock-code field and the "email me an unlock code" button.
    unlock: bool,
    notice: Option<String>,
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
    state.date_time(lang, at)
}

/// What the sign-in page shows besides the form.
struct PageState {
    error: Option<String>,
    unlock: bool,
    notice: Option<String>,
    /// Sent here from a page that needs signing in: say why.
    required: bool,
    status: StatusCode,
}

impl PageState {
    fn plain(error: Option<String>, status: StatusCode) -> PageState {
        PageState {
            error,
            unlock: false,
            notice: None,
            required: false,
            status,
        }
    }
}

fn sign_in_page(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    email: String,
    p: PageState,
) -> Response {
    let c = Chrome::new(state, lang, "/sign-in", "").with_csrf(csrf);
    let title = c.t("signin.title").to_string();
    (
        p.status,
        render(&SignInTemplate {
            c: c.titled(title),
            email,
            error: p.error,
            unlock: p.unlock,
            notice: p.notice,
            required: p.required,
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
    sign_in_page(
        &state,
        lang,
        csrf,
        String::new(),
        PageState {
            required,
            ..PageState::plain(None, StatusCode::OK)
        },
    )
}

/// A wrong unlock code: slows this address down for this identifier.
async fn unlock_failed(
    state: &AppState,
    ident: &str,
    ip_hash: &str,
    now: i64,
) -> Result<(), AppError> {
    let key = throttle::pair_key(ident, ip_hash);
    let s = throttle::load(&state.db, &key).await?;
    throttle::save(&state.db, &key, &throttle::pair_failed(&s, now)).await?;
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
        Decision::UnlockNeeded => {
            Some(state.messages.get(lang, "signin.unlock.needed").to_string())
        }
        Decision::HardLocked => Some(
            state
                .messages
                .get(lang, "signin.error.hard_locked")
                .to_string(),
        ),
    }
}

/// Records a failed sign-in: on the account's activity when the identifier
/// is registered, otherwise under the identifier's keyed hash only.
async fn record_failure(
    state: &AppState,
    acct: Option<&Account>,
    ident: &str,
    ip: &str,
    detail: &str,
) -> Result<(), AppError> {
    record_outcome(state, acct, ident, ip, "sign_in.failed", detail).await
}

/// Records a sign-in outcome the same way (one write) for registered and
/// unknown identifiers.
async fn record_outcome(
    state: &AppState,
    acct: Option<&Account>,
    ident: &str,
    ip: &str,
    action: &str,
    detail: &str,
) -> Result<(), AppError> {
    crate::audit::record(
        &state.db,
        &crate::audit::Event {
            at: state.now().timestamp(),
            actor: &acct.map_or_else(|| "public".to_string(), |a| format!("account:{}", a.id)),
            action,
            subject: Some(ident.to_string()),
            ip: Some(ip.to_string()),
            detail: detail.to_string(),
        },
    )
    .await?;
    Ok(())
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
    let ident = throttle::identifier_hash(&state.secrets.identifier_key, &typed);
    let ip_hash = subject_hash(&state.secrets.identifier_key, "ip", &ip);
    // Spraying: one address, many identifiers. Counted before any lookup or
    // hashing, so it cannot tie up the hashing pool.
    if let crate::limits::Verdict::Exceeded { retry_at } =
        crate::limits::hit(&state.db, crate::limits::Limit::SignInPerIp, &ip_hash, now).await?
    {
        let msg = refusal(&state, lang, Decision::Wait { until: retry_at });
        return Ok(sign_in_page(
            &state,
            lang,
            csrf,
            typed,
            PageState::plain(msg, StatusCode::TOO_MANY_REQUESTS),
        ));
    }
    // Both throttles are keyed by the submitted identifier, registered or
    // not, and checked before the account is looked up: the answers are the
    // same for both.
    let mut decision = throttle::password_gate(&state.db, &ident, &ip_hash, now).await?;
    let acct: Option<Account> = match Email::parse(&typed) {
        Ok(e) => account::by_email(&state.db, &e).await?,
        Err(_) => None,
    };
    let acct = acct.filter(|a| a.disabled_at.is_none() && a.password_hash.is_some());
    if decision == Decision::UnlockNeeded {
        let code = f.unlock_code.trim();
        // The same statement runs for an unknown email (no account has id
        // 0), so the answer takes the same time.
        let id = acct.as_ref().map_or(0, |a| a.id);
        let unlocked = !code.is_empty()
            && account::consume_email_code(
                &state.db,
                id,
                CodePurpose::UnlockSignIn,
                &email_code_hash(&state.secrets, id, code),
                now,
            )
            .await?
            && acct.is_some();
        if unlocked {
            decision = Decision::Allowed;
        } else if !code.is_empty() {
            unlock_failed(&state, &ident, &ip_hash, now).await?;
            record_failure(&state, acct.as_ref(), &ident, &ip, "unlock_code").await?;
            let msg = state.messages.get(lang, "signin.unlock.wrong");
            return Ok(sign_in_page(
                &state,
                lang,
                csrf,
                typed,
                PageState {
                    required: false,
                    error: Some(msg.to_string()),
                    unlock: true,
                    notice: None,
                    status: StatusCode::TOO_MANY_REQUESTS,
                },
            ));
        }
    }
    if let Some(msg) = refusal(&state, lang, decision) {
        record_outcome(
            &state,
            acct.as_ref(),
            &ident,
            &ip,
            "sign_in.refused",
            "throttled",
        )
        .await?;
        return Ok(sign_in_page(
            &state,
            lang,
            csrf,
            typed,
            PageState {
                required: false,
                error: Some(msg),
                unlock: decision == Decision::UnlockNeeded,
                notice: None,
                status: StatusCode::TOO_MANY_REQUESTS,
            },
        ));
    }
    let generic = || Some(state.messages.get(lang, "signin.error.wrong").to_string());
    let Some(acct) = acct else {
        // Same hashing cost as a real check.
        let _ = state.hasher.verify_dummy().await;
        throttle::password_failed(&state.db, &ident, &ip_hash, now).await?;
        record_failure(&state, None, &ident, &ip, "password").await?;
        return Ok(sign_in_page(
            &state,
            lang,
            csrf,
            typed,
            PageState::plain(generic(), StatusCode::UNPROCESSABLE_ENTITY),
        ));
    };
    let phc = acct.password_hash.clone().unwrap_or_default();
    let ok = state
        .hasher
        .verify(crate::auth::password::normalise(&f.password), phc)
        .await
        .map_err(|_| AppError::Unavailable("hasher busy".into()))?;
    if !ok {
        throttle::password_failed(&state.db, &ident, &ip_hash, now).await?;
        record_failure(&state, Some(&acct), &ident, &ip, "password").await?;
        return Ok(sign_in_page(
            &state,
            lang,
            csrf,
            typed,
            PageState::plain(generic(), StatusCode::UNPROCESSABLE_ENTITY),
        ));
    }
    throttle::clear_password_throttles(&state.db, &ident).await?;
    if acct.email_confirmed_at.is_none() {
        crate::auth::email_codes::send_confirmation(&state, lang, acct.id, &acct.email).await?;
        return Ok(crate::pages::check_email::check_email_page(
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

/// Unlock codes live this long: enough to open the email and sign in.
pub const UNLOCK_VALID_SECS: i64 = 15 * 60;

/// Emails an unlock code when `typed` is the email of an account that can
/// sign in.
async fn send_unlock_code(
    state: &AppState,
    lang: Lang,
    typed: &str,
    ip: &str,
) -> Result<(), AppError> {
    if let Ok(email) = Email::parse(typed)
        && let Some(acct) = account::by_email(&state.db, &email).await?
        && acct.disabled_at.is_none()
        && acct.password_hash.is_some()
    {
        let url = format!("{}/sign-in", state.config.public_url);
        crate::auth::send_email_code(
            state,
            lang,
            acct.id,
            &acct.email,
            crate::auth::EmailCode {
                purpose: CodePurpose::UnlockSignIn,
                valid_secs: UNLOCK_VALID_SECS,
                message: "unlock",
                url: &url,
            },
        )
        .await?;
        record(state, acct.id, "sign_in.unlock_requested", ip, "").await?;
    }
    Ok(())
}

/// `POST /sign-in/unlock`: emails an unlock code when the email has an
/// account; the same answer either way.
pub async fn unlock(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Form(f): Form<UnlockForm>,
) -> Result<Response, AppError> {
    let now = state.now().timestamp();
    let ip_subject = subject_hash(&state.secrets.identifier_key, "ip", &ip);
    crate::limits::hit(
        &state.db,
        crate::limits::Limit::AccountFormsPerIp,
        &ip_subject,
        now,
    )
    .await?
    .or_too_many(now)?;
    let typed: String = f.email.trim().chars().take(254).collect();
    let ident = throttle::identifier_hash(&state.secrets.identifier_key, &typed);
    crate::limits::hit(
        &state.db,
        crate::limits::Limit::UnlockCodesPerIdentifier,
        &ident,
        now,
    )
    .await?
    .or_too_many(now)?;
    // Looked up and sent after answering: the same time for any email.
    let (st, wanted) = (state.clone(), typed.clone());
    tokio::spawn(async move {
        if let Err(e) = send_unlock_code(&st, lang, &wanted, &ip).await {
            tracing::warn!(error = %e, "a requested unlock code was not sent");
        }
    });
    let notice = state.messages.get(lang, "signin.unlock.sent").to_string();
    Ok(sign_in_page(
        &state,
        lang,
        csrf,
        typed,
        PageState {
            required: false,
            error: None,
            unlock: true,
            notice: Some(notice),
            status: StatusCode::OK,
        },
    ))
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
    let second_key = throttle::second_key(acct.id);
    let second = throttle::load(&state.db, &second_key).await?;
    if let Some(msg) = refusal(
        &state,
        lang,
        throttle::second_decision(&RULES, &second, now),
    ) {
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
                account::use_backup_code(&state.db, acct.id, &state.secrets.session_key, &code, now)
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
        throttle::save(
            &state.db,
            &second_key,
            &throttle::second_failed(&RULES, &second, now),
        )
        .await?;
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
    throttle::clear(&state.db, &second_key).await?;
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
    account::set_lang(&state.db, acct.id, lang).await?;
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
