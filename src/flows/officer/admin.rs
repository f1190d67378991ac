//! Admin and intake pages of the console: officers, API clients, account
//! unlocks and resets, access-code revocation; filings entered one at a time
//! or as a CSV file.

use axum::Form;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Response};

use super::form::{AdminAction, AdminForm, FilingForm};
use super::handler::{Officer, audit, audit_in};
use super::store::{self, ClientRow, OfficerRow};
use crate::api_guard::Allowance;
use crate::app::{AppState, Chrome, ClientIp, render};
use crate::auth::account::{self, CodePurpose, Role};
use crate::auth::csrf::CsrfToken;
use crate::authz::OfficerArea;
use crate::domain::{ANumber, Email};
use crate::error::AppError;
use crate::flows::intake::cli::parse_all;
use crate::flows::status_api::{self, SCOPE_INTAKE, SCOPE_STATUS};
use crate::i18n::Lang;

#[derive(askama::Template)]
#[template(path = "flows/officer/admin.html")]
struct AdminTemplate<'a> {
    c: Chrome<'a>,
    officers: Vec<OfficerRow>,
    clients: Vec<ClientRow>,
    /// One-time secrets or links to show now (never stored in clear).
    reveal: Vec<(String, String)>,
    message: Option<String>,
    /// Codes of the identity evidence a help-desk reset may rely on.
    evidence: Vec<&'static str>,
}

async fn admin_page(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    reveal: Vec<(String, String)>,
    message: Option<&str>,
) -> Result<Response, AppError> {
    let officers = store::officers(&state.db).await?;
    let clients = store::api_clients(&state.db).await?;
    let c = Chrome::new(state, lang, "/officer/admin", "")
        .with_csrf(csrf)
        .officer();
    let title = c.t("admin.title").to_string();
    Ok(render(&AdminTemplate {
        c: c.titled(title),
        officers,
        clients,
        reveal,
        message: message.map(|k| state.messages.get(lang, k).to_string()),
        evidence: crate::auth::help_desk::Evidence::ALL
            .iter()
            .map(|e| e.code())
            .collect(),
    }))
}

pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    o: Officer,
) -> Result<Response, AppError> {
    o.require(OfficerArea::Admin)?;
    admin_page(&state, lang, csrf, vec![], None).await
}

