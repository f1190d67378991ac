//! Console pages and actions.

use axum::Form;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use sqlx::{Any, Transaction};

use super::form::{
    Appointment, CaseError, CaseQuery, InterviewForm, MailForm, MailQuery, RfeForm, RfeRequest,
    SearchQuery, StatusForm, TransferForm,
};
use super::store::{self, CaseRow};
use crate::app::{AppState, Chrome, ClientIp, render};
use crate::auth::account::Role;
use crate::auth::csrf::CsrfToken;
use crate::auth::session::{FullSession, Session};
use crate::authz::{OfficerArea, officer_may};
use crate::casework::{self, ChangeError};
use crate::domain::notice::{MailState, NoticeKind};
use crate::domain::status::transition;
use crate::domain::{CaseStatus, ReceiptNumber};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::notices::render::LetterContext;
use crate::notices::store as notices;
use crate::status_read::describe::date_of;

/// A fully signed-in officer (applicants and anonymous visitors never get past this).
pub struct Officer {
    pub session: Session,
    pub role: Role,
    /// For auditing a refusal from [`Officer::require`].
    state: AppState,
    ip: String,
    what: String,
}

impl FromRequestParts<AppState> for Officer {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let FullSession(s) = FullSession::from_request_parts(parts, state).await?;
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        let what = format!("{} {}", parts.method, parts.uri.path());
        match Role::parse(&s.role).filter(|r| r.is_officer()) {
            Some(role) => Ok(Officer {
                session: s,
                role,
                state: state.clone(),
                ip,
                what,
            }),
            // An applicant learns nothing about the console: it does not
            // exist for them. The refusal is logged and audited.
            None => {
                let actor = format!("account:{}", s.account_id);
                let what = format!("officer console {what}");
                crate::authz::refused(state, &actor, s.account_id, &ip, &what)
                    .await
                    .map_err(IntoResponse::into_response)?;
                Err(AppError::NotFound.into_response())
            }
        }
    }
}

impl Officer {
    /// Refuses (as a missing page) an area outside the officer's role; the
    /// refusal is logged at once and audited in the background.
    pub fn require(&self, area: OfficerArea) -> Result<(), AppError> {
        if officer_may(self.role, area) {
            return Ok(());
        }
        let (state, actor, ip) = (self.state.clone(), self.actor(), self.ip.clone());
        let (account_id, what) = (self.session.account_id, format!("{area:?} {}", self.what));
        tokio::spawn(async move {
            if let Err(e) = crate::authz::refused(&state, &actor, account_id, &ip, &what).await {
                tracing::error!(error = %e, "auditing a refusal failed");
            }
        });
        Err(AppError::NotFound)
    }

    pub(super) fn actor(&self) -> String {
        format!("officer:{}", self.role.code())
    }
}

pub(super) async fn audit(
    state: &AppState,
    o: &Officer,
    action: &str,
    ip: &str,
    detail: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.pool().begin().await?;
    audit_in(&mut tx, state, o, action, ip, detail).await?;
    tx.commit().await?;
    Ok(())
}

/// [`audit`] inside the action's own transaction: the entry exists if and
/// only if the action committed.
pub(super) async fn audit_in(
    tx: &mut Transaction<'_, Any>,
    state: &AppState,
    o: &Officer,
    action: &str,
    ip: &str,
    detail: &str,
) -> Result<(), AppError> {
    crate::audit::record_in(
        &state.db,
        tx,
        &crate::audit::Event {
            at: state.now().timestamp(),
            actor: &o.actor(),
            action,
            subject: Some(format!("account:{}", o.session.account_id)),
            ip: Some(ip.to_string()),
            detail: detail.to_string(),
        },
    )
    .await?;
    Ok(())
}

fn chrome<'a>(
    state: &'a AppState,
    lang: Lang,
    path: &str,
    csrf: CsrfToken,
    title_key: &str,
) -> Chrome<'a> {
    let c = Chrome::new(state, lang, path, "").with_csrf(csrf).officer();
    let title = c.t(title_key).to_string();
    c.titled(title)
}

#[derive(askama::Template)]
#[template(path = "flows/officer/dashboard.html")]
struct DashboardTemplate<'a> {
    c: Chrome<'a>,
    role: String,
    case_view: bool,
    mail: bool,
    intake: bool,
    admin: bool,
    queued: i64,
}

