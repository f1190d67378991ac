//! `GET/POST /change-address` (form, then the normalised address shown back),
//! `POST /change-address/edit` (back to the form), `POST /change-address/request`
//! (the request: one answer for everyone), `GET/POST /change-address/confirm`
//! (the letter's code) and `GET/POST /change-address/cancel` ("this was not me").

use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::form::{CancelForm, ConfirmForm, RawForm, parse_code};
use super::policy::{self, LETTER_RULES, Outcome};
use super::store::{self, CancelOutcome, ConfirmOutcome};
use crate::app::{AppState, Chrome, ClientIp, render};
use crate::audit::{self, subject_hash};
use crate::auth::csrf::CsrfToken;
use crate::captcha::{self, CaptchaError, Challenge, Proof};
use crate::domain::AccessCode;
use crate::domain::address::UsState;
use crate::error::AppError;
use crate::flows::access_code::form::FieldError;
use crate::flows::access_code::store as people;
use crate::i18n::Lang;
use crate::limits::{self, Limit, Verdict};
use crate::outbox::OutgoingEmail;

const PATH: &str = "/change-address";

type Errors = Vec<(FieldError, String)>;

fn find_err<'e>(errors: &'e Errors, field: &str) -> Option<&'e str> {
    errors
        .iter()
        .find(|(e, _)| e.field == field)
        .map(|(_, m)| m.as_str())
}

#[derive(askama::Template)]
#[template(path = "flows/change_address/form.html")]
struct FormTemplate<'a> {
    c: Chrome<'a>,
    f: RawForm,
    errors: Errors,
    states: Vec<(&'static str, &'static str)>,
    months: Vec<(String, &'a str)>,
    hold_days: i64,
}

impl FormTemplate<'_> {
    fn err(&self, field: &str) -> Option<&str> {
        find_err(&self.errors, field)
    }
    fn has_err(&self, field: &str) -> bool {
        self.err(field).is_some()
    }
    fn checked_kind(&self, kind: &str) -> bool {
        (kind == "receipt") == self.f.uses_receipt()
    }
}

#[derive(askama::Template)]
#[template(path = "flows/change_address/review.html")]
struct ReviewTemplate<'a> {
    c: Chrome<'a>,
    f: RawForm,
    delivery_line: String,
    last_line: String,
    challenge: Challenge,
    captcha_error: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "flows/change_address/answer.html")]
struct AnswerTemplate<'a> {
    c: Chrome<'a>,
    delivery_line: String,
    last_line: String,
    hold_days: i64,
}

#[derive(askama::Template)]
#[template(path = "flows/access_code/limited.html")]
struct LimitedTemplate<'a> {
    c: Chrome<'a>,
    retry: String,
}

#[derive(askama::Template)]
#[template(path = "flows/change_address/confirm.html")]
struct ConfirmTemplate<'a> {
    c: Chrome<'a>,
    f: ConfirmForm,
    errors: Errors,
    /// Set when the code did not match (one message for every reason).
    refused: bool,
}

impl ConfirmTemplate<'_> {
    fn err(&self, field: &str) -> Option<&str> {
        find_err(&self.errors, field)
    }
    fn has_err(&self, field: &str) -> bool {
        self.err(field).is_some()
    }
    fn checked_kind(&self, kind: &str) -> bool {
        (kind == "receipt") == self.f.uses_receipt()
    }
}

#[derive(askama::Template)]
#[template(path = "flows/change_address/confirmed.html")]
struct ConfirmedTemplate<'a> {
    c: Chrome<'a>,
    effective: String,
}

#[derive(askama::Template)]
#[template(path = "flows/change_address/cancel.html")]
struct CancelTemplate<'a> {
    c: Chrome<'a>,
    code: String,
    errors: Errors,
    /// `unknown` or `too_late`, when the code did not cancel anything.
    refused: Option<&'static str>,
    done: bool,
}

