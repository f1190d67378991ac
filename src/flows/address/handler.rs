//! `GET/POST /account/address`, `POST /account/address/confirm`.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::form::AddressForm;
use super::store;
use crate::app::{AppState, Chrome, ClientIp, render};
use crate::auth::csrf::CsrfToken;
use crate::auth::record;
use crate::auth::session::MaybeSession;
use crate::authz;
use crate::domain::address::UsState;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::outbox::{self, OutgoingEmail};

#[derive(askama::Template)]
#[template(path = "flows/address/form.html")]
struct FormTemplate<'a> {
    c: Chrome<'a>,
    f: AddressForm,
    error: bool,
    has_case: bool,
    states: Vec<(&'static str, &'static str)>,
    preview: Option<(String, String)>,
    done: bool,
    /// After a change: the address now on file, as the postal service writes it.
    current: Option<(String, String)>,
}

#[derive(askama::Template)]
#[template(path = "web/address.html")]
struct PaperTemplate<'a> {
    c: Chrome<'a>,
}

async fn person_of(state: &AppState, account_id: i64) -> Result<Option<i64>, AppError> {
    Ok(store::person_of_account(&state.db, account_id).await?)
}

#[allow(clippy::too_many_arguments)]
fn page(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    f: AddressForm,
    error: bool,
    has_case: bool,
    preview: Option<(String, String)>,
    done: bool,
) -> Response {
    page_with(state, lang, csrf, f, error, has_case, preview, done, None)
}

#[allow(clippy::too_many_arguments)]
fn page_with(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    f: AddressForm,
    error: bool,
    has_case: bool,
    preview: Option<(String, String)>,
    done: bool,
    current: Option<(String, String)>,
) -> Response {
    let c = Chrome::new(state, lang, "/account/address", "")
        .with_csrf(csrf)
        .signed_in(true);
    let title = c.t("address.title").to_string();
    let status = if error {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let t = FormTemplate {
        c: c.titled(title),
        f,
        error,
        has_case,
        states: UsState::ALL.iter().map(|s| (s.code(), s.name())).collect(),
        preview,
        done,
        current,
    };
    (status, render(&t)).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    pub done: Option<String>,
}

pub async fn form(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    MaybeSession(s): MaybeSession,
    axum::extract::Query(q): axum::extract::Query<DoneQuery>,
) -> Result<Response, AppError> {
    let Some(s) = s.filter(|s| s.level == crate::auth::session::Level::Full) else {
        let c = Chrome::new(&state, lang, "/account/address", "").with_csrf(csrf);
        let title = c.t("address.title").to_string();
        return Ok(render(&PaperTemplate { c: c.titled(title) }));
    };
    authz::require_applicant(&state, &s, &ip, "GET /account/address").await?;
    let person = person_of(&state, s.account_id).await?;
    let done = q.done.is_some();
    let current = match person {
        Some(person_id) if done => on_file(&state, person_id).await?,
        _ => None,
    };
    Ok(page_with(
        &state,
        lang,
        csrf,
        AddressForm::default(),
        false,
        person.is_some(),
        None,
        done,
        current,
    ))
}

/// The address on file for a person, in its two postal lines.
async fn on_file(state: &AppState, person_id: i64) -> Result<Option<(String, String)>, AppError> {
    let row = store::address_on_file(&state.db, person_id).await?;
    let f = AddressForm {
        street: row.street,
        unit: row.unit.unwrap_or_default(),
        city: row.city,
        state: row.state,
        zip: row.zip,
        edit: String::new(),
    };
    Ok(f.parse().ok().map(|a| (a.delivery_line(), a.last_line())))
}

/// Step 1: show the normalised address for confirmation.
pub async fn preview(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    authz::Applicant(s): authz::Applicant,
    Form(f): Form<AddressForm>,
) -> Result<Response, AppError> {
    let has_case = person_of(&state, s.account_id).await?.is_some();
    match f.parse() {
        Ok(a) if has_case => {
            let preview = Some((a.delivery_line(), a.last_line()));
            Ok(page(&state, lang, csrf, f, false, true, preview, false))
        }
        Ok(_) => Ok(page(&state, lang, csrf, f, false, false, None, false)),
        Err(_) => Ok(page(&state, lang, csrf, f, true, has_case, None, false)),
    }
}

/// Step 2: the confirmed change.
pub async fn confirm(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    authz::Applicant(s): authz::Applicant,
    Form(f): Form<AddressForm>,
) -> Result<Response, AppError> {
    // AR-11 changes where letters and access codes go: the person, not
    // just the session (password + second factor within 15 minutes).
    if !crate::auth::session::recently_authenticated(
        &crate::auth::session::RULES,
        &s,
        state.now().timestamp(),
    ) {
        return Ok(Redirect::to("/account/reauth?next=address").into_response());
    }
    let Some(person_id) = person_of(&state, s.account_id).await? else {
        return Ok(page(&state, lang, csrf, f, false, false, None, false));
    };
    if !f.edit.is_empty() {
        return Ok(page(&state, lang, csrf, f, false, true, None, false));
    }
    let Ok(a) = f.parse() else {
        return Ok(page(&state, lang, csrf, f, true, true, None, false));
    };
    let now = state.now().timestamp();
    let old = store::address_on_file(&state.db, person_id).await?;
    let mut tx = state.db.pool().begin().await?;
    store::change_address(&mut tx, person_id, s.account_id, &old, &a, now).await?;
    let email = store::account_email(&mut tx, s.account_id).await?;
    let m = state.messages;
    let args = [
        ("agency", state.agency(lang)),
        ("url", state.config.public_url.as_str()),
    ];
    outbox::enqueue(
        &mut *tx,
        &state.secrets,
        &mut rand::rngs::OsRng,
        &OutgoingEmail {
            to: email,
            subject: m.fmt(lang, "email.address.subject", &args),
            text: m.fmt(lang, "email.address.body", &args),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    state.outbox_wake.notify_one();
    record(&state, s.account_id, "address.changed", &ip, "").await?;
    Ok(Redirect::to("/account/address?done=1").into_response())
}
