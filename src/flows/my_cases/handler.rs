//! `/account`, `/account/cases/{receipt}`, notice downloads, notification preference.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{policy, store};
use crate::app::{AppState, Chrome, ClientIp, render};
use crate::auth::account::{self, AccountNumber};
use crate::auth::csrf::CsrfToken;
use crate::auth::record;
use crate::auth::session::FullSession;
use crate::authz;
use crate::domain::{CaseStatus, FormType, ReceiptNumber};
use crate::error::AppError;
use crate::flows::processing_times::store as ptimes;
use crate::i18n::Lang;
use crate::notices::render::{LetterContext, render as render_pdf};
use crate::status_read::describe::{self as status_policy, date_of};

pub struct CaseRow {
    pub receipt: String,
    pub form: String,
    pub form_title: String,
    pub status: String,
    pub tag: String,
    pub tag_kind: &'static str,
    pub updated: String,
    /// "Respond by" date of the case's earliest open evidence request.
    pub respond_by: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "flows/my_cases/account.html")]
struct AccountTemplate<'a> {
    c: Chrome<'a>,
    email: String,
    number: String,
    cases: Vec<CaseRow>,
    notify: bool,
    action_count: usize,
    action_line: String,
}

fn tag_kind(status: CaseStatus) -> &'static str {
    use crate::domain::status::Phase;
    match status.phase() {
        Phase::ActionNeeded => "action",
        Phase::Approved | Phase::Card => "approved",
        Phase::Denied | Phase::Closed => "closed",
        Phase::Pending => "pending",
    }
}

fn long_date(m: &crate::i18n::Messages, lang: Lang, iso: &str) -> String {
    chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(|d| m.long_date(lang, d))
        .unwrap_or_else(|_| iso.to_string())
}