/// Every admin action, one form endpoint: which one is `action`.
pub async fn act(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    o: Officer,
    Form(f): Form<AdminForm>,
) -> Result<Response, AppError> {
    o.require(OfficerArea::Admin)?;
    let now = state.now().timestamp();
    let bad = |k| admin_page(&state, lang, csrf.clone(), vec![], Some(k));
    match AdminAction::parse(f)? {
        AdminAction::CreateOfficer { email, role } => {
            let (Ok(email), Some(role)) = (
                Email::parse(email.trim()),
                Role::parse(&role).filter(|r| r.is_officer()),
            ) else {
                return bad("admin.error.officer").await;
            };
            let Some(id) = account::create(&state.db, &email, role, None, now).await? else {
                return bad("admin.error.exists").await;
            };
            let code = crate::auth::new_email_code(&mut rand::rngs::OsRng);
            account::issue_email_code(
                &state.db,
                id,
                CodePurpose::OfficerSetup,
                &crate::auth::email_code_hash(&state.secrets, id, &code),
                now,
                now + crate::auth::email_codes::OFFICER_SETUP_VALID_SECS,
            )
            .await?;
            let link = format!(
                "{}/officer-setup?email={}&code={code}",
                state.config.public_url,
                form_urlencoded::byte_serialize(email.as_str().as_bytes()).collect::<String>()
            );
            audit(
                &state,
                &o,
                "admin.officer_created",
                &ip,
                &format!("{} {}", email.as_str(), role.code()),
            )
            .await?;
            let label = state.messages.get(lang, "admin.setup_link").to_string();
            admin_page(&state, lang, csrf, vec![(label, link)], None).await
        }
        AdminAction::SetDisabled { id, disable } => {
            if id == o.session.account_id {
                return bad("admin.error.self").await;
            }
            // Disabled and signed out everywhere, with its audit entry, at once.
            let mut tx = state.db.pool().begin().await?;
            if !store::set_officer_disabled(&mut tx, id, disable.then_some(now)).await? {
                return Err(AppError::NotFound);
            }
            if disable {
                crate::auth::session::revoke_all_in(&mut *tx, id, None, now).await?;
            }
            let name = if disable {
                "admin.disable_officer"
            } else {
                "admin.enable_officer"
            };
            audit_in(&mut tx, &state, &o, name, &ip, &id.to_string()).await?;
            tx.commit().await?;
            admin_page(&state, lang, csrf, vec![], Some("admin.done")).await
        }
        AdminAction::SetRole { id, role } => {
            let Some(role) = Role::parse(&role).filter(|r| r.is_officer()) else {
                return bad("admin.error.officer").await;
            };
            if id == o.session.account_id {
                return bad("admin.error.self").await;
            }
            let mut tx = state.db.pool().begin().await?;
            if !store::set_officer_role(&mut tx, id, role).await? {
                return Err(AppError::NotFound);
            }
            // A new role takes effect at the next sign-in.
            crate::auth::session::revoke_all_in(&mut *tx, id, None, now).await?;
            audit_in(
                &mut tx,
                &state,
                &o,
                "admin.role_set",
                &ip,
                &format!("{id} {}", role.code()),
            )
            .await?;
            tx.commit().await?;
            admin_page(&state, lang, csrf, vec![], Some("admin.done")).await
        }
        AdminAction::CreateClient { name, intake } => {
            let name: String = name.trim().chars().take(80).collect();
            if name.is_empty() {
                return bad("admin.error.client").await;
            }
            let mut scopes = vec![SCOPE_STATUS];
            if intake {
                scopes.push(SCOPE_INTAKE);
            }
            let created = status_api::create_client(
                &state.db,
                &state.secrets,
                &mut rand::rngs::OsRng,
                &name,
                &scopes,
                Allowance {
                    rate_per_sec: state.config.api_default_rate_per_sec,
                    daily_quota: state.config.api_default_daily_quota,
                },
                now,
            )
            .await?;
            audit(
                &state,
                &o,
                "admin.api_client_created",
                &ip,
                &created.client_id,
            )
            .await?;
            let reveal = vec![
                ("client_id".to_string(), created.client_id),
                ("client_secret".to_string(), created.client_secret),
            ];
            admin_page(&state, lang, csrf, reveal, Some("admin.secret_once")).await
        }
        AdminAction::RotateClient { client_id } => {
            let secret = crate::crypto::random_hex(&mut rand::rngs::OsRng, 24);
            let hash = crate::crypto::hmac_sha256(&state.secrets.api_key, secret.as_bytes());
            // New secret, old tokens gone and the audit entry: all or nothing.
            let mut tx = state.db.pool().begin().await?;
            // Tokens issued with the old secret die with it.
            if !store::rotate_client_secret(&mut tx, &client_id, &hash).await? {
                return Err(AppError::NotFound);
            }
            audit_in(
                &mut tx,
                &state,
                &o,
                "admin.api_client_rotated",
                &ip,
                &client_id,
            )
            .await?;
            tx.commit().await?;
            let reveal = vec![
                ("client_id".to_string(), client_id),
                ("client_secret".to_string(), secret),
            ];
            admin_page(&state, lang, csrf, reveal, Some("admin.secret_once")).await
        }
        AdminAction::DisableClient { client_id } => {
            let mut tx = state.db.pool().begin().await?;
            if !store::disable_client(&mut tx, &client_id, now).await? {
                return Err(AppError::NotFound);
            }
            audit_in(
                &mut tx,
                &state,
                &o,
                "admin.api_client_disabled",
                &ip,
                &client_id,
            )
            .await?;
            tx.commit().await?;
            admin_page(&state, lang, csrf, vec![], Some("admin.done")).await
        }
        AdminAction::Unlock { email } => {
            let Some(acct) = account_by_email(&state, &email).await? else {
                return bad("admin.error.no_account").await;
            };
            crate::auth::throttle::unlock_account(
                &state.db,
                acct.id,
                &crate::auth::throttle::identifier_hash(&state.secrets.identifier_key, &acct.email),
            )
            .await?;
            audit(
                &state,
                &o,
                "admin.unlock",
                &ip,
                &format!("account:{}", acct.id),
            )
            .await?;
            admin_page(&state, lang, csrf, vec![], Some("admin.done")).await
        }
        AdminAction::StartReset {
            email,
            evidence,
            evidence_note,
        } => {
            use crate::auth::help_desk::{Evidence, EvidenceNote, start_reset};
            let Some(acct) = account_by_email(&state, &email).await? else {
                return bad("admin.error.no_account").await;
            };
            let (Some(evidence), Some(note)) = (
                Evidence::parse(&evidence),
                EvidenceNote::parse(&evidence_note),
            ) else {
                let page = bad("admin.evidence.error").await?;
                return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
            };
            start_reset(&state, &acct, evidence, &note, &o.actor(), &ip).await?;
            audit(
                &state,
                &o,
                "admin.start_reset",
                &ip,
                &format!("account:{}", acct.id),
            )
            .await?;
            admin_page(&state, lang, csrf, vec![], Some("admin.done")).await
        }
        AdminAction::RevokeCodes { a_number } => {
            let Ok(a) = ANumber::parse(&a_number) else {
                return bad("admin.error.a_number").await;
            };
            let mut tx = state.db.pool().begin().await?;
            let revoked = store::revoke_unused_codes(&mut tx, &a, now).await?;
            audit_in(
                &mut tx,
                &state,
                &o,
                "admin.codes_revoked",
                &ip,
                &format!("{revoked} codes"),
            )
            .await?;
            tx.commit().await?;
            admin_page(&state, lang, csrf, vec![], Some("admin.done")).await
        }
    }
}

