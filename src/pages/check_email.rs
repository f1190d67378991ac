//! "Check your email": the page that asks for the emailed confirmation
//! code, shown by sign-up and by sign-in for an account not yet confirmed.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::app::{AppState, Chrome, render};
use crate::auth::csrf::CsrfToken;
use crate::i18n::Lang;

#[derive(askama::Template)]
#[template(path = "pages/check_email.html")]
struct CheckEmailTemplate<'a> {
    c: Chrome<'a>,
    email: String,
    error: Option<String>,
    /// A new code was asked for (shown whether or not one was sent).
    resent: bool,
}

pub fn check_email_page(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    email: String,
    error: Option<&str>,
) -> Response {
    check_email_page_with(state, lang, csrf, email, error, false)
}

pub fn check_email_page_with(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    email: String,
    error: Option<&str>,
    resent: bool,
) -> Response {
    let c = Chrome::new(state, lang, "/sign-up/confirm", "").with_csrf(csrf);
    let title = c.t("signup.check.title").to_string();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let t = CheckEmailTemplate {
        email,
        error: error.map(|k| state.messages.get(lang, k).to_string()),
        resent,
        c: c.titled(title),
    };
    (status, render(&t)).into_response()
}
