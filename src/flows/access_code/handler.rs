//! `GET /access-code` (the form) and `POST /access-code` (the request).

use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::form::{Delivery, FieldError, RawForm};
use super::policy::{self, Outcome, RULES};
use super::store;
use crate::app::{AppState, Chrome, ClientIp, render};
use crate::audit::{self, subject_hash};
use crate::auth::csrf::CsrfToken;
use crate::captcha::{self, CaptchaError, Challenge, Proof};
use crate::domain::AccessCode;
use crate::domain::address::UsState;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::limits::{self, Limit, Verdict};
use crate::outbox::OutgoingEmail;

/// A message box above the form.
pub struct Alert {
    /// USWDS alert variant: `error`, `warning` or `info`.
    pub kind: &'static str,
    pub heading: String,
    pub body: String,
    /// The next steps, (address, text): the first is shown as a button.
    pub links: Vec<(String, String)>,
}

#[derive(askama::Template)]
#[template(path = "flows/access_code/form.html")]
struct FormTemplate<'a> {
    c: Chrome<'a>,
    f: RawForm,
    errors: Vec<(FieldError, String)>,
    alert: Option<Alert>,
    challenge: Challenge,
    states: Vec<(&'static str, &'static str)>,
    months: Vec<(String, &'a str)>,
}

impl FormTemplate<'_> {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(e, _)| e.field == field)
            .map(|(_, m)| m.as_str())
    }
    fn has_err(&self, field: &str) -> bool {
        self.err(field).is_some()
    }
    fn checked_kind(&self, kind: &str) -> bool {
        if kind == "receipt" {
            self.f.uses_receipt()
        } else {
            !self.f.uses_receipt()
        }
    }
}

#[derive(askama::Template)]
#[template(path = "flows/access_code/sent.html")]
struct SentTemplate<'a> {
    c: Chrome<'a>,
    by_email: bool,
    destination: String,
    expires: String,
}

#[derive(askama::Template)]
#[template(path = "flows/access_code/limited.html")]
struct LimitedTemplate<'a> {
    c: Chrome<'a>,
    retry: String,
}

fn new_challenge(state: &AppState) -> Challenge {
    let c = &state.config;
    captcha::issue(
        &state.secrets.captcha_key,
        &mut rand::rngs::OsRng,
        state.now().timestamp(),
        c.captcha_ttl_secs,
        c.captcha_difficulty,
    )
}

fn form_page(
    state: &AppState,
    lang: Lang,
    csrf: &CsrfToken,
    f: RawForm,
    errors: Vec<FieldError>,
    alert: Option<Alert>,
    status: StatusCode,
) -> Response {
    let c = Chrome::new(state, lang, "/access-code", "").with_csrf(csrf.clone());
    let title = if errors.is_empty() {
        c.t("access.title").to_string()
    } else {
        format!("{}: {}", c.t("status.error_prefix"), c.t("access.title"))
    };
    let errors = errors
        .into_iter()
        .map(|e| {
            let m = state.messages.get(lang, e.key).to_string();
            (e, m)
        })
        .collect();
    let months = state.messages.months(lang);
    let t = FormTemplate {
        c: c.titled(title),
        f,
        errors,
        alert,
        challenge: new_challenge(state),
        states: UsState::ALL.iter().map(|s| (s.code(), s.name())).collect(),
        months,
    };
    (status, render(&t)).into_response()
}

pub async fn form(State(state): State<AppState>, lang: Lang, csrf: CsrfToken) -> Response {
    let f = RawForm {
        id_kind: "a_number".into(),
        ..RawForm::default()
    };
    form_page(&state, lang, &csrf, f, vec![], None, StatusCode::OK)
}

