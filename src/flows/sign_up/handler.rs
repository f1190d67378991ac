//! `/sign-up` and `/sign-up/confirm`.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::form::{ConfirmForm, ResendForm, SignUpErrors, SignUpForm};
use crate::app::{AppState, Chrome, ClientIp, render};
use crate::auth::account::{self, CodePurpose, Role};
use crate::auth::csrf::CsrfToken;
use crate::auth::session::{self, Level, NewSession};
use crate::auth::{email_code_hash, record, redirect_with_cookie, user_agent};
use crate::domain::Email;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::limits::{self, Limit};
use crate::outbox::{self, OutgoingEmail};

pub use crate::auth::email_codes::{CONFIRM_VALID_SECS, send_confirmation};
pub use crate::pages::check_email::check_email_page;

#[derive(askama::Template)]
#[template(path = "flows/sign_up/sign_up.html")]
struct SignUpTemplate<'a> {
    c: Chrome<'a>,
    email: String,
    email_error: Option<String>,
    password_errors: Vec<String>,
}

fn sign_up_page(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    email: String,
    errors: SignUpErrors,
) -> Response {
    let c = Chrome::new(state, lang, "/sign-up", "").with_csrf(csrf);
    let title = c.t("signup.title").to_string();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let t = SignUpTemplate {
        email_error: errors
            .email
            .map(|k| state.messages.get(lang, k).to_string()),
        password_errors: errors
            .password
            .iter()
            .map(|k| state.messages.get(lang, k).to_string())
            .collect(),
        email,
        c: c.titled(title),
    };
    (status, render(&t)).into_response()
}

pub async fn form(State(state): State<AppState>, lang: Lang, csrf: CsrfToken) -> Response {
    sign_up_page(&state, lang, csrf, String::new(), SignUpErrors::default())
}

/// Sends a fresh confirmation code to an account's address.
pub async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Form(f): Form<SignUpForm>,
) -> Result<Response, AppError> {
    let now = state.now().timestamp();
    let ip_subject = crate::audit::subject_hash(&state.secrets.identifier_key, "ip", &ip);
    limits::hit(&state.db, Limit::AccountFormsPerIp, &ip_subject, now)
        .await?
        .or_too_many(now)?;
    let (email, password) = match f.parse() {
        Ok(v) => v,
        Err(errors) => {
            return Ok(sign_up_page(
                &state,
                lang,
                csrf,
                f.email.trim().chars().take(254).collect(),
                errors,
            ));
        }
    };
    // Hash whether or not the email is taken, so both paths cost the same.
    let hash = state
        .hasher
        .hash(password)
        .await
        .map_err(|_| AppError::Unavailable("hasher busy".into()))?;
    match account::create(&state.db, &email, Role::Applicant, Some(&hash), now).await? {
        Some(id) => {
            send_confirmation(&state, lang, id, email.as_str()).await?;
            record(&state, id, "account.created", &ip, "").await?;
            account::set_lang(&state.db, id, lang).await?;
        }
        None => {
            let m = state.messages;
            let url = state.config.public_url.as_str();
            let agency = state.agency(lang);
            let args = [("url", url), ("agency", agency)];
            outbox::enqueue(
                state.db.pool(),
                &state.secrets,
                &mut rand::rngs::OsRng,
                &OutgoingEmail {
                    to: email.as_str().to_string(),
                    subject: m.fmt(lang, "email.already.subject", &args),
                    text: m.fmt(lang, "email.already.body", &args),
                },
                now,
            )
            .await?;
            state.outbox_wake.notify_one();
        }
    }
    Ok(check_email_page(
        &state,
        lang,
        csrf,
        email.as_str().to_string(),
        None,
    ))
}

pub async fn confirm(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let now = state.now().timestamp();
    let typed = f.email.trim().chars().take(254).collect::<String>();
    let wrong = |state: &AppState, csrf| {
        check_email_page(state, lang, csrf, typed.clone(), Some("signup.check.wrong"))
    };
    let Ok(email) = Email::parse(&typed) else {
        return Ok(wrong(&state, csrf));
    };
    let Some(acct) = account::by_email(&state.db, &email).await? else {
        return Ok(wrong(&state, csrf));
    };
    let hash = email_code_hash(&state.secrets, acct.id, &f.code);
    if !account::consume_email_code(&state.db, acct.id, CodePurpose::ConfirmEmail, &hash, now)
        .await?
    {
        return Ok(wrong(&state, csrf));
    }
    account::confirm_email(&state.db, acct.id, now).await?;
    record(&state, acct.id, "account.email_confirmed", &ip, "").await?;
    let raw = session::create(
        &state.db,
        &state.secrets,
        NewSession {
            account_id: acct.id,
            level: Level::Enrol,
            now,
            authenticated_at: None,
            ip: &ip,
            user_agent: &user_agent(&headers),
        },
    )
    .await?;
    Ok(redirect_with_cookie(
        "/two-step/setup",
        session::cookie_header(&raw),
    ))
}

/// `POST /sign-up/resend`: a new confirmation code for an account whose
/// email is not confirmed yet. The same page whether or not such an account
/// exists (it reveals nothing); limited per IP like the other account forms.
pub async fn resend(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Form(f): Form<ResendForm>,
) -> Result<Response, AppError> {
    let now = state.now().timestamp();
    let ip_subject = crate::audit::subject_hash(&state.secrets.identifier_key, "ip", &ip);
    limits::hit(&state.db, Limit::AccountFormsPerIp, &ip_subject, now)
        .await?
        .or_too_many(now)?;
    let typed: String = f.email.trim().chars().take(254).collect();
    if let Ok(email) = Email::parse(&typed)
        && let Some(acct) = account::by_email(&state.db, &email).await?
        && acct.email_confirmed_at.is_none()
        && acct.disabled_at.is_none()
    {
        send_confirmation(&state, lang, acct.id, acct.email.as_str()).await?;
        record(&state, acct.id, "account.confirmation_resent", &ip, "").await?;
    }
    Ok(crate::pages::check_email::check_email_page_with(
        &state, lang, csrf, typed, None, true,
    ))
}