impl CancelTemplate<'_> {
    fn err(&self, field: &str) -> Option<&str> {
        find_err(&self.errors, field)
    }
    fn has_err(&self, field: &str) -> bool {
        self.err(field).is_some()
    }
}

fn messages(state: &AppState, lang: Lang, errors: Vec<FieldError>) -> Errors {
    errors
        .into_iter()
        .map(|e| {
            let m = state.messages.get(lang, e.key).to_string();
            (e, m)
        })
        .collect()
}

fn titled<'a>(c: Chrome<'a>, key: &str, has_errors: bool) -> Chrome<'a> {
    let title = if has_errors {
        format!("{}: {}", c.t("status.error_prefix"), c.t(key))
    } else {
        c.t(key).to_string()
    };
    c.titled(title)
}

fn hold_days(state: &AppState) -> i64 {
    state.config.address_change_hold_days
}

fn date_text(state: &AppState, lang: Lang, at: i64) -> String {
    state.messages.long_date(lang, state.local_date(at))
}

fn form_page(
    state: &AppState,
    lang: Lang,
    csrf: &CsrfToken,
    f: RawForm,
    errors: Vec<FieldError>,
) -> Response {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let c = Chrome::new(state, lang, PATH, "").with_csrf(csrf.clone());
    let c = titled(c, "change_address.title", !errors.is_empty());
    let t = FormTemplate {
        c,
        f,
        errors: messages(state, lang, errors),
        states: UsState::ALL.iter().map(|s| (s.code(), s.name())).collect(),
        months: state.messages.months(lang),
        hold_days: hold_days(state),
    };
    (status, render(&t)).into_response()
}

pub async fn form(State(state): State<AppState>, lang: Lang, csrf: CsrfToken) -> Response {
    let f = RawForm {
        id_kind: "a_number".into(),
        ..RawForm::default()
    };
    form_page(&state, lang, &csrf, f, vec![])
}

/// Back from the review to the form, with what was typed.
pub async fn edit(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    Form(raw): Form<RawForm>,
) -> Response {
    form_page(&state, lang, &csrf, raw.trimmed(), vec![])
}

fn review_page(
    state: &AppState,
    lang: Lang,
    csrf: &CsrfToken,
    f: RawForm,
    address: &crate::domain::UsAddress,
    captcha_error: Option<&str>,
) -> Response {
    let c = Chrome::new(state, lang, PATH, "").with_csrf(csrf.clone());
    let c = titled(c, "change_address.review.title", captcha_error.is_some());
    let cfg = &state.config;
    let challenge = captcha::issue(
        &state.secrets.captcha_key,
        &mut rand::rngs::OsRng,
        state.now().timestamp(),
        cfg.captcha_ttl_secs,
        cfg.captcha_difficulty,
    );
    let t = ReviewTemplate {
        c,
        f,
        delivery_line: address.delivery_line(),
        last_line: address.last_line(),
        challenge,
        captcha_error: captcha_error.map(|k| state.messages.get(lang, k).to_string()),
    };
    let status = if captcha_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (status, render(&t)).into_response()
}

/// Step 1: check the fields and show the normalised new address back.
pub async fn review(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    Form(raw): Form<RawForm>,
) -> Response {
    let raw = raw.trimmed();
    match raw.parse(state.now().date_naive()) {
        Ok(s) => review_page(&state, lang, &csrf, raw, &s.address, None),
        Err(errors) => form_page(&state, lang, &csrf, raw, errors),
    }
}

fn limited(state: &AppState, lang: Lang, retry_at: i64) -> Response {
    let retry = state.date_time(lang, retry_at);
    let c = Chrome::new(state, lang, PATH, "");
    let title = c.t("access.limited.heading").to_string();
    let mut resp = (
        StatusCode::TOO_MANY_REQUESTS,
        render(&LimitedTemplate {
            c: c.titled(title),
            retry,
        }),
    )
        .into_response();
    let secs = (retry_at - state.now().timestamp()).max(1);
    if let Ok(v) = secs.to_string().parse() {
        resp.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, v);
    }
    resp
}

