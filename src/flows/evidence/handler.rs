//! Request page, upload, download, submit.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::store::{self, NewUpload};
use super::{MAX_FILES, ScanState};
use crate::app::{AppState, Chrome, ClientIp, render};
use crate::auth::csrf::CsrfToken;
use crate::auth::record;
use crate::authz;
use crate::domain::CaseStatus;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::uploads::evidence::{serve, spawn_scan, storage};
use crate::uploads::kind::{self, KindError};
use crate::uploads::storage::Storage;

pub struct FileView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub size: String,
    pub sha256: String,
    pub scan: String,
}

#[derive(askama::Template)]
#[template(path = "flows/evidence/request.html")]
struct RequestTemplate<'a> {
    c: Chrome<'a>,
    receipt: String,
    request_id: i64,
    items: Vec<String>,
    due: String,
    open: bool,
    files: Vec<FileView>,
    error: Option<String>,
    notice: Option<String>,
    can_add: bool,
}

#[derive(askama::Template)]
#[template(path = "flows/evidence/receipt.html")]
struct ReceiptTemplate<'a> {
    c: Chrome<'a>,
    receipt: String,
    submitted: String,
    files: Vec<FileView>,
}

/// Most bytes of headers one part of an upload may carry; a browser sends
/// a few hundred.
const MAX_PART_HEADER_BYTES: usize = 8 * 1024;

fn human_size(n: i64) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1} MB", n as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (n + 1023) / 1024)
    }
}

