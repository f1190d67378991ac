//! `/account/security/apps` (personal tokens and the apps connected through
//! a device grant), `/device` (the applicant's side of RFC 8628) and
//! `POST /oauth/device_authorization` (the app's side).

use axum::Form;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::form::{CodeForm, CreateForm, DecideForm, Decision, DeviceAuthorizationForm};
use super::policy::{self, Expiry};
use crate::api_guard::applicant::device::{self, GrantState, UserCode};
use crate::api_guard::applicant::exchange::oauth_error;
use crate::api_guard::applicant::{self, TokenKind, store};
use crate::api_guard::bearer::store_failure;
use crate::api_guard::error::api_error;
use crate::app::{AppState, Chrome, ClientIp, render};
use crate::auth::csrf::CsrfToken;
use crate::auth::record;
use crate::auth::session::{self, RULES};
use crate::authz::Applicant;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::limits::{self, Limit, Verdict};

const PAGE: &str = "/account/security/apps";

fn when(state: &AppState, lang: Lang, at: i64) -> String {
    let d = DateTime::<Utc>::from_timestamp(at, 0).unwrap_or_default();
    format!(
        "{} {}",
        state.messages.long_date(lang, d.date_naive()),
        d.format("%H:%M UTC")
    )
}

fn day(state: &AppState, lang: Lang, at: i64) -> String {
    let d = DateTime::<Utc>::from_timestamp(at, 0).unwrap_or_default();
    state.messages.long_date(lang, d.date_naive())
}

pub struct TokenView {
    pub id: i64,
    pub name: String,
    /// "Personal token" or "App (device sign-in)".
    pub kind: String,
    pub created: String,
    pub last_used: String,
    pub expires: String,
}

