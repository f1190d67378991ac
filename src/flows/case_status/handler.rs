//! `GET /status` and `GET /status?receipt=…`.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};

use super::form::{StatusInput, StatusQuery};
use crate::app::{AppState, Chrome, render};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::status_read::describe::{self as policy, HistoryLine, StatusText};

pub enum Outcome {
    Form,
    Malformed,
    NotRecognized,
    Found {
        receipt: String,
        text: StatusText,
        history: Vec<HistoryLine>,
    },
}

#[derive(askama::Template)]
#[template(path = "flows/case_status/status.html")]
struct StatusTemplate<'a> {
    c: Chrome<'a>,
    typed: String,
    outcome: Outcome,
}

impl StatusTemplate<'_> {
    fn is_malformed(&self) -> bool {
        matches!(self.outcome, Outcome::Malformed)
    }
}

pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    Query(query): Query<StatusQuery>,
) -> Result<Response, AppError> {
    let (typed, outcome) = match query.parse() {
        StatusInput::Empty => (String::new(), Outcome::Form),
        StatusInput::Malformed { typed, .. } => (typed, Outcome::Malformed),
        StatusInput::Valid(receipt) => {
            let record = state.status_cache.get(&state.db, &receipt).await?;
            let outcome = match policy::public_view(record.as_deref()) {
                None => Outcome::NotRecognized,
                Some(rec) => {
                    let words = policy::describe(rec, state.messages, lang);
                    Outcome::Found {
                        receipt: rec.receipt.as_str().to_string(),
                        text: words.current,
                        history: words.history,
                    }
                }
            };
            (receipt.as_str().to_string(), outcome)
        }
    };
    let query_string = if typed.is_empty() {
        String::new()
    } else {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("receipt", &typed)
            .finish()
    };
    let c = Chrome::new(&state, lang, "/status", &query_string);
    let title = match &outcome {
        Outcome::Found { text, .. } => text.title.clone(),
        Outcome::Malformed => format!("{}: {}", c.t("status.error_prefix"), c.t("status.title")),
        _ => c.t("status.title").to_string(),
    };
    let status = match outcome {
        Outcome::Malformed => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        _ => axum::http::StatusCode::OK,
    };
    let t = StatusTemplate {
        c: c.titled(title),
        typed,
        outcome,
    };
    Ok((status, render(&t)).into_response())
}