pub async fn dashboard(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    o: Officer,
) -> Result<Response, AppError> {
    let queued = notices::count_queued(&state.db).await?;
    let role = state
        .messages
        .get(lang, &format!("officer.role.{}", o.role.code()))
        .to_string();
    Ok(render(&DashboardTemplate {
        c: chrome(&state, lang, "/officer", csrf, "officer.title"),
        role,
        case_view: officer_may(o.role, OfficerArea::CaseView),
        mail: officer_may(o.role, OfficerArea::MailRoom),
        intake: officer_may(o.role, OfficerArea::Intake),
        admin: officer_may(o.role, OfficerArea::Admin),
        queued,
    }))
}

pub struct FoundCase {
    pub receipt: String,
    pub form: String,
    pub name: String,
    pub status: String,
}

#[derive(askama::Template)]
#[template(path = "flows/officer/search.html")]
struct SearchTemplate<'a> {
    c: Chrome<'a>,
    q: String,
    results: Vec<FoundCase>,
    searched: bool,
}

pub async fn search(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    o: Officer,
    Query(sq): Query<SearchQuery>,
) -> Result<Response, AppError> {
    o.require(OfficerArea::CaseView)?;
    let q = sq.text();
    let mut results = vec![];
    if let Some(by) = sq.parse() {
        for r in store::search(&state.db, &by).await? {
            results.push(FoundCase {
                receipt: r.receipt,
                form: r.form,
                name: format!("{} {}", r.given_name, r.family_name),
                status: CaseStatus::from_code(&r.status)
                    .map(|s| state.messages.get(lang, &s.title_key()).to_string())
                    .unwrap_or(r.status),
            });
        }
    }
    Ok(render(&SearchTemplate {
        c: chrome(&state, lang, "/officer/cases", csrf, "officer.search.title"),
        searched: !q.is_empty(),
        q,
        results,
    }))
}

pub struct HistoryLine {
    pub date: String,
    pub status: String,
    pub actor: String,
}

pub struct NoticeLine {
    pub id: i64,
    pub title: String,
    pub date: String,
    pub mail: String,
}

pub struct UploadLine {
    pub request_id: i64,
    pub id: i64,
    pub name: String,
    pub scan: String,
    pub downloadable: bool,
    /// MIME type and SHA-256: the officer's record of exactly what was sent.
    pub mime: String,
    pub sha256: String,
}

pub struct RequestLine {
    pub id: i64,
    pub items: String,
    pub due: String,
    pub responded: bool,
    pub reviewed: bool,
}

#[derive(askama::Template)]
#[template(path = "flows/officer/case.html")]
struct CaseTemplate<'a> {
    c: Chrome<'a>,
    receipt: String,
    form: String,
    office: String,
    status: String,
    person: String,
    a_number: String,
    address: String,
    protected: bool,
    linked: Option<String>,
    history: Vec<HistoryLine>,
    address_changes: Vec<super::address_changes::ChangeLine>,
    notices: Vec<NoticeLine>,
    requests: Vec<RequestLine>,
    /// The request-for-evidence catalogue: (code, text in the officer's language).
    rfe_items: Vec<(String, String)>,
    uploads: Vec<UploadLine>,
    next: Vec<(String, String)>,
    offices: Vec<(String, String)>,
    can_work: bool,
    error: Option<String>,
}