async fn audit_event(
    state: &AppState,
    at: i64,
    action: &str,
    subject: Option<&str>,
    ip: &str,
    detail: &str,
) -> Result<(), AppError> {
    audit::record(
        &state.db,
        &audit::Event {
            at,
            actor: "public",
            action,
            subject: subject.map(str::to_string),
            ip: Some(ip.to_string()),
            detail: detail.to_string(),
        },
    )
    .await?;
    Ok(())
}

/// Step 2: the request. Unknown, mismatched and protected identities, an
/// unchanged address and a spent letter budget all get the answer a real
/// request gets, padded to the same duration.
pub async fn request(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Form(raw): Form<RawForm>,
) -> Result<Response, AppError> {
    let raw = raw.trimmed();
    let now = state.now();
    let ts = now.timestamp();
    let key = &state.secrets.identifier_key;
    let ip_subject = subject_hash(key, "ip", &ip);
    const ACTION: &str = "address_change.request";

    if let Verdict::Exceeded { retry_at } =
        limits::hit(&state.db, Limit::AddressChangePerIp, &ip_subject, ts).await?
    {
        audit_event(&state, ts, ACTION, None, &ip, "limited_ip").await?;
        return Ok(limited(&state, lang, retry_at));
    }
    if let Verdict::Exceeded { retry_at } =
        limits::peek(&state.db, Limit::CaptchaFailuresPerIp, &ip_subject, ts).await?
    {
        audit_event(&state, ts, ACTION, None, &ip, "limited_captcha").await?;
        return Ok(limited(&state, lang, retry_at));
    }
    let submitted = match raw.parse(now.date_naive()) {
        Ok(s) => s,
        Err(errors) => return Ok(form_page(&state, lang, &csrf, raw, errors)),
    };
    // The CAPTCHA: verified, then spent (a replayed solution is refused).
    let proof = Proof::from_field(Some(raw.captcha_solution.as_str()));
    let captcha = match captcha::verify(
        &state.secrets.captcha_key,
        &raw.captcha_token,
        proof,
        ts,
        state.config.captcha_min_fill_secs,
    ) {
        Ok(v) if people::spend_captcha(&state.db, &v.challenge_id, v.expires_at).await? => Ok(()),
        Ok(_) => Err(CaptchaError::Expired),
        Err(e) => Err(e),
    };
    if let Err(e) = captcha {
        limits::hit(&state.db, Limit::CaptchaFailuresPerIp, &ip_subject, ts).await?;
        audit_event(&state, ts, ACTION, None, &ip, "captcha_failed").await?;
        let key = match e {
            CaptchaError::TooFast { .. } => "access.error.captcha_too_fast",
            CaptchaError::Expired => "access.error.captcha_expired",
            _ => "access.error.captcha",
        };
        let address = submitted.address.clone();
        return Ok(review_page(&state, lang, &csrf, raw, &address, Some(key)));
    }

    // From here on the answer depends on the records: pad every outcome.
    let started = Instant::now();
    let floor = Duration::from_millis(state.config.verify_floor_ms);
    let (kind, value) = submitted.identifier.parts();
    let id_subject = subject_hash(key, kind, value);
    let response = match limits::hit(
        &state.db,
        Limit::AddressChangePerIdentifier,
        &id_subject,
        ts,
    )
    .await?
    {
        Verdict::Exceeded { retry_at } => {
            audit_event(
                &state,
                ts,
                ACTION,
                Some(&id_subject),
                &ip,
                "limited_identifier",
            )
            .await?;
            limited(&state, lang, retry_at)
        }
        Verdict::Allowed { .. } => {
            crate::address_change::store::apply_due(&state.db, ts).await?;
            let person = people::find_person(&state.db, &submitted.identifier).await?;
            let letters = match &person {
                Some(p) => {
                    people::letters_since(
                        &state.db,
                        p.person_id,
                        ts - LETTER_RULES.letter_window_secs,
                    )
                    .await?
                }
                None => vec![],
            };
            let outcome = policy::verify(ts, &submitted, person.as_ref(), &letters, &LETTER_RULES);
            match (&outcome, &person) {
                (Outcome::Send, Some(p)) => {
                    let mut rng = rand::rngs::OsRng;
                    let confirm_code = AccessCode::generate(&mut rng);
                    let cancel_code = AccessCode::generate(&mut rng);
                    let email = p.email.as_ref().map(|to| {
                        notice_email(
                            &state,
                            lang,
                            to.as_str(),
                            &submitted.address.masked(),
                            &cancel_code,
                        )
                    });
                    store::create_request(
                        &state.db,
                        &state.secrets,
                        &mut rng,
                        store::NewRequest {
                            person: p,
                            new_address: &submitted.address,
                            lang,
                            confirm_code: &confirm_code,
                            cancel_code: &cancel_code,
                            now: ts,
                            email,
                            subject: &id_subject,
                            ip: &ip,
                        },
                    )
                    .await?;
                    state.outbox_wake.notify_one();
                }
                _ => {
                    audit_event(&state, ts, ACTION, Some(&id_subject), &ip, outcome.code()).await?;
                }
            }
            let c = Chrome::new(&state, lang, PATH, "");
            let c = titled(c, "change_address.answer.title", false);
            render(&AnswerTemplate {
                c,
                delivery_line: submitted.address.delivery_line(),
                last_line: submitted.address.last_line(),
                hold_days: hold_days(&state),
            })
        }
    };
    if let Some(rest) = floor.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    Ok(response)
}

