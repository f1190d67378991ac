//! The home page handler.

use axum::extract::State;
use axum::response::Response;

use crate::app::{AppState, Chrome, render};
use crate::i18n::Lang;

#[derive(askama::Template)]
#[template(path = "flows/home/home.html")]
struct HomeTemplate<'a> {
    c: Chrome<'a>,
}

pub async fn page(State(state): State<AppState>, lang: Lang) -> Response {
    let c = Chrome::new(&state, lang, "/", "");
    let title = c.t("home.title").to_string();
    render(&HomeTemplate { c: c.titled(title) })
}
