//! What one step of a demo case's history leaves behind, the way the officer
//! console leaves it: the notice the status says was mailed (an approval, a
//! request for evidence, an interview appointment, …) and, for a request for
//! evidence or a notice of intent to deny, the request the applicant answers
//! online. So every demo case agrees with itself: history, status, notices
//! and requests.

use chrono::{DateTime, Days, NaiveDate};

use super::DemoError;
use crate::domain::CaseStatus;
use crate::domain::notice::NoticeKind;

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

const INITIAL_ITEMS: &str = "A copy of your birth certificate with a certified English translation\nTwo passport-style photos";
const ADDITIONAL_ITEMS: &str = "Joint federal income tax returns for the last two years\nA lease or mortgage in both spouses' names\nBirth certificates of any children born to the marriage";

fn date_of(t: i64) -> NaiveDate {
    DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .date_naive()
}

fn english(d: NaiveDate) -> String {
    d.format("%B %-d, %Y").to_string()
}

/// When an open request is due: 87 days after it was sent (a usual RFE
/// period), and never less than four weeks from `now`, so the demo always
/// has something to answer.
pub(super) fn due_date(sent: i64, answered: bool, now: i64) -> NaiveDate {
    let usual = date_of(sent) + Days::new(87);
    if answered {
        usual
    } else {
        usual.max(date_of(now) + Days::new(28))
    }
}

/// Records what `status`, reached at `at`, leaves behind. `answered_at` is
/// when the case moved on (an open request when `None`).
pub(super) async fn record_step(
    tx: &mut Tx<'_>,
    case_id: i64,
    status: CaseStatus,
    at: i64,
    answered_at: Option<i64>,
    now: i64,
) -> Result<(), DemoError> {
    let request = match status {
        CaseStatus::InitialEvidenceRequested => Some(("initial", INITIAL_ITEMS)),
        CaseStatus::AdditionalEvidenceRequested | CaseStatus::IntentToDenySent => {
            Some(("additional", ADDITIONAL_ITEMS))
        }
        _ => None,
    };
    let due = due_date(at, answered_at.is_some(), now);
    if let Some((kind, items)) = request {
        sqlx::query(
            "INSERT INTO document_requests (case_id, kind, items, due_date, created_at, responded_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(case_id)
        .bind(kind)
        .bind(items)
        .bind(due.to_string())
        .bind(at)
        .bind(answered_at)
        .execute(&mut **tx)
        .await?;
    }
    let Some(kind) = status.notice().and_then(NoticeKind::from_code) else {
        return Ok(());
    };
    let body = match kind {
        NoticeKind::Rfe => Some(format!(
            "{}\nRespond by {}.",
            request.map(|(_, items)| items).unwrap_or(ADDITIONAL_ITEMS),
            english(due)
        )),
        NoticeKind::Interview | NoticeKind::Biometrics => Some(format!(
            "{} 09:00\n{}",
            english(date_of(at) + Days::new(28)),
            "Field office, 1 Federal Plaza, Suite 100"
        )),
        _ => None,
    };
    // The demo's letters are written in English (their bodies above are).
    let id = crate::notices::store::issue_for_case(
        tx,
        case_id,
        kind,
        crate::i18n::Lang::En,
        body.as_deref(),
        at,
    )
    .await?;
    // Years-old letters have long left the mail room.
    sqlx::query(
        "UPDATE notices SET mail_state = 'mailed', mail_state_at = created_at WHERE id = $1 AND mail_state = 'queued'",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Dates the case's receipt notice when it was sent (the "Receipt Notice Was
/// Sent" step, or the day the case was received), not the day the demo was
/// loaded.
pub(super) async fn date_receipt_notice(
    tx: &mut Tx<'_>,
    case_id: i64,
    at: i64,
) -> Result<(), DemoError> {
    sqlx::query(
        "UPDATE notices SET notice_date = $1, created_at = $2 WHERE case_id = $3 AND kind = 'receipt'",
    )
    .bind(date_of(at).to_string())
    .bind(at)
    .bind(case_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_request_is_never_overdue_in_the_demo() {
        let sent = NaiveDate::from_ymd_opt(2026, 8, 19)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp();
        let now = NaiveDate::from_ymd_opt(2026, 11, 20)
            .unwrap()
            .and_hms_opt(15, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp();
        assert_eq!(due_date(sent, false, now).to_string(), "2026-12-18");
        assert_eq!(due_date(sent, true, now).to_string(), "2026-11-14");
    }
}