fn limited(state: &AppState, lang: Lang, retry_at: i64) -> Response {
    let retry = state.date_time(lang, retry_at);
    let c = Chrome::new(state, lang, "/access-code", "");
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

fn alert(
    state: &AppState,
    lang: Lang,
    kind: &'static str,
    key: &str,
    args: &[(&str, &str)],
) -> Alert {
    let m = state.messages;
    Alert {
        kind,
        heading: m.get(lang, &format!("{key}.heading")).to_string(),
        body: m.fmt(lang, &format!("{key}.body"), args),
        links: vec![],
    }
}

/// A next-step link: an address and the message key of its text.
fn next(state: &AppState, lang: Lang, href: &str, key: &str) -> (String, String) {
    (href.to_string(), state.messages.get(lang, key).to_string())
}

pub async fn submit(
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

    if let Verdict::Exceeded { retry_at } =
        limits::hit(&state.db, Limit::AccessCodePerIp, &ip_subject, ts).await?
    {
        audit_request(&state, ts, None, &ip, "limited_ip").await?;
        return Ok(limited(&state, lang, retry_at));
    }
    if let Verdict::Exceeded { retry_at } =
        limits::peek(&state.db, Limit::CaptchaFailuresPerIp, &ip_subject, ts).await?
    {
        audit_request(&state, ts, None, &ip, "limited_captcha").await?;
        return Ok(limited(&state, lang, retry_at));
    }

    // The CAPTCHA: verified, then spent (a replayed solution is refused).
    let proof = Proof::from_field(Some(raw.captcha_solution.as_str()));
    let captcha = match captcha::verify(
        &state.secrets.captcha_key,
        &raw.captcha_token,
        proof,
        ts,
        state.config.captcha_min_fill_secs,
    ) {
        Ok(v) => {
            if store::spend_captcha(&state.db, &v.challenge_id, v.expires_at).await? {
                Ok(v)
            } else {
                Err(CaptchaError::Expired)
            }
        }
        Err(e) => Err(e),
    };
    let parsed = raw.parse(now.date_naive());
    let mut errors = match &parsed {
        Ok(_) => vec![],
        Err(e) => e.clone(),
    };
    if let Err(e) = &captcha {
        limits::hit(&state.db, Limit::CaptchaFailuresPerIp, &ip_subject, ts).await?;
        errors.insert(
            0,
            FieldError {
                field: "captcha",
                key: match e {
                    CaptchaError::TooFast { .. } => "access.error.captcha_too_fast",
                    CaptchaError::Expired => "access.error.captcha_expired",
                    _ => "access.error.captcha",
                },
            },
        );
        audit_request(&state, ts, None, &ip, "captcha_failed").await?;
    }
    let submitted = match parsed {
        Ok(s) if errors.is_empty() => s,
        _ => {
            return Ok(form_page(
                &state,
                lang,
                &csrf,
                raw,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };

    // From here on the answer depends on the records: pad every outcome to
    // the same duration so timing reveals nothing.
    let started = Instant::now();
    let floor = Duration::from_millis(state.config.verify_floor_ms);
    let (kind, value) = submitted.identifier.parts();
    let id_subject = subject_hash(key, kind, value);
    let response = match limits::hit(&state.db, Limit::AccessCodePerIdentifier, &id_subject, ts)
        .await?
    {
        Verdict::Exceeded { retry_at } => {
            audit_request(&state, ts, Some(&id_subject), &ip, "limited_identifier").await?;
            limited(&state, lang, retry_at)
        }
        Verdict::Allowed { .. } => {
            // A change of address whose hold has ended goes on file first.
            crate::address_change::store::apply_due(&state.db, ts).await?;
            let person = store::find_person(&state.db, &submitted.identifier).await?;
            let letters = match &person {
                Some(p) => {
                    store::letters_since(&state.db, p.person_id, ts - RULES.letter_window_secs)
                        .await?
                }
                None => vec![],
            };
            let outcome = policy::verify(ts, &submitted, person.as_ref(), &letters, &RULES);
            let detail = outcome_code(&outcome, submitted.delivery);
            let resp = match (outcome, person) {
                (
                    Outcome::Issue {
                        delivery,
                        expires_at,
                    },
                    Some(p),
                ) => {
                    let code = AccessCode::generate(&mut rand::rngs::OsRng);
                    let expires = expiry_text(&state, lang, expires_at);
                    let email = match (&p.email, delivery) {
                        (Some(to), Delivery::Email) => {
                            Some(code_email(&state, lang, to.as_str(), &code, &expires))
                        }
                        _ => None,
                    };
                    store::issue(
                        &state.db,
                        &state.secrets,
                        &mut rand::rngs::OsRng,
                        store::Issue {
                            person: &p,
                            delivery,
                            code: &code,
                            now: ts,
                            expires_at,
                            lang,
                            email,
                        },
                    )
                    .await?;
                    if delivery == Delivery::Email {
                        state.outbox_wake.notify_one();
                    }
                    let destination = match delivery {
                        Delivery::Email => p.email.as_ref().map(|e| e.masked()).unwrap_or_default(),
                        Delivery::Post => p.address.masked(),
                    };
                    let c = Chrome::new(&state, lang, "/access-code", "");
                    let title = c.t("access.sent.title").to_string();
                    render(&SentTemplate {
                        c: c.titled(title),
                        by_email: delivery == Delivery::Email,
                        destination,
                        expires,
                    })
                }
                (Outcome::AddressMismatch, _) => {
                    let mut a = alert(&state, lang, "error", "access.mismatch", &[]);
                    a.links = vec![
                        next(&state, lang, "/change-address", "help.next.change_address"),
                        next(&state, lang, "/help#address-mismatch", "help.next.help"),
                    ];
                    form_page(&state, lang, &csrf, raw, vec![], Some(a), StatusCode::OK)
                }
                (Outcome::NoEmailOnFile, _) => {
                    let mut f = raw;
                    f.delivery = "post".into();
                    // Not a refusal: the form below, set to a letter, is the next step.
                    let a = alert(&state, lang, "info", "access.no_email", &[]);
                    form_page(&state, lang, &csrf, f, vec![], Some(a), StatusCode::OK)
                }
                (Outcome::LetterNotYet { next_at }, _) => {
                    let date = expiry_text(&state, lang, next_at);
                    let mut a = alert(
                        &state,
                        lang,
                        "warning",
                        "access.letter_not_yet",
                        &[("date", &date)],
                    );
                    a.links = vec![next(
                        &state,
                        lang,
                        "/help#code-never-arrived",
                        "help.next.code_not_arrived",
                    )];
                    form_page(&state, lang, &csrf, raw, vec![], Some(a), StatusCode::OK)
                }
                // NotVerified, and (defensively) an Issue without a person.
                _ => {
                    // The same answer for unknown, mismatched and protected.
                    let mut a = alert(&state, lang, "error", "access.not_verified", &[]);
                    a.links = vec![next(
                        &state,
                        lang,
                        "/help#could-not-verify",
                        "help.next.what_to_check",
                    )];
                    form_page(&state, lang, &csrf, raw, vec![], Some(a), StatusCode::OK)
                }
            };
            audit_request(&state, ts, Some(&id_subject), &ip, &detail).await?;
            resp
        }
    };
    if let Some(rest) = floor.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    Ok(response)
}

fn outcome_code(o: &Outcome, d: Delivery) -> String {
    let what = match o {
        Outcome::Issue { .. } => "issued",
        Outcome::AddressMismatch => "address_mismatch",
        Outcome::NotVerified => "not_verified",
        Outcome::NoEmailOnFile => "no_email_on_file",
        Outcome::LetterNotYet { .. } => "letter_not_yet",
    };
    format!("{what} channel={}", d.code())
}

fn expiry_text(state: &AppState, lang: Lang, at: i64) -> String {
    state.date_time(lang, at)
}

fn code_email(
    state: &AppState,
    lang: Lang,
    to: &str,
    code: &AccessCode,
    expires: &str,
) -> OutgoingEmail {
    let m = state.messages;
    let url = state.config.public_url.as_str();
    let agency = state.agency(lang);
    let grouped = code.grouped();
    let args = [
        ("code", grouped.as_str()),
        ("expires", expires),
        ("url", url),
        ("agency", agency),
    ];
    OutgoingEmail {
        to: to.to_string(),
        subject: m.fmt(lang, "email.access_code.subject", &args),
        text: m.fmt(lang, "email.access_code.body", &args),
    }
}

async fn audit_request(
    state: &AppState,
    at: i64,
    subject: Option<&str>,
    ip: &str,
    detail: &str,
) -> Result<(), AppError> {
    audit::record(
        &state.db,
        &audit::Event {
            at,
            actor: "public",
            action: "access_code.request",
            subject: subject.map(str::to_string),
            ip: Some(ip.to_string()),
            detail: detail.to_string(),
        },
    )
    .await?;
    Ok(())
}
