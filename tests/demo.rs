//! The demo data agrees with itself: every case's status, history, notices
//! and evidence requests tell one story (as the officer console would have
//! written them), and there are enough decided cases for processing times.

mod common;

use casegate::domain::CaseStatus;
use casegate::domain::notice::NoticeKind;
use casegate::domain::status::Phase;
use common::spawn_app;

/// Proves: for every demo case, the status is the last history step; every
/// step whose status says a notice was mailed has that notice, dated that
/// day; every evidence request in the history has its request, answered
/// when the case moved on; a case waiting for the applicant has exactly one
/// open request, due in the future, and no other case has one.
#[tokio::test]
async fn every_demo_case_agrees_with_itself() {
    let app = spawn_app().await;
    let today = app.state.now().date_naive().to_string();
    let cases: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, receipt_number, status FROM cases ORDER BY id")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert!(cases.len() > 40, "{} demo cases", cases.len());
    let mut checked_history = 0;
    for (id, receipt, status) in &cases {
        let status = CaseStatus::from_code(status).unwrap();
        let history: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, at FROM case_history WHERE case_id = $1 ORDER BY at, id",
        )
        .bind(id)
        .fetch_all(app.db.pool())
        .await
        .unwrap();
        let notices: Vec<(String, String)> =
            sqlx::query_as("SELECT kind, notice_date FROM notices WHERE case_id = $1")
                .bind(id)
                .fetch_all(app.db.pool())
                .await
                .unwrap();
        let requests: Vec<(String, Option<i64>)> = sqlx::query_as(
            "SELECT due_date, responded_at FROM document_requests WHERE case_id = $1",
        )
        .bind(id)
        .fetch_all(app.db.pool())
        .await
        .unwrap();
        // The receipt notice is dated when it was sent, never after the
        // case moved on.
        let receipt_date = notices
            .iter()
            .find(|(k, _)| k == "receipt")
            .map(|(_, d)| d.clone())
            .unwrap_or_else(|| panic!("{receipt}: a receipt notice"));
        if let Some((_, last)) = history.last() {
            let last = chrono::DateTime::from_timestamp(*last, 0)
                .unwrap()
                .date_naive()
                .to_string();
            assert!(
                receipt_date <= last,
                "{receipt}: receipt notice {receipt_date} after the last step {last}"
            );
        }
        if let Some((last, _)) = history.last() {
            checked_history += 1;
            assert_eq!(last, status.code(), "{receipt}: status is the last step");
        }
        for (step, at) in &history {
            let step = CaseStatus::from_code(step).unwrap();
            if let Some(kind) = step.notice().and_then(NoticeKind::from_code) {
                let day = chrono::DateTime::from_timestamp(*at, 0)
                    .unwrap()
                    .date_naive()
                    .to_string();
                assert!(
                    notices.iter().any(|(k, d)| k == kind.code() && *d == day),
                    "{receipt}: the history says a {} notice was mailed on {day}; notices: {notices:?}",
                    kind.code()
                );
            }
        }
        let asked = history
            .iter()
            .filter(|(s, _)| {
                CaseStatus::from_code(s).is_some_and(|s| s.phase() == Phase::ActionNeeded)
            })
            .count();
        if !history.is_empty() {
            assert_eq!(
                requests.len(),
                asked,
                "{receipt}: one request per request step"
            );
        }
        let open: Vec<&String> = requests
            .iter()
            .filter(|(_, r)| r.is_none())
            .map(|(d, _)| d)
            .collect();
        if status.phase() == Phase::ActionNeeded {
            assert_eq!(open.len(), 1, "{receipt}: waiting for the applicant");
            assert!(*open[0] > today, "{receipt}: due {} is not past", open[0]);
        } else {
            assert!(
                open.is_empty(),
                "{receipt}: nothing to answer in {status:?}"
            );
        }
    }
    assert!(checked_history > 30, "{checked_history} cases with history");
}

/// Proves: the demo has enough decided cases that `/processing-times` shows
/// figures (several forms and offices) and its chart, in both languages.
#[tokio::test]
async fn processing_times_show_figures_and_a_chart_for_the_demo() {
    let app = spawn_app().await;
    let pairs: Vec<(String, String)> =
        sqlx::query_as("SELECT form, office FROM processing_times ORDER BY form, office")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    let forms: std::collections::BTreeSet<&str> = pairs.iter().map(|p| p.0.as_str()).collect();
    let offices: std::collections::BTreeSet<&str> = pairs.iter().map(|p| p.1.as_str()).collect();
    assert!(forms.len() >= 4 && offices.len() >= 4, "{pairs:?}");
    for lang in ["en", "es"] {
        let html = app
            .get(&format!("/processing-times?lang={lang}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(!html.contains("not enough decided cases"), "{lang}");
        assert!(!html.contains("suficientes casos decididos"), "{lang}");
        for (form, _) in &pairs {
            assert!(html.contains(&format!(">{form}</a>")), "{lang}: {form}");
        }
        assert!(html.contains("<svg"), "{lang}: the chart");
    }
}