#[derive(askama::Template)]
#[template(path = "flows/connected_apps/apps.html")]
struct AppsTemplate<'a> {
    c: Chrome<'a>,
    tokens: Vec<TokenView>,
    notice: Option<String>,
    /// A token just created: shown this once.
    created: Option<String>,
    name: String,
    expiry: &'static str,
    expiries: Vec<(&'static str, String)>,
    errors: Vec<(&'static str, String)>,
}

impl AppsTemplate<'_> {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

struct PageInput {
    status: StatusCode,
    notice: Option<String>,
    created: Option<String>,
    name: String,
    expiry: &'static str,
    errors: Vec<(&'static str, String)>,
}

impl Default for PageInput {
    fn default() -> Self {
        PageInput {
            status: StatusCode::OK,
            notice: None,
            created: None,
            name: String::new(),
            expiry: Expiry::Days90.code(),
            errors: vec![],
        }
    }
}

async fn apps_page(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    account_id: i64,
    input: PageInput,
) -> Result<Response, AppError> {
    let now = state.now().timestamp();
    let m = state.messages;
    let tokens = store::live_tokens(&state.db, account_id, now)
        .await?
        .into_iter()
        .map(|t| TokenView {
            id: t.id,
            name: t.name,
            kind: m
                .get(
                    lang,
                    match t.kind {
                        TokenKind::Personal => "apps.kind.personal",
                        TokenKind::Device => "apps.kind.device",
                    },
                )
                .to_string(),
            created: day(state, lang, t.created_at),
            last_used: t
                .last_used_at
                .map(|at| when(state, lang, at))
                .unwrap_or_else(|| m.get(lang, "apps.never_used").to_string()),
            expires: day(state, lang, t.expires_at),
        })
        .collect();
    let expiries = Expiry::ALL
        .iter()
        .map(|e| {
            (
                e.code(),
                m.fmt(lang, "apps.create.days", &[("n", e.code())]),
            )
        })
        .collect();
    let c = Chrome::new(state, lang, PAGE, "")
        .with_csrf(csrf)
        .signed_in(true);
    let title = c.t("apps.title").to_string();
    Ok((
        input.status,
        render(&AppsTemplate {
            c: c.titled(title),
            tokens,
            notice: input.notice,
            created: input.created,
            name: input.name,
            expiry: input.expiry,
            expiries,
            errors: input.errors,
        }),
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    pub done: Option<String>,
}

/// `GET /account/security/apps`.
pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    Applicant(s): Applicant,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let notice = q.done.as_deref().filter(|d| *d == "revoked").map(|d| {
        state
            .messages
            .get(lang, &format!("apps.done.{d}"))
            .to_string()
    });
    apps_page(
        &state,
        lang,
        csrf,
        s.account_id,
        PageInput {
            notice,
            ..PageInput::default()
        },
    )
    .await
}

/// `POST /account/security/apps/tokens`: creates a personal token and shows
/// it once. Behind a fresh sign-in, like other credential changes.
pub async fn create(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Applicant(s): Applicant,
    Form(f): Form<CreateForm>,
) -> Result<Response, AppError> {
    let now = state.now().timestamp();
    if !session::recently_authenticated(&RULES, &s, now) {
        return Ok(Redirect::to("/account/reauth?next=apps").into_response());
    }
    let input = match f.parse() {
        Ok(i) => i,
        Err(errors) => {
            let errors = errors
                .into_iter()
                .map(|(field, key)| (field, state.messages.get(lang, key).to_string()))
                .collect();
            return apps_page(
                &state,
                lang,
                csrf,
                s.account_id,
                PageInput {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    name: f.name.chars().take(60).collect(),
                    expiry: Expiry::parse(&f.expiry).unwrap_or(Expiry::Days90).code(),
                    errors,
                    ..PageInput::default()
                },
            )
            .await;
        }
    };
    let token = applicant::new_token(&state.secrets, &mut rand::rngs::OsRng, TokenKind::Personal);
    let mut tx = state.db.pool().begin().await?;
    let id = store::insert_token(
        &mut tx,
        store::NewTokenRow {
            account_id: s.account_id,
            token_hash: &token.hash,
            kind: TokenKind::Personal,
            name: input.name.as_str(),
            client_pk: None,
            created_at: now,
            expires_at: input.expiry.expires_at(now),
        },
    )
    .await?;
    crate::audit::record_in(
        &state.db,
        &mut tx,
        &crate::audit::Event {
            at: now,
            actor: &format!("account:{}", s.account_id),
            action: "apps.token_created",
            subject: Some(format!("token:{id}")),
            ip: Some(ip),
            detail: format!("{} days", input.expiry.days()),
        },
    )
    .await?;
    tx.commit().await?;
    apps_page(
        &state,
        lang,
        csrf,
        s.account_id,
        PageInput {
            status: StatusCode::CREATED,
            created: Some(token.raw),
            ..PageInput::default()
        },
    )
    .await
}

#[derive(askama::Template)]
#[template(path = "flows/connected_apps/revoke.html")]
struct RevokeTemplate<'a> {
    c: Chrome<'a>,
    token: TokenView,
}

/// `GET /account/security/apps/tokens/{id}/revoke`: "are you sure?".
pub async fn revoke_confirm(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    Applicant(s): Applicant,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let now = state.now().timestamp();
    let t = store::live_token(&state.db, s.account_id, id, now)
        .await?
        .ok_or(AppError::NotFound)?;
    let m = state.messages;
    let token = TokenView {
        id: t.id,
        kind: m
            .get(
                lang,
                match t.kind {
                    TokenKind::Personal => "apps.kind.personal",
                    TokenKind::Device => "apps.kind.device",
                },
            )
            .to_string(),
        name: t.name,
        created: day(&state, lang, t.created_at),
        last_used: t
            .last_used_at
            .map(|at| when(&state, lang, at))
            .unwrap_or_else(|| m.get(lang, "apps.never_used").to_string()),
        expires: day(&state, lang, t.expires_at),
    };
    let c = Chrome::new(&state, lang, &format!("{PAGE}/tokens/{id}/revoke"), "")
        .with_csrf(csrf)
        .signed_in(true);
    let title = c.t("apps.revoke.title").to_string();
    Ok(render(&RevokeTemplate {
        c: c.titled(title),
        token,
    }))
}

/// `POST /account/security/apps/tokens/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Applicant(s): Applicant,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let now = state.now().timestamp();
    // Only this account's tokens can be named; another's answers 404.
    if !store::revoke_token(&state.db, s.account_id, id, now).await? {
        return Err(AppError::NotFound);
    }
    crate::audit::record(
        &state.db,
        &crate::audit::Event {
            at: now,
            actor: &format!("account:{}", s.account_id),
            action: "apps.token_revoked",
            subject: Some(format!("token:{id}")),
            ip: Some(ip),
            detail: String::new(),
        },
    )
    .await?;
    Ok(Redirect::to(&format!("{PAGE}?done=revoked")).into_response())
}

/// What the `/device` page shows.
enum DeviceStep {
    /// Type (or check) the code the app shows.
    Enter { code: String, error: Option<String> },
    /// Which app asks, and what it will be able to read.
    Confirm { code: String, app: String },
    /// The answer was recorded.
    Done { approved: bool },
}

#[derive(askama::Template)]
#[template(path = "flows/connected_apps/device.html")]
struct DeviceTemplate<'a> {
    c: Chrome<'a>,
    step: DeviceStep,
}

