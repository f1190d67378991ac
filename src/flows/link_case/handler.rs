//! `GET/POST /account/cases/add`.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::form::LinkForm;
use super::policy::{self, Outcome};
use super::store;
use crate::app::{AppState, Chrome, ClientIp, render};
use crate::auth::csrf::CsrfToken;
use crate::auth::record;
use crate::authz;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::limits::{self, Limit, Verdict};

#[derive(askama::Template)]
#[template(path = "flows/link_case/add.html")]
struct AddTemplate<'a> {
    c: Chrome<'a>,
    f: LinkForm,
    errors: Vec<(&'static str, String)>,
    alert: Option<LinkAlert>,
    months: Vec<(String, &'a str)>,
}

/// An outcome shown above the form, with what to do next.
struct LinkAlert {
    heading: String,
    body: String,
    info: bool,
    /// (address, text); the first is shown as a button.
    links: Vec<(&'static str, String)>,
    /// Whether the only way forward is a person: show how to reach one.
    contact: bool,
}

/// The next steps of each outcome: (address, message key).
fn next_steps(key: &str) -> &'static [(&'static str, &'static str)] {
    match key {
        "link.outcome.already_yours" => &[("/account", "account.title")],
        "link.outcome.linked_elsewhere" => &[
            ("/help#case-in-another-account", "help.next.help"),
            ("/status", "help.next.check_status"),
        ],
        "link.outcome.expired"
        | "link.outcome.used"
        | "link.outcome.revoked"
        | "link.outcome.exhausted" => &[
            ("/access-code", "help.next.new_code"),
            ("/help#code-never-arrived", "help.next.help"),
        ],
        // One answer for a wrong receipt, date of birth or code: the form
        // below is the first next step (check each against the notice).
        "link.outcome.not_matched" => &[
            ("/help#code-never-arrived", "help.next.help"),
            ("/help#could-not-verify", "help.next.what_to_check"),
            ("/access-code", "help.next.new_code"),
        ],
        "link.outcome.account_limit" => &[("/help#too-many-requests", "help.next.help")],
        _ => &[("/help#could-not-verify", "help.next.help")],
    }
}

impl AddTemplate<'_> {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
    fn has_err(&self, field: &str) -> bool {
        self.err(field).is_some()
    }
}

fn page(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    f: LinkForm,
    errors: Vec<(&'static str, &'static str)>,
    // The outcome's message key, and when a pause ends.
    alert: Option<(&str, Option<i64>)>,
    status: StatusCode,
) -> Response {
    let m = state.messages;
    let c = Chrome::new(state, lang, "/account/cases/add", "")
        .with_csrf(csrf)
        .signed_in(true);
    let title = c.t("link.title").to_string();
    let months = m.months(lang);
    let when = alert
        .and_then(|(_, at)| at)
        .map(|at| state.date_time(lang, at))
        .unwrap_or_default();
    let alert = alert.map(|(k, _)| LinkAlert {
        heading: m.get(lang, &format!("{k}.heading")).to_string(),
        body: m.fmt(lang, &format!("{k}.body"), &[("when", &when)]),
        info: k == "link.outcome.already_yours",
        links: next_steps(k)
            .iter()
            .map(|(href, text)| (*href, m.get(lang, text).to_string()))
            .collect(),
        contact: k == "link.outcome.linked_elsewhere",
    });
    let errors = errors
        .into_iter()
        .map(|(f, k)| (f, m.get(lang, k).to_string()))
        .collect();
    (
        status,
        render(&AddTemplate {
            c: c.titled(title),
            f,
            errors,
            alert,
            months,
        }),
    )
        .into_response()
}

pub async fn form(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    authz::Applicant(_s): authz::Applicant,
) -> Response {
    page(
        &state,
        lang,
        csrf,
        LinkForm::default(),
        vec![],
        None,
        StatusCode::OK,
    )
}

pub async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    authz::Applicant(s): authz::Applicant,
    Form(raw): Form<LinkForm>,
) -> Result<Response, AppError> {
    let f = raw.trimmed();
    let now = state.now();
    let ts = now.timestamp();
    let subject = format!("account:{}", s.account_id);
    if let Verdict::Exceeded { retry_at } =
        limits::peek(&state.db, Limit::LinkFailuresPerAccount, &subject, ts).await?
    {
        return Ok(page(
            &state,
            lang,
            csrf,
            f,
            vec![],
            Some(("link.outcome.account_limit", Some(retry_at))),
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let input = match f.parse(now.date_naive()) {
        Ok(i) => i,
        Err(errors) => {
            return Ok(page(
                &state,
                lang,
                csrf,
                f,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let case = store::target_case(&state.db, input.receipt.as_str()).await?;
    let code = match &case {
        Some(c) => {
            store::find_code(
                &state.db,
                c.person_id,
                &input.code.keyed_hash(&state.secrets.access_code_key),
            )
            .await?
        }
        None => None,
    };
    let outcome = policy::decide(
        ts,
        s.account_id,
        input.dob.date(),
        case.as_ref(),
        code.as_ref(),
    );
    let key = match outcome {
        Outcome::Link { code_id, person_id } => {
            if store::consume_and_link(&state.db, code_id, person_id, s.account_id, ts).await? {
                record(
                    &state,
                    s.account_id,
                    "case.linked",
                    &ip,
                    input.receipt.as_str(),
                )
                .await?;
                return Ok(Redirect::to(&format!(
                    "/account/cases/{}?linked=1",
                    input.receipt.as_str()
                ))
                .into_response());
            }
            // Someone else redeemed it a moment ago.
            "link.outcome.used"
        }
        Outcome::AlreadyYours => "link.outcome.already_yours",
        Outcome::LinkedElsewhere => "link.outcome.linked_elsewhere",
        Outcome::NotMatched => "link.outcome.not_matched",
        Outcome::Expired => "link.outcome.expired",
        Outcome::Used => "link.outcome.used",
        Outcome::Revoked => "link.outcome.revoked",
        Outcome::Exhausted => "link.outcome.exhausted",
    };
    if key != "link.outcome.already_yours" {
        limits::hit(&state.db, Limit::LinkFailuresPerAccount, &subject, ts).await?;
        record(
            &state,
            s.account_id,
            "case.link_failed",
            &ip,
            key.trim_start_matches("link.outcome."),
        )
        .await?;
    }
    let mut kept = f;
    kept.code = String::new();
    Ok(page(
        &state,
        lang,
        csrf,
        kept,
        vec![],
        Some((key, None)),
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}
