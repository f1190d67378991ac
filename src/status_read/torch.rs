//! The Case Status API's case body (Torch field names and date formats),
//! shared by `GET /case-status/{receipt}` and the webhook payload, so a
//! webhook carries exactly what the API shows.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::describe::{self, StatusRecord};
use crate::i18n::{Lang, Messages};

#[derive(Serialize)]
pub struct HistEntry {
    pub date: String,
    pub completed_text_en: String,
    pub completed_text_es: String,
}

#[derive(Serialize)]
#[allow(non_snake_case)]
pub struct CaseStatusBody {
    pub receiptNumber: String,
    pub formType: String,
    pub submittedDate: String,
    pub modifiedDate: String,
    pub current_case_status_text_en: String,
    pub current_case_status_desc_en: String,
    pub current_case_status_text_es: String,
    pub current_case_status_desc_es: String,
    pub hist_case_status: Option<Vec<HistEntry>>,
}

/// `MM-DD-YYYY HH:MM:SS`, as the Torch API writes times.
pub fn torch_datetime(ts: i64) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0)
        .unwrap_or_default()
        .format("%m-%d-%Y %H:%M:%S")
        .to_string()
}

/// When the case was received, as the Torch API's `submittedDate`: the
/// first history event on the received date (else that date's midnight),
/// never after the current status (`modifiedDate`).
pub fn submitted_at(rec: &StatusRecord) -> i64 {
    let midnight = rec
        .received_date
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc().timestamp())
        .unwrap_or(rec.status_at);
    let first_event = rec
        .history
        .iter()
        .map(|h| h.at)
        .filter(|at| describe::date_of(*at) == rec.received_date)
        .min();
    first_event.unwrap_or(midnight).min(rec.status_at)
}

/// The `case_status` object of a record the caller may show (call
/// [`describe::public_view`] first).
pub fn case_status_body(rec: &StatusRecord, msgs: &Messages) -> CaseStatusBody {
    let en = describe::describe(rec, msgs, Lang::En);
    let es = describe::describe(rec, msgs, Lang::Es);
    let hist: Vec<HistEntry> = en
        .history
        .into_iter()
        .zip(es.history)
        .map(|(en, es)| HistEntry {
            date: en.day.format("%Y-%m-%d").to_string(),
            completed_text_en: en.text,
            completed_text_es: es.text,
        })
        .collect();
    CaseStatusBody {
        receiptNumber: rec.receipt.as_str().to_string(),
        formType: rec.form.id().to_string(),
        submittedDate: torch_datetime(submitted_at(rec)),
        modifiedDate: torch_datetime(rec.status_at),
        current_case_status_text_en: en.current.title,
        current_case_status_desc_en: en.current.description,
        current_case_status_text_es: es.current.title,
        current_case_status_desc_es: es.current.description,
        hist_case_status: (!hist.is_empty()).then_some(hist),
    }
}