pub async fn account_page(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    FullSession(s): FullSession,
) -> Result<Response, AppError> {
    // An officer's home is the console, not an applicant's case list.
    if !authz::applicant_may(&s.role) {
        return Ok(Redirect::to("/officer").into_response());
    }
    let acct = account::by_id(&state.db, s.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let rows = store::cases_of(&state.db, s.account_id).await?;
    let m = state.messages;
    let mut cases = Vec::with_capacity(rows.len());
    for r in rows {
        let status = CaseStatus::from_code(&r.status).unwrap_or(CaseStatus::CaseWasReceived);
        let form_title = FormType::parse(&r.form)
            .map(|f| m.get(lang, &f.title_key()).to_string())
            .unwrap_or_default();
        cases.push(CaseRow {
            receipt: r.receipt,
            form: r.form,
            form_title,
            status: m.get(lang, &status.title_key()).to_string(),
            tag: m.get(lang, &status.tag_key()).to_string(),
            tag_kind: tag_kind(status),
            updated: m.long_date(lang, date_of(r.status_at)),
            respond_by: r.open_request_due.map(|d| long_date(m, lang, &d)),
        });
    }
    let notify = store::notify_case_updates(&state.db, s.account_id).await?;
    let c = Chrome::new(&state, lang, "/account", "")
        .with_csrf(csrf)
        .signed_in(true);
    let title = c.t("account.title").to_string();
    let number = AccountNumber::parse(&acct.account_number)
        .map(|n| n.grouped())
        .unwrap_or(acct.account_number);
    let action_count = cases.iter().filter(|k| k.respond_by.is_some()).count();
    let action_line = if action_count == 1 {
        m.get(lang, "cases.action.one").to_string()
    } else {
        m.fmt(
            lang,
            "cases.action.many",
            &[("count", &action_count.to_string())],
        )
    };
    Ok(render(&AccountTemplate {
        action_count,
        action_line,
        c: c.titled(title),
        email: acct.email,
        number,
        cases,
        notify,
    }))
}

#[derive(Debug, Default, Deserialize)]
pub struct NotifyForm {
    #[serde(default)]
    pub notify: String,
}

pub async fn set_notifications(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    authz::Applicant(s): authz::Applicant,
    Form(f): Form<NotifyForm>,
) -> Result<Response, AppError> {
    let on = f.notify == "on";
    store::set_notify_case_updates(&state.db, s.account_id, on).await?;
    record(
        &state,
        s.account_id,
        if on {
            "notifications.on"
        } else {
            "notifications.off"
        },
        &ip,
        "",
    )
    .await?;
    Ok(Redirect::to("/account").into_response())
}

pub struct HistoryRow {
    pub date: String,
    pub text: String,
}

pub struct NoticeRow {
    pub id: i64,
    pub title: String,
    pub date: String,
}

pub struct RequestRow {
    pub id: i64,
    pub due: String,
    pub open: bool,
}

pub struct TimingView {
    pub p80_days: u32,
    pub inquiry: String,
    pub outside: bool,
    pub form: String,
    pub office: String,
}

#[derive(askama::Template)]
#[template(path = "flows/my_cases/case.html")]
struct CaseTemplate<'a> {
    c: Chrome<'a>,
    receipt: String,
    form_line: String,
    title: String,
    description: String,
    history: Vec<HistoryRow>,
    notices: Vec<NoticeRow>,
    requests: Vec<RequestRow>,
    action: Option<RequestRow>,
    timing: Option<TimingView>,
    linked: bool,
    activity: Vec<HistoryRow>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CaseQuery {
    pub linked: Option<String>,
}

pub async fn case_page(
    State(state): State<AppState>,
    lang: Lang,
    csrf: CsrfToken,
    authz::Applicant(s): authz::Applicant,
    Path(receipt): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Result<Response, AppError> {
    let case = authz::case_for_account(&state.db, s.account_id, &receipt)
        .await?
        .ok_or(AppError::NotFound)?;
    let receipt_n = ReceiptNumber::parse(&case.receipt).map_err(|_| AppError::NotFound)?;
    let rec = crate::status_read::store::lookup(&state.db, &receipt_n)
        .await?
        .ok_or(AppError::NotFound)?;
    let m = state.messages;
    let words = status_policy::describe(&rec, m, lang);
    let text = words.current;
    let history = words
        .history
        .into_iter()
        .map(|l| HistoryRow {
            date: l.date,
            text: l.text,
        })
        .collect();
    // Newest first, like the history; letters that carry a code stay in
    // the mail room.
    let notices = crate::notices::store::for_case(&state.db, &case.receipt)
        .await?
        .into_iter()
        .rev()
        .filter(|n| policy::applicant_sees(n.kind))
        .map(|n| NoticeRow {
            id: n.id,
            title: m.get(lang, &n.kind.title_key()).to_string(),
            date: long_date(m, lang, &n.notice_date),
        })
        .collect();
    let requests = store::requests_of(&state.db, case.case_id)
        .await?
        .into_iter()
        .map(|r| RequestRow {
            id: r.id,
            due: long_date(m, lang, &r.due_date),
            open: r.responded_at.is_none(),
        })
        .collect::<Vec<_>>();
    // The call to action: the oldest request still open.
    let action = requests.iter().rfind(|r| r.open).map(|r| RequestRow {
        id: r.id,
        due: r.due.clone(),
        open: true,
    });
    let today = state.now().date_naive();
    let timing = if rec.status.is_pending() {
        ptimes::figure_for(&state.db, rec.form.id(), rec.office.code(), today)
            .await?
            .map(|fig| {
                let outside = matches!(
                    crate::flows::processing_times::policy::case_timing(
                        rec.received_date,
                        Some(&fig),
                        today
                    ),
                    crate::flows::processing_times::policy::CaseTiming::Outside { .. }
                );
                TimingView {
                    p80_days: fig.p80_days,
                    inquiry: m.long_date(lang, fig.inquiry_date),
                    outside,
                    form: rec.form.id().to_string(),
                    office: m
                        .get(lang, &format!("office.{}.name", rec.office.code()))
                        .to_string(),
                }
            })
    } else {
        None
    };
    // Which officer role did what, and when (no officer identities).
    let activity = store::officer_actions(&state.db, case.case_id)
        .await?
        .into_iter()
        .map(|a| HistoryRow {
            date: m.long_date(lang, date_of(a.at)),
            text: format!(
                "{}: {}",
                m.get(lang, &format!("officer.role.{}", a.role)),
                CaseStatus::from_code(&a.status)
                    .map(|s| m.get(lang, &s.title_key()).to_string())
                    .unwrap_or(a.status)
            ),
        })
        .collect::<Vec<_>>();
    let form_line = format!("{}, {}", rec.form.id(), m.get(lang, &rec.form.title_key()));
    let c = Chrome::new(
        &state,
        lang,
        &format!("/account/cases/{}", case.receipt),
        "",
    )
    .with_csrf(csrf)
    .signed_in(true);
    let page_title = format!("{} — {}", case.receipt, text.title);
    Ok(render(&CaseTemplate {
        c: c.titled(page_title),
        receipt: case.receipt,
        form_line,
        title: text.title,
        description: text.description,
        history,
        notices,
        requests,
        action,
        timing,
        linked: q.linked.is_some(),
        activity,
    }))
}

pub async fn notice_pdf(
    State(state): State<AppState>,
    authz::Applicant(s): authz::Applicant,
    Path((receipt, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let notice = authz::notice_for_account(&state.db, s.account_id, &receipt, id)
        .await?
        .filter(|n| policy::applicant_sees(n.kind))
        .ok_or(AppError::NotFound)?;
    let lang = Lang::parse(&notice.lang).unwrap_or(Lang::En);
    let ctx = LetterContext {
        msgs: state.messages,
        agency: state.agency(lang),
        public_url: &state.config.public_url,
        tz: state.config.time_zone,
    };
    // An applicant's copy never carries an access code.
    let bytes = render_pdf(&notice, None, &ctx);
    let name = format!("{}-{}.pdf", notice.kind.code().replace('_', "-"), receipt);
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