async fn case_row(state: &AppState, receipt: &str) -> Result<CaseRow, AppError> {
    let r = ReceiptNumber::parse(receipt).map_err(|_| AppError::NotFound)?;
    store::case_by_receipt(&state.db, &r)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn case_page(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    o: Officer,
    Path(receipt): Path<String>,
    Query(cq): Query<CaseQuery>,
) -> Result<Response, AppError> {
    o.require(OfficerArea::CaseView)?;
    let case = case_row(&state, &receipt).await?;
    let m = state.messages;
    let p = store::person_on_case(&state.db, case.id).await?;
    let mut history: Vec<(i64, HistoryLine)> = store::history(&state.db, case.id)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.at,
                HistoryLine {
                    date: m.long_date(lang, date_of(r.at)),
                    status: CaseStatus::from_code(&r.status)
                        .map(|s| m.get(lang, &s.title_key()).to_string())
                        .unwrap_or(r.status),
                    actor: r.actor,
                },
            )
        })
        .collect();
    // Changes of address: notes merged into the history, requests listed.
    let address_changes = super::address_changes::lines(&state, lang, &case.receipt).await?;
    history.extend(super::address_changes::notes(&state, lang, case.id).await?);
    history.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let history: Vec<HistoryLine> = history.into_iter().map(|(_, h)| h).collect();
    let notices = notices::for_case(&state.db, &case.receipt)
        .await?
        .into_iter()
        .map(|n| NoticeLine {
            id: n.id,
            title: m.get(lang, &n.kind.title_key()).to_string(),
            date: n.notice_date.clone(),
            mail: m
                .get(lang, &format!("officer.mail.state.{}", n.mail_state.code()))
                .to_string(),
        })
        .collect();
    let mut requests = vec![];
    let mut uploads = vec![];
    for r in store::document_requests(&state.db, case.id).await? {
        let id = r.id;
        requests.push(RequestLine {
            id,
            items: crate::notices::wording::request_lines(m, lang, &r.items).join("; "),
            due: r.due_date,
            responded: r.responded,
            reviewed: r.reviewed,
        });
        // Only what the applicant sent: files still in their draft are theirs.
        for u in crate::uploads::evidence::uploads(&state.db, id)
            .await?
            .into_iter()
            .filter(|u| u.submitted_at.is_some())
        {
            uploads.push(UploadLine {
                mime: u.mime.clone(),
                sha256: u.sha256.clone(),
                request_id: id,
                id: u.id,
                name: u.display_name.clone(),
                scan: m
                    .get(lang, &format!("evidence.scan.{}", u.scan.code()))
                    .to_string(),
                downloadable: u.scan != crate::domain::scan::ScanState::Infected,
            });
        }
    }
    let next = CaseStatus::ALL
        .into_iter()
        .filter(|to| transition(case.form, Some(case.status), *to).is_ok())
        .map(|to| {
            (
                to.code().to_string(),
                m.get(lang, &to.title_key()).to_string(),
            )
        })
        .collect();
    let address = format!(
        "{}{}, {} {} {}",
        p.street,
        p.unit.map(|u| format!(" {u}")).unwrap_or_default(),
        p.city,
        p.state,
        p.zip
    );
    let error = cq.error().map(|e| {
        m.get(lang, &format!("officer.error.{}", e.code()))
            .to_string()
    });
    Ok(render(&CaseTemplate {
        c: chrome(
            &state,
            lang,
            &format!("/officer/cases/{}", case.receipt),
            csrf,
            "officer.case.title",
        ),
        receipt: case.receipt.clone(),
        form: format!(
            "{}, {}",
            case.form.id(),
            m.get(lang, &case.form.title_key())
        ),
        office: m
            .get(lang, &format!("office.{}.name", case.office))
            .to_string(),
        status: m.get(lang, &case.status.title_key()).to_string(),
        person: format!("{} {}", p.given_name, p.family_name),
        a_number: p.a_number,
        address,
        protected: p.protected,
        linked: p.account_number,
        history,
        address_changes,
        notices,
        requests,
        rfe_items: crate::domain::EvidenceItem::ALL
            .iter()
            .map(|i| {
                (
                    i.code().to_string(),
                    m.get(lang, &i.message_key()).to_string(),
                )
            })
            .collect(),
        uploads,
        next,
        offices: crate::domain::Office::ALL
            .iter()
            .filter(|o| o.code() != case.office)
            .map(|o| {
                (
                    o.code().to_string(),
                    m.get(lang, &format!("office.{}.name", o.code()))
                        .to_string(),
                )
            })
            .collect(),
        can_work: officer_may(o.role, OfficerArea::CaseWork),
        error,
    }))
}

fn back(receipt: &str, error: Option<CaseError>) -> Response {
    match error {
        Some(e) => {
            Redirect::to(&format!("/officer/cases/{receipt}?error={}", e.code())).into_response()
        }
        None => Redirect::to(&format!("/officer/cases/{receipt}")).into_response(),
    }
}

