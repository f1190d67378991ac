//! `/forgot-password`, `/forgot-password/reset`, `/officer-setup`.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::app::{AppState, Chrome, ClientIp, render};
use crate::auth::account::{self, CodePurpose};
use crate::auth::csrf::CsrfToken;
use crate::auth::session::{self, Level, NewSession};
use crate::auth::{email_code_hash, password, record, redirect_with_cookie, throttle, user_agent};
use crate::domain::Email;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::limits::{self, Limit};

pub use crate::auth::email_codes::{OFFICER_SETUP_VALID_SECS, RESET_VALID_SECS, send_reset_code};

#[derive(Debug, Default, Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    pub email: String,
}

#[derive(Default, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub password: String,
}

crate::redacted_debug!(ResetForm { email } redact { code, password });

#[derive(askama::Template)]
#[template(path = "flows/recovery/forgot.html")]
struct ForgotTemplate<'a> {
    c: Chrome<'a>,
    email: String,
    error: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "flows/recovery/reset.html")]
struct ResetTemplate<'a> {
    c: Chrome<'a>,
    action: &'static str,
    heading_key: &'static str,
    intro_key: &'static str,
    email: String,
    code: String,
    errors: Vec<String>,
}

#[derive(askama::Template)]
#[template(path = "flows/recovery/done.html")]
struct DoneTemplate<'a> {
    c: Chrome<'a>,
}

pub async fn forgot_form(State(state): State<AppState>, lang: Lang, csrf: CsrfToken) -> Response {
    let c = Chrome::new(&state, lang, "/forgot-password", "").with_csrf(csrf);
    let title = c.t("recovery.title").to_string();
    render(&ForgotTemplate {
        c: c.titled(title),
        email: String::new(),
        error: None,
    })
}

/// The form again with what was typed: a blank or malformed email address
/// is an error to fix, not "we sent a code" (it reveals nothing about
/// which addresses have accounts).
fn forgot_refused(state: &AppState, lang: Lang, csrf: CsrfToken, typed: String) -> Response {
    let c = Chrome::new(state, lang, "/forgot-password", "").with_csrf(csrf);
    let key = if typed.is_empty() {
        "ux.forgot_email_blank"
    } else {
        "ux.forgot_email_invalid"
    };
    let title = format!(
        "{}: {}",
        c.t("ux.error_title_prefix"),
        c.t("recovery.title")
    );
    let t = ForgotTemplate {
        error: Some(c.t(key).to_string()),
        email: typed,
        c: c.titled(title),
    };
    (StatusCode::UNPROCESSABLE_ENTITY, render(&t)).into_response()
}

#[allow(clippy::too_many_arguments)]
fn reset_page(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    officer: bool,
    email: String,
    code: String,
    errors: Vec<String>,
) -> Response {
    let path = if officer {
        "/officer-setup"
    } else {
        "/forgot-password/reset"
    };
    let c = Chrome::new(state, lang, path, "").with_csrf(csrf);
    let (heading_key, intro_key) = if officer {
        ("officer_setup.title", "officer_setup.intro")
    } else {
        ("recovery.reset.title", "recovery.reset.intro")
    };
    let title = c.t(heading_key).to_string();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (
        status,
        render(&ResetTemplate {
            c: c.titled(title),
            action: path,
            heading_key,
            intro_key,
            email,
            code,
            errors,
        }),
    )
        .into_response()
}

/// Emails a reset code when `typed` is the email of an account.
async fn send_if_registered(
    state: &AppState,
    lang: Lang,
    typed: &str,
    ip: &str,
) -> Result<(), AppError> {
    if let Ok(email) = Email::parse(typed)
        && let Some(acct) = account::by_email(&state.db, &email).await?
        && acct.disabled_at.is_none()
    {
        send_reset_code(state, lang, acct.id, &acct.email).await?;
        record(state, acct.id, "password.reset_requested", ip, "").await?;
    }
    Ok(())
}

pub async fn forgot(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Form(f): Form<ForgotForm>,
) -> Result<Response, AppError> {
    let now = state.now().timestamp();
    let ip_subject = crate::audit::subject_hash(&state.secrets.identifier_key, "ip", &ip);
    limits::hit(&state.db, Limit::AccountFormsPerIp, &ip_subject, now)
        .await?
        .or_too_many(now)?;
    let typed: String = f.email.trim().chars().take(254).collect();
    // A blank or malformed email is the person's error, not "we sent a code".
    if Email::parse(&typed).is_err() {
        return Ok(forgot_refused(&state, lang, csrf, typed));
    }
    // The lookup, the code and the email happen after answering, so a
    // registered email answers exactly as fast as an unknown one.
    let (st, wanted) = (state.clone(), typed.clone());
    tokio::spawn(async move {
        if let Err(e) = send_if_registered(&st, lang, &wanted, &ip).await {
            tracing::warn!(error = %e, "a requested reset code was not sent");
        }
    });
    // The same page whether or not the email is registered.
    Ok(reset_page(
        &state,
        lang,
        csrf,
        false,
        typed,
        String::new(),
        vec![],
    ))
}

