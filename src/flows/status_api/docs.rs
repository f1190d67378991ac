//! `GET /developers`: the Case Status API described for people, rendered
//! from the same OpenAPI document that `/api/openapi.json` serves (so the
//! page never drifts from the machine-readable description).

use axum::extract::State;
use axum::response::Response;
use serde_json::Value;

use crate::app::{AppState, Chrome, render};
use crate::i18n::Lang;

/// The OpenAPI document, as served at `/api/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

pub struct Operation {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub needs_token: bool,
    /// The operation answers with or without a token (its `security` lists
    /// `{}` beside the bearer scheme), as the Case Status Online JSON does.
    pub token_optional: bool,
    /// (name, where, required, description)
    pub params: Vec<(String, String, bool, String)>,
    /// (field, required) of a form-encoded request body.
    pub body_fields: Vec<(String, bool)>,
    pub body_type: String,
    /// (HTTP status, description)
    pub responses: Vec<(String, String)>,
}

pub struct ApiDoc {
    pub title: String,
    pub version: String,
    pub description: String,
    pub operations: Vec<Operation>,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

/// Reads the parts a person needs from an OpenAPI 3 document.
pub fn describe(doc: &Value) -> ApiDoc {
    let info = doc.get("info").cloned().unwrap_or(Value::Null);
    let mut operations = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                let params = op
                    .get("parameters")
                    .and_then(Value::as_array)
                    .map(|ps| {
                        ps.iter()
                            .map(|p| {
                                (
                                    text(p, "name"),
                                    text(p, "in"),
                                    p.get("required").and_then(Value::as_bool).unwrap_or(false),
                                    text(p, "description"),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let (body_type, body_fields) = op
                    .get("requestBody")
                    .and_then(|b| b.get("content"))
                    .and_then(Value::as_object)
                    .and_then(|c| c.iter().next())
                    .map(|(kind, media)| {
                        let schema = media.get("schema").cloned().unwrap_or(Value::Null);
                        let required: Vec<&str> = schema
                            .get("required")
                            .and_then(Value::as_array)
                            .map(|r| r.iter().filter_map(Value::as_str).collect())
                            .unwrap_or_default();
                        let fields = schema
                            .get("properties")
                            .and_then(Value::as_object)
                            .map(|p| {
                                p.keys()
                                    .map(|k| (k.clone(), required.contains(&k.as_str())))
                                    .collect()
                            })
                            .unwrap_or_default();
                        (kind.clone(), fields)
                    })
                    .unwrap_or_default();
                let responses = op
                    .get("responses")
                    .and_then(Value::as_object)
                    .map(|r| {
                        r.iter()
                            .map(|(code, v)| (code.clone(), text(v, "description")))
                            .collect()
                    })
                    .unwrap_or_default();
                let security = op.get("security").and_then(Value::as_array);
                let token_optional = security.is_some_and(|alternatives| {
                    alternatives
                        .iter()
                        .any(|a| a.as_object().is_some_and(|o| o.is_empty()))
                });
                let needs_token = security.is_some_and(|a| !a.is_empty()) && !token_optional;
                operations.push(Operation {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    summary: text(op, "summary"),
                    needs_token,
                    token_optional,
                    params,
                    body_fields,
                    body_type,
                    responses,
                });
            }
        }
    }
    // Getting a token comes before using it.
    operations.sort_by_key(|o| o.needs_token);
    ApiDoc {
        title: text(&info, "title"),
        version: text(&info, "version"),
        description: text(&info, "description"),
        operations,
    }
}

#[derive(askama::Template)]
#[template(path = "flows/status_api/docs.html")]
struct DocsTemplate<'a> {
    c: Chrome<'a>,
    doc: ApiDoc,
}

pub async fn page(State(state): State<AppState>, lang: Lang) -> Response {
    let doc = serde_json::from_str::<Value>(OPENAPI)
        .map(|v| describe(&v))
        .unwrap_or_else(|_| describe(&Value::Null));
    let c = Chrome::new(&state, lang, "/developers", "");
    let title = c.t("ux.api.title").to_string();
    render(&DocsTemplate {
        c: c.titled(title),
        doc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_document_describes_both_operations() {
        let v: Value = serde_json::from_str(OPENAPI).unwrap();
        let d = describe(&v);
        assert!(!d.title.is_empty() && !d.version.is_empty());
        let token = d
            .operations
            .iter()
            .find(|o| o.path == "/oauth/accesstoken")
            .unwrap();
        assert_eq!(token.method, "POST");
        assert!(
            token
                .body_fields
                .contains(&("grant_type".to_string(), true))
        );
        let status = d
            .operations
            .iter()
            .find(|o| o.path == "/case-status/{receiptNumber}")
            .unwrap();
        assert!(status.needs_token);
        assert!(!status.token_optional);
        let csol = d
            .operations
            .iter()
            .find(|o| o.path == "/csol-api/case-statuses/{receipt}")
            .unwrap();
        assert!(!csol.needs_token, "the CSOL JSON answers without a token");
        assert!(csol.token_optional);
        assert!(status.responses.iter().any(|(c, _)| c == "404"));
    }
}