/// What an action writes besides the status — in the same transaction, so a
/// refused change or a failed write leaves nothing behind.
#[derive(Default)]
struct After {
    notice: Option<(NoticeKind, Option<String>)>,
    /// A request for evidence: items (one per line) and due date.
    request: Option<(String, String)>,
    /// The office the case moves to.
    office: Option<&'static str>,
}

/// Runs a status change with what comes `after` it and its audit entry in
/// `tx` (which may already hold the action's earlier writes), commits once,
/// and maps refusals back to the page.
#[allow(clippy::too_many_arguments)]
async fn act(
    state: &AppState,
    mut tx: Transaction<'static, Any>,
    o: &Officer,
    ip: &str,
    case: &CaseRow,
    to: CaseStatus,
    after: After,
) -> Result<Response, AppError> {
    let now = state.now().timestamp();
    // A refusal returns early and drops `tx`: everything rolls back.
    let changed = match casework::change_status(&mut tx, state, case.id, to, &o.actor(), now).await
    {
        Ok(c) => c,
        Err(ChangeError::Transition(_)) => {
            return Ok(back(&case.receipt, Some(CaseError::Transition)));
        }
        Err(ChangeError::NotFound) => return Err(AppError::NotFound),
        Err(ChangeError::Store(e)) => return Err(e.into()),
    };
    if let Some((items, due)) = &after.request {
        store::insert_document_request(&mut tx, case.id, items, due, now).await?;
    }
    if let Some(office) = after.office {
        store::set_office(&mut tx, case.id, office).await?;
    }
    if let Some((kind, body)) = after.notice {
        // In the applicant's language (the body, if any, is already).
        let lang = notices::case_lang(&state.db, case.id).await?;
        notices::issue_for_case(&mut tx, case.id, kind, lang, body.as_deref(), now).await?;
    }
    audit_in(
        &mut tx,
        state,
        o,
        "case.status_changed",
        ip,
        &format!("{} {}", case.receipt, to.code()),
    )
    .await?;
    tx.commit().await?;
    changed.committed(state);
    Ok(back(&case.receipt, None))
}

pub async fn change_status(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    o: Officer,
    Path(receipt): Path<String>,
    Form(f): Form<StatusForm>,
) -> Result<Response, AppError> {
    o.require(OfficerArea::CaseWork)?;
    let case = case_row(&state, &receipt).await?;
    let to = match f.status() {
        Ok(to) => to,
        Err(e) => return Ok(back(&case.receipt, Some(e))),
    };
    let notice = match to {
        CaseStatus::CaseWasApproved => Some((NoticeKind::Approval, None)),
        CaseStatus::CaseWasDenied => Some((NoticeKind::Denial, None)),
        // Issue 19: the letters of the newer statuses.
        _ => NoticeKind::for_status_change(to).map(|k| (k, None)),
    };
    let tx = state.db.pool().begin().await?;
    act(
        &state,
        tx,
        &o,
        &ip,
        &case,
        to,
        After {
            notice,
            ..After::default()
        },
    )
    .await
}

pub async fn request_evidence(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    o: Officer,
    Path(receipt): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    o.require(OfficerArea::CaseWork)?;
    let f = RfeForm::from_pairs(pairs);
    let case = case_row(&state, &receipt).await?;
    let RfeRequest { request: req, due } = match f.parse(state.local_date(state.now().timestamp()))
    {
        Ok(r) => r,
        Err(e) => return Ok(back(&case.receipt, Some(e))),
    };
    let to = CaseStatus::AdditionalEvidenceRequested;
    // The notice in the applicant's language; the request stored as codes,
    // so their page shows it in theirs too.
    let lang = notices::case_lang(&state.db, case.id).await?;
    let body = crate::notices::wording::rfe_body(state.messages, lang, &req, due);
    let after = After {
        notice: Some((NoticeKind::Rfe, Some(body))),
        request: Some((req.stored(), due.to_string())),
        office: None,
    };
    let tx = state.db.pool().begin().await?;
    act(&state, tx, &o, &ip, &case, to, after).await
}