pub async fn reset_form(State(state): State<AppState>, lang: Lang, csrf: CsrfToken) -> Response {
    reset_page(
        &state,
        lang,
        csrf,
        false,
        String::new(),
        String::new(),
        vec![],
    )
}

#[derive(Default, Deserialize)]
pub struct SetupQuery {
    pub email: Option<String>,
    pub code: Option<String>,
}

crate::redacted_debug!(SetupQuery { email } redact { code });

pub async fn officer_setup_form(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    Query(q): Query<SetupQuery>,
) -> Response {
    reset_page(
        &state,
        lang,
        csrf,
        true,
        q.email.unwrap_or_default().chars().take(254).collect(),
        q.code.unwrap_or_default().chars().take(20).collect(),
        vec![],
    )
}

async fn complete(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    ip: &str,
    headers: &HeaderMap,
    f: ResetForm,
    officer: bool,
) -> Result<Response, AppError> {
    let now = state.now().timestamp();
    let typed: String = f.email.trim().chars().take(254).collect();
    let purpose = if officer {
        CodePurpose::OfficerSetup
    } else {
        CodePurpose::ResetPassword
    };
    let wrong = |state: &AppState, csrf| {
        reset_page(
            state,
            lang,
            csrf,
            officer,
            typed.clone(),
            String::new(),
            vec![state.messages.get(lang, "recovery.reset.wrong").to_string()],
        )
    };
    let acct = match Email::parse(&typed) {
        Ok(e) => account::by_email(&state.db, &e).await?,
        Err(_) => None,
    };
    let Some(acct) = acct.filter(|a| a.disabled_at.is_none()) else {
        return Ok(wrong(state, csrf));
    };
    if let Err(problems) = password::check(&f.password, &acct.email, &[]) {
        let errors = crate::flows::sign_up::form::password_messages(&problems)
            .iter()
            .map(|k| state.messages.get(lang, k).to_string())
            .collect();
        return Ok(reset_page(
            state,
            lang,
            csrf,
            officer,
            typed,
            f.code.chars().take(20).collect(),
            errors,
        ));
    }
    let hash = email_code_hash(&state.secrets, acct.id, &f.code);
    if !account::consume_email_code(&state.db, acct.id, purpose, &hash, now).await? {
        return Ok(wrong(state, csrf));
    }
    let phc = state
        .hasher
        .hash(password::normalise(&f.password))
        .await
        .map_err(|_| AppError::Unavailable("hasher busy".into()))?;
    account::set_password(&state.db, acct.id, &phc, now).await?;
    account::confirm_email(&state.db, acct.id, now).await?;
    session::revoke_all(&state.db, acct.id, None, now).await?;
    // Apps the old password let in are let go too.
    crate::api_guard::applicant::revoke_all(&state.db, acct.id, None, "password reset", now)
        .await?;
    // The mailbox proved the person for the password throttles; the second
    // factor's throttle stays (a reset gives no fresh authenticator guesses).
    throttle::clear_password_throttles(
        &state.db,
        &throttle::identifier_hash(&state.secrets.identifier_key, &acct.email),
    )
    .await?;
    record(
        state,
        acct.id,
        if officer {
            "officer.setup_completed"
        } else {
            "password.reset"
        },
        ip,
        "",
    )
    .await?;
    if acct.totp_enrolled_at.is_none() {
        // No second factor yet (new officer, or an officer-started reset):
        // the only thing this session can do is enrol one.
        let raw = session::create(
            &state.db,
            &state.secrets,
            NewSession {
                account_id: acct.id,
                level: Level::Enrol,
                now,
                authenticated_at: None,
                ip,
                user_agent: &user_agent(headers),
            },
        )
        .await?;
        return Ok(redirect_with_cookie(
            "/two-step/setup",
            session::cookie_header(&raw),
        ));
    }
    let c = Chrome::new(state, lang, "/forgot-password/reset", "").with_csrf(csrf);
    let title = c.t("recovery.done.title").to_string();
    Ok(render(&DoneTemplate { c: c.titled(title) }))
}

pub async fn reset(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<ResetForm>,
) -> Result<Response, AppError> {
    complete(&state, lang, csrf, &ip, &headers, f, false).await
}

pub async fn officer_setup(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<ResetForm>,
) -> Result<Response, AppError> {
    complete(&state, lang, csrf, &ip, &headers, f, true).await
}