fn notice_email(
    state: &AppState,
    lang: Lang,
    to: &str,
    new_address: &str,
    cancel_code: &AccessCode,
) -> OutgoingEmail {
    let m = state.messages;
    let url = state.config.public_url.as_str();
    let grouped = cancel_code.grouped();
    let args = [
        ("code", grouped.as_str()),
        ("address", new_address),
        ("url", url),
        ("agency", state.agency(lang)),
    ];
    OutgoingEmail {
        to: to.to_string(),
        subject: m.fmt(lang, "email.address_change.subject", &args),
        text: m.fmt(lang, "email.address_change.body", &args),
    }
}

fn confirm_page(
    state: &AppState,
    lang: Lang,
    csrf: &CsrfToken,
    f: ConfirmForm,
    errors: Vec<FieldError>,
    refused: bool,
) -> Response {
    let status = if errors.is_empty() && !refused {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let c = Chrome::new(state, lang, "/change-address/confirm", "").with_csrf(csrf.clone());
    let c = titled(
        c,
        "change_address.confirm.title",
        !errors.is_empty() || refused,
    );
    let t = ConfirmTemplate {
        c,
        f: ConfirmForm {
            code: String::new(),
            ..f
        },
        errors: messages(state, lang, errors),
        refused,
    };
    (status, render(&t)).into_response()
}

pub async fn confirm_form(State(state): State<AppState>, lang: Lang, csrf: CsrfToken) -> Response {
    let f = ConfirmForm {
        id_kind: "a_number".into(),
        ..ConfirmForm::default()
    };
    confirm_page(&state, lang, &csrf, f, vec![], false)
}

/// The letter's code: the change is scheduled after the hold.
pub async fn confirm(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Form(f): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let f = f.trimmed();
    let ts = state.now().timestamp();
    let ip_subject = subject_hash(&state.secrets.identifier_key, "ip", &ip);
    if let Verdict::Exceeded { retry_at } =
        limits::peek(&state.db, Limit::AddressCodeFailuresPerIp, &ip_subject, ts).await?
    {
        audit_event(
            &state,
            ts,
            "address_change.confirm",
            None,
            &ip,
            "limited_ip",
        )
        .await?;
        return Ok(limited(&state, lang, retry_at));
    }
    let (id, code) = match f.parse() {
        Ok(v) => v,
        Err(errors) => return Ok(confirm_page(&state, lang, &csrf, f, errors, false)),
    };
    let started = Instant::now();
    let floor = Duration::from_millis(state.config.verify_floor_ms);
    let person = people::find_person(&state.db, &id).await?;
    let outcome = match &person {
        Some(p) if !p.protected => {
            store::confirm(
                &state.db,
                &state.secrets,
                p.person_id,
                &code,
                ts,
                hold_days(&state) * 86_400,
                &ip,
            )
            .await?
        }
        _ => ConfirmOutcome::NotMatched,
    };
    let response = match outcome {
        ConfirmOutcome::Confirmed { hold_until } => {
            let c = Chrome::new(&state, lang, "/change-address/confirm", "");
            let c = titled(c, "change_address.confirmed.title", false);
            render(&ConfirmedTemplate {
                c,
                effective: date_text(&state, lang, hold_until),
            })
        }
        ConfirmOutcome::NotMatched => {
            limits::hit(&state.db, Limit::AddressCodeFailuresPerIp, &ip_subject, ts).await?;
            if person.as_ref().is_none_or(|p| p.protected) {
                audit_event(
                    &state,
                    ts,
                    "address_change.confirm",
                    None,
                    &ip,
                    "not_matched",
                )
                .await?;
            }
            confirm_page(&state, lang, &csrf, f, vec![], true)
        }
    };
    if let Some(rest) = floor.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    Ok(response)
}

fn cancel_page(
    state: &AppState,
    lang: Lang,
    csrf: &CsrfToken,
    errors: Vec<FieldError>,
    refused: Option<&'static str>,
    done: bool,
) -> Response {
    let status = if errors.is_empty() && refused.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let c = Chrome::new(state, lang, "/change-address/cancel", "").with_csrf(csrf.clone());
    let key = if done {
        "change_address.cancelled.title"
    } else {
        "change_address.cancel.title"
    };
    let c = titled(c, key, !errors.is_empty() || refused.is_some());
    let t = CancelTemplate {
        c,
        code: String::new(),
        errors: messages(state, lang, errors),
        refused,
        done,
    };
    (status, render(&t)).into_response()
}

pub async fn cancel_form(State(state): State<AppState>, lang: Lang, csrf: CsrfToken) -> Response {
    cancel_page(&state, lang, &csrf, vec![], None, false)
}

/// "This was not me": cancels the change during its hold.
pub async fn cancel(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Form(f): Form<CancelForm>,
) -> Result<Response, AppError> {
    let ts = state.now().timestamp();
    let ip_subject = subject_hash(&state.secrets.identifier_key, "ip", &ip);
    if let Verdict::Exceeded { retry_at } =
        limits::peek(&state.db, Limit::AddressCodeFailuresPerIp, &ip_subject, ts).await?
    {
        audit_event(&state, ts, "address_change.cancel", None, &ip, "limited_ip").await?;
        return Ok(limited(&state, lang, retry_at));
    }
    let code = match parse_code(f.code.chars().take(64).collect::<String>().as_str()) {
        Ok(c) => c,
        Err(e) => return Ok(cancel_page(&state, lang, &csrf, vec![e], None, false)),
    };
    // A change whose hold has ended is applied first, so "too late" is exact.
    crate::address_change::store::apply_due(&state.db, ts).await?;
    Ok(
        match store::cancel(&state.db, &state.secrets, &code, ts, &ip).await? {
            CancelOutcome::Cancelled => cancel_page(&state, lang, &csrf, vec![], None, true),
            CancelOutcome::TooLate => {
                cancel_page(&state, lang, &csrf, vec![], Some("too_late"), false)
            }
            CancelOutcome::Unknown => {
                limits::hit(&state.db, Limit::AddressCodeFailuresPerIp, &ip_subject, ts).await?;
                audit_event(
                    &state,
                    ts,
                    "address_change.cancel",
                    None,
                    &ip,
                    "unknown_code",
                )
                .await?;
                cancel_page(&state, lang, &csrf, vec![], Some("unknown"), false)
            }
        },
    )
}