fn device_page(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    status: StatusCode,
    step: DeviceStep,
) -> Response {
    let c = Chrome::new(state, lang, "/device", "")
        .with_csrf(csrf)
        .signed_in(true);
    let title = c.t("device.title").to_string();
    (
        status,
        render(&DeviceTemplate {
            c: c.titled(title),
            step,
        }),
    )
        .into_response()
}

/// `GET /device[?user_code=…]` (the `verification_uri`): someone not signed
/// in is sent to sign in (with two-step verification) and comes back here.
pub async fn device_form(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    Applicant(_s): Applicant,
    Query(q): Query<CodeForm>,
) -> Response {
    device_page(
        &state,
        lang,
        csrf,
        StatusCode::OK,
        DeviceStep::Enter {
            code: q.echo(),
            error: None,
        },
    )
}

/// Why a code may not be checked now: too many wrong ones from this account
/// or this address.
async fn code_guesses_exceeded(
    state: &AppState,
    account_id: i64,
    ip_hash: &str,
    now: i64,
) -> Result<bool, AppError> {
    let acct = limits::peek(
        &state.db,
        Limit::DeviceCodeFailuresPerAccount,
        &format!("account:{account_id}"),
        now,
    )
    .await?;
    let ip = limits::peek(&state.db, Limit::DeviceCodeFailuresPerIp, ip_hash, now).await?;
    Ok(matches!(acct, Verdict::Exceeded { .. }) || matches!(ip, Verdict::Exceeded { .. }))
}

/// Looks up the pending grant a code names, counting a wrong code against
/// both limits; `Err` is the page to show instead.
async fn grant_for_code(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    account_id: i64,
    ip: &str,
    raw: &CodeForm,
) -> Result<Result<(UserCode, store::GrantRow), Response>, AppError> {
    let now = state.now().timestamp();
    let ip_hash = crate::audit::subject_hash(&state.secrets.identifier_key, "ip", ip);
    let enter = |key: &str, status| {
        device_page(
            state,
            lang,
            csrf.clone(),
            status,
            DeviceStep::Enter {
                code: raw.echo(),
                error: Some(state.messages.get(lang, key).to_string()),
            },
        )
    };
    if code_guesses_exceeded(state, account_id, &ip_hash, now).await? {
        record(
            state,
            account_id,
            "apps.device_code_refused",
            ip,
            "throttled",
        )
        .await?;
        return Ok(Err(enter(
            "device.error.too_many",
            StatusCode::TOO_MANY_REQUESTS,
        )));
    }
    let found = match raw.code() {
        Some(code) => store::pending_by_user_code(&state.db, &code.hash(&state.secrets), now)
            .await?
            .map(|g| (code, g)),
        None => None,
    };
    match found {
        Some(pair) => Ok(Ok(pair)),
        None => {
            limits::hit(
                &state.db,
                Limit::DeviceCodeFailuresPerAccount,
                &format!("account:{account_id}"),
                now,
            )
            .await?;
            limits::hit(&state.db, Limit::DeviceCodeFailuresPerIp, &ip_hash, now).await?;
            record(state, account_id, "apps.device_code_refused", ip, "wrong").await?;
            Ok(Err(enter(
                "device.error.code",
                StatusCode::UNPROCESSABLE_ENTITY,
            )))
        }
    }
}

/// `POST /device`: the code typed in → which app asks.
pub async fn device_check(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Applicant(s): Applicant,
    Form(f): Form<CodeForm>,
) -> Result<Response, AppError> {
    let (code, grant) =
        match grant_for_code(&state, lang, csrf.clone(), s.account_id, &ip, &f).await? {
            Ok(found) => found,
            Err(page) => return Ok(page),
        };
    Ok(device_page(
        &state,
        lang,
        csrf,
        StatusCode::OK,
        DeviceStep::Confirm {
            code: code.display(),
            app: grant.app_name,
        },
    ))
}