/// The appointment notice's body (date, time and place, the zone named) for
/// an interview or a biometrics appointment, in the applicant's language.
/// The officer enters the agency's local time; a time that does not exist
/// there (the hour skipped when clocks go forward) is refused.
fn appointment_body(state: &AppState, a: &Appointment, lang: Lang) -> Result<String, CaseError> {
    let tz = state.config.time_zone;
    let at = crate::notices::wording::appointment_moment(a.when, tz).ok_or(CaseError::Interview)?;
    Ok(crate::notices::wording::appointment_body(
        state.messages,
        lang,
        at,
        tz,
        &a.place,
    ))
}

/// Schedules (or reschedules) an interview: status, notice with date, time and place.
pub async fn schedule_interview(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    o: Officer,
    Path(receipt): Path<String>,
    Form(f): Form<InterviewForm>,
) -> Result<Response, AppError> {
    o.require(OfficerArea::CaseWork)?;
    let case = case_row(&state, &receipt).await?;
    let lang = notices::case_lang(&state.db, case.id).await?;
    let body = match f
        .parse(state.local_date(state.now().timestamp()))
        .and_then(|a| appointment_body(&state, &a, lang))
    {
        Ok(body) => body,
        Err(e) => return Ok(back(&case.receipt, Some(e))),
    };
    let to = if matches!(
        case.status,
        CaseStatus::InterviewWasScheduled | CaseStatus::InterviewWasRescheduled
    ) {
        CaseStatus::InterviewWasRescheduled
    } else {
        CaseStatus::InterviewWasScheduled
    };
    let after = After {
        notice: Some((NoticeKind::Interview, Some(body))),
        ..After::default()
    };
    let tx = state.db.pool().begin().await?;
    act(&state, tx, &o, &ip, &case, to, after).await
}

/// Schedules a biometrics appointment ("Biometrics Appointment Was
/// Scheduled"): status, and the appointment notice with date, time and place.
pub async fn schedule_biometrics(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    o: Officer,
    Path(receipt): Path<String>,
    Form(f): Form<InterviewForm>,
) -> Result<Response, AppError> {
    o.require(OfficerArea::CaseWork)?;
    let case = case_row(&state, &receipt).await?;
    let lang = notices::case_lang(&state.db, case.id).await?;
    let body = match f
        .parse(state.local_date(state.now().timestamp()))
        .and_then(|a| appointment_body(&state, &a, lang))
    {
        Ok(body) => body,
        Err(e) => return Ok(back(&case.receipt, Some(e))),
    };
    let after = After {
        notice: Some((NoticeKind::Biometrics, Some(body))),
        ..After::default()
    };
    let tx = state.db.pool().begin().await?;
    act(
        &state,
        tx,
        &o,
        &ip,
        &case,
        CaseStatus::BiometricsAppointmentWasScheduled,
        after,
    )
    .await
}

/// Moves the case to another office ("Case Was Transferred").
pub async fn transfer(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    o: Officer,
    Path(receipt): Path<String>,
    Form(f): Form<TransferForm>,
) -> Result<Response, AppError> {
    o.require(OfficerArea::CaseWork)?;
    let case = case_row(&state, &receipt).await?;
    let office = match f.office(&case.office) {
        Ok(o) => o,
        Err(e) => return Ok(back(&case.receipt, Some(e))),
    };
    let after = After {
        office: Some(office.code()),
        ..After::default()
    };
    let tx = state.db.pool().begin().await?;
    act(
        &state,
        tx,
        &o,
        &ip,
        &case,
        CaseStatus::CaseWasTransferred,
        after,
    )
    .await
}

