//! CSRF protection for every state-changing form, checked in one place.
//!
//! Each visitor holds a random `__Host-csrf` cookie; forms carry
//! `csrf = HMAC(key, cookie)` in a hidden field (or, for multipart forms, in
//! the action's query string). The middleware refuses any POST outside the
//! bearer-token API whose token does not match — before a handler runs.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::cookies;
use crate::app::{AppState, is_api_path};
use crate::crypto::{constant_time_eq, hmac_sha256, random_hex};

pub const COOKIE: &str = "__Host-csrf";

/// The token to render into this visitor's forms.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

pub fn token_for(key: &[u8; 32], cookie: &str) -> String {
    hex::encode(&hmac_sha256(key, format!("csrf:{cookie}").as_bytes())[..16])
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .unwrap_or(CsrfToken(String::new())))
    }
}

fn field<'a>(
    pairs: impl Iterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
) -> Option<String> {
    let mut pairs = pairs;
    pairs
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned())
}

pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let key = state.secrets.session_key;
    let existing = cookies::read(req.headers(), COOKIE)
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string);
    let (cookie, fresh) = match existing {
        Some(c) => (c, false),
        None => (random_hex(&mut rand::rngs::OsRng, 16), true),
    };
    let expected = token_for(&key, &cookie);
    let (mut parts, body) = req.into_parts();
    let needs_check = parts.method == Method::POST && !is_api_path(parts.uri.path());
    let body = if needs_check {
        let from_query = parts
            .uri
            .query()
            .and_then(|q| field(form_urlencoded::parse(q.as_bytes())));
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let (presented, body) = if from_query.is_some() || !is_form {
            (from_query, body)
        } else {
            let limit = state.config.max_body_bytes;
            match to_bytes(body, limit).await {
                Ok(bytes) => (field(form_urlencoded::parse(&bytes)), Body::from(bytes)),
                Err(e) => {
                    let too_large = e.into_inner().is::<http_body_util::LengthLimitError>();
                    return if too_large {
                        crate::error::AppError::TooLarge
                    } else {
                        crate::error::AppError::BadRequest
                    }
                    .into_response();
                }
            }
        };
        let ok = !fresh
            && presented.is_some_and(|p| constant_time_eq(p.as_bytes(), expected.as_bytes()));
        if !ok {
            tracing::info!(path = %parts.uri.path(), "form refused: CSRF token missing or wrong");
            return crate::error::AppError::Forbidden.into_response();
        }
        body
    } else {
        body
    };
    parts.extensions.insert(CsrfToken(expected));
    let mut resp = next.run(Request::from_parts(parts, body)).await;
    if fresh && let Some(v) = cookies::set(COOKIE, &cookie, None) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_the_cookie_and_key() {
        let a = token_for(&[1; 32], "c1");
        assert_eq!(a, token_for(&[1; 32], "c1"));
        assert_ne!(a, token_for(&[1; 32], "c2"));
        assert_ne!(a, token_for(&[2; 32], "c1"));
        assert_eq!(a.len(), 32);
    }
}