fn views(state: &AppState, lang: Lang, rows: &[store::UploadRow]) -> Vec<FileView> {
    rows.iter()
        .map(|u| FileView {
            id: u.id,
            name: u.display_name.clone(),
            kind: u.mime.clone(),
            size: human_size(u.size),
            sha256: u.sha256.clone(),
            scan: state
                .messages
                .get(lang, &format!("evidence.scan.{}", u.scan.code()))
                .to_string(),
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub uploaded: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    receipt: &str,
    request_id: i64,
    error: Option<&str>,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let req = store::request(&state.db, request_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let rows = store::uploads(&state.db, request_id).await?;
    let m = state.messages;
    let due = chrono::NaiveDate::parse_from_str(&req.due_date, "%Y-%m-%d")
        .map(|d| m.long_date(lang, d))
        .unwrap_or(req.due_date.clone());
    let c = Chrome::new(
        state,
        lang,
        &format!("/account/cases/{receipt}/requests/{request_id}"),
        "",
    )
    .with_csrf(csrf)
    .signed_in(true);
    let title = c.t("evidence.title").to_string();
    let t = RequestTemplate {
        receipt: receipt.to_string(),
        request_id,
        // Each item in the applicant's language (issue 18).
        items: crate::notices::wording::request_lines(m, lang, &req.items.join("\n")),
        due,
        open: req.responded_at.is_none(),
        can_add: req.responded_at.is_none() && (rows.len() as i64) < MAX_FILES,
        files: views(state, lang, &rows),
        error: error.map(|k| m.get(lang, k).to_string()),
        notice: notice.map(|k| m.get(lang, k).to_string()),
        c: c.titled(title),
    };
    Ok((status, render(&t)).into_response())
}

pub async fn request_page(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    authz::Applicant(s): authz::Applicant,
    Path((receipt, id)): Path<(String, i64)>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let (case, request_id) = authz::request_for_account(&state.db, s.account_id, &receipt, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let notice = q.uploaded.as_ref().map(|_| "evidence.uploaded");
    page(
        &state,
        lang,
        csrf,
        &case.receipt,
        request_id,
        None,
        notice,
        StatusCode::OK,
    )
    .await
}

pub async fn upload(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    authz::Applicant(s): authz::Applicant,
    Path((receipt, id)): Path<(String, i64)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let (case, request_id) = authz::request_for_account(&state.db, s.account_id, &receipt, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let req = store::request(&state.db, request_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let fail_with = |status: StatusCode, key: &'static str| {
        let state = state.clone();
        let csrf = csrf.clone();
        let receipt = case.receipt.clone();
        async move {
            page(
                &state,
                lang,
                csrf,
                &receipt,
                request_id,
                Some(key),
                None,
                status,
            )
            .await
        }
    };
    let fail = |key: &'static str| fail_with(StatusCode::UNPROCESSABLE_ENTITY, key);
    // A body that is not well-formed multipart (no or wrong boundary, cut
    // short, a part without a name) is the client's fault: 400, on the form.
    let unreadable = || fail_with(StatusCode::BAD_REQUEST, "evidence.error.unreadable");
    let too_big = || fail_with(StatusCode::PAYLOAD_TOO_LARGE, "evidence.error.too_big");
    let Ok(mut multipart) = multipart else {
        return unreadable().await;
    };
    if req.responded_at.is_some() {
        return fail("evidence.error.closed").await;
    }
    if store::uploads(&state.db, request_id).await?.len() as i64 >= MAX_FILES {
        return fail("evidence.error.too_many").await;
    }
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_big().await,
            Err(_) => return unreadable().await,
        };
        let header_bytes: usize = field
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len())
            .sum();
        if header_bytes > MAX_PART_HEADER_BYTES {
            return unreadable().await;
        }
        match field.name() {
            Some("file") => {}
            Some(_) => continue,
            None => return unreadable().await,
        }
        let name = field.file_name().unwrap_or("").to_string();
        match field.bytes().await {
            Ok(b) => file = Some((name, b.to_vec())),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_big().await,
            Err(_) => return unreadable().await,
        }
    }
    let Some((name, bytes)) = file else {
        return fail("evidence.error.none").await;
    };
    if bytes.len() > kind::MAX_BYTES {
        return fail("evidence.error.too_big").await;
    }
    let k = match kind::detect(&bytes) {
        Ok(k) => k,
        Err(KindError::Empty) => return fail("evidence.error.none").await,
        Err(e) => {
            // A refused file is a security event: audited with its hash,
            // never its name or content.
            let why = match e {
                KindError::Truncated => "damaged",
                _ => "type not accepted",
            };
            let sha = hex::encode(crate::crypto::sha256(&bytes));
            record(
                &state,
                s.account_id,
                "evidence.refused",
                &ip,
                &format!("{} {why} {sha}", case.receipt),
            )
            .await?;
            tracing::warn!(account_id = s.account_id, why, "upload refused");
            return match e {
                KindError::Truncated => fail("evidence.error.damaged").await,
                _ => fail("evidence.error.type").await,
            };
        }
    };
    let stored = storage(&state)
        .put(&bytes)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let scan = if state.config.clamd.is_some() {
        ScanState::Pending
    } else {
        ScanState::NotScanned
    };
    let display = crate::uploads::file_name::safe_display_name(&name);
    let now = state.now().timestamp();
    let upload_id = store::insert_upload(
        &state.db,
        NewUpload {
            request_id,
            account_id: s.account_id,
            key: &stored.key,
            sha256: &stored.sha256,
            size: stored.size as i64,
            mime: k.mime(),
            display_name: &display,
            scan,
            now,
        },
    )
    .await?;
    record(
        &state,
        s.account_id,
        "evidence.uploaded",
        &ip,
        &format!("{} {}", case.receipt, stored.sha256),
    )
    .await?;
    if scan == ScanState::Pending {
        spawn_scan(state.clone(), upload_id, stored.key, bytes);
    }
    Ok(Redirect::to(&format!(
        "/account/cases/{}/requests/{}?uploaded=1",
        case.receipt, request_id
    ))
    .into_response())
}

pub async fn download(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    authz::Applicant(s): authz::Applicant,
    Path((receipt, id, upload_id)): Path<(String, i64, i64)>,
) -> Result<Response, AppError> {
    let upload_id = authz::upload_for_account(&state.db, s.account_id, &receipt, id, upload_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let row = store::upload(&state.db, upload_id)
        .await?
        .ok_or(AppError::NotFound)?;
    serve(
        &state,
        &receipt,
        row,
        &format!("account:{}", s.account_id),
        &ip,
    )
    .await
}

pub async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    authz::Applicant(s): authz::Applicant,
    Path((receipt, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let (case, request_id) = authz::request_for_account(&state.db, s.account_id, &receipt, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let rows = store::uploads(&state.db, request_id).await?;
    if rows.is_empty() {
        return page(
            &state,
            lang,
            csrf,
            &case.receipt,
            request_id,
            Some("evidence.error.none"),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let now = state.now().timestamp();
    if !store::submit(&state.db, request_id, now).await? {
        return page(
            &state,
            lang,
            csrf,
            &case.receipt,
            request_id,
            Some("evidence.error.closed"),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    // The case moves on when it was waiting for this response.
    let mut tx = state.db.pool().begin().await?;
    match crate::casework::change_status(
        &mut tx,
        &state,
        case.case_id,
        CaseStatus::EvidenceResponseReceived,
        "applicant",
        now,
    )
    .await
    {
        Ok(changed) => {
            tx.commit().await?;
            changed.committed(&state);
        }
        Err(crate::casework::ChangeError::Transition(_)) => {}
        Err(crate::casework::ChangeError::NotFound) => return Err(AppError::NotFound),
        Err(crate::casework::ChangeError::Store(e)) => return Err(e.into()),
    }
    record(
        &state,
        s.account_id,
        "evidence.submitted",
        &ip,
        &case.receipt,
    )
    .await?;
    let rows = store::uploads(&state.db, request_id).await?;
    let submitted = state.date_time(lang, now);
    let c = Chrome::new(
        &state,
        lang,
        &format!("/account/cases/{}", case.receipt),
        "",
    )
    .with_csrf(csrf)
    .signed_in(true);
    let title = c.t("evidence.receipt.title").to_string();
    Ok(render(&ReceiptTemplate {
        c: c.titled(title),
        receipt: case.receipt,
        submitted,
        files: views(&state, lang, &rows),
    }))
}
