//! Request page (with the draft response), adding and removing files,
//! review-and-confirm, sending, the receipt, and downloads.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::policy::{self, draft_expires_at, human_size};
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
use crate::uploads::identify::{Found, identify};
use crate::uploads::kind::{self, KindError};
use crate::uploads::storage::Storage;

/// One file as the applicant sees it: plain words, no MIME type, no hash.
pub struct FileView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub size: String,
    pub scan: String,
    /// The scan found a threat: the file was set aside.
    pub infected: bool,
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
    errors: Vec<String>,
    notice: Option<String>,
    can_add: bool,
    kept_until: Option<String>,
    count_line: String,
}

#[derive(askama::Template)]
#[template(path = "flows/evidence/review.html")]
struct ReviewTemplate<'a> {
    c: Chrome<'a>,
    receipt: String,
    request_id: i64,
    due: String,
    files: Vec<FileView>,
    intro: String,
    any_infected: bool,
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

fn views(state: &AppState, lang: Lang, rows: &[store::UploadRow]) -> Vec<FileView> {
    let m = state.messages;
    rows.iter()
        .map(|u| FileView {
            id: u.id,
            name: u.display_name.clone(),
            kind: m.get(lang, policy::kind_key(&u.mime)).to_string(),
            size: human_size(u.size),
            scan: m
                .get(lang, &format!("evidence.scan.{}", u.scan.code()))
                .to_string(),
            infected: u.scan == ScanState::Infected,
        })
        .collect()
}

fn long_date(state: &AppState, lang: Lang, iso: &str) -> String {
    chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(|d| state.messages.long_date(lang, d))
        .unwrap_or_else(|_| iso.to_string())
}

/// `{key}_one` for one, `{key}` (with `{count}`) otherwise.
fn counted(state: &AppState, lang: Lang, key: &str, n: usize) -> String {
    let m = state.messages;
    if n == 1 {
        m.get(lang, &format!("{key}_one")).to_string()
    } else {
        m.fmt(lang, key, &[("count", &n.to_string())])
    }
}

fn request_path(receipt: &str, request_id: i64) -> String {
    format!("/account/cases/{receipt}/requests/{request_id}")
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// How many files the last upload added.
    pub added: Option<u32>,
    pub removed: Option<String>,
}

