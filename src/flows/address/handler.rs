//! `GET/POST /account/address`, `POST /account/address/confirm`.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::{AppState, Chrome, ClientIp, render};
use crate::auth::csrf::CsrfToken;
use crate::auth::record;
use crate::auth::session::MaybeSession;
use crate::authz;
use crate::domain::UsAddress;
use crate::domain::address::{AddressInput, UsState};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::outbox::{self, OutgoingEmail};

#[derive(Debug, Default, Clone, Deserialize)]
pub struct AddressForm {
    #[serde(default)]
    pub street: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub zip: String,
    /// "Edit" on the check page: the form again, with what was typed.
    #[serde(default)]
    pub edit: String,
}

impl AddressForm {
    fn parse(&self) -> Result<UsAddress, ()> {
        UsAddress::parse(AddressInput {
            street: self.street.trim(),
            unit: self.unit.trim(),
            city: self.city.trim(),
            state: self.state.trim(),
            zip: self.zip.trim(),
        })
        .map_err(|_| ())
    }
}

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
    Ok(
        sqlx::query_scalar("SELECT person_id FROM cases WHERE account_id = $1 ORDER BY id LIMIT 1")
            .bind(account_id)
            .fetch_optional(state.db.pool())
            .await?,
    )
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
    let row: (String, Option<String>, String, String, String) =
        sqlx::query_as("SELECT street, unit, city, state, zip FROM persons WHERE id = $1")
            .bind(person_id)
            .fetch_one(state.db.pool())
            .await?;
    let f = AddressForm {
        street: row.0,
        unit: row.1.unwrap_or_default(),
        city: row.2,
        state: row.3,
        zip: row.4,
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
        Err(()) => Ok(page(&state, lang, csrf, f, true, has_case, None, false)),
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
    let old: (String, Option<String>, String, String, String) =
        sqlx::query_as("SELECT street, unit, city, state, zip FROM persons WHERE id = $1")
            .bind(person_id)
            .fetch_one(state.db.pool())
            .await?;
    let mut tx = state.db.pool().begin().await?;
    sqlx::query("UPDATE persons SET street = $1, unit = $2, city = $3, state = $4, zip = $5, updated_at = $6 WHERE id = $7")
        .bind(a.street())
        .bind(a.unit())
        .bind(a.city())
        .bind(a.state().code())
        .bind(a.zip().as_str())
        .bind(now)
        .bind(person_id)
        .execute(&mut *tx)
        .await?;
    let old_text = format!(
        "{} {} {} {} {}",
        old.0,
        old.1.unwrap_or_default(),
        old.2,
        old.3,
        old.4
    );
    sqlx::query("INSERT INTO address_changes (person_id, account_id, old_address, new_address, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(person_id)
        .bind(s.account_id)
        .bind(old_text)
        .bind(format!("{} {}", a.delivery_line(), a.last_line()))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let email: String = sqlx::query_scalar("SELECT email FROM accounts WHERE id = $1")
        .bind(s.account_id)
        .fetch_one(&mut *tx)
        .await?;
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