async fn account_by_email(
    state: &AppState,
    email: &str,
) -> Result<Option<account::Account>, AppError> {
    Ok(match Email::parse(email.trim()) {
        Ok(e) => account::by_email(&state.db, &e).await?,
        Err(_) => None,
    })
}

pub struct IntakeResult {
    pub created: Vec<String>,
    pub duplicates: usize,
    pub errors: Vec<(u64, String)>,
}

#[derive(askama::Template)]
#[template(path = "flows/officer/intake.html")]
struct IntakeTemplate<'a> {
    c: Chrome<'a>,
    result: Option<IntakeResult>,
    header: &'static str,
}

pub async fn intake_page(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    o: Officer,
) -> Result<Response, AppError> {
    o.require(OfficerArea::Intake)?;
    let c = Chrome::new(&state, lang, "/officer/intake", "")
        .with_csrf(csrf)
        .officer();
    let title = c.t("intake.title").to_string();
    Ok(render(&IntakeTemplate {
        c: c.titled(title),
        result: None,
        header: CSV_HEADER,
    }))
}

const CSV_HEADER: &str = "a_number,given_name,family_name,date_of_birth,street,unit,city,state,zip,email,form,office,received_date,channel,protected";

/// Files the parsed rows and shows what happened, line by line.
#[allow(clippy::too_many_arguments)]
async fn file_and_report(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    ip: &str,
    o: &Officer,
    filings: Vec<crate::flows::intake::store::Filing>,
    mut errors: Vec<(u64, String)>,
) -> Result<Response, AppError> {
    let outcome = crate::flows::intake::file_filings(state, filings).await?;
    errors.extend(outcome.failed.iter().cloned());
    errors.sort();
    let created: Vec<String> = outcome
        .created
        .iter()
        .map(|c| c.receipt.as_str().to_string())
        .collect();
    audit(
        state,
        o,
        "intake.filed",
        ip,
        &format!("{} created, {} rejected", created.len(), errors.len()),
    )
    .await?;
    let c = Chrome::new(state, lang, "/officer/intake", "")
        .with_csrf(csrf)
        .officer();
    let title = c.t("intake.title").to_string();
    let result = IntakeResult {
        created,
        duplicates: outcome.duplicates.len(),
        errors,
    };
    Ok(render(&IntakeTemplate {
        c: c.titled(title),
        result: Some(result),
        header: CSV_HEADER,
    }))
}

/// One paper filing typed in by an intake officer: the same parser and the
/// same write path as the bulk file.
pub async fn intake_one(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    o: Officer,
    Form(f): Form<FilingForm>,
) -> Result<Response, AppError> {
    o.require(OfficerArea::Intake)?;
    let fields = [
        &f.a_number,
        &f.given_name,
        &f.family_name,
        &f.date_of_birth,
        &f.street,
        &f.unit,
        &f.city,
        &f.state,
        &f.zip,
        &f.email,
        &f.form,
        &f.office,
        &f.received_date,
        &f.channel,
        &f.protected,
    ];
    let cols =
        crate::flows::intake::form::Columns::from_header(crate::flows::intake::form::COLUMNS)
            .map_err(|_| AppError::Internal("intake columns".into()))?;
    let today = state.now().date_naive();
    let (filings, errors) = match crate::flows::intake::form::parse_row(
        &cols,
        |i| fields.get(i).map(|s| s.as_str()).unwrap_or(""),
        today,
    ) {
        Ok(row) => (
            vec![crate::flows::intake::store::Filing {
                line: 1,
                row,
                receipt: None,
            }],
            vec![],
        ),
        Err(e) => (vec![], vec![(1, e.to_string())]),
    };
    file_and_report(&state, lang, csrf, &ip, &o, filings, errors).await
}

/// The bulk CSV (the same format as `casegate intake`) as a file upload.
pub async fn intake_upload(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    o: Officer,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    o.require(OfficerArea::Intake)?;
    let mut csv: Option<Vec<u8>> = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("file") {
            csv = field.bytes().await.ok().map(|b| b.to_vec());
        }
    }
    let csv = csv.ok_or(AppError::BadRequest)?;
    let parsed = parse_all(&csv[..], state.now().date_naive()).map_err(|_| AppError::BadRequest)?;
    file_and_report(&state, lang, csrf, &ip, &o, parsed.filings, parsed.rejected).await
}