/// `POST /device/decide`: approve or deny.
pub async fn device_decide(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Applicant(s): Applicant,
    Form(f): Form<DecideForm>,
) -> Result<Response, AppError> {
    let Some((_, decision)) = f.parse() else {
        return Ok(device_page(
            &state,
            lang,
            csrf,
            StatusCode::UNPROCESSABLE_ENTITY,
            DeviceStep::Enter {
                code: String::new(),
                error: Some(state.messages.get(lang, "device.error.code").to_string()),
            },
        ));
    };
    let raw = CodeForm {
        user_code: f.user_code.clone(),
    };
    let (_, grant) =
        match grant_for_code(&state, lang, csrf.clone(), s.account_id, &ip, &raw).await? {
            Ok(found) => found,
            Err(page) => return Ok(page),
        };
    let now = state.now().timestamp();
    let approve = decision == Decision::Approve;
    let Some(to) = device::decide(grant.state, grant.expires_at, now, approve) else {
        return Err(AppError::NotFound);
    };
    if !store::decide(&state.db, grant.id, s.account_id, to, now).await? {
        // Answered (or expired) in the meantime: start again.
        return Ok(device_page(
            &state,
            lang,
            csrf,
            StatusCode::CONFLICT,
            DeviceStep::Enter {
                code: String::new(),
                error: Some(state.messages.get(lang, "device.error.code").to_string()),
            },
        ));
    }
    let action = if to == GrantState::Approved {
        "apps.device_approved"
    } else {
        "apps.device_denied"
    };
    let app: String = grant.app_name.chars().take(100).collect();
    record(&state, s.account_id, action, &ip, &app).await?;
    Ok(device_page(
        &state,
        lang,
        csrf,
        StatusCode::OK,
        DeviceStep::Done { approved: approve },
    ))
}

/// `POST /oauth/device_authorization` (RFC 8628 §3.1–3.2): a registered
/// client asks; the answer carries the codes and where the person goes.
pub async fn device_authorization(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    body: Bytes,
) -> Response {
    let mut f = DeviceAuthorizationForm::default();
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "client_id" => f.client_id = Some(v.into_owned()),
            "scope" => f.scope = Some(v.into_owned()),
            _ => {}
        }
    }
    let now = state.now().timestamp();
    let ip_hash = crate::audit::subject_hash(&state.secrets.identifier_key, "ip", &ip);
    match limits::hit(&state.db, Limit::DeviceAuthorizationsPerIp, &ip_hash, now).await {
        Ok(Verdict::Allowed { .. }) => {}
        Ok(Verdict::Exceeded { retry_at }) => {
            let mut resp = api_error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
            if let Ok(v) = HeaderValue::from_str(&(retry_at - now).max(1).to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return resp;
        }
        Err(e) => return store_failure(e),
    }
    let Some(client_id) = f
        .client_id
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 100)
    else {
        return oauth_error("invalid_request", "client_id is required");
    };
    if !policy::scope_allowed(f.scope.as_deref()) {
        return oauth_error("invalid_scope", "The only scope is cases:read");
    }
    let client = match store::enabled_client(&state.db, client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return oauth_error("invalid_client", "Unknown client"),
        Err(e) => return store_failure(e),
    };
    let device_code = crate::crypto::random_hex(&mut rand::rngs::OsRng, 32);
    let user_code = UserCode::generate(&mut rand::rngs::OsRng);
    if let Err(e) = store::insert_grant(
        &state.db,
        store::NewGrant {
            device_code_hash: &device::device_code_hash(&state.secrets, &device_code),
            user_code_hash: &user_code.hash(&state.secrets),
            client_pk: client.pk,
            created_at: now,
            expires_at: now + device::DEVICE_CODE_TTL_SECS,
            interval_secs: device::POLL_INTERVAL_SECS,
        },
    )
    .await
    {
        return store_failure(e);
    }
    let base = state.config.public_url.trim_end_matches('/');
    let shown = user_code.display();
    let body = json!({
        "device_code": device_code,
        "user_code": shown,
        "verification_uri": format!("{base}/device"),
        "verification_uri_complete": format!("{base}/device?user_code={shown}"),
        "expires_in": device::DEVICE_CODE_TTL_SECS,
        "interval": device::POLL_INTERVAL_SECS,
    });
    let mut resp = (StatusCode::OK, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
