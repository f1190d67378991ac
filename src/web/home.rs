//! The home page: the portal's entry points in plain language.

use axum::extract::State;
use axum::response::Response;

use super::{AppState, Chrome, render};
use crate::i18n::Lang;

#[derive(askama::Template)]
#[template(path = "web/home.html")]
struct HomeTemplate<'a> {
    c: Chrome<'a>,
}

pub async fn page(State(state): State<AppState>, lang: Lang) -> Response {
    let c = Chrome::new(&state, lang, "/", "");
    let title = c.t("home.title").to_string();
    render(&HomeTemplate { c: c.titled(title) })
}

#[derive(askama::Template)]
#[template(path = "web/address.html")]
struct AddressTemplate<'a> {
    c: Chrome<'a>,
}

/// How to change an address (the online AR-11 arrives with the account pages).
pub async fn address(State(state): State<AppState>, lang: Lang) -> Response {
    let c = Chrome::new(&state, lang, "/account/address", "");
    let title = c.t("address.title").to_string();
    render(&AddressTemplate { c: c.titled(title) })
}