/// The request page with its draft; `errors` are already in words.
#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    lang: Lang,
    csrf: CsrfToken,
    receipt: &str,
    request_id: i64,
    errors: Vec<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let req = store::request(&state.db, request_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let rows = store::uploads(&state.db, request_id).await?;
    let m = state.messages;
    let open = req.responded_at.is_none();
    let kept_until = if open && !rows.is_empty() {
        store::draft_expiry(&state.db, request_id)
            .await?
            .map(|t| m.long_date(lang, state.local_date(t)))
    } else {
        None
    };
    let c = Chrome::new(state, lang, &request_path(receipt, request_id), "")
        .with_csrf(csrf)
        .signed_in(true);
    let title = c.t("evidence.title").to_string();
    let count_line = counted(state, lang, "evidence.count", rows.len());
    let t = RequestTemplate {
        receipt: receipt.to_string(),
        request_id,
        // Each item in the applicant's language (issue 18).
        items: crate::notices::wording::request_lines(m, lang, &req.items.join("\n")),
        due: long_date(state, lang, &req.due_date),
        open,
        can_add: open && (rows.len() as i64) < MAX_FILES,
        files: views(state, lang, &rows),
        errors,
        notice,
        kept_until,
        count_line,
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
    let m = state.messages;
    let notice = match (q.added, &q.removed) {
        (Some(n), _) => Some(counted(&state, lang, "evidence.added", n as usize)),
        (None, Some(_)) => Some(m.get(lang, "evidence.removed").to_string()),
        _ => None,
    };
    page(
        &state,
        lang,
        csrf,
        &case.receipt,
        request_id,
        vec![],
        notice,
        StatusCode::OK,
    )
    .await
}

/// Why one chosen file was not added, in words naming the file.
fn refusal(state: &AppState, lang: Lang, name: &str, key: &str, bytes: Option<&[u8]>) -> String {
    let m = state.messages;
    let why = match bytes.map(identify) {
        Some(Found::Accepted(k)) => m.fmt(
            lang,
            "evidence.error.active",
            &[(
                "what",
                m.get(lang, Found::Accepted(k).message_key().unwrap_or_default()),
            )],
        ),
        Some(found) => match found.message_key() {
            Some(what) => m.fmt(
                lang,
                "evidence.error.type_is",
                &[("what", m.get(lang, what))],
            ),
            None => m.get(lang, key).to_string(),
        },
        None => m.get(lang, key).to_string(),
    };
    if name.is_empty() {
        why
    } else {
        m.fmt(
            lang,
            "evidence.error.named",
            &[("name", name), ("why", &why)],
        )
    }
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
    let (case, request_id, req) = owned_request(&state, s.account_id, &receipt, id).await?;
    let m = state.messages;
    let fail_with = |status: StatusCode, errors: Vec<String>| {
        let state = state.clone();
        let csrf = csrf.clone();
        let receipt = case.receipt.clone();
        async move {
            page(
                &state, lang, csrf, &receipt, request_id, errors, None, status,
            )
            .await
        }
    };
    let said = |key: &str| vec![m.get(lang, key).to_string()];
    // A body that is not well-formed multipart (no or wrong boundary, cut
    // short, a part without a name) is the client's fault: 400, on the form.
    let unreadable = || fail_with(StatusCode::BAD_REQUEST, said("evidence.error.unreadable"));
    let too_big = || {
        fail_with(
            StatusCode::PAYLOAD_TOO_LARGE,
            said("evidence.error.too_big"),
        )
    };
    let Ok(mut multipart) = multipart else {
        return unreadable().await;
    };
    if req.responded_at.is_some() {
        return fail_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            said("evidence.error.closed"),
        )
        .await;
    }
    let already = store::uploads(&state.db, request_id).await?.len() as i64;
    if already >= MAX_FILES {
        return fail_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            said("evidence.error.too_many"),
        )
        .await;
    }
    // Every part named `file` is one chosen file (`<input type=file
    // multiple>` sends one part per file); the whole body stays under the
    // route's limit, each file under kind::MAX_BYTES.
    let mut files: Vec<(String, Vec<u8>)> = vec![];
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
            Ok(b) => {
                // A browser sends an empty, unnamed part when nothing was chosen.
                if !(b.is_empty() && name.is_empty()) {
                    files.push((name, b.to_vec()));
                }
            }
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_big().await,
            Err(_) => return unreadable().await,
        }
    }
    if files.is_empty() {
        return fail_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            said("evidence.error.none"),
        )
        .await;
    }
    let room = (MAX_FILES - already).max(0) as usize;
    let mut errors = vec![];
    let mut added = 0u32;
    for (i, (name, bytes)) in files.into_iter().enumerate() {
        let display = crate::uploads::file_name::safe_display_name(&name);
        if i >= room {
            errors.push(refusal(
                &state,
                lang,
                &display,
                "evidence.error.too_many",
                None,
            ));
            continue;
        }
        if bytes.len() > kind::MAX_BYTES {
            errors.push(refusal(
                &state,
                lang,
                &display,
                "evidence.error.too_big",
                None,
            ));
            continue;
        }
        let k = match kind::detect(&bytes) {
            Ok(k) => k,
            Err(KindError::Empty) => {
                errors.push(refusal(
                    &state,
                    lang,
                    &display,
                    "evidence.error.empty",
                    None,
                ));
                continue;
            }
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
                errors.push(match e {
                    KindError::Truncated => {
                        refusal(&state, lang, &display, "evidence.error.damaged", None)
                    }
                    _ => refusal(&state, lang, &display, "evidence.error.type", Some(&bytes)),
                });
                continue;
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
        store::touch_draft(
            &state.db,
            request_id,
            s.account_id,
            now,
            draft_expires_at(now),
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
        added += 1;
    }
    if !errors.is_empty() {
        if added > 0 {
            errors.insert(0, counted(&state, lang, "evidence.added", added as usize));
        }
        return fail_with(StatusCode::UNPROCESSABLE_ENTITY, errors).await;
    }
    Ok(Redirect::to(&format!(
        "{}?added={added}",
        request_path(&case.receipt, request_id)
    ))
    .into_response())
}

/// Takes one staged file out of the draft (before the response is sent).
pub async fn remove(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    authz::Applicant(s): authz::Applicant,
    Path((receipt, id, upload_id)): Path<(String, i64, i64)>,
) -> Result<Response, AppError> {
    let (case, request_id) = authz::request_for_account(&state.db, s.account_id, &receipt, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let upload_id = authz::upload_for_account(&state.db, s.account_id, &receipt, id, upload_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(key) = store::remove_staged(&state.db, request_id, upload_id).await? else {
        // Already sent: files of a sent response stay.
        let m = state.messages;
        return page(
            &state,
            lang,
            csrf,
            &case.receipt,
            request_id,
            vec![m.get(lang, "evidence.error.closed").to_string()],
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    if let Err(e) = storage(&state).delete(&key).await {
        tracing::warn!(upload = upload_id, error = %e, "removed upload's file not deleted");
    }
    let now = state.now().timestamp();
    store::touch_draft(
        &state.db,
        request_id,
        s.account_id,
        now,
        draft_expires_at(now),
    )
    .await?;
    record(
        &state,
        s.account_id,
        "evidence.removed",
        &ip,
        &format!("{} upload:{upload_id}", case.receipt),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "{}?removed=1",
        request_path(&case.receipt, request_id)
    ))
    .into_response())
}

/// A document request of a case this account may see, with its row; any
/// other request answers 404 (authorization decided in `authz`).
async fn owned_request(
    state: &AppState,
    account_id: i64,
    receipt: &str,
    id: i64,
) -> Result<(authz::CaseRef, i64, store::RequestView), AppError> {
    let (case, request_id) = authz::request_for_account(&state.db, account_id, receipt, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let req = store::request(&state.db, request_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((case, request_id, req))
}

/// Review and confirm: the staged files, before the irreversible send.
pub async fn review(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    authz::Applicant(s): authz::Applicant,
    Path((receipt, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let (case, request_id, req) = owned_request(&state, s.account_id, &receipt, id).await?;
    if req.responded_at.is_some() {
        return Ok(Redirect::to(&format!(
            "{}/receipt",
            request_path(&case.receipt, request_id)
        ))
        .into_response());
    }
    let rows = store::uploads(&state.db, request_id).await?;
    if rows.is_empty() {
        let m = state.messages;
        return page(
            &state,
            lang,
            csrf,
            &case.receipt,
            request_id,
            vec![m.get(lang, "evidence.error.none").to_string()],
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let files = views(&state, lang, &rows);
    let c = Chrome::new(
        &state,
        lang,
        &format!("{}/review", request_path(&case.receipt, request_id)),
        "",
    )
    .with_csrf(csrf)
    .signed_in(true);
    let title = c.t("evidence.review.title").to_string();
    let intro = counted(&state, lang, "evidence.review.intro", files.len())
        .replace("{receipt}", &case.receipt);
    Ok(render(&ReviewTemplate {
        receipt: case.receipt,
        request_id,
        due: long_date(&state, lang, &req.due_date),
        any_infected: files.iter().any(|f| f.infected),
        files,
        intro,
        c: c.titled(title),
    }))
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
    let m = state.messages;
    let rows = store::uploads(&state.db, request_id).await?;
    if rows.is_empty() {
        return page(
            &state,
            lang,
            csrf,
            &case.receipt,
            request_id,
            vec![m.get(lang, "evidence.error.none").to_string()],
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
            vec![m.get(lang, "evidence.error.closed").to_string()],
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
    Ok(Redirect::to(&format!(
        "{}/receipt",
        request_path(&case.receipt, request_id)
    ))
    .into_response())
}

/// The receipt of a sent response (printable; fits a 320 px screen).
pub async fn receipt(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    authz::Applicant(s): authz::Applicant,
    Path((receipt, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let (case, request_id, req) = owned_request(&state, s.account_id, &receipt, id).await?;
    let Some(at) = req.responded_at else {
        return Ok(Redirect::to(&request_path(&case.receipt, request_id)).into_response());
    };
    let rows: Vec<store::UploadRow> = store::uploads(&state.db, request_id)
        .await?
        .into_iter()
        .filter(|u| u.submitted_at.is_some())
        .collect();
    let submitted = state.date_time(lang, at);
    let c = Chrome::new(
        &state,
        lang,
        &format!("{}/receipt", request_path(&case.receipt, request_id)),
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