pub async fn mark_reviewed(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    o: Officer,
    Path((receipt, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    o.require(OfficerArea::CaseWork)?;
    let case = case_row(&state, &receipt).await?;
    let mut tx = state.db.pool().begin().await?;
    if !store::mark_reviewed(&mut tx, id, case.id, state.now().timestamp()).await? {
        return Err(AppError::NotFound);
    }
    audit_in(&mut tx, &state, &o, "evidence.reviewed", &ip, &case.receipt).await?;
    // Back to active review when that is where the case stands next — the
    // review and the status change commit together.
    if transition(case.form, Some(case.status), CaseStatus::ActivelyReviewed).is_ok() {
        return act(
            &state,
            tx,
            &o,
            &ip,
            &case,
            CaseStatus::ActivelyReviewed,
            After::default(),
        )
        .await;
    }
    tx.commit().await?;
    Ok(back(&case.receipt, None))
}

pub async fn officer_upload(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    o: Officer,
    Path((receipt, request_id, upload_id)): Path<(String, i64, i64)>,
) -> Result<Response, AppError> {
    o.require(OfficerArea::CaseView)?;
    let case = case_row(&state, &receipt).await?;
    if !store::upload_belongs_to_case(&state.db, upload_id, request_id, case.id).await? {
        return Err(AppError::NotFound);
    }
    let row = crate::uploads::evidence::upload(&state.db, upload_id)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::uploads::evidence::serve(&state, &case.receipt, row, &o.actor(), &ip).await
}

pub struct LetterLine {
    pub id: i64,
    pub title: String,
    pub receipt: String,
    pub addressee: String,
    pub state: String,
    pub printed: bool,
    pub mailed: bool,
}

#[derive(askama::Template)]
#[template(path = "flows/officer/mail.html")]
struct MailTemplate<'a> {
    c: Chrome<'a>,
    letters: Vec<LetterLine>,
    filter: String,
}

pub async fn mail_room(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    o: Officer,
    Query(q): Query<MailQuery>,
) -> Result<Response, AppError> {
    o.require(OfficerArea::MailRoom)?;
    let filter = q.filter();
    let ids = store::notice_ids_in_mail_state(&state.db, filter, 200).await?;
    let m = state.messages;
    let mut letters = vec![];
    for id in ids {
        if let Some(n) = notices::get(&state.db, id).await? {
            letters.push(LetterLine {
                id: n.id,
                title: m.get(lang, &n.kind.title_key()).to_string(),
                receipt: n.receipt_number.clone().unwrap_or_default(),
                addressee: n.addressee.clone(),
                state: m
                    .get(lang, &format!("officer.mail.state.{}", n.mail_state.code()))
                    .to_string(),
                printed: n.mail_state == MailState::Printed,
                mailed: n.mail_state == MailState::Mailed,
            });
        }
    }
    Ok(render(&MailTemplate {
        c: chrome(&state, lang, "/officer/mail", csrf, "officer.mail.title"),
        letters,
        filter: filter.code().to_string(),
    }))
}

/// Prints every queued letter as one PDF (one letter after another) and
/// marks them printed.
pub async fn print_batch(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    o: Officer,
) -> Result<Response, AppError> {
    o.require(OfficerArea::MailRoom)?;
    let queued = notices::queued(&state.db, 0, 200).await?;
    if queued.is_empty() {
        return Ok(Redirect::to("/officer/mail").into_response());
    }
    let now = state.now().timestamp();
    let ctx = LetterContext {
        msgs: state.messages,
        agency: state.agency(Lang::En),
        public_url: &state.config.public_url,
        tz: state.config.time_zone,
    };
    let mut letters = Vec::with_capacity(queued.len());
    // Every letter of the batch is marked printed, and audited, at once.
    let mut tx = state.db.pool().begin().await?;
    for n in queued {
        let code = crate::notices::export::unseal_code(&n, &state.secrets);
        if notices::set_mail_state(&mut *tx, n.id, MailState::Queued, MailState::Printed, now)
            .await?
        {
            letters.push((n, code));
        }
    }
    audit_in(
        &mut tx,
        &state,
        &o,
        "mail.printed",
        &ip,
        &format!("{} letters", letters.len()),
    )
    .await?;
    tx.commit().await?;
    let bundle = crate::notices::render::render_batch(&letters, &ctx);
    let mut resp = bundle.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"letters.pdf\""),
    );
    Ok(resp)
}

pub async fn mail_state(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    o: Officer,
    Path(id): Path<i64>,
    Form(f): Form<MailForm>,
) -> Result<Response, AppError> {
    o.require(OfficerArea::MailRoom)?;
    let n = notices::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let to = f.to().ok_or(AppError::BadRequest)?;
    let mut tx = state.db.pool().begin().await?;
    if !notices::set_mail_state(&mut *tx, id, n.mail_state, to, state.now().timestamp()).await? {
        return Err(AppError::BadRequest);
    }
    audit_in(
        &mut tx,
        &state,
        &o,
        "mail.state_changed",
        &ip,
        &format!("{id} {}", to.code()),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/officer/mail?state={}", n.mail_state.code())).into_response())
}
